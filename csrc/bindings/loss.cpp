// (loss bindings: filled in by issue #3)
#include "bindings/bindings.h"

namespace lamina::bindings {

void init_loss(py::module_& m) { (void)m; }

}  // namespace lamina::bindings

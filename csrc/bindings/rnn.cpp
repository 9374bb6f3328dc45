// (rnn bindings: filled in by a later issue)
#include "bindings/bindings.h"

namespace lamina::bindings {

void init_rnn(py::module_& m) { (void)m; }

}  // namespace lamina::bindings

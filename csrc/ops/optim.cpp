// (optim: filled in by issue #3)
#include "ops/dispatch.h"

namespace lamina {}  // namespace lamina

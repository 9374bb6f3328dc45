// (pool: filled in by a later issue)
#include "ops/dispatch.h"

namespace lamina {}  // namespace lamina

// (embedding kernels: filled in by issue #3)
#include "ops/cpu/kernels.h"

namespace lamina::cpu {}  // namespace lamina::cpu

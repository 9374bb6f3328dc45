// (conv kernels: filled in by a later issue)
#include "ops/cpu/kernels.h"

namespace lamina::cpu {}  // namespace lamina::cpu

// Linked when Lamina is built without CUDA: CUDA is absent, and every CUDA entry point says so.
#include "core/check.h"
#include "ops/cuda/kernels.h"

namespace lamina::cuda {

[[noreturn]] static void no_cuda() {
  throw RuntimeError("lamina was built without CUDA: reinstall with nvcc available, or with "
                     "-Ccmake.define.LAMINA_CUDA=ON");
}

bool is_available() { return false; }
int device_count() { return 0; }
void* device_malloc(size_t, int) { no_cuda(); }
void device_free(void*, int) {}
void copy_(const Tensor&, const Tensor&) { no_cuda(); }
void fill_(const Tensor&, Scalar) { no_cuda(); }

}  // namespace lamina::cuda

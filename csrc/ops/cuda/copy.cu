// CUDA memory: allocation, host/device copies and fill. Kernels for the ops come with the CUDA
// issue; until then front-ends accept CPU tensors only (require_cpu in dispatch.h).
#include <cstdint>

#include "ops/cuda/common.cuh"
#include "ops/cuda/kernels.h"

namespace lamina::cuda {

bool is_available() { return device_count() > 0; }

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

void* device_malloc(size_t nbytes, int device) {
  LAMINA_CHECK(device >= 0 && device < device_count(), RuntimeError, "[cuda] device cuda:", device,
               " is not available (", device_count(), " CUDA devices found)");
  DeviceGuard guard(device);
  void* ptr = nullptr;
  LAMINA_CUDA_CHECK(cudaMalloc(&ptr, nbytes == 0 ? 1 : nbytes));
  return ptr;
}

void device_free(void* ptr, int device) {
  DeviceGuard guard(device);
  cudaFree(ptr);
}

void copy_(const Tensor& dst, const Tensor& src) {
  LAMINA_CHECK(dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous(), RuntimeError,
               "[copy_] CUDA copies need contiguous tensors of one dtype");
  size_t nbytes = size_t(src.numel()) * element_size(src.dtype());
  LAMINA_CUDA_CHECK(cudaMemcpy(dst.raw_data(), src.raw_data(), nbytes, cudaMemcpyDefault));
}

template <typename T>
__global__ void fill_kernel(T* out, T value, int64_t n) {
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] = value;
}

void fill_(const Tensor& dst, Scalar value) {
  LAMINA_CHECK(dst.is_contiguous(), RuntimeError, "[fill_] CUDA fill needs a contiguous tensor");
  if (dst.numel() == 0) return;
  DeviceGuard guard(dst.device().index);
  dispatch_all(dst.dtype(), "fill_", [&](auto tag) {
    using T = typename decltype(tag)::type;
    fill_kernel<T><<<grid_size(dst.numel()), kBlockSize>>>(dst.data<T>(), T(value.value), dst.numel());
  });
  LAMINA_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lamina::cuda

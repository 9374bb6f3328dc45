// Shared by the .cu files: error checking of CUDA runtime calls and launch geometry.
#pragma once
#include <cuda_runtime.h>

#include "core/check.h"

namespace lamina::cuda {

// Turns a CUDA runtime error into a RuntimeError naming the call.
#define LAMINA_CUDA_CHECK(call)                                                              \
  do {                                                                                       \
    cudaError_t err_ = (call);                                                               \
    if (err_ != cudaSuccess)                                                                 \
      throw ::lamina::RuntimeError(::lamina::fmt("[cuda] ", #call, " failed: ", cudaGetErrorString(err_))); \
  } while (0)

inline constexpr int kBlockSize = 256;
inline unsigned grid_size(int64_t n) { return unsigned((n + kBlockSize - 1) / kBlockSize); }

// Makes `device` current for a scope.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    LAMINA_CUDA_CHECK(cudaGetDevice(&prev_));
    if (prev_ != device) LAMINA_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceGuard() { cudaSetDevice(prev_); }

 private:
  int prev_ = 0;
};

}  // namespace lamina::cuda

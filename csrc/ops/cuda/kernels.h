// The CUDA backend: the same names and signatures as the CPU kernels that have a CUDA version.
// A build without CUDA links no_cuda.cpp, where each of these throws "built without CUDA".
#pragma once
#include <cstddef>

#include "core/tensor.h"
#include "ops/ops.h"

namespace lamina::cuda {

bool is_available();
int device_count();
void* device_malloc(size_t nbytes, int device);
void device_free(void* ptr, int device);
// dst = src (same shape, same dtype, each contiguous); either side may be on the host.
void copy_(const Tensor& dst, const Tensor& src);
void fill_(const Tensor& dst, Scalar value);

}  // namespace lamina::cuda

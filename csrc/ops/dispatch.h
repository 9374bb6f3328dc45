// What every op front-end includes: the one switch between the CPU and CUDA backends, and the
// argument checks that produce Lamina's error messages ("[op] argument: expected ..., got ...").
#pragma once
#include "autograd/node.h"
#include "core/tensor.h"
#include "ops/cpu/kernels.h"
#include "ops/cuda/kernels.h"
#include "ops/ops.h"

namespace lamina {

// The backend switch: cpu::fn(args...) or cuda::fn(args...) by device.
#define LAMINA_DISPATCH_DEVICE(device, fn, ...) \
  ((device).is_cuda() ? ::lamina::cuda::fn(__VA_ARGS__) : ::lamina::cpu::fn(__VA_ARGS__))

// Ops whose CUDA kernels do not exist yet accept CPU tensors only.
inline void require_cpu(const char* op, const Tensor& t) {
  LAMINA_CHECK(t.device().is_cpu(), RuntimeError, "[", op,
               "] is not implemented for CUDA tensors yet; move the tensor with .cpu()");
}

inline void check_defined(const char* op, const Tensor& t, const char* arg) {
  LAMINA_CHECK(t.defined(), TypeError, "[", op, "] ", arg, " must be a tensor, got None");
}

inline void check_floating(const char* op, const Tensor& t, const char* arg) {
  LAMINA_CHECK(is_floating(t.dtype()), TypeError, "[", op, "] ", arg,
               " must be a float32 or float64 tensor, got ", dtype_name(t.dtype()));
}

inline void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  LAMINA_CHECK(a.device() == b.device(), RuntimeError, "[", op,
               "] expected all tensors on the same device, got ", a.device().str(), " and ",
               b.device().str());
}

inline void check_dim(const char* op, const Tensor& t, int64_t ndim, const char* arg) {
  LAMINA_CHECK(t.dim() == ndim, ValueError, "[", op, "] ", arg, " must be ", ndim,
               "-d, got shape ", shape_str(t.shape()));
}

// The view (outer, R, inner) of a shape around a single dim: outer = prod(shape[:dim]),
// R = shape[dim], inner = prod(shape[dim+1:]).
struct DimSplit {
  int64_t outer = 1, size = 1, inner = 1;
};
inline DimSplit split_at_dim(const Shape& shape, int64_t dim) {
  DimSplit s;
  for (int64_t i = 0; i < int64_t(shape.size()); ++i) {
    if (i < dim) s.outer *= shape[i];
    else if (i == dim) s.size = shape[i];
    else s.inner *= shape[i];
  }
  return s;
}

}  // namespace lamina

namespace lamina {

// In-place ops may not write into a leaf that requires grad while grad mode is on (PyTorch's rule).
inline void check_inplace(const char* op, const Tensor& self) {
  LAMINA_CHECK(!(GradMode::is_enabled() && self.requires_grad() && self.is_leaf()), RuntimeError, "[", op,
               "] a leaf tensor that requires grad is being used in an in-place operation; "
               "do it inside `with lamina.no_grad():`");
}

}  // namespace lamina

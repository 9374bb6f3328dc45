// CPU kernels of the layer ops (linear, dropout, batch/layer/group norm, embedding). Same
// conventions as cpu/kernels.h: outputs first, then inputs, then sizes; contiguous buffers;
// parameter gradients (dweight, dbias) accumulate (+=), activation gradients (dinp) are written.
// Optional parameters (weight, bias, running stats) are null pointers when absent.
#pragma once
#include <cstdint>
#include <memory>

#include "core/allocator.h"
#include "core/random.h"

namespace lamina::cpu {

// Scratch memory of a kernel (column buffers, projections) from the caching host allocator: a
// training step asks for the same sizes every step, and memory from new/malloc of this size
// comes from mmap and page-faults back in on every call. n <= 0 gives a null buffer.
template <typename T> struct ScratchFree {
  size_t bytes;
  void operator()(T* p) const { host_free(p, bytes); }
};
template <typename T> using Scratch = std::unique_ptr<T[], ScratchFree<T>>;
template <typename T> Scratch<T> scratch(int64_t n) {
  if (n <= 0) return Scratch<T>(nullptr, ScratchFree<T>{0});
  size_t bytes = size_t(n) * sizeof(T);
  return Scratch<T>(static_cast<T*>(host_alloc(bytes)), ScratchFree<T>{bytes});
}

// sum_{l < n} term(l) in double over 16 fixed lanes (term l into lane l % 16, combined pairwise):
// the loop vectorises (no chain of dependent adds) and the result does not depend on the thread
// count. Used by the per-channel sums of batch norm and the convolution bias gradient.
template <typename F> inline double lane_sum(int64_t n, F term) {
  constexpr int kLanes = 16;
  double lanes[kLanes] = {};
  int64_t l = 0;
  for (; l + kLanes <= n; l += kLanes)
    for (int q = 0; q < kLanes; ++q) lanes[q] += term(l + q);
  for (int q = 0; l < n; ++l, ++q) lanes[q] += term(l);
  for (int width = kLanes / 2; width > 0; width /= 2)
    for (int q = 0; q < width; ++q) lanes[q] += lanes[q + width];
  return lanes[0];
}

// --- linear.cpp: inp (N, IC), weight (OC, IC), bias (OC,), out (N, OC); GEMM via cpu::gemm ---
// out[n, :] = bias, row by row (the GEMM then adds inp @ weight^T with beta = 1).
template <typename T> void linear_bias_rows(T* out, const T* bias, int64_t N, int64_t OC);
// dbias[o] += sum_n dout[n, o]
template <typename T> void linear_bias_backward(T* dbias, const T* dout, int64_t N, int64_t OC);

// --- dropout.cpp: inp, mask, out (n,) ---
// mask[i] = 0 with probability p, else 1 / (1 - p); drawn serially from gen (seed-reproducible).
template <typename T> void dropout_mask(T* mask, int64_t n, double p, Generator& gen);
// out = inp * mask (forward; and backward as dinp = dout * mask, written)
template <typename T> void dropout_apply(T* out, const T* inp, const T* mask, int64_t n);

// --- norm.cpp ---
// Batch norm: inp (N, C, L) (L = 1 for 2-d input), weight, bias (C,), out (N, C, L);
// mean, rstd (C,): saved for backward.
// Batch statistics (biased variance); when running_mean/var are given they are updated in place
// with `momentum` and the unbiased variance (PyTorch's rule).
template <typename T>
void batch_norm_stats(T* mean, T* rstd, T* running_mean, T* running_var, const T* inp, int64_t N, int64_t C,
                      int64_t L, double eps, double momentum);
// Eval mode: mean = running_mean, rstd = 1 / sqrt(running_var + eps).
template <typename T> void batch_norm_eval_stats(T* mean, T* rstd, const T* running_mean, const T* running_var, int64_t C, double eps);
// out = (inp - mean[c]) * rstd[c] * weight[c] + bias[c]
template <typename T>
void batch_norm_forward(T* out, const T* inp, const T* mean, const T* rstd, const T* weight, const T* bias, int64_t N,
                        int64_t C, int64_t L);
// dinp written (null: not needed), dweight/dbias accumulated (null: not needed). `training`:
// mean and rstd depend on inp (batch statistics), else they are constants (running statistics).
template <typename T>
void batch_norm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* mean, const T* rstd,
                         const T* weight, int64_t N, int64_t C, int64_t L, bool training);

// Group norm: inp (N, C, HW), G groups of C / G channels, weight, bias (C,), out (N, C, HW);
// mean, rstd (N, G): saved for backward. Layer norm over (M, D) is the case N = M, C = D, HW = 1,
// G = 1, so both ops run these kernels.
template <typename T>
void group_norm_forward(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias, int64_t N, int64_t C,
                        int64_t HW, int64_t G, double eps);
template <typename T>
void group_norm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* mean, const T* rstd,
                         const T* weight, int64_t N, int64_t C, int64_t HW, int64_t G);

// --- embedding.cpp: weight (V, D), indices (n,), dout (n, D); forward is cpu::index_select ---
// dweight[indices[i], :] += dout[i, :], except the row padding_idx (-1: none).
template <typename T>
void embedding_backward(T* dweight, const T* dout, const int64_t* indices, int64_t n, int64_t D, int64_t padding_idx);

// --- activation.cpp: the parametrised activations (functors Act of ops/math.h), n elements ---
// out = act.fwd(inp); dinp = act.grad(inp, ., dout), written. The functors read inp only.
template <typename T, typename Act> void activation(T* out, const T* inp, int64_t n, Act act);
template <typename T, typename Act> void activation_backward(T* dinp, const T* dout, const T* inp, int64_t n, Act act);
// PReLU: inp (outer, C, inner), weight (C,) (C = 1: one shared slope), out (outer, C, inner).
// dinp written (null: not needed), dweight accumulated (null: not needed).
template <typename T> void prelu(T* out, const T* inp, const T* weight, int64_t outer, int64_t C, int64_t inner);
template <typename T>
void prelu_backward(T* dinp, T* dweight, const T* dout, const T* inp, const T* weight, int64_t outer, int64_t C,
                    int64_t inner);

}  // namespace lamina::cpu

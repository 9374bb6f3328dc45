// CPU kernels of the layer ops (linear, dropout, batch/layer/group norm, embedding). Same
// conventions as cpu/kernels.h: outputs first, then inputs, then sizes; contiguous buffers;
// parameter gradients (dweight, dbias) accumulate (+=), activation gradients (dinp) are written.
// Optional parameters (weight, bias, running stats) are null pointers when absent.
#pragma once
#include <cstdint>
#include "core/allocator.h"
#include "core/random.h"
#include "ops/cpu/loops.h"

namespace lamina::cpu {

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
// out = act.fwd(inp); dinp = act.grad(inp, ., dout), written (dinp may be dout). The functors read
// inp only.
template <typename T, typename Act> void activation(T* out, const T* inp, int64_t n, Act act);
template <typename T, typename Act> void activation_backward(T* dinp, const T* dout, const T* inp, int64_t n, Act act);
// PReLU: inp (outer, C, inner), weight (C,) (C = 1: one shared slope), out (outer, C, inner).
// dinp written (null: not needed), dweight accumulated (null: not needed).
template <typename T> void prelu(T* out, const T* inp, const T* weight, int64_t outer, int64_t C, int64_t inner);
template <typename T>
void prelu_backward(T* dinp, T* dweight, const T* dout, const T* inp, const T* weight, int64_t outer, int64_t C,
                    int64_t inner);

}  // namespace lamina::cpu

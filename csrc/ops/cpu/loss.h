// CPU loss kernels (cpu/loss.cpp). Conventions as in cpu/kernels.h: outputs first, then inputs,
// then sizes; every gradient output is written (=). Front-ends validate targets before calling.
// Reductions: the forward kernels return the sums the front-end divides ({sum w l, sum w});
// the backward kernels read the incoming gradient as dout[i * dout_stride] * scale, so one
// kernel serves 'none' (stride 1, scale 1) and 'mean'/'sum' (stride 0, scale 1/denominator).
#pragma once
#include <cstdint>

#include "ops/loss_math.h"

namespace lamina::cpu {

// --- elementwise losses: inp, target, weight, pos_weight, losses (n) ---
// losses = w l(inp, target, pos_weight), written when not null; sums = {sum w l, sum w}.
// weight and pos_weight may be null (1 everywhere); param is SmoothL1's beta or Huber's delta.
template <typename T>
void pointwise_loss(T* losses, double* sums, const T* inp, const T* target, const T* weight, const T* pos_weight,
                    int64_t n, PointwiseLoss kind, double param);
// g = dout[i * dout_stride] * scale; dinp = g w dl/dx, dtarget = g w dl/dt,
// dweight = g (l - mean_loss) (mean_loss: the result of a mean normalised by sum w, else 0).
// Each of dinp, dtarget, dweight is written when not null.
template <typename T>
void pointwise_loss_backward(T* dinp, T* dtarget, T* dweight, const T* dout, int64_t dout_stride, double scale,
                             double mean_loss, const T* inp, const T* target, const T* weight, const T* pos_weight,
                             int64_t n, PointwiseLoss kind, double param);

// --- class losses: inp (N, C, S) with S = d1 * ... * dk, target (N, S), weight (C) or null ---
// cross_entropy with class indices, log-softmax fused in. Per position (n, s) with y = target:
//   l = -(1 - ls) w_y logp_y - (ls / C) sum_c w_c logp_c,   logp = x - lse,
// 0 where y == ignore_index. losses (N, S) written when not null; lse (N, S) saved for backward;
// sums = {sum l, sum of w_y over non-ignored positions}.
template <typename T>
void cross_entropy(T* losses, double* lse, double* sums, const T* inp, const int64_t* target, const T* weight,
                   int64_t N, int64_t C, int64_t S, int64_t ignore_index, double label_smoothing);
// p = exp(x - lse):  dinp_c = g (p_c ((1 - ls) w_y + (ls / C) sum w) - (1 - ls) w_y [c == y] - (ls / C) w_c)
template <typename T>
void cross_entropy_backward(T* dinp, const T* dout, int64_t dout_stride, double scale, const T* inp,
                            const double* lse, const int64_t* target, const T* weight, int64_t N, int64_t C,
                            int64_t S, int64_t ignore_index, double label_smoothing);
// cross_entropy with class probabilities target (N, C, S): t' = (1 - ls) t + ls / C,
// l = -sum_c w_c t'_c logp_c. losses (N, S) when not null; lse (N, S); sums = {sum l, 0}.
template <typename T>
void cross_entropy_probs(T* losses, double* lse, double* sums, const T* inp, const T* target, const T* weight,
                         int64_t N, int64_t C, int64_t S, double label_smoothing);
// dinp_c = g (p_c sum_k w_k t'_k - w_c t'_c);  dtarget_c = -g (1 - ls) w_c logp_c. Null: skipped.
template <typename T>
void cross_entropy_probs_backward(T* dinp, T* dtarget, const T* dout, int64_t dout_stride, double scale,
                                  const T* inp, const double* lse, const T* target, const T* weight, int64_t N,
                                  int64_t C, int64_t S, double label_smoothing);
// nll_loss on log-probabilities inp: l = -w_y inp_y, 0 where y == ignore_index.
// losses (N, S) when not null; sums = {sum l, sum of w_y over non-ignored positions}.
template <typename T>
void nll_loss(T* losses, double* sums, const T* inp, const int64_t* target, const T* weight, int64_t N, int64_t C,
              int64_t S, int64_t ignore_index);
// dinp = 0 except dinp_y = -g w_y.
template <typename T>
void nll_loss_backward(T* dinp, const T* dout, int64_t dout_stride, double scale, const int64_t* target,
                       const T* weight, int64_t N, int64_t C, int64_t S, int64_t ignore_index);

}  // namespace lamina::cpu

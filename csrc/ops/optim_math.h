// Per-element optimizer updates, written once for the CPU loops and the CUDA kernels (LAMINA_HD).
// Each follows the single-tensor implementation of torch/optim/<name>.py operation by operation
// (same order of roundings in T), so that trajectories match PyTorch's. Scalars that depend only
// on the step (bias corrections, decayed learning rates) are computed by the caller in double.
#pragma once
#include <cmath>

#include "ops/math.h"

namespace lamina::math {

// torch.lerp(a, b, w) = a + w (b - a), written from b's side for w >= 0.5 (as ATen does).
template <typename T> LAMINA_HD T lerp(T a, T b, T w) {
  return w < T(0.5) ? a + w * (b - a) : b - (b - a) * (T(1) - w);
}

// The gradient as every optimizer sees it first: negated to maximize, plus L2 weight decay.
template <typename T> LAMINA_HD T effective_grad(T g, T p, T weight_decay, bool maximize) {
  g = maximize ? -g : g;
  return weight_decay != T(0) ? g + weight_decay * p : g;
}

// The scalars arrive as T, converted from doubles as PyTorch's kernels do: `one_minus_x` is 1 - x
// computed in double first (1 - 0.999 in float32 would differ in the 5th digit).
// addcmul: self + value * t1 * t2; addcdiv: self + value * t1 / t2; add(alpha): self + alpha * other.

// SGD. buf = g on the first step (`first`), else momentum buf + (1 - dampening) g;
// p -= lr (g + momentum buf) with nesterov, else p -= lr buf. Without momentum: p -= lr g.
template <typename T>
LAMINA_HD void sgd_update(T& p, T& buf, T g, bool first, T lr, T momentum, T one_minus_dampening, T weight_decay,
                          bool nesterov, bool maximize) {
  g = effective_grad(g, p, weight_decay, maximize);
  if (momentum != T(0)) {
    buf = first ? g : buf * momentum + one_minus_dampening * g;
    g = nesterov ? g + momentum * buf : buf;
  }
  p = p + (-lr) * g;
}

// Adam / AdamW. m = lerp(m, g, 1 - beta1); v = beta2 v + (1 - beta2) g^2; vmax = max(vmax, v) (amsgrad);
// p -= step_size m / (sqrt(v) / sqrt(1 - beta2^t) + eps), step_size = lr / (1 - beta1^t).
// AdamW (decoupled) first scales p by decay = 1 - lr weight_decay instead of adding weight_decay p to g.
template <typename T>
LAMINA_HD void adam_update(T& p, T& m, T& v, T* vmax, T g, T one_minus_beta1, T beta2, T one_minus_beta2, T eps,
                           T weight_decay, T decay, T step_size, T bias_correction2_sqrt, bool maximize,
                           bool decoupled) {
  g = maximize ? -g : g;
  if (weight_decay != T(0)) {
    if (decoupled) p = p * decay;
    else g = g + weight_decay * p;
  }
  m = lerp(m, g, one_minus_beta1);
  v = v * beta2 + one_minus_beta2 * g * g;
  T second = v;
  if (vmax) {
    *vmax = *vmax > v || *vmax != *vmax ? *vmax : v;  // torch.maximum (NaN propagates)
    second = *vmax;
  }
  T denom = std::sqrt(second) / bias_correction2_sqrt + eps;
  p = p + (-step_size) * m / denom;
}

// RMSprop. sq = alpha sq + (1 - alpha) g^2; centered: ga = lerp(ga, g, 1 - alpha), avg = sqrt(sq - ga^2),
// else avg = sqrt(sq); avg += eps. Momentum: buf = momentum buf + g / avg, p -= lr buf; else p -= lr g / avg.
template <typename T>
LAMINA_HD void rmsprop_update(T& p, T& sq, T* grad_avg, T* buf, T g, T lr, T alpha, T one_minus_alpha, T eps,
                              T weight_decay, T momentum, bool maximize) {
  g = effective_grad(g, p, weight_decay, maximize);
  sq = sq * alpha + one_minus_alpha * g * g;
  T avg;
  if (grad_avg) {
    *grad_avg = lerp(*grad_avg, g, one_minus_alpha);
    avg = std::sqrt(sq + T(-1) * *grad_avg * *grad_avg);
  } else {
    avg = std::sqrt(sq);
  }
  avg = avg + eps;
  if (buf) {
    *buf = *buf * momentum + T(1) * g / avg;
    p = p + (-lr) * *buf;
  } else {
    p = p + (-lr) * g / avg;
  }
}

// Adagrad. sum += g^2; p -= clr g / (sqrt(sum) + eps), clr = lr / (1 + (t - 1) lr_decay).
template <typename T>
LAMINA_HD void adagrad_update(T& p, T& sum, T g, T clr, T eps, T weight_decay, bool maximize) {
  g = effective_grad(g, p, weight_decay, maximize);
  sum = sum + T(1) * g * g;
  p = p + (-clr) * g / (std::sqrt(sum) + eps);
}

// Adadelta. sq = rho sq + (1 - rho) g^2; delta = sqrt(acc + eps) / sqrt(sq + eps) g;
// acc = rho acc + (1 - rho) delta^2; p -= lr delta.
template <typename T>
LAMINA_HD void adadelta_update(T& p, T& sq, T& acc, T g, T lr, T rho, T one_minus_rho, T eps, T weight_decay,
                               bool maximize) {
  g = effective_grad(g, p, weight_decay, maximize);
  sq = sq * rho + one_minus_rho * g * g;
  T std_ = std::sqrt(sq + eps);
  T delta = std::sqrt(acc + eps) / std_ * g;
  acc = acc * rho + one_minus_rho * delta * delta;
  p = p + (-lr) * delta;
}

}  // namespace lamina::math

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

// SGD: buf = g on the first step, else momentum buf + (1 - dampening) g;
// step along g + momentum buf (nesterov) or buf; p -= lr step.
struct SgdUpdate {
  T_PLACEHOLDER_NEVER_USED_;
};

}  // namespace lamina::math

// Per-element loss terms, written once for the CPU loops and the CUDA kernels (LAMINA_HD).
// Each functor has fwd(x, t, pw) = l(x, t) and grad(x, t, pw, dx, dt) = the partial derivatives
// dl/dx and dl/dt (not yet times the incoming gradient or the weight). x is the input, t the
// target; pw is the positive-class weight, read by BceWithLogits only (1 elsewhere).
#pragma once
#include <cmath>
#include <cstdint>

#include "ops/math.h"

namespace lamina {

// The elementwise losses, one per functor below (the kernels switch on it once per call).
enum class PointwiseLoss : uint8_t { Mse, L1, SmoothL1, Huber, Bce, BceWithLogits, KlDiv, KlDivLogTarget };

}  // namespace lamina

namespace lamina::math {

template <typename T> LAMINA_HD T sign_of(T d) { return T((d > T(0)) - (d < T(0))); }

// log sigmoid(x) = min(x, 0) - log1p(exp(-|x|)), finite for every finite x.
template <typename T> LAMINA_HD T log_sigmoid(T x) {
  return (x < T(0) ? x : T(0)) - std::log1p(std::exp(-std::fabs(x)));
}

// (x - t)^2
struct MseLoss {
  template <typename T> LAMINA_HD T fwd(T x, T t, T) const { return (x - t) * (x - t); }
  template <typename T> LAMINA_HD void grad(T x, T t, T, T& dx, T& dt) const {
    dx = T(2) * (x - t);
    dt = -dx;
  }
};

// |x - t|; the derivative at x == t is taken as 0 (PyTorch's sign).
struct L1Loss {
  template <typename T> LAMINA_HD T fwd(T x, T t, T) const { return std::fabs(x - t); }
  template <typename T> LAMINA_HD void grad(T x, T t, T, T& dx, T& dt) const {
    dx = sign_of(x - t);
    dt = -dx;
  }
};

// z = |x - t|: 0.5 z^2 / beta where z < beta, else z - 0.5 beta. beta > 0 (beta == 0 is L1Loss).
struct SmoothL1Loss {
  double beta;
  template <typename T> LAMINA_HD T fwd(T x, T t, T) const {
    T z = std::fabs(x - t), b = T(beta);
    return z < b ? T(0.5) * z * z / b : z - T(0.5) * b;
  }
  template <typename T> LAMINA_HD void grad(T x, T t, T, T& dx, T& dt) const {
    T d = x - t, b = T(beta);
    dx = d < -b ? T(-1) : (d > b ? T(1) : d / b);
    dt = -dx;
  }
};

// z = |x - t|: 0.5 z^2 where z < delta, else delta (z - 0.5 delta). delta > 0.
struct HuberLoss {
  double delta;
  template <typename T> LAMINA_HD T fwd(T x, T t, T) const {
    T z = std::fabs(x - t), dl = T(delta);
    return z < dl ? T(0.5) * z * z : dl * (z - T(0.5) * dl);
  }
  template <typename T> LAMINA_HD void grad(T x, T t, T, T& dx, T& dt) const {
    T d = x - t, dl = T(delta);
    dx = d < -dl ? -dl : (d > dl ? dl : d);
    dt = -dx;
  }
};

// -(t log x + (1 - t) log(1 - x)), each log clamped at -100 (PyTorch), x in [0, 1].
// dl/dx = (x - t) / (x (1 - x)), the denominator clamped at 1e-12 (PyTorch's EPSILON);
// dl/dt = log(1 - x) - log x = -logit(x).
struct BceLoss {
  template <typename T> LAMINA_HD T fwd(T x, T t, T) const {
    T log_x = std::log(x), log_1mx = std::log1p(-x);
    log_x = log_x < T(-100) ? T(-100) : log_x;
    log_1mx = log_1mx < T(-100) ? T(-100) : log_1mx;
    return (t - T(1)) * log_1mx - t * log_x;
  }
  template <typename T> LAMINA_HD void grad(T x, T t, T, T& dx, T& dt) const {
    T denom = (T(1) - x) * x;
    dx = (x - t) / (denom < T(1e-12) ? T(1e-12) : denom);
    dt = -std::log(x / (T(1) - x));
  }
};

// l = (1 - t) x - lw log sigmoid(x), lw = 1 + (pw - 1) t: BCE on sigmoid(x), stable for any x.
// dl/dx = lw sigmoid(x) - pw t;  dl/dt = -x - (pw - 1) log sigmoid(x).
struct BceWithLogitsLoss {
  template <typename T> LAMINA_HD T fwd(T x, T t, T pw) const {
    T lw = T(1) + (pw - T(1)) * t;
    return (T(1) - t) * x - lw * log_sigmoid(x);
  }
  template <typename T> LAMINA_HD void grad(T x, T t, T pw, T& dx, T& dt) const {
    T lw = T(1) + (pw - T(1)) * t;
    T sig = T(1) / (T(1) + std::exp(-x));
    dx = lw * sig - pw * t;
    dt = -x - (pw - T(1)) * log_sigmoid(x);
  }
};

// t log t - t x (x holds log-probabilities; t log t = 0 at t == 0, as xlogy).
// dl/dx = -t;  dl/dt = log t + 1 - x. At t == 0 PyTorch's xlogy gradient is log(1)·0 + 0/0 = NaN;
// we keep that value so that both libraries agree.
struct KlDivLoss {
  template <typename T> LAMINA_HD T fwd(T x, T t, T) const {
    return (t == T(0) ? T(0) : t * std::log(t)) - t * x;
  }
  template <typename T> LAMINA_HD void grad(T x, T t, T, T& dx, T& dt) const {
    dx = -t;
    dt = (t == T(0) ? T(0) : std::log(t)) + t / t - x;
  }
};

// exp(t) (t - x): the target given as log-probabilities too.
// dl/dx = -exp(t);  dl/dt = exp(t) (t - x + 1).
struct KlDivLogTargetLoss {
  template <typename T> LAMINA_HD T fwd(T x, T t, T) const { return std::exp(t) * (t - x); }
  template <typename T> LAMINA_HD void grad(T x, T t, T, T& dx, T& dt) const {
    T e = std::exp(t);
    dx = -e;
    dt = e * (t - x + T(1));
  }
};

}  // namespace lamina::math

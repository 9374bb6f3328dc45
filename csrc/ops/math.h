// Per-element math, written once for the CPU loops and the CUDA kernels (LAMINA_HD).
// Each binary functor has fwd(a, b) and grad(a, b, out, g, da, db): the partial derivatives
// times the incoming gradient g. Unary functors have fwd(x) and grad(x, out, g).
#pragma once
#include <cmath>
#include <cstdint>

#ifdef __CUDACC__
#define LAMINA_HD __host__ __device__ inline
#else
#define LAMINA_HD inline
#endif

namespace lamina::math {

struct Add {
  template <typename T> LAMINA_HD T fwd(T a, T b) const { return a + b; }
  template <typename T> LAMINA_HD void grad(T, T, T, T g, T& da, T& db) const { da = g; db = g; }
};
struct Sub {
  template <typename T> LAMINA_HD T fwd(T a, T b) const { return a - b; }
  template <typename T> LAMINA_HD void grad(T, T, T, T g, T& da, T& db) const { da = g; db = -g; }
};
struct Mul {
  template <typename T> LAMINA_HD T fwd(T a, T b) const { return a * b; }
  template <typename T> LAMINA_HD void grad(T a, T b, T, T g, T& da, T& db) const { da = g * b; db = g * a; }
};
// d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -out/b
struct Div {
  template <typename T> LAMINA_HD T fwd(T a, T b) const { return a / b; }
  template <typename T> LAMINA_HD void grad(T, T b, T out, T g, T& da, T& db) const {
    da = g / b;
    db = -g * out / b;
  }
};
// d(a^b)/da = b a^(b-1); d(a^b)/db = a^b log(a), taken as 0 where a == 0 and b >= 0 (as PyTorch).
struct Pow {
  template <typename T> LAMINA_HD T fwd(T a, T b) const { return std::pow(a, b); }
  template <typename T> LAMINA_HD void grad(T a, T b, T out, T g, T& da, T& db) const {
    da = b == T(0) ? T(0) : g * b * std::pow(a, b - T(1));
    db = (a == T(0) && b >= T(0)) ? T(0) : g * out * std::log(a);
  }
};
// Ties split the gradient evenly between the two inputs, as PyTorch does.
struct Maximum {
  // NaN in either input gives NaN.
  template <typename T> LAMINA_HD T fwd(T a, T b) const { return a != a ? a : (b != b ? b : (a > b ? a : b)); }
  template <typename T> LAMINA_HD void grad(T a, T b, T, T g, T& da, T& db) const {
    T w = a > b ? T(1) : (a == b ? T(0.5) : T(0));
    da = g * w;
    db = g * (T(1) - w);
  }
};
struct Minimum {
  template <typename T> LAMINA_HD T fwd(T a, T b) const { return a != a ? a : (b != b ? b : (a < b ? a : b)); }
  template <typename T> LAMINA_HD void grad(T a, T b, T, T g, T& da, T& db) const {
    T w = a < b ? T(1) : (a == b ? T(0.5) : T(0));
    da = g * w;
    db = g * (T(1) - w);
  }
};

struct Neg {
  template <typename T> LAMINA_HD T fwd(T x) const { return -x; }
  template <typename T> LAMINA_HD T grad(T, T, T g) const { return -g; }
};
struct Exp {
  template <typename T> LAMINA_HD T fwd(T x) const { return std::exp(x); }
  template <typename T> LAMINA_HD T grad(T, T out, T g) const { return g * out; }
};
struct Log {
  template <typename T> LAMINA_HD T fwd(T x) const { return std::log(x); }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const { return g / x; }
};
struct Sqrt {
  template <typename T> LAMINA_HD T fwd(T x) const { return std::sqrt(x); }
  template <typename T> LAMINA_HD T grad(T, T out, T g) const { return g / (T(2) * out); }
};
// d|x|/dx = sign(x), 0 at 0.
struct Abs {
  template <typename T> LAMINA_HD T fwd(T x) const { return x < T(0) ? -x : x; }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const { return x > T(0) ? g : (x < T(0) ? -g : T(0)); }
};
// NaN and -0 pass through, as in PyTorch.
struct Relu {
  template <typename T> LAMINA_HD T fwd(T x) const { return x < T(0) ? T(0) : x; }
  template <typename T> LAMINA_HD T grad(T, T out, T g) const { return out > T(0) ? g : T(0); }
};
// sigmoid' = s (1 - s)
struct Sigmoid {
  template <typename T> LAMINA_HD T fwd(T x) const {
    return x >= T(0) ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
  }
  template <typename T> LAMINA_HD T grad(T, T out, T g) const { return g * out * (T(1) - out); }
};
// tanh' = 1 - tanh^2
struct Tanh {
  template <typename T> LAMINA_HD T fwd(T x) const { return std::tanh(x); }
  template <typename T> LAMINA_HD T grad(T, T out, T g) const { return g * (T(1) - out * out); }
};

// clamp(x, lo, hi); the gradient passes where lo <= x <= hi (bounds inclusive, as PyTorch).
template <typename T> LAMINA_HD T clamp(T x, T lo, T hi, bool has_lo, bool has_hi) {
  if (x != x) return x;
  if (has_lo && x < lo) x = lo;
  if (has_hi && x > hi) x = hi;
  return x;
}

}  // namespace lamina::math

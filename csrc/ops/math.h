// Per-element math, written once for the CPU loops and the CUDA kernels (LAMINA_HD).
// Each binary functor has fwd(a, b) and grad(a, b, out, g, da, db): the partial derivatives
// times the incoming gradient g. Unary functors have fwd(x) and grad(x, out, g).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#ifdef __CUDACC__
#define LAMINA_HD __host__ __device__ inline
#else
#define LAMINA_HD inline
#endif

namespace lamina::math {

// exp(x) = p 2^n, split for the vectorised float functions below: n = round(x log2 e), p = exp(r)
// with r = x - n ln2, |r| <= ln2/2 (ln2 split in two so that n ln2 is exact), Cephes' degree-6
// minimax polynomial 1 + r + r^2 p(r); n comes as n1 + n2 (n1 = n/2), so that 2^n can be applied
// as two normal powers 2^n1 2^n2. x must be clamped by the caller to where 2^n1 and 2^n2 (or their
// inverses) are normal floats: [-104, 104] is.
struct ExpParts {
  float p;
  int32_t n1, n2;
};
LAMINA_HD ExpParts exp_parts(float x) {
  // n = round(x log2 e) by the 1.5 * 2^23 trick (well-defined for any x, unlike a cast).
  const float kShift = 12582912.0f;
  float t = x * 1.44269504088896341f + kShift;
  float n = t - kShift;
  int32_t ti;
  memcpy(&ti, &t, sizeof ti);
  int32_t ni = ti - 0x4B400000, n1 = ni >> 1;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return {p, n1, ni - n1};
}
// 2^n for -126 <= n <= 127.
LAMINA_HD float pow2(int32_t n) {
  int32_t bits = (n + 127) << 23;
  float y;
  memcpy(&y, &bits, sizeof y);
  return y;
}

// min(max(x, lo), hi) for the float functions below, whose final select restores a NaN x (the clamp
// of a NaN is unspecified). std::min/max become one vmaxps/vminps in GCC's vector loops, where
// comparison selects turned into masked copies and a second division (vexp 8% faster).
#ifdef __CUDACC__
LAMINA_HD float clamp_float(float x, float lo, float hi) { return fminf(fmaxf(x, lo), hi); }
#else
inline float clamp_float(float x, float lo, float hi) { return std::min(std::max(x, lo), hi); }
#endif

// exp(x) that vectorises: float gets a branch-free polynomial (within 2 ulp of std::exp over the
// whole range, subnormal results included; tests/test_math_accuracy.py checks it), other types
// keep std::exp. p 2^n1 2^n2 with the two normal powers of exp_parts, so that results down to the
// subnormals and up to inf come out right.
LAMINA_HD float vexp(float x) {
  const ExpParts e = exp_parts(clamp_float(x, -104.0f, 88.8f));
  float y = e.p * pow2(e.n1) * pow2(e.n2);
  return x != x ? x : y;
}
template <typename T> LAMINA_HD T vexp(T x) { return T(std::exp(x)); }

// sigmoid(x) = 1 / (1 + exp(-x)) that vectorises, with one division and no branch: float writes
// exp(-x) = p 2^n (exp_parts) and returns 2^-n / (2^-n + p), which stays finite where exp(-x)
// overflows and rounds once into the subnormals (x < -87.3); within 2.5 ulp over all floats
// (tests/test_math_accuracy.py). -x is clamped to [-88, 104]: sigmoid is 1 in float below and 0
// above. Other types: exp(-|x|) <= 1 (no overflow), 1 / (1 + e) or e / (1 + e) by the sign.
LAMINA_HD float vsigmoid(float x) {
  const ExpParts e = exp_parts(clamp_float(-x, -88.0f, 104.0f));
  float inv = pow2(-e.n1) * pow2(-e.n2);  // 2^-n: 0 below the subnormals, at most 2^127
  float y = inv / (inv + e.p);
  return x != x ? x : y;
}
template <typename T> LAMINA_HD T vsigmoid(T x) {
  T e = T(std::exp(x < T(0) ? x : -x));
  return x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

// tanh(x) that vectorises: float computes t = tanh|x| as |x| + |x|^3 q(x^2) (Cephes) below 0.625
// and 1 - 2 / (exp(2|x|) + 1) above, written with exp(2|x|) = p 2^n (exp_parts) as
// 1 - 2 (2^-n / (p + 2^-n)) (no cancellation, no overflow: 2|x| is clamped to 88, where t is 1),
// then gives t the sign of x (copysign: -0 and NaN keep theirs, with no select); within 1.33 ulp
// over all floats. Other types keep std::tanh.
LAMINA_HD float vtanh(float x) {
  float ax = std::fabs(x);
  float z = ax * ax;
  float q = -5.70498872745e-3f;
  q = q * z + 2.06390887954e-2f;
  q = q * z - 5.37397155531e-2f;
  q = q * z + 1.33314422036e-1f;
  q = q * z - 3.33332819422e-1f;
  float small = q * z * ax + ax;
  const ExpParts e = exp_parts(clamp_float(2.0f * ax, 0.0f, 88.0f));
  float inv = pow2(-e.n1) * pow2(-e.n2);  // 2^-n
  float big = 1.0f - 2.0f * (inv / (e.p + inv));
  return std::copysign(ax >= 0.625f ? big : small, x);  // a NaN x takes small, NaN (the clamp may drop it)
}
template <typename T> LAMINA_HD T vtanh(T x) { return T(std::tanh(x)); }

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
  template <typename T> LAMINA_HD T fwd(T x) const { return vexp(x); }
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
// NaN and -0 pass through, as in PyTorch; so does the gradient at NaN (blocked where out <= 0).
struct Relu {
  template <typename T> LAMINA_HD T fwd(T x) const { return x < T(0) ? T(0) : x; }
  template <typename T> LAMINA_HD T grad(T, T out, T g) const { return out <= T(0) ? T(0) : g; }
};
// sigmoid' = s (1 - s)
struct Sigmoid {
  template <typename T> LAMINA_HD T fwd(T x) const { return vsigmoid(x); }
  template <typename T> LAMINA_HD T grad(T, T out, T g) const { return g * out * (T(1) - out); }
};
// tanh' = 1 - tanh^2
struct Tanh {
  template <typename T> LAMINA_HD T fwd(T x) const { return vtanh(x); }
  template <typename T> LAMINA_HD T grad(T, T out, T g) const { return g * (T(1) - out * out); }
};

// --- activations with parameters: fwd(x) and grad(x, out, g) as the unary functors, with their
// parameters as members (double, converted to T where used) ---

// x > 0 ? x : slope x  (also PReLU, with slope = weight[c])
struct LeakyRelu {
  double slope = 0.01;
  template <typename T> LAMINA_HD T fwd(T x) const { return x > T(0) ? x : x * T(slope); }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const { return x > T(0) ? g : g * T(slope); }
};
// scale (x > 0 ? x : alpha (e^x - 1)); ELU is scale = 1, SELU the fixed (alpha, scale) below.
// d/dx for x <= 0: scale alpha e^x.
struct Elu {
  double alpha = 1, scale = 1;
  template <typename T> LAMINA_HD T fwd(T x) const {
    return x > T(0) ? T(scale) * x : T(scale * alpha) * (std::exp(x) - T(1));
  }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const {
    return x > T(0) ? g * T(scale) : g * T(scale * alpha) * std::exp(x);
  }
};
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
// exact: x Phi(x), Phi' = e^(-x^2/2) / sqrt(2 pi);
// tanh:  0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), du/dx = sqrt(2/pi) (1 + 3 0.044715 x^2)
struct Gelu {
  bool tanh_approx = false;
  template <typename T> LAMINA_HD T fwd(T x) const {
    if (tanh_approx) return T(0.5) * x * (T(1) + std::tanh(T(0.7978845608028654) * (x + T(0.044715) * x * x * x)));
    return T(0.5) * x * (T(1) + std::erf(x * T(0.7071067811865476)));
  }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const {
    if (tanh_approx) {
      T t = std::tanh(T(0.7978845608028654) * (x + T(0.044715) * x * x * x));
      T du = T(0.7978845608028654) * (T(1) + T(3 * 0.044715) * x * x);
      return g * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du);
    }
    T cdf = T(0.5) * (T(1) + std::erf(x * T(0.7071067811865476)));
    return g * (cdf + x * T(0.3989422804014327) * std::exp(T(-0.5) * x * x));
  }
};
// x s(x), s = sigmoid;  d/dx = s (1 + x (1 - s))
struct Silu {
  template <typename T> LAMINA_HD T fwd(T x) const { return x * Sigmoid{}.fwd(x); }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const {
    T s = Sigmoid{}.fwd(x);
    return g * s * (T(1) + x * (T(1) - s));
  }
};
// log(1 + e^(beta x)) / beta, linear where beta x > threshold;  d/dx = sigmoid(beta x)
struct Softplus {
  double beta = 1, threshold = 20;
  template <typename T> LAMINA_HD T fwd(T x) const {
    T bx = x * T(beta);
    return bx > T(threshold) ? x : std::log1p(std::exp(bx)) / T(beta);
  }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const {
    T bx = x * T(beta);
    return bx > T(threshold) ? g : g * Sigmoid{}.fwd(bx);
  }
};
// x tanh(softplus(x));  d/dx = tsp + x sigmoid(x) (1 - tsp^2), tsp = tanh(softplus(x))
struct Mish {
  template <typename T> LAMINA_HD T fwd(T x) const { return x * std::tanh(Softplus{}.fwd(x)); }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const {
    T tsp = std::tanh(Softplus{}.fwd(x));
    return g * (tsp + x * Sigmoid{}.fwd(x) * (T(1) - tsp * tsp));
  }
};
// clamp(x, min_val, max_val); the gradient passes strictly inside (as PyTorch's hardtanh).
struct Hardtanh {
  double min_val = -1, max_val = 1;
  template <typename T> LAMINA_HD T fwd(T x) const {
    return x < T(min_val) ? T(min_val) : (x > T(max_val) ? T(max_val) : x);
  }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const {
    return (x <= T(min_val) || x >= T(max_val)) ? T(0) : g;
  }
};

// clamp(x, lo, hi); the gradient passes where lo <= x <= hi (bounds inclusive, as PyTorch).
template <typename T> LAMINA_HD T clamp(T x, T lo, T hi, bool has_lo, bool has_hi) {
  if (x != x) return x;
  if (has_lo && x < lo) x = lo;
  if (has_hi && x > hi) x = hi;
  return x;
}

}  // namespace lamina::math

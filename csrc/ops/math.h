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

// min(max(x, lo), hi) for the float functions below; a NaN x stays NaN (std::max(x, lo) is
// x < lo ? lo : x, and the device form is written the same way: fmaxf would drop the NaN). GCC's
// vector loops compute the lanes that the clamp leaves alone under a mask and give the others the
// constant result of the bound.
#ifdef __CUDACC__
LAMINA_HD float clamp_float(float x, float lo, float hi) {
  x = x < lo ? lo : x;
  return hi < x ? hi : x;
}
#else
inline float clamp_float(float x, float lo, float hi) { return std::min(std::max(x, lo), hi); }
#endif

// The rounding error of x * x (x x = h + square_low(x, h) exactly, h = x x rounded): one fma.
#ifdef __CUDACC__
LAMINA_HD float square_low(float x, float h) { return fmaf(x, x, -h); }
#else
inline float square_low(float x, float h) { return std::fma(x, x, -h); }
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
// (tests/test_math_accuracy.py). -x is clamped to [-20, 104]: sigmoid rounds to 1 in float from
// x = 17.4 and to 0 below -104. So n is in [-29, 150] and 2^-n = 2^(24 - n) 2^-24: one normal power,
// then one exact scaling (or rounding into the subnormals). A NaN x gives NaN through the clamp.
// Other types: exp(-|x|) <= 1 (no overflow), 1 / (1 + e) or e / (1 + e) by the sign.
LAMINA_HD float vsigmoid(float x) {
  const ExpParts e = exp_parts(clamp_float(-x, -20.0f, 104.0f));
  float inv = pow2(24 - (e.n1 + e.n2)) * 5.9604644775390625e-8f;  // 2^-n
  return inv / (inv + e.p);
}
template <typename T> LAMINA_HD T vsigmoid(T x) {
  T e = T(std::exp(x < T(0) ? x : -x));
  return x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

// tanh(x) that vectorises: float computes t = tanh|x| as |x| + |x|^3 q(x^2) (Cephes) below 0.625
// and 1 - 2 / (exp(2|x|) + 1) above, written with exp(2|x|) = p 2^n (exp_parts) as
// 1 - 2 (2^-n / (p + 2^-n)) (no cancellation; 2|x| is clamped to 40, where t has rounded to 1 from
// |x| = 9.01, so that 2^-n is one normal power), then gives t the sign of x (copysign: -0 and NaN
// keep theirs, with no select); within 1.33 ulp over all floats. Other types keep std::tanh.
LAMINA_HD float vtanh(float x) {
  float ax = std::fabs(x);
  float z = ax * ax;
  float q = -5.70498872745e-3f;
  q = q * z + 2.06390887954e-2f;
  q = q * z - 5.37397155531e-2f;
  q = q * z + 1.33314422036e-1f;
  q = q * z - 3.33332819422e-1f;
  float small = q * z * ax + ax;
  const ExpParts e = exp_parts(clamp_float(2.0f * ax, 0.0f, 40.0f));
  float inv = pow2(-(e.n1 + e.n2));  // 2^-n, 0 <= n <= 58
  float big = 1.0f - 2.0f * (inv / (e.p + inv));
  return std::copysign(ax >= 0.625f ? big : small, x);  // a NaN x takes small, NaN (the clamp may drop it)
}
template <typename T> LAMINA_HD T vtanh(T x) { return T(std::tanh(x)); }

// R(t) = Phi(-t) / e^(-t^2/2) for 0 <= t <= 14.5 (float; vectorises): a weighted least-squares fit of
// degree 12 on three pieces, [0, 2.25], [2.25, 6.5], [6.5, 14.5] (in t - centre), whose coefficients are
// selected per element (one Horner evaluation, no branch). GeluExact multiplies it by e^(-t^2/2), which
// its gradient shares.
LAMINA_HD float normal_mills(float t) {
  const bool p1 = t >= 2.25f, p2 = t >= 6.5f;
  const float u = t - (p2 ? 10.5f : (p1 ? 4.375f : 1.0f));
#define LAMINA_C3(a, b, c) (p2 ? (c) : (p1 ? (b) : (a)))
  float q = LAMINA_C3(3.233870132e-07f, 1.237838304e-10f, 1.483591760e-14f);
  q = q * u + LAMINA_C3(-1.908993227e-06f, -8.205898738e-10f, -1.751648007e-13f);
  q = q * u + LAMINA_C3(6.778011993e-06f, 3.394789116e-09f, 1.260846896e-12f);
  q = q * u + LAMINA_C3(-2.403927829e-05f, -2.043081260e-08f, -1.431162914e-11f);
  q = q * u + LAMINA_C3(8.797734336e-05f, 1.320572380e-07f, 1.777075986e-10f);
  q = q * u + LAMINA_C3(-3.074179403e-04f, -7.774569895e-07f, -2.008730071e-09f);
  q = q * u + LAMINA_C3(1.015152549e-03f, 4.436241397e-06f, 2.237388230e-08f);
  q = q * u + LAMINA_C3(-3.166033654e-03f, -2.481763659e-05f, -2.488822020e-07f);
  q = q * u + LAMINA_C3(9.255319834e-03f, 1.352203835e-04f, 2.748143515e-06f);
  q = q * u + LAMINA_C3(-2.508561127e-02f, -7.157082437e-04f, -3.010026740e-05f);
  q = q * u + LAMINA_C3(6.210715696e-02f, 3.672091989e-03f, 3.270441375e-04f);
  q = q * u + LAMINA_C3(-1.373639852e-01f, -1.821251586e-02f, -3.524263855e-03f);
  q = q * u + LAMINA_C3(2.615782917e-01f, 8.702394366e-02f, 3.765885904e-02f);
#undef LAMINA_C3
  return q;
}

// log(x) that vectorises, for positive normal x (the Box-Muller radius of randn; 0, subnormals, inf
// and NaN are not handled): x = m 2^e with m in [sqrt(1/2), sqrt(2)), split from the bits as musl
// does (adding 1 - sqrt(1/2) in the exponent field carries into e exactly when m >= sqrt(2)), and
// f = m - 1 in [-0.29, 0.42]; ln2 is split in two so that e ln2 is exact to working precision.
// float: log(1 + f) = f - f^2/2 + f^3 p(f), Cephes' logf polynomial. double: fdlibm's log,
// log(1 + f) = f - (f^2/2 - s (f^2/2 + R(s^2))) with s = f / (2 + f) and R of degree 7 in s^2.
// Both within 1 ulp over randn's inputs (tests/cpp/test_random.cpp).
LAMINA_HD float vlog(float x) {
  int32_t bits;
  memcpy(&bits, &x, sizeof bits);
  bits += 0x3f800000 - 0x3f3504f3;  // 0x3f3504f3: sqrt(1/2)
  float e = float((bits >> 23) - 127);
  int32_t mbits = (bits & 0x007fffff) + 0x3f3504f3;
  float m;
  memcpy(&m, &mbits, sizeof m);
  float f = m - 1.0f, z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  float y = p * f * z + e * -2.12194440e-4f - 0.5f * z;
  return (f + y) + e * 0.693359375f;
}
LAMINA_HD double vlog(double x) {
  int64_t bits;
  memcpy(&bits, &x, sizeof bits);
  bits += 0x3ff0000000000000LL - 0x3fe6a09e667f3bcdLL;  // 0x3fe6a09e667f3bcd: sqrt(1/2)
  double e = double((bits >> 52) - 1023);
  int64_t mbits = (bits & 0x000fffffffffffffLL) + 0x3fe6a09e667f3bcdLL;
  double m;
  memcpy(&m, &mbits, sizeof m);
  double f = m - 1.0, s = f / (2.0 + f), z = s * s;
  double r = 1.479819860511658591e-01;
  r = r * z + 1.531383769920937332e-01;
  r = r * z + 1.818357216161805012e-01;
  r = r * z + 2.222219843214978396e-01;
  r = r * z + 2.857142874366239149e-01;
  r = r * z + 3.999999999940941908e-01;
  r = r * z + 6.666666666666735130e-01;
  r *= z;
  double half_f2 = 0.5 * f * f;
  return e * 6.93147180369123816490e-01 - ((half_f2 - (s * (half_f2 + r) + e * 1.90821492927058770002e-10)) - f);
}

// sin(2 pi u) and cos(2 pi u) that vectorise, for |u| < 2^20 (float) or 2^49 (double); randn's angle
// has u in [0, 1]. 4u = q + r with q = round(4u) (the 1.5 * 2^23 or 2^52 trick of exp_parts) and r exact
// in [-1/2, 1/2], so that 2 pi u = q pi/2 + x with x = r pi/2 in [-pi/4, pi/4] and no cancellation;
// sin x and cos x by polynomials in z = x^2 (float: Cephes' sinf/cosf; double: fdlibm's kernels),
// then turned by q quarter turns (within 2 ulp over [0, 1]; tests/cpp/test_random.cpp):
// (sin, cos)(q pi/2 + x) = (s, c), (c, -s), (-s, -c), (-c, s) for q mod 4 = 0, 1, 2, 3.
template <typename T> struct SinCos {
  T sin, cos;
};
template <typename T, typename Int> LAMINA_HD SinCos<T> quarter_turns(T s, T c, Int q) {
  T sq = (q & 1) ? c : s, cq = (q & 1) ? s : c;
  return {(q & 2) ? -sq : sq, ((q + 1) & 2) ? -cq : cq};
}
LAMINA_HD SinCos<float> vsincos_2pi(float u) {
  const float kShift = 12582912.0f;  // 1.5 * 2^23
  float t = 4.0f * u + kShift;
  float r = 4.0f * u - (t - kShift);
  int32_t q;  // q mod 4 in the low bits of t
  memcpy(&q, &t, sizeof q);
  float x = r * 1.57079632679489662f, z = x * x;
  float s = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * x + x;
  float c = ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z -
            0.5f * z + 1.0f;
  return quarter_turns(s, c, q);
}
LAMINA_HD SinCos<double> vsincos_2pi(double u) {
  const double kShift = 6755399441055744.0;  // 1.5 * 2^52
  double t = 4.0 * u + kShift;
  double r = 4.0 * u - (t - kShift);
  int64_t q;
  memcpy(&q, &t, sizeof q);
  double x = r * 1.57079632679489661923, z = x * x;
  double ps = 1.58969099521155010221e-10;
  ps = ps * z - 2.50507602534068634195e-08;
  ps = ps * z + 2.75573137070700676789e-06;
  ps = ps * z - 1.98412698298579493134e-04;
  ps = ps * z + 8.33333333332248946124e-03;
  ps = ps * z - 1.66666666666666324348e-01;
  double pc = -1.13596475577881948265e-11;
  pc = pc * z + 2.08757232129817482790e-09;
  pc = pc * z - 2.75573143513906633035e-07;
  pc = pc * z + 2.48015872894767294178e-05;
  pc = pc * z - 1.38888888888741095749e-03;
  pc = pc * z + 4.16666666666666019037e-02;
  return quarter_turns(ps * z * x + x, pc * z * z - 0.5 * z + 1.0, q);
}

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
// The slope is converted and the product taken for every element (x * 1 = x exactly): with the
// conversion or the product inside the select, GCC (which may not speculate an operation that can
// raise a floating-point exception) kept the loop scalar with a branch per element.
struct LeakyRelu {
  double slope = 0.01;
  template <typename T> LAMINA_HD T fwd(T x) const {
    const T s = T(slope);
    return x * (x > T(0) ? T(1) : s);
  }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const {
    const T s = T(slope);
    return g * (x > T(0) ? T(1) : s);
  }
};
// e^x - 1 for x <= 0 that vectorises (float; other types std::expm1): the Taylor polynomial of degree
// 8 for x > -0.35 (no cancellation near 0), vexp(x) - 1 below (at most -0.295: no cancellation there).
LAMINA_HD float vexpm1_neg(float x) {
  float p = 2.48015873e-5f;  // 1/8!
  p = p * x + 1.98412698e-4f;
  p = p * x + 1.38888889e-3f;
  p = p * x + 8.33333333e-3f;
  p = p * x + 4.16666667e-2f;
  p = p * x + 1.66666667e-1f;
  p = p * x + 0.5f;
  const float small = x * (p * x + 1.0f), big = vexp(x) - 1.0f;  // (x times: -0 stays -0)
  return x > -0.35f ? small : big;
}
template <typename T> LAMINA_HD T vexpm1_neg(T x) { return T(std::expm1(x)); }
// scale (x > 0 ? x : alpha (e^x - 1)); ELU is scale = 1, SELU the fixed (alpha, scale) below.
// d/dx for x <= 0: scale alpha e^x. Parameters are converted and both sides computed for every
// element (min(x, 0) keeps exp finite, and a NaN x NaN), so that the loops vectorise (see LeakyRelu).
struct Elu {
  double alpha = 1, scale = 1;
  template <typename T> LAMINA_HD T fwd(T x) const {
    const T s = T(scale), sa = T(scale * alpha);
    const T pos = s * x, neg = sa * vexpm1_neg(x > T(0) ? T(0) : x);  // NaN stays NaN
    return x > T(0) ? pos : neg;
  }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const {
    const T s = T(scale), sa = T(scale * alpha);
    const T neg = sa * vexp(x > T(0) ? T(0) : x);
    return g * (x <= T(0) ? neg : s);  // scale at NaN, as PyTorch
  }
};
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
// exact: x Phi(x), Phi' = e^(-x^2/2) / sqrt(2 pi); float takes Phi(-|x|) = e^(-x^2/2) normal_mills(|x|)
// (Phi(x) = 1 - Phi(-x) for x > 0: no cancellation either side), other types 0.5 std::erfc(-x / sqrt 2) (no cancellation below 0);
// tanh:  0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), du/dx = sqrt(2/pi) (1 + 3 0.044715 x^2)
struct GeluExact {
  // e^(-t^2/2) = p 2^n1 2^n2 for t >= 0 clamped to 14.5 (the result is then 0 in float), with t^2 = h + l
  // split exactly (fma), -h/2 exact, and p carrying the factor (1 - l/2).
  struct Gauss {
    float p;
    int32_t n1, n2;
  };
  LAMINA_HD static Gauss gauss_parts(float t) {
    const float h = t * t, l = square_low(t, h);
    const ExpParts e = exp_parts(-0.5f * h);
    return {e.p - e.p * (0.5f * l), e.n1, e.n2};
  }
  template <typename T> LAMINA_HD static T cdf(T x) { return T(0.5) * std::erfc(x * T(-0.7071067811865476)); }
  template <typename T> LAMINA_HD static T gauss(T x) { return T(std::exp(T(-0.5) * x * x)); }
  // float: x Phi(-t) = (x p R(t)) 2^n1 2^n2 (rounded once into the subnormals) for x <= 0, x - that for
  // x > 0; |x| > 14.5 gives x or x 0 (-0, NaN at -inf); NaN propagates through the product.
  LAMINA_HD float fwd(float x) const {
    const float t = clamp_float(std::fabs(x), 0.0f, 14.5f);
    const Gauss e = gauss_parts(t);
    const float small = x * (e.p * normal_mills(t)) * pow2(e.n1) * pow2(e.n2);
    const float r = x > 0.0f ? x - small : small;
    const float big = x > 0.0f ? x : x * 0.0f;
    return std::fabs(x) > 14.5f ? big : r;
  }
  template <typename T> LAMINA_HD T fwd(T x) const { return x * cdf(x); }
  // float: Phi(x) + x phi(x) = e^(-t^2/2) (R(t) - t / sqrt(2 pi)) = d for x <= 0, 1 - d for x > 0.
  LAMINA_HD float grad(float x, float, float g) const {
    const float t = clamp_float(std::fabs(x), 0.0f, 14.5f);
    const Gauss e = gauss_parts(t);
    const float E = e.p * pow2(e.n1) * pow2(e.n2);
#ifdef __CUDACC__
    const float d = E * fmaf(-0.3989422804014327f, t, normal_mills(t));
#else
    const float d = E * std::fma(-0.3989422804014327f, t, normal_mills(t));
#endif
    return g * (x > 0.0f ? 1.0f - d : (x != x ? x : d));
  }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const {
    return g * (cdf(x) + x * T(0.3989422804014327) * gauss(x));
  }
};
struct GeluTanh {
  template <typename T> LAMINA_HD T fwd(T x) const {
    return T(0.5) * x * (T(1) + vtanh(T(0.7978845608028654) * (x + T(0.044715) * x * x * x)));
  }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const {
    T t = vtanh(T(0.7978845608028654) * (x + T(0.044715) * x * x * x));
    T du = T(0.7978845608028654) * (T(1) + T(3 * 0.044715) * x * x);
    return g * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du);
  }
};
// The CPU kernels run GeluExact or GeluTanh in separate loops (ops/cpu/activation.cpp).
struct Gelu {
  bool tanh_approx = false;
  template <typename T> LAMINA_HD T fwd(T x) const { return tanh_approx ? GeluTanh{}.fwd(x) : GeluExact{}.fwd(x); }
  template <typename T> LAMINA_HD T grad(T x, T out, T g) const {
    return tanh_approx ? GeluTanh{}.grad(x, out, g) : GeluExact{}.grad(x, out, g);
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
// log(1 + e^y) that vectorises (float; other types std::log1p(std::exp(y))): max(y, 0) + log1p(e),
// e = e^-|y| in (0, 1], with log1p(e) = log(u) e / (u - 1), u = 1 + e (Goldberg's correction; u - 1 is
// exact, vlog of u in [1, 2]), e itself where u rounds to 1. y = +-inf give inf and 0; NaN stays NaN.
LAMINA_HD float vsoftplus(float y) {
  const float e = vexp(-std::fabs(y)), u = 1.0f + e, d = u - 1.0f;
  // vlog(1) = 0: where u rounds to 1 the product vanishes and e is added (selects of plain values,
  // with every operation done for every element, so that the loops vectorise)
  const float l = vlog(u) * (e / (d == 0.0f ? 1.0f : d)) + (d == 0.0f ? e : 0.0f);
  return (y > 0.0f ? y : 0.0f) + l;  // a NaN y: e, u and l are NaN
}
template <typename T> LAMINA_HD T vsoftplus(T y) { return T(std::log1p(std::exp(y))); }
// log(1 + e^(beta x)) / beta, linear where beta x > threshold;  d/dx = sigmoid(beta x)
struct Softplus {
  double beta = 1, threshold = 20;
  template <typename T> LAMINA_HD T fwd(T x) const {
    const T b = T(beta), bx = x * b;
    const T sp = vsoftplus(bx) / b;  // computed for every element: the loop vectorises
    return bx > T(threshold) ? x : sp;
  }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const {
    const T bx = x * T(beta), s = Sigmoid{}.fwd(bx);
    return g * (bx > T(threshold) ? T(1) : s);
  }
};
// x tanh(softplus(x));  d/dx = tsp + x sigmoid(x) (1 - tsp^2), tsp = tanh(softplus(x)).
// float: with e = e^x, tsp = n / (n + 2), n = e (e + 2), 1 - tsp^2 = 4 (n + 1) / (n + 2)^2 and
// sigmoid = e / (1 + e): one vexp and no cancellation; x is capped at 20 in e (tsp = 1 in float), where
// the gradient's second term is dropped (x 0: NaN at inf, as PyTorch). Other types: libm.
struct Mish {
  LAMINA_HD static float fwd(float x) {
    const float e = vexp(x > 20.0f ? 20.0f : x), n = e * (e + 2.0f);
    return x * (n / (n + 2.0f));
  }
  LAMINA_HD static float grad(float x, float, float g) {
    const float e = vexp(x > 20.0f ? 20.0f : x), n = e * (e + 2.0f), d = n + 2.0f;
    const float corr = x * (e / (1.0f + e)) * (4.0f * (n + 1.0f) / (d * d)), z = x * 0.0f;
    return g * (n / d + (x > 20.0f ? z : corr));  // z: 0, NaN at inf (as PyTorch)
  }
  template <typename T> LAMINA_HD T fwd(T x) const { return x * std::tanh(Softplus{}.fwd(x)); }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const {
    T tsp = std::tanh(Softplus{}.fwd(x));
    return g * (tsp + x * Sigmoid{}.fwd(x) * (T(1) - tsp * tsp));
  }
};
// clamp(x, min_val, max_val); the gradient passes strictly inside (as PyTorch's hardtanh; 0 at NaN).
struct Hardtanh {
  double min_val = -1, max_val = 1;
  template <typename T> LAMINA_HD T fwd(T x) const {
    const T lo = T(min_val), hi = T(max_val);  // converted outside the selects: the loops vectorise
    return x < lo ? lo : (x > hi ? hi : x);
  }
  template <typename T> LAMINA_HD T grad(T x, T, T g) const {
    const T lo = T(min_val), hi = T(max_val);
    return (x > lo && x < hi) ? g : T(0);  // 0 at NaN, as PyTorch
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

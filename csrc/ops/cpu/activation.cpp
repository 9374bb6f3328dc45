// Softmax and log-softmax along the middle axis of (outer, D, inner). Stable: the maximum of
// each slice is subtracted before exp. Elementwise activations: relu, sigmoid and tanh are unary
// functors (ops/math.h) run by the unary kernel; the parametrised ones (leaky_relu, elu, gelu,
// silu, softplus, mish, hardtanh) are functors with members run by one templated kernel pair.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/parallel.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/layers.h"
#include "ops/math.h"

namespace lamina::cpu {

// y = exp(x - m) / sum exp(x - m);  log y = x - m - log sum exp(x - m),  m = max x
template <typename T> void softmax(T* out, const T* inp, int64_t outer, int64_t D, int64_t inner, bool log) {
  parallel_for(0, outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(D, 1)), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t o = k / inner, i = k % inner;
      const T* x = inp + o * D * inner + i;
      T* y = out + o * D * inner + i;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t d = 0; d < D; ++d) m = std::max(m, x[d * inner]);
      if (std::isinf(m) && m < 0) m = 0;  // all -inf: avoid (-inf) - (-inf)
      // exp in T (math::vexp vectorises), summed in double over kLanes lanes (a fixed order).
      constexpr int kLanes = 8;
      double lanes[kLanes] = {};
      int64_t d = 0;
      for (; d + kLanes <= D; d += kLanes)
        for (int l = 0; l < kLanes; ++l) lanes[l] += double(math::vexp(x[(d + l) * inner] - m));
      for (int l = 0; d < D; ++d, ++l) lanes[l] += double(math::vexp(x[d * inner] - m));
      double s = 0;
      for (int l = 0; l < kLanes; ++l) s += lanes[l];
      if (log) {
        T lse = T(std::log(s));
        for (int64_t d = 0; d < D; ++d) y[d * inner] = x[d * inner] - m - lse;
      } else {
        T inv = T(1.0 / s);
        for (int64_t d = 0; d < D; ++d) y[d * inner] = math::vexp(x[d * inner] - m) * inv;
      }
    }
  });
}

template <typename T>
void softmax_backward(T* dinp, const T* dout, const T* out, int64_t outer, int64_t D, int64_t inner, bool log) {
  parallel_for(0, outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(D, 1)), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t base = (k / inner) * D * inner + k % inner;
      const T* g = dout + base;
      const T* y = out + base;
      T* dx = dinp + base;
      double s = 0;
      for (int64_t d = 0; d < D; ++d) s += log ? double(g[d * inner]) : double(g[d * inner]) * double(y[d * inner]);
      for (int64_t d = 0; d < D; ++d) {
        int64_t j = d * inner;
        dx[j] = log ? T(double(g[j]) - double(math::vexp(y[j])) * s) : T(double(y[j]) * (double(g[j]) - s));
      }
    }
  });
}

template void softmax<float>(float*, const float*, int64_t, int64_t, int64_t, bool);
template void softmax<double>(double*, const double*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<float>(float*, const float*, const float*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<double>(double*, const double*, const double*, int64_t, int64_t, int64_t, bool);

// Parametrised activations (functors of ops/math.h, which read x only): out = act(inp),
// dinp = act'(inp) dout (written).
template <typename T, typename Act> void activation(T* out, const T* inp, int64_t n, Act act) {
  if constexpr (std::is_same_v<Act, math::Gelu>) {  // one loop per form, so that each vectorises
    if (act.tanh_approx) return activation(out, inp, n, math::GeluTanh{});
    return activation(out, inp, n, math::GeluExact{});
  } else {
    parallel_for(0, n, 16384, [&](int64_t b, int64_t e) {
      const Act a = act;  // a local copy: its members cannot alias out, so they stay in registers
      for (int64_t i = b; i < e; ++i) out[i] = a.fwd(inp[i]);
    });
  }
}

template <typename T, typename Act> void activation_backward(T* dinp, const T* dout, const T* inp, int64_t n, Act act) {
  if constexpr (std::is_same_v<Act, math::Gelu>) {
    if (act.tanh_approx) return activation_backward(dinp, dout, inp, n, math::GeluTanh{});
    return activation_backward(dinp, dout, inp, n, math::GeluExact{});
  } else {
    parallel_for(0, n, 16384, [&](int64_t b, int64_t e) {
      const Act a = act;
      for (int64_t i = b; i < e; ++i) dinp[i] = a.grad(inp[i], T(0), dout[i]);
    });
  }
}

// PReLU: inp (outer, C, inner), weight (C,), out (outer, C, inner): leaky relu with slope weight[c].
template <typename T> void prelu(T* out, const T* inp, const T* weight, int64_t outer, int64_t C, int64_t inner) {
  parallel_for(0, outer * C, std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      math::LeakyRelu act{double(weight[row % C])};
      for (int64_t i = row * inner; i < (row + 1) * inner; ++i) out[i] = act.fwd(inp[i]);
    }
  });
}

// dinp = x > 0 ? dout : weight[c] dout (written); dweight[c] += sum_{x <= 0} dout x, summed per
// (outer, c) row in parallel, then per channel in a fixed order (deterministic).
template <typename T>
void prelu_backward(T* dinp, T* dweight, const T* dout, const T* inp, const T* weight, int64_t outer, int64_t C,
                    int64_t inner) {
  std::vector<double> row_sums(dweight ? size_t(outer * C) : 0);
  parallel_for(0, outer * C, std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      math::LeakyRelu act{double(weight[row % C])};
      double s = 0;
      for (int64_t i = row * inner; i < (row + 1) * inner; ++i) {
        if (dinp) dinp[i] = act.grad(inp[i], T(0), dout[i]);
        if (inp[i] <= T(0)) s += double(dout[i]) * double(inp[i]);
      }
      if (dweight) row_sums[size_t(row)] = s;
    }
  });
  if (dweight)
    for (int64_t row = 0; row < outer * C; ++row) dweight[row % C] += T(row_sums[size_t(row)]);
}

#define LAMINA_INSTANTIATE_ACT(T, Act)                                          \
  template void activation<T, math::Act>(T*, const T*, int64_t, math::Act);   \
  template void activation_backward<T, math::Act>(T*, const T*, const T*, int64_t, math::Act);
#define LAMINA_INSTANTIATE(T)                                                                              \
  LAMINA_INSTANTIATE_ACT(T, LeakyRelu)                                                                     \
  LAMINA_INSTANTIATE_ACT(T, Elu)                                                                           \
  LAMINA_INSTANTIATE_ACT(T, Gelu)                                                                          \
  LAMINA_INSTANTIATE_ACT(T, Silu)                                                                          \
  LAMINA_INSTANTIATE_ACT(T, Softplus)                                                                      \
  LAMINA_INSTANTIATE_ACT(T, Mish)                                                                          \
  LAMINA_INSTANTIATE_ACT(T, Hardtanh)                                                                      \
  template void prelu<T>(T*, const T*, const T*, int64_t, int64_t, int64_t);                               \
  template void prelu_backward<T>(T*, T*, const T*, const T*, const T*, int64_t, int64_t, int64_t);
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
#undef LAMINA_INSTANTIATE
#undef LAMINA_INSTANTIATE_ACT

}  // namespace lamina::cpu

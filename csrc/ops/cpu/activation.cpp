// Softmax and log-softmax along the middle axis of (outer, D, inner). Stable: the maximum of
// each slice is subtracted before exp. Elementwise activations (relu, sigmoid, tanh) are unary
// functors (ops/math.h) run by the unary kernel.
#include <cmath>
#include <limits>

#include "core/parallel.h"
#include "ops/cpu/kernels.h"

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
      double s = 0;
      for (int64_t d = 0; d < D; ++d) s += std::exp(double(x[d * inner] - m));
      if (log) {
        T lse = T(std::log(s));
        for (int64_t d = 0; d < D; ++d) y[d * inner] = x[d * inner] - m - lse;
      } else {
        T inv = T(1.0 / s);
        for (int64_t d = 0; d < D; ++d) y[d * inner] = std::exp(x[d * inner] - m) * inv;
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
        dx[j] = log ? T(double(g[j]) - std::exp(double(y[j])) * s) : T(double(y[j]) * (double(g[j]) - s));
      }
    }
  });
}

template void softmax<float>(float*, const float*, int64_t, int64_t, int64_t, bool);
template void softmax<double>(double*, const double*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<float>(float*, const float*, const float*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<double>(double*, const double*, const double*, int64_t, int64_t, int64_t, bool);

}  // namespace lamina::cpu

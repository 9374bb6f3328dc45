// Inverted dropout kernels. The mask holds the scale itself (0 or 1 / (1 - p)), so forward and
// backward are the same product. It is drawn on one thread from the process generator, so a
// seed gives the same mask at any thread count.
#include <type_traits>

#include "core/parallel.h"
#include "ops/cpu/layers.h"

namespace lamina::cpu {

// mask (n,): 0 with probability p, else 1 / (1 - p).  p < 1 (the front-end handles p == 1).
template <typename T> void dropout_mask(T* mask, int64_t n, double p, Generator& gen) {
  const T scale = T(1.0 / (1.0 - p));
  for (int64_t i = 0; i < n; ++i) {
    double u = std::is_same_v<T, float> ? double(gen.uniform_float()) : gen.uniform_double();
    mask[i] = u < p ? T(0) : scale;
  }
}

// out = inp * mask; the backward is the same call: dinp = dout * mask (written).
template <typename T> void dropout_apply(T* out, const T* inp, const T* mask, int64_t n) {
  parallel_for(0, n, 32768, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = inp[i] * mask[i];
  });
}

#define LAMINA_INSTANTIATE(T)                                          \
  template void dropout_mask<T>(T*, int64_t, double, Generator&);      \
  template void dropout_apply<T>(T*, const T*, const T*, int64_t);
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
#undef LAMINA_INSTANTIATE

}  // namespace lamina::cpu

// Filling new tensors: ranges and random numbers. Random fills run on one thread so that a seed
// gives the same numbers whatever the thread count; normal samples by Box-Muller, both halves.
#include <algorithm>
#include <cmath>

#include "ops/cpu/kernels.h"
#include "ops/math.h"

namespace lamina::cpu {

template <typename T> void arange(T* out, double start, double step, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(start + double(i) * step);
}

// out[i] = start + i (end - start) / (n - 1); the second half counts back from end, as PyTorch.
template <typename T> void linspace(T* out, double start, double end, int64_t n) {
  if (n == 1) {
    out[0] = static_cast<T>(start);
    return;
  }
  double step = (end - start) / double(n - 1);
  int64_t half = n / 2;
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<T>(i < half ? start + step * double(i) : end - step * double(n - 1 - i));
}

template <typename T> void uniform(T* out, int64_t n, Generator& gen) {
  gen.draw([&](Generator& g) {
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<T, float>) out[i] = g.uniform_float();
      else out[i] = static_cast<T>(g.uniform_double());
    }
  });
}

// Box-Muller: with u1 in (0, 1] and u2 in [0, 1], r = sqrt(-2 log u1) and t = 2 pi u2, the pair
// (r cos t, r sin t) is two independent N(0, 1) samples; vlog and vsincos_2pi (ops/math.h) vectorise.
// float: one 64-bit word per pair, u1 = (k + 1/2) 2^-31 from its top 31 bits (so u1 >= 2^-32 and
// |z| <= sqrt(64 ln 2) = 6.66, where PyTorch's 24-bit u1 stops at 5.77), u2 from 31 of its low bits.
// double: two words per pair, 53 bits each, u1 = (k + 1/2) 2^-53 (|z| <= sqrt(108 ln 2) = 8.65).
inline void box_muller(const uint64_t* words, int64_t i, float& x, float& y) {
  float u1 = float(int32_t(words[i] >> 33)) * 0x1p-31f + 0x1p-32f;
  float u2 = float(int32_t(uint32_t(words[i]) >> 1)) * 0x1p-31f;
  float r = std::sqrt(-2.0f * math::vlog(u1));
  math::SinCos<float> t = math::vsincos_2pi(u2);
  x = r * t.cos;
  y = r * t.sin;
}
inline void box_muller(const uint64_t* words, int64_t i, double& x, double& y) {
  double u1 = double(int64_t(words[2 * i] >> 11)) * 0x1p-53 + 0x1p-54;
  double u2 = double(int64_t(words[2 * i + 1] >> 11)) * 0x1p-53;
  double r = std::sqrt(-2.0 * math::vlog(u1));
  math::SinCos<double> t = math::vsincos_2pi(u2);
  x = r * t.cos;
  y = r * t.sin;
}

// The words are drawn serially in chunks (the generator's order, whatever the thread count), then a
// chunk of len samples, m = ceil(len / 2) pairs, is transformed in one loop: out[i] = r_i cos t_i
// for i < m and out[m + i] = r_i sin t_i for i < len / 2 (an odd chunk drops its last sine).
template <typename T> void normal(T* out, int64_t n, Generator& gen) {
  constexpr int64_t kPairs = 256, kWordsPerPair = sizeof(T) == 4 ? 1 : 2;
  uint64_t words[kPairs * kWordsPerPair];
  for (int64_t start = 0; start < n; start += 2 * kPairs) {
    int64_t len = std::min(2 * kPairs, n - start), half = len / 2, m = len - half;
    gen.draw([&](Generator& g) {
      for (int64_t w = 0; w < m * kWordsPerPair; ++w) words[w] = g.next_u64();
    });
    T* cos_out = out + start;
    T* sin_out = cos_out + m;
    for (int64_t i = 0; i < half; ++i) box_muller(words, i, cos_out[i], sin_out[i]);
    if (m > half) {
      T dropped_sin;
      box_muller(words, half, cos_out[half], dropped_sin);
    }
  }
}

template <typename T> void randint(T* out, int64_t n, int64_t low, int64_t high, Generator& gen) {
  uint64_t range = uint64_t(high) - uint64_t(low);
  gen.draw([&](Generator& g) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(int64_t(uint64_t(low) + g.below(range)));
  });
}

#define LAMINA_INSTANTIATE(T)                                            \
  template void arange<T>(T*, double, double, int64_t);                  \
  template void linspace<T>(T*, double, double, int64_t);                \
  template void uniform<T>(T*, int64_t, Generator&);                     \
  template void randint<T>(T*, int64_t, int64_t, int64_t, Generator&);
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
LAMINA_INSTANTIATE(int64_t)
#undef LAMINA_INSTANTIATE
template void normal<float>(float*, int64_t, Generator&);
template void normal<double>(double*, int64_t, Generator&);

}  // namespace lamina::cpu

// Filling new tensors: ranges and random numbers. Random fills run on one thread so that a seed
// gives the same numbers whatever the thread count.
#include "ops/cpu/kernels.h"

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
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, float>) out[i] = gen.uniform_float();
    else out[i] = static_cast<T>(gen.uniform_double());
  }
}

template <typename T> void normal(T* out, int64_t n, Generator& gen) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(gen.normal());
}

template <typename T> void randint(T* out, int64_t n, int64_t low, int64_t high, Generator& gen) {
  uint64_t range = uint64_t(high) - uint64_t(low);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(int64_t(uint64_t(low) + gen.below(range)));
}

#define LAMINA_INSTANTIATE(T)                                            \
  template void arange<T>(T*, double, double, int64_t);                  \
  template void linspace<T>(T*, double, double, int64_t);                \
  template void uniform<T>(T*, int64_t, Generator&);                     \
  template void normal<T>(T*, int64_t, Generator&);                      \
  template void randint<T>(T*, int64_t, int64_t, int64_t, Generator&);
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
LAMINA_INSTANTIATE(int64_t)
#undef LAMINA_INSTANTIATE

}  // namespace lamina::cpu

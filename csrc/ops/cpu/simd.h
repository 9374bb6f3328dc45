// SIMD vectors through GCC's vector extensions, for the register-blocked kernels (packed_gemm.cpp,
// implicit_conv.cpp): portable C++, which the compiler splits where the target lacks the width.
// A kernel keeps kRows x 2 vectors of accumulators in registers (8 x 32 floats with AVX-512: 16
// of the 32 vector registers).
#pragma once
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <cstdint>
#include <cstring>

namespace lamina::cpu::simd {

#if defined(__AVX512F__)
constexpr int kVecBytes = 64, kRows = 8;
#else
constexpr int kVecBytes = 32, kRows = 6;  // 6 x 2 accumulators + 3 of the 16 AVX2 registers
#endif

template <typename T> struct VecOf {
  typedef T type __attribute__((vector_size(kVecBytes)));
};
template <typename T> using Vec = typename VecOf<T>::type;
template <typename T> constexpr int64_t kLanes = kVecBytes / int64_t(sizeof(T));

// Unaligned load and store of one vector.
template <typename T> inline Vec<T> load(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
template <typename T> inline void store(T* p, const Vec<T>& v) { std::memcpy(p, &v, sizeof(v)); }

// The sum of the lanes of v (a tree of shuffles with AVX-512; a chain of scalar adds otherwise).
#if defined(__AVX512F__)
inline float sum_lanes(const Vec<float>& v) { return _mm512_reduce_add_ps(__m512(v)); }
inline double sum_lanes(const Vec<double>& v) { return _mm512_reduce_add_pd(__m512d(v)); }
#else
template <typename V> inline auto sum_lanes(const V& v) {  // V = Vec<T> (T is not deducible through the alias)
  auto sum = v[0];
  for (size_t l = 1; l < sizeof(V) / sizeof(sum); ++l) sum += v[l];
  return sum;
}
#endif

// The first n lanes (0 <= n <= kLanes<T>) of a vector loaded from p, the others 0, and a store of
// the first n lanes of v to p: one masked load or store with AVX-512, so nothing past p[n - 1] is
// touched.
#if defined(__AVX512F__)
inline Vec<float> load_prefix(const float* p, int64_t n) {
  return Vec<float>(_mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p));
}
inline Vec<double> load_prefix(const double* p, int64_t n) {
  return Vec<double>(_mm512_maskz_loadu_pd(__mmask8((1u << n) - 1), p));
}
inline void store_prefix(float* p, const Vec<float>& v, int64_t n) {
  _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), __m512(v));
}
inline void store_prefix(double* p, const Vec<double>& v, int64_t n) {
  _mm512_mask_storeu_pd(p, __mmask8((1u << n) - 1), __m512d(v));
}
#else
template <typename T> inline Vec<T> load_prefix(const T* p, int64_t n) {
  Vec<T> v{};
  for (int64_t j = 0; j < n; ++j) v[j] = p[j];
  return v;
}
template <typename T> inline void store_prefix(T* p, const Vec<T>& v, int64_t n) {
  for (int64_t j = 0; j < n; ++j) p[j] = v[j];
}
#endif

// dst[0:n] = src[0:n] + add for the short rows of an image: whole vectors, then the tail under a
// mask. (A copy loop compiles to a call to memmove, which costs more than copying 14 floats.)
template <typename T> inline void copy_row(T* dst, const T* src, int64_t n, T add = T(0)) {
  int64_t j = 0;
  for (; j + kLanes<T> <= n; j += kLanes<T>) store(dst + j, load(src + j) + add);
  if (j < n) store_prefix(dst + j, load_prefix(src + j, n - j) + add, n - j);
}

}  // namespace lamina::cpu::simd

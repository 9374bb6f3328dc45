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
template <typename T> inline T sum_lanes(const Vec<T>& v) {
  T sum = 0;
  for (int64_t l = 0; l < kLanes<T>; ++l) sum += v[l];
  return sum;
}
#endif

// dst[0:n] = src[0:n] + add, 0 < n < kLanes<T>: one masked load and store.
#if defined(__AVX512F__)
inline void copy_tail(float* dst, const float* src, int64_t n, float add) {
  const __mmask16 m = __mmask16((1u << n) - 1);
  _mm512_mask_storeu_ps(dst, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, src), _mm512_set1_ps(add)));
}
inline void copy_tail(double* dst, const double* src, int64_t n, double add) {
  const __mmask8 m = __mmask8((1u << n) - 1);
  _mm512_mask_storeu_pd(dst, m, _mm512_add_pd(_mm512_maskz_loadu_pd(m, src), _mm512_set1_pd(add)));
}
#else
template <typename T> inline void copy_tail(T* dst, const T* src, int64_t n, T add) {
  for (int64_t j = 0; j < n; ++j) dst[j] = src[j] + add;
}
#endif

// dst[0:n] = src[0:n] + add for the short rows of an image: whole vectors, then the tail under a
// mask. (A copy loop compiles to a call to memmove, which costs more than copying 14 floats.)
template <typename T> inline void copy_row(T* dst, const T* src, int64_t n, T add = T(0)) {
  int64_t j = 0;
  for (; j + kLanes<T> <= n; j += kLanes<T>) store(dst + j, load(src + j) + add);
  if (j < n) copy_tail(dst + j, src + j, n - j, add);
}

}  // namespace lamina::cpu::simd

// A small GEMM for a right-hand matrix that is used many times: the recurrent layers multiply
// every time step's state by the same W_hh (and W_hr). pack_b copies B once into column panels;
// gemm_packed then runs C = A B + beta C from the panels with a register-blocked micro-kernel, so
// the per-step products skip the repacking that a BLAS call does on every call. Meant for the
// shapes of one step (M = a batch, K and N up to a few thousand); big products go to cpu::gemm.
#pragma once
#include <cstdint>

#include "core/allocator.h"

namespace lamina::cpu {

// B (K, N) in panels of w columns, w = two SIMD vectors of T (32 floats with AVX-512): panel p
// holds columns [p w, p w + w) as K rows of w values, data[(p K + k) w + j] = B[k, p w + j], zero
// past column N.
template <typename T> struct PackedMatrix {
  int64_t K = 0, N = 0;
  Scratch<T> data{nullptr, ScratchFree<T>{0}};
};

// B (K, N) = src (K, N) with row stride ld, or (trans) src^T with src (N, K) of row stride ld.
template <typename T> PackedMatrix<T> pack_b(const T* src, bool trans, int64_t K, int64_t N, int64_t ld);

// C (M, N) = op(A) B + beta C, with B packed; op(A) (M, K) is A, or A^T with A (K, M) (trans_a);
// A and C row-major with row strides lda, ldc. beta == 0 writes C without reading it. Column panels
// run in parallel when the product is big enough to pay for a fork-join; each element is summed
// over k in order, whatever the threads.
template <typename T>
void gemm_packed(bool trans_a, int64_t M, const T* A, int64_t lda, const PackedMatrix<T>& B, T beta, T* C,
                 int64_t ldc);

}  // namespace lamina::cpu

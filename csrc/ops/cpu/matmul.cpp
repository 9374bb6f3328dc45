// GEMM through OpenBLAS (scipy-openblas32: 32-bit BLAS ints; front-ends check the sizes).
// Called outside any OpenMP region: OpenBLAS threads on its own pool.
// A product with one row or one column (batch-1 linear, matrix-vector) goes to GEMV: OpenBLAS's
// GEMM reaches its GEMV only in some builds and core types (with OPENBLAS_CORETYPE=Haswell a
// 1x784 @ 784x512 sgemm takes 7x longer than the sgemv), and GEMV is the memory-bound optimum.
#include <cblas.h>

#include <algorithm>

#include "ops/cpu/kernels.h"

namespace lamina::cpu {

namespace {

void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint M, blasint N, blasint K, float alpha, const float* A,
               blasint lda, const float* B, blasint ldb, float beta, float* C, blasint ldc) {
  scipy_cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint M, blasint N, blasint K, double alpha,
               const double* A, blasint lda, const double* B, blasint ldb, double beta, double* C, blasint ldc) {
  scipy_cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
void blas_gemv(CBLAS_TRANSPOSE t, blasint rows, blasint cols, float alpha, const float* A, blasint lda,
               const float* x, blasint incx, float beta, float* y, blasint incy) {
  scipy_cblas_sgemv(CblasRowMajor, t, rows, cols, alpha, A, lda, x, incx, beta, y, incy);
}
void blas_gemv(CBLAS_TRANSPOSE t, blasint rows, blasint cols, double alpha, const double* A, blasint lda,
               const double* x, blasint incx, double beta, double* y, blasint incy) {
  scipy_cblas_dgemv(CblasRowMajor, t, rows, cols, alpha, A, lda, x, incx, beta, y, incy);
}

}  // namespace

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 1 || N == 1) {
    // beta = 0 must not read C (it may hold NaN), which not every BLAS's GEMV guarantees.
    if (beta == T(0)) {
      if (M == 1) std::fill(C, C + N, T(0));
      else for (int64_t m = 0; m < M; ++m) C[m * ldc] = T(0);
      beta = T(1);
    }
    if (M == 1) {
      // C (1, N) = a (1, K) op(B) (K, N); a[k] is A[k] (A is (1, K)) or A[k lda] (A is (K, 1)).
      blasint inc_a = blasint(trans_a ? lda : 1);
      if (trans_b)  // B (N, K): c = B a
        blas_gemv(CblasNoTrans, blasint(N), blasint(K), alpha, B, blasint(ldb), A, inc_a, beta, C, 1);
      else  // B (K, N): c = B^T a
        blas_gemv(CblasTrans, blasint(K), blasint(N), alpha, B, blasint(ldb), A, inc_a, beta, C, 1);
    } else {
      // C (M, 1), stride ldc = op(A) (M, K) b (K, 1); b[k] is B[k ldb] (B is (K, 1)) or B[k] (B is (1, K)).
      blasint inc_b = blasint(trans_b ? 1 : ldb);
      if (trans_a)  // A (K, M): c = A^T b
        blas_gemv(CblasTrans, blasint(K), blasint(M), alpha, A, blasint(lda), B, inc_b, beta, C, blasint(ldc));
      else  // A (M, K): c = A b
        blas_gemv(CblasNoTrans, blasint(M), blasint(K), alpha, A, blasint(lda), B, inc_b, beta, C, blasint(ldc));
    }
    return;
  }
  blas_gemm(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, blasint(M), blasint(N),
            blasint(K), alpha, A, blasint(lda), B, blasint(ldb), beta, C, blasint(ldc));
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);

}  // namespace lamina::cpu

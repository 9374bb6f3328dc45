// GEMM through OpenBLAS (scipy-openblas32: 32-bit BLAS ints; front-ends check the sizes).
// OpenBLAS runs single-threaded on the calling thread; a product large enough to pay for a
// fork-join is split here into one panel of C per thread of lamina's pool (core/parallel.h).
// A product with one row or one column (batch-1 linear, matrix-vector) goes to GEMV: OpenBLAS's
// GEMM reaches its GEMV only in some builds and core types (with OPENBLAS_CORETYPE=Haswell a
// 1x784 @ 784x512 sgemm takes 7x longer than the sgemv), and GEMV is the memory-bound optimum.
#include <cblas.h>

#include <algorithm>

#include "core/parallel.h"
#include "ops/cpu/kernels.h"

extern "C" {
void scipy_openblas_set_num_threads(int num_threads);
}

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

// OpenBLAS starts with one worker per core; lamina's threads are OpenMP's, so it keeps to one.
void keep_blas_single_threaded() {
  static const bool done = (scipy_openblas_set_num_threads(1), true);
  (void)done;
}

// Below this many multiply-adds (about 2 us of GEMM) a fork-join costs more than it saves. A GEMV
// streams its matrix once (one multiply-add per element loaded): about 2 us is 2^16 of them (the
// 784-512-256-10 MLP's batch-1 forward at 2 threads: 20.5 -> 18.7 us with its 512 x 256 layer split).
constexpr int64_t kParallelGemmMacs = int64_t(1) << 18;
constexpr int64_t kParallelGemvMacs = int64_t(1) << 16;

template <typename T>
void gemm_on_this_thread(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                         int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
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

}  // namespace

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  keep_blas_single_threaded();
  int64_t threads = omp_in_parallel() ? 1 : get_num_threads();
  const int64_t threshold = M == 1 || N == 1 ? kParallelGemvMacs : kParallelGemmMacs;
  if (threads == 1 || M * N * K < threshold) {
    gemm_on_this_thread(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  // Split the longer side of C into `threads` panels (multiples of 16, one vector of floats):
  // rows m0..m1 take A's rows (A[m0 lda] or, transposed, A[m0]); columns n0..n1 take B's columns.
  bool by_rows = M >= N;
  int64_t length = by_rows ? M : N;
  int64_t panel = std::max<int64_t>(16, ((length + threads - 1) / threads + 15) / 16 * 16);
  parallel_for(0, (length + panel - 1) / panel, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      int64_t lo = p * panel, hi = std::min(length, lo + panel);
      if (by_rows)
        gemm_on_this_thread(trans_a, trans_b, hi - lo, N, K, alpha, A + lo * (trans_a ? 1 : lda), lda, B, ldb, beta,
                            C + lo * ldc, ldc);
      else
        gemm_on_this_thread(trans_a, trans_b, M, hi - lo, K, alpha, A, lda, B + lo * (trans_b ? ldb : 1), ldb, beta,
                            C + lo, ldc);
    }
  });
}

template <typename T>
void gemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                  int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b, T beta, T* C) {
  auto one = [&](int64_t i) {
    gemm(trans_a, trans_b, M, N, K, alpha, A + i * stride_a, lda, B + i * stride_b, ldb, beta, C + i * M * N, N);
  };
  // A product big enough to split is split by gemm; smaller ones run several to a thread.
  if (M * N * K >= kParallelGemmMacs) {
    for (int64_t i = 0; i < batch; ++i) one(i);
    return;
  }
  parallel_for(0, batch, std::max<int64_t>(1, kParallelGemmMacs / std::max<int64_t>(M * N * K, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i) one(i);
               });
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);

template void gemm_batched<float>(bool, bool, int64_t, int64_t, int64_t, int64_t, float, const float*, int64_t,
                                  int64_t, const float*, int64_t, int64_t, float, float*);
template void gemm_batched<double>(bool, bool, int64_t, int64_t, int64_t, int64_t, double, const double*, int64_t,
                                   int64_t, const double*, int64_t, int64_t, double, double*);

}  // namespace lamina::cpu

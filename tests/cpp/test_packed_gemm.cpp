// gemm_packed (ops/cpu/packed_gemm.h) against a naive triple loop in double: odd shapes (tails of
// rows and of column panels), A and B plain and transposed, strides beyond the row length, beta 0
// over a C full of NaN (never read) and beta 1, float and double, 1 and 2 threads.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "core/parallel.h"
#include "ops/cpu/packed_gemm.h"

using namespace lamina;

namespace {

// A (M, K), or (K, M) when trans_a; B (K, N) = src, or src^T with src (N, K) when trans_b.
template <typename T>
void check_shape(int64_t M, int64_t N, int64_t K, bool trans_a, bool trans_b, T beta, std::mt19937& rng) {
  std::normal_distribution<double> normal;
  const int64_t lda = (trans_a ? M : K) + 3, ldb = (trans_b ? K : N) + 2, ldc = N + 5;
  std::vector<T> A(size_t((trans_a ? K : M) * lda)), src(size_t((trans_b ? N : K) * ldb)), C(size_t(M * ldc));
  for (T& v : A) v = T(normal(rng));
  for (T& v : src) v = T(normal(rng));
  for (T& v : C) v = beta == T(0) ? std::numeric_limits<T>::quiet_NaN() : T(normal(rng));
  const std::vector<T> C0 = C;
  cpu::PackedMatrix<T> packed = cpu::pack_b(src.data(), trans_b, K, N, ldb);
  cpu::gemm_packed(trans_a, M, A.data(), lda, packed, beta, C.data(), ldc);
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  bool close = true, untouched = true;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t at = size_t(i * ldc + j);
      if (j >= N) {  // the stride's gap is never written
        untouched &= std::isnan(C[at]) ? std::isnan(C0[at]) : C[at] == C0[at];
        continue;
      }
      double ref = beta == T(0) ? 0.0 : double(beta) * double(C0[at]), scale = std::fabs(ref);
      for (int64_t k = 0; k < K; ++k) {
        const double a = double(A[size_t(trans_a ? k * lda + i : i * lda + k)]);
        const double b = double(src[size_t(trans_b ? j * ldb + k : k * ldb + j)]);
        ref += a * b;
        scale += std::fabs(a * b);
      }
      close &= std::fabs(double(C[at]) - ref) <= tol * (1.0 + scale);
    }
  if (!close || !untouched)
    test::fail(__FILE__, __LINE__, fmt("gemm_packed M=", M, " N=", N, " K=", K, " trans_a=", trans_a, " trans_b=",
                                       trans_b, " beta=", double(beta), close ? "" : ": wrong values",
                                       untouched ? "" : ": gap written"));
}

template <typename T> void check_all_shapes() {
  std::mt19937 rng(0);
  const int64_t sizes[] = {1, 3, 17, 32, 33, 129};
  for (int64_t M : sizes)
    for (int64_t N : sizes)
      for (int64_t K : sizes)
        for (bool trans_a : {false, true})
          for (bool trans_b : {false, true})
            for (T beta : {T(0), T(1)}) check_shape<T>(M, N, K, trans_a, trans_b, beta, rng);
}

}  // namespace

TEST(gemm_packed_matches_naive_gemm) {
  int saved = get_num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    check_all_shapes<float>();
    check_all_shapes<double>();
    std::mt19937 rng(1);  // big enough to split its panels over the threads
    check_shape<float>(64, 1000, 700, false, true, 1.0f, rng);
  }
  set_num_threads(saved);
}

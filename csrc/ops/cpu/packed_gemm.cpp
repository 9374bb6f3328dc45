// The packed GEMM of packed_gemm.h: one micro-kernel (simd.h vectors) for float and double. A
// micro-kernel keeps an R x 2-vector block of C in registers and for each k broadcasts A[i, k]
// against two vectors of one panel row.
#include "ops/cpu/packed_gemm.h"

#include <algorithm>
#include <cstring>

#include "core/parallel.h"
#include "ops/cpu/simd.h"

namespace lamina::cpu {
namespace {

using simd::kLanes;
using simd::kRows;
using simd::Vec;
template <typename T> constexpr int64_t kPanelWidth = 2 * kLanes<T>;

// Multiply-adds per parallel chunk (about 4 us at one core's peak): a fork-join costs about 1 us.
constexpr int64_t kParallelWork = int64_t(1) << 19;

// C[0:R, 0:cols] = A[0:R, 0:K] panel[0:K, 0:cols] + beta C from the panel's first V vectors
// (cols <= V lanes of T; past cols the panel holds zeros or columns that are not stored). A[i, k] is at
// A[i rs + k ks] (rs, ks = lda, 1, or 1, lda for a transposed A).
template <typename T, int R, int V>
void micro_kernel(int64_t K, const T* __restrict A, int64_t rs, int64_t ks, const T* __restrict panel, T beta,
                  T* __restrict C, int64_t ldc, int64_t cols) {
  constexpr int64_t L = kLanes<T>, W = kPanelWidth<T>;
  Vec<T> acc[R][V] = {};
  for (int64_t k = 0; k < K; ++k) {
    Vec<T> b[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) b[v] = simd::load(panel + k * W + v * L);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const T a = A[i * rs + k * ks];
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) acc[i][v] += a * b[v];
    }
  }
  for (int i = 0; i < R; ++i) {
    T* c = C + i * ldc;
    if (cols == V * L) {
      for (int v = 0; v < V; ++v) {
        Vec<T> out = acc[i][v];
        if (beta != T(0)) out += beta * simd::load(c + v * L);
        simd::store(c + v * L, out);
      }
    } else {
      T row[V * L];
      std::memcpy(row, acc[i], sizeof(row));
      for (int64_t j = 0; j < cols; ++j) c[j] = beta == T(0) ? row[j] : row[j] + beta * c[j];
    }
  }
}

// micro_kernel for rows = 1..R (a block of rows < R at the bottom of C).
template <typename T, int V, int R = kRows>
void run_rows(int64_t rows, int64_t K, const T* A, int64_t rs, int64_t ks, const T* panel, T beta, T* C, int64_t ldc,
              int64_t cols) {
  if constexpr (R > 1) {
    if (rows < R) return run_rows<T, V, R - 1>(rows, K, A, rs, ks, panel, beta, C, ldc, cols);
  }
  micro_kernel<T, R, V>(K, A, rs, ks, panel, beta, C, ldc, cols);
}

}  // namespace

template <typename T> PackedMatrix<T> pack_b(const T* src, bool trans, int64_t K, int64_t N, int64_t ld) {
  constexpr int64_t W = kPanelWidth<T>;
  const int64_t panels = (N + W - 1) / W;
  PackedMatrix<T> packed{K, N, scratch<T>(panels * K * W)};
  for (int64_t p = 0; p < panels; ++p) {
    T* panel = packed.data.get() + p * K * W;
    const int64_t n0 = p * W, cols = std::min(W, N - n0);
    if (trans)  // column n of B is row n of src
      for (int64_t j = 0; j < cols; ++j)
        for (int64_t k = 0; k < K; ++k) panel[k * W + j] = src[(n0 + j) * ld + k];
    else
      for (int64_t k = 0; k < K; ++k) std::copy(src + k * ld + n0, src + k * ld + n0 + cols, panel + k * W);
    if (cols < W)
      for (int64_t k = 0; k < K; ++k) std::fill(panel + k * W + cols, panel + (k + 1) * W, T(0));
  }
  return packed;
}

template <typename T>
void gemm_packed(bool trans_a, int64_t M, const T* A, int64_t lda, const PackedMatrix<T>& B, T beta, T* C,
                 int64_t ldc) {
  constexpr int64_t L = kLanes<T>, W = kPanelWidth<T>;
  const int64_t K = B.K, N = B.N, panels = (N + W - 1) / W, rs = trans_a ? 1 : lda, ks = trans_a ? lda : 1;
  if (M <= 0 || N <= 0) return;
  // Tiles (panel p, row block r) in panel-major order: a panel (K x W, 16 KB for K = 128 floats)
  // stays in L1 while the row blocks of A pass it. Threads take ranges of tiles, so a product of
  // one panel (N <= W) splits over its rows.
  const int64_t row_blocks = (M + kRows - 1) / kRows;
  parallel_for(0, panels * row_blocks, std::max<int64_t>(1, kParallelWork / std::max<int64_t>(1, kRows * K * W)),
               [&](int64_t tile_begin, int64_t tile_end) {
                 for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
                   const int64_t p = tile / row_blocks, i = tile % row_blocks * kRows;
                   const T* panel = B.data.get() + p * K * W;
                   const int64_t cols = std::min(W, N - p * W), rows = std::min<int64_t>(kRows, M - i);
                   T* c = C + i * ldc + p * W;
                   if (cols > L) run_rows<T, 2>(rows, K, A + i * rs, rs, ks, panel, beta, c, ldc, cols);
                   else run_rows<T, 1>(rows, K, A + i * rs, rs, ks, panel, beta, c, ldc, cols);
                 }
               });
}

#define LAMINA_INSTANTIATE(T)                                                                 \
  template PackedMatrix<T> pack_b<T>(const T*, bool, int64_t, int64_t, int64_t);              \
  template void gemm_packed<T>(bool, int64_t, const T*, int64_t, const PackedMatrix<T>&, T, T*, int64_t);
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
#undef LAMINA_INSTANTIATE

}  // namespace lamina::cpu

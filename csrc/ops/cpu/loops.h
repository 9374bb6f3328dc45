// strided_loop: the one N-d loop behind every elementwise CPU kernel. N operands, each with its
// own element strides over a common shape (0 on broadcast dims). Dims that are contiguous for
// every operand are merged, the linear range is split over threads, and f is called on runs
// along the innermost dim: f(n, offsets, inner_strides), where offsets[k] is operand k's
// element offset at the run's start. f must not throw (it may run inside an OpenMP region).
#pragma once
#include <array>
#include <vector>

#include "core/parallel.h"
#include "core/shape.h"

namespace lamina::cpu {

inline constexpr int64_t kElementwiseGrain = 32768;

// sum_{l < n} term(l) in A over 16 fixed lanes (term l into lane l % 16, combined pairwise): the
// loop vectorises (no chain of dependent adds) and the result does not depend on how callers split
// their work across threads. Used by full-row sums, batch-norm statistics and bias gradients.
template <typename A, typename F> inline A lane_sum(int64_t n, F term) {
  constexpr int kLanes = 16;
  A lanes[kLanes] = {};
  int64_t l = 0;
  for (; l + kLanes <= n; l += kLanes)
    for (int q = 0; q < kLanes; ++q) lanes[q] += term(l + q);
  for (int q = 0; l < n; ++l, ++q) lanes[q] += term(l);
  for (int width = kLanes / 2; width > 0; width /= 2)
    for (int q = 0; q < width; ++q) lanes[q] += lanes[q + width];
  return lanes[0];
}

template <size_t N, typename F>
void strided_loop(const Shape& shape, const std::array<Shape, N>& strides, int64_t grain, const F& f) {
  // Merge dims: drop size-1 dims, join d-1 and d when every operand steps through them as one.
  std::vector<int64_t> sizes;
  std::array<std::vector<int64_t>, N> st;
  int64_t numel = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    numel *= shape[d];
    if (shape[d] == 1) continue;
    bool merge = !sizes.empty();
    for (size_t k = 0; k < N && merge; ++k) merge = st[k].back() == strides[k][d] * shape[d];
    if (merge) {
      sizes.back() *= shape[d];
      for (size_t k = 0; k < N; ++k) st[k].back() = strides[k][d];
    } else {
      sizes.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) st[k].push_back(strides[k][d]);
    }
  }
  if (numel == 0) return;
  if (sizes.empty()) {
    sizes.push_back(1);
    for (size_t k = 0; k < N; ++k) st[k].push_back(0);
  }
  const int nd = int(sizes.size());
  std::array<int64_t, N> inner;
  for (size_t k = 0; k < N; ++k) inner[k] = st[k][nd - 1];

  parallel_for(0, numel, grain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> idx(nd);
    std::array<int64_t, N> off{};
    int64_t rest = begin;
    for (int d = nd - 1; d >= 0; --d) {
      idx[d] = rest % sizes[d];
      rest /= sizes[d];
      for (size_t k = 0; k < N; ++k) off[k] += idx[d] * st[k][d];
    }
    for (int64_t i = begin; i < end;) {
      int64_t run = std::min(sizes[nd - 1] - idx[nd - 1], end - i);
      f(run, off, inner);
      i += run;
      idx[nd - 1] += run;
      for (size_t k = 0; k < N; ++k) off[k] += run * inner[k];
      for (int d = nd - 1; d > 0 && idx[d] == sizes[d]; --d) {
        idx[d] = 0;
        ++idx[d - 1];
        for (size_t k = 0; k < N; ++k) off[k] += st[k][d - 1] - sizes[d] * st[k][d];
      }
    }
  });
}

}  // namespace lamina::cpu

// Reductions over the middle axis of inp (outer, R, inner) into out (outer, inner).
// Float sums accumulate in double, so that long sums stay accurate; the inner == 1 case reads
// rows, the others sweep R with a row of accumulators across inner (vectorisable).
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/loops.h"

namespace lamina::cpu {

template <typename T> using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

// A row (inner == 1) is summed in fixed chunks of kSumChunk elements, each with lane_sum, and the
// chunk sums are added in order. The chunks are the unit of parallel work, so a long row is split
// across threads and the result is the same at any thread count.
constexpr int64_t kSumChunk = 8192;

template <typename T, typename A> A chunk_sum(const T* p, int64_t n) {
  return lane_sum<A>(n, [p](int64_t r) { return A(p[r]); });
}

template <typename T> void sum(T* out, const T* inp, int64_t outer, int64_t R, int64_t inner) {
  using A = acc_t<T>;
  if (inner == 1) {
    const int64_t chunks = std::max<int64_t>(1, (R + kSumChunk - 1) / kSumChunk);
    if (chunks == 1) {
      parallel_for(0, outer, std::max<int64_t>(1, 16384 / std::max<int64_t>(R, 1)), [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) out[o] = T(chunk_sum<T, A>(inp + o * R, R));
      });
      return;
    }
    std::vector<A> partial(size_t(outer * chunks));
    parallel_for(0, outer * chunks, 2, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        int64_t o = k / chunks, c = k % chunks, r0 = c * kSumChunk;
        partial[size_t(k)] = chunk_sum<T, A>(inp + o * R + r0, std::min(kSumChunk, R - r0));
      }
    });
    for (int64_t o = 0; o < outer; ++o) {
      A acc = 0;
      for (int64_t c = 0; c < chunks; ++c) acc += partial[size_t(o * chunks + c)];
      out[o] = T(acc);
    }
    return;
  }
  parallel_for(0, outer * inner, std::max<int64_t>(1, 16384 / std::max<int64_t>(R, 1)), [&](int64_t b, int64_t e) {
    // [b, e) runs over (o, i) pairs; handle them in stretches of one o.
    std::vector<A> acc;
    for (int64_t k = b; k < e;) {
      int64_t o = k / inner, i0 = k % inner, i1 = std::min(inner, i0 + (e - k));
      acc.assign(size_t(i1 - i0), A(0));
      for (int64_t r = 0; r < R; ++r) {
        const T* row = inp + (o * R + r) * inner;
        for (int64_t i = i0; i < i1; ++i) acc[i - i0] += A(row[i]);
      }
      for (int64_t i = i0; i < i1; ++i) out[o * inner + i] = T(acc[i - i0]);
      k += i1 - i0;
    }
  });
}

template <typename T>
void extreme(T* values, int64_t* indices, const T* inp, int64_t outer, int64_t R, int64_t inner, bool is_max) {
  parallel_for(0, outer * inner, std::max<int64_t>(1, 16384 / std::max<int64_t>(R, 1)), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t o = k / inner, i = k % inner;
      const T* p = inp + o * R * inner + i;
      T best = p[0];
      int64_t best_r = 0;
      for (int64_t r = 1; r < R; ++r) {
        T v = p[r * inner];
        if (best != best) break;  // NaN found: it wins
        if (v != v || (is_max ? v > best : v < best)) {
          best = v;
          best_r = r;
        }
      }
      if (values) values[k] = best;
      if (indices) indices[k] = best_r;
    }
  });
}

// Two passes per output: the mean, then the sum of squared deviations (stable for large means).
template <typename T>
void var(T* out, const T* inp, int64_t outer, int64_t R, int64_t inner, double correction, bool take_sqrt) {
  double denom = std::max(0.0, double(R) - correction);
  parallel_for(0, outer * inner, std::max<int64_t>(1, 8192 / std::max<int64_t>(R, 1)), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t o = k / inner, i = k % inner;
      const T* p = inp + o * R * inner + i;
      double mean = 0;
      for (int64_t r = 0; r < R; ++r) mean += double(p[r * inner]);
      mean /= double(R);
      double m2 = 0;
      for (int64_t r = 0; r < R; ++r) {
        double d = double(p[r * inner]) - mean;
        m2 += d * d;
      }
      double v = m2 / denom;  // denom 0 gives inf or nan, as PyTorch
      out[k] = T(take_sqrt ? std::sqrt(v) : v);
    }
  });
}

template <typename T>
void var_backward(T* dinp, const T* dout, const T* inp, const T* result, int64_t outer, int64_t R,
                  int64_t inner, double correction, bool take_sqrt) {
  double denom = double(R) - correction;
  parallel_for(0, outer * inner, std::max<int64_t>(1, 8192 / std::max<int64_t>(R, 1)), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t o = k / inner, i = k % inner;
      const T* p = inp + o * R * inner + i;
      T* dp = dinp + o * R * inner + i;
      double mean = 0;
      for (int64_t r = 0; r < R; ++r) mean += double(p[r * inner]);
      mean /= double(R);
      double scale = take_sqrt ? double(dout[k]) / (denom * double(result[k])) : 2.0 * double(dout[k]) / denom;
      for (int64_t r = 0; r < R; ++r) dp[r * inner] = T(scale * (double(p[r * inner]) - mean));
    }
  });
}

template void sum<float>(float*, const float*, int64_t, int64_t, int64_t);
template void sum<double>(double*, const double*, int64_t, int64_t, int64_t);
template void sum<int64_t>(int64_t*, const int64_t*, int64_t, int64_t, int64_t);
template void extreme<float>(float*, int64_t*, const float*, int64_t, int64_t, int64_t, bool);
template void extreme<double>(double*, int64_t*, const double*, int64_t, int64_t, int64_t, bool);
template void extreme<int64_t>(int64_t*, int64_t*, const int64_t*, int64_t, int64_t, int64_t, bool);
template void extreme<bool>(bool*, int64_t*, const bool*, int64_t, int64_t, int64_t, bool);
template void var<float>(float*, const float*, int64_t, int64_t, int64_t, double, bool);
template void var<double>(double*, const double*, int64_t, int64_t, int64_t, double, bool);
template void var_backward<float>(float*, const float*, const float*, const float*, int64_t, int64_t, int64_t, double, bool);
template void var_backward<double>(double*, const double*, const double*, const double*, int64_t, int64_t, int64_t, double, bool);

}  // namespace lamina::cpu

// Linear layer kernels around the GEMM (which the front-end calls, outside any parallel region):
// the bias broadcast into the output rows before GEMM accumulates into them, and the bias
// gradient as a column sum of dout.
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "ops/cpu/layers.h"

namespace lamina::cpu {

// out (N, OC) rows = bias (OC,)
template <typename T> void linear_bias_rows(T* out, const T* bias, int64_t N, int64_t OC) {
  parallel_for(0, N, std::max<int64_t>(1, 32768 / std::max<int64_t>(OC, 1)), [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) std::memcpy(out + n * OC, bias, size_t(OC) * sizeof(T));
  });
}

// dbias (OC,) += sum over rows of dout (N, OC). Threads own column blocks and walk all rows, so
// the reads stay row-contiguous and no two threads write the same dbias entry.
template <typename T> void linear_bias_backward(T* dbias, const T* dout, int64_t N, int64_t OC) {
  const int64_t block = 256;
  int64_t nblocks = (OC + block - 1) / block;
  parallel_for(0, nblocks, std::max<int64_t>(1, 65536 / std::max<int64_t>(N * block, 1)), [&](int64_t b, int64_t e) {
    std::vector<double> acc(static_cast<size_t>(block), 0.0);
    for (int64_t k = b; k < e; ++k) {
      int64_t o0 = k * block, o1 = std::min(OC, o0 + block);
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t n = 0; n < N; ++n) {
        const T* row = dout + n * OC;
        for (int64_t o = o0; o < o1; ++o) acc[size_t(o - o0)] += double(row[o]);
      }
      for (int64_t o = o0; o < o1; ++o) dbias[o] += T(acc[size_t(o - o0)]);
    }
  });
}

#define LAMINA_INSTANTIATE(T)                                          \
  template void linear_bias_rows<T>(T*, const T*, int64_t, int64_t);   \
  template void linear_bias_backward<T>(T*, const T*, int64_t, int64_t);
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
#undef LAMINA_INSTANTIATE

}  // namespace lamina::cpu

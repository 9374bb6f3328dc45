// Embedding backward: a scatter-add of dout rows into dweight rows. Indices may repeat, so
// threads own column blocks of D (each walks every index) and never write the same entry.
#include "core/parallel.h"
#include "ops/cpu/layers.h"

namespace lamina::cpu {

// weight (V, D), indices (n,), dout (n, D): dweight[indices[i], :] += dout[i, :] (accumulated),
// skipping indices equal to padding_idx (-1: none).
template <typename T>
void embedding_backward(T* dweight, const T* dout, const int64_t* indices, int64_t n, int64_t D, int64_t padding_idx) {
  const int64_t block = 64;
  int64_t nblocks = (D + block - 1) / block;
  parallel_for(0, nblocks, std::max<int64_t>(1, 65536 / std::max<int64_t>(n * block, 1)), [&](int64_t b, int64_t e) {
    int64_t d0 = b * block, d1 = std::min(D, e * block);
    for (int64_t i = 0; i < n; ++i) {
      if (indices[i] == padding_idx) continue;
      T* dst = dweight + indices[i] * D;
      const T* src = dout + i * D;
      for (int64_t d = d0; d < d1; ++d) dst[d] += src[d];
    }
  });
}

template void embedding_backward<float>(float*, const float*, const int64_t*, int64_t, int64_t, int64_t);
template void embedding_backward<double>(double*, const double*, const int64_t*, int64_t, int64_t, int64_t);

}  // namespace lamina::cpu

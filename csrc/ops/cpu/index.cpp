// Joining and indexing. cat copies rows of bytes; index_select and gather read through
// validated int64 indices; their backward passes scatter-add (serially along the indexed dim,
// since indices may repeat).
#include <cstring>

#include "ops/cpu/kernels.h"
#include "ops/cpu/loops.h"

namespace lamina::cpu {

void cat(char* out, const std::vector<const char*>& inputs, const std::vector<int64_t>& row_bytes, int64_t outer) {
  int64_t out_row = 0;
  for (int64_t rb : row_bytes) out_row += rb;
  parallel_for(0, outer, std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(out_row, 1)), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      char* dst = out + o * out_row;
      for (size_t i = 0; i < inputs.size(); ++i) {
        std::memcpy(dst, inputs[i] + o * row_bytes[i], size_t(row_bytes[i]));
        dst += row_bytes[i];
      }
    }
  });
}

template <typename T>
void index_select(T* out, const T* inp, const int64_t* index, int64_t outer, int64_t D, int64_t L, int64_t inner) {
  parallel_for(0, outer * L, std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t o = k / L, l = k % L;
      std::memcpy(out + k * inner, inp + (o * D + index[l]) * inner, size_t(inner) * sizeof(T));
    }
  });
}

template <typename T>
void index_select_backward(T* dinp, const T* dout, const int64_t* index, int64_t outer, int64_t D, int64_t L,
                           int64_t inner) {
  parallel_for(0, outer, 1, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o)
      for (int64_t l = 0; l < L; ++l) {
        T* dst = dinp + (o * D + index[l]) * inner;
        const T* src = dout + (o * L + l) * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] += src[i];
      }
  });
}

// The source offset of out[i...] is inp's offset with i[dim] := index[i...]: walk out, index and
// inp (with inp's stride on dim zeroed) together, then add index * inp.stride(dim).
void gather(const Tensor& out, const Tensor& inp, int64_t dim, const Tensor& index) {
  Shape inp_strides(out.dim());
  for (int64_t d = 0; d < out.dim(); ++d) inp_strides[d] = d == dim ? 0 : inp.strides()[d];
  const int64_t dim_stride = inp.strides()[dim];
  const int64_t* idx = index.data<int64_t>();
  dispatch_all(out.dtype(), "gather", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = out.data<T>();
    const T* x = inp.data<T>();
    strided_loop<3>(out.shape(), {out.strides(), index.strides(), inp_strides}, kElementwiseGrain,
                    [&](int64_t n, const auto& off, const auto& st) {
                      for (int64_t i = 0; i < n; ++i)
                        o[off[0] + i * st[0]] = x[off[2] + i * st[2] + idx[off[1] + i * st[1]] * dim_stride];
                    });
  });
}

void scatter_add(const Tensor& dinp, int64_t dim, const Tensor& index, const Tensor& src) {
  Shape dst_strides(src.dim());
  for (int64_t d = 0; d < src.dim(); ++d) dst_strides[d] = d == dim ? 0 : dinp.strides()[d];
  const int64_t dim_stride = dinp.strides()[dim];
  const int64_t* idx = index.data<int64_t>();
  dispatch_float(dinp.dtype(), "scatter_add", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* d = dinp.data<T>();
    const T* s = src.data<T>();
    // One thread: different positions of index may name the same destination.
    strided_loop<3>(src.shape(), {src.strides(), index.strides(), dst_strides}, INT64_MAX,
                    [&](int64_t n, const auto& off, const auto& st) {
                      for (int64_t i = 0; i < n; ++i)
                        d[off[2] + i * st[2] + idx[off[1] + i * st[1]] * dim_stride] += s[off[0] + i * st[0]];
                    });
  });
}

template void index_select<float>(float*, const float*, const int64_t*, int64_t, int64_t, int64_t, int64_t);
template void index_select<double>(double*, const double*, const int64_t*, int64_t, int64_t, int64_t, int64_t);
template void index_select<int64_t>(int64_t*, const int64_t*, const int64_t*, int64_t, int64_t, int64_t, int64_t);
template void index_select<bool>(bool*, const bool*, const int64_t*, int64_t, int64_t, int64_t, int64_t);
template void index_select_backward<float>(float*, const float*, const int64_t*, int64_t, int64_t, int64_t, int64_t);
template void index_select_backward<double>(double*, const double*, const int64_t*, int64_t, int64_t, int64_t, int64_t);

}  // namespace lamina::cpu

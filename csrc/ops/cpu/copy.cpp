// Strided copy with dtype conversion, and fill. dst and src have the same shape; src may be a
// broadcast view (stride 0), which is how copy_ broadcasts.
#include <cstring>

#include "ops/cpu/kernels.h"
#include "ops/cpu/loops.h"

namespace lamina::cpu {

void copy_(const Tensor& dst, const Tensor& src) {
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    size_t esize = element_size(dst.dtype());
    char* d = static_cast<char*>(dst.raw_data());
    const char* s = static_cast<const char*>(src.raw_data());
    parallel_for(0, dst.numel(), 1 << 18, [&](int64_t b, int64_t e) {
      std::memcpy(d + b * esize, s + b * esize, size_t(e - b) * esize);
    });
    return;
  }
  dispatch_all(dst.dtype(), "copy_", [&](auto dtag) {
    using D = typename decltype(dtag)::type;
    dispatch_all(src.dtype(), "copy_", [&](auto stag) {
      using S = typename decltype(stag)::type;
      D* d = dst.data<D>();
      const S* s = src.data<S>();
      strided_loop<2>(dst.shape(), {dst.strides(), src.strides()}, kElementwiseGrain,
                      [&](int64_t n, const auto& off, const auto& st) {
                        D* dp = d + off[0];
                        const S* sp = s + off[1];
                        if (st[0] == 1 && st[1] == 1) {
                          for (int64_t i = 0; i < n; ++i) dp[i] = static_cast<D>(sp[i]);
                        } else {
                          for (int64_t i = 0; i < n; ++i) dp[i * st[0]] = static_cast<D>(sp[i * st[1]]);
                        }
                      });
    });
  });
}

void fill_(const Tensor& dst, Scalar value) {
  dispatch_all(dst.dtype(), "fill_", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T v = static_cast<T>(value.value);
    T* d = dst.data<T>();
    strided_loop<1>(dst.shape(), {dst.strides()}, kElementwiseGrain,
                    [&](int64_t n, const auto& off, const auto& st) {
                      for (int64_t i = 0; i < n; ++i) d[off[0] + i * st[0]] = v;
                    });
  });
}

}  // namespace lamina::cpu

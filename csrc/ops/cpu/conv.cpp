// Convolution kernels on NCHW buffers over one geometry (ConvShape), which serves conv2d, conv1d
// (H = 1) and the transposed convolutions (whose forward is conv2d's backward-input). Two
// algorithms, both checked against PyTorch by the tests:
//  - direct loops that read like the math: the reference, used for grouped convolutions with one
//    input channel per group (depthwise), where a GEMM would have K = KH KW;
//  - im2col + GEMM per group otherwise. The batch runs in chunks of B images, so the column
//    buffer (C KH KW, B, OH OW) stays bounded; 1x1 stride-1 convolutions skip im2col (the input
//    image is already the column matrix); stride-1 'same'-width convolutions move each plane of
//    im2col/col2im as one shifted run. GEMMs run outside any parallel region; scratch buffers come
//    from the caching host allocator.
#include <algorithm>

#include "core/parallel.h"
#include "ops/cpu/conv_kernels.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/layers.h"

namespace lamina::cpu {

namespace {

constexpr int64_t kColumnBudget = int64_t(1) << 21;  // elements of the column buffer (8 MB float)
constexpr int64_t kMinGemmWidth = 256;                // chunk images until a GEMM is this wide
constexpr int64_t kGrain = 16384;                     // elements of work per parallel task

int64_t grain_for(int64_t work_per_item) { return std::max<int64_t>(1, kGrain / std::max<int64_t>(work_per_item, 1)); }

// The outputs o in [0, n) whose input position o stride + offset lies in [0, size).
struct Range {
  int64_t lo, hi;
};
Range valid_outputs(int64_t offset, int64_t stride, int64_t size, int64_t n) {
  int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int64_t hi = offset > size - 1 ? 0 : std::min(n, (size - 1 - offset) / stride + 1);
  return {std::min(lo, hi), hi};
}

bool is_depthwise(const ConvShape& s) { return s.groups > 1 && s.C == s.groups; }
bool is_pointwise(const ConvShape& s) {
  return s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1 && s.ph == 0 && s.pw == 0 && s.OH == s.H && s.OW == s.W;
}

// Images per chunk: enough for a wide GEMM, few enough for the column budget (at least 1).
int64_t chunk_images(const ConvShape& s) {
  if (is_pointwise(s)) return 1;
  int64_t L = std::max<int64_t>(s.OH * s.OW, 1), per_image = s.C * s.KH * s.KW * L;
  int64_t wanted = (kMinGemmWidth + L - 1) / L, fits = std::max<int64_t>(1, kColumnBudget / per_image);
  return std::clamp<int64_t>(std::min(wanted, fits), 1, std::max<int64_t>(s.N, 1));
}

// --- direct loops (reference; depthwise path) ---

// out[n, o] = sum_{c, kh, kw} weight[o, c, kh, kw] inp[n, g Cg + c] shifted by (kh dh - ph, kw dw - pw)
template <typename T> void direct_forward(T* out, const T* inp, const T* weight, const ConvShape& s) {
  int64_t Cg = s.C / s.groups, OCg = s.OC / s.groups, L = s.OH * s.OW;
  parallel_for(0, s.N * s.OC, grain_for(L * Cg * s.KH * s.KW), [&](int64_t b, int64_t e) {
    for (int64_t no = b; no < e; ++no) {
      int64_t n = no / s.OC, o = no % s.OC, g = o / OCg;
      T* y = out + no * L;
      std::fill(y, y + L, T(0));
      for (int64_t c = 0; c < Cg; ++c) {
        const T* x = inp + (n * s.C + g * Cg + c) * s.H * s.W;
        for (int64_t kh = 0; kh < s.KH; ++kh) {
          Range hr = valid_outputs(kh * s.dh - s.ph, s.sh, s.H, s.OH);
          for (int64_t kw = 0; kw < s.KW; ++kw) {
            int64_t woff = kw * s.dw - s.pw;
            Range wr = valid_outputs(woff, s.sw, s.W, s.OW);
            T wv = weight[((o * Cg + c) * s.KH + kh) * s.KW + kw];
            for (int64_t i = hr.lo; i < hr.hi; ++i) {
              const T* xrow = x + (i * s.sh + kh * s.dh - s.ph) * s.W;
              T* yrow = y + i * s.OW;
              for (int64_t j = wr.lo; j < wr.hi; ++j) yrow[j] += wv * xrow[j * s.sw + woff];
            }
          }
        }
      }
    }
  });
}

// dinp[n, ci] = sum over the outputs o of ci's group and (kh, kw) of weight[o, c, kh, kw] dout[n, o]
// shifted back onto the positions they read: the forward's loops with the roles of x and y swapped.
template <typename T> void direct_backward_input(T* dinp, const T* dout, const T* weight, const ConvShape& s) {
  int64_t Cg = s.C / s.groups, OCg = s.OC / s.groups, L = s.OH * s.OW, HW = s.H * s.W;
  parallel_for(0, s.N * s.C, grain_for(L * OCg * s.KH * s.KW), [&](int64_t b, int64_t e) {
    for (int64_t nc = b; nc < e; ++nc) {
      int64_t n = nc / s.C, ci = nc % s.C, g = ci / Cg, c = ci % Cg;
      T* dx = dinp + nc * HW;
      std::fill(dx, dx + HW, T(0));
      for (int64_t o = g * OCg; o < (g + 1) * OCg; ++o) {
        const T* dy = dout + (n * s.OC + o) * L;
        for (int64_t kh = 0; kh < s.KH; ++kh) {
          Range hr = valid_outputs(kh * s.dh - s.ph, s.sh, s.H, s.OH);
          for (int64_t kw = 0; kw < s.KW; ++kw) {
            int64_t woff = kw * s.dw - s.pw;
            Range wr = valid_outputs(woff, s.sw, s.W, s.OW);
            T wv = weight[((o * Cg + c) * s.KH + kh) * s.KW + kw];
            for (int64_t i = hr.lo; i < hr.hi; ++i) {
              T* dxrow = dx + (i * s.sh + kh * s.dh - s.ph) * s.W;
              const T* dyrow = dy + i * s.OW;
              for (int64_t j = wr.lo; j < wr.hi; ++j) dxrow[j * s.sw + woff] += wv * dyrow[j];
            }
          }
        }
      }
    }
  });
}

// dweight[o, c, kh, kw] += sum_{n, i, j} dout[n, o, i, j] inp[n, g Cg + c, i sh + kh dh - ph, j sw + kw dw - pw]
template <typename T> void direct_backward_weight(T* dweight, const T* dout, const T* inp, const ConvShape& s) {
  int64_t Cg = s.C / s.groups, OCg = s.OC / s.groups, L = s.OH * s.OW, HW = s.H * s.W;
  parallel_for(0, s.OC * Cg, grain_for(s.N * L * s.KH * s.KW), [&](int64_t b, int64_t e) {
    for (int64_t oc = b; oc < e; ++oc) {
      int64_t o = oc / Cg, c = oc % Cg, ci = (o / OCg) * Cg + c;
      for (int64_t kh = 0; kh < s.KH; ++kh) {
        Range hr = valid_outputs(kh * s.dh - s.ph, s.sh, s.H, s.OH);
        for (int64_t kw = 0; kw < s.KW; ++kw) {
          int64_t woff = kw * s.dw - s.pw;
          Range wr = valid_outputs(woff, s.sw, s.W, s.OW);
          T acc = 0;
          for (int64_t n = 0; n < s.N; ++n) {
            const T* x = inp + (n * s.C + ci) * HW;
            const T* dy = dout + (n * s.OC + o) * L;
            for (int64_t i = hr.lo; i < hr.hi; ++i) {
              const T* xrow = x + (i * s.sh + kh * s.dh - s.ph) * s.W;
              const T* dyrow = dy + i * s.OW;
              for (int64_t j = wr.lo; j < wr.hi; ++j) acc += dyrow[j] * xrow[j * s.sw + woff];
            }
          }
          dweight[(oc * s.KH + kh) * s.KW + kw] += acc;
        }
      }
    }
  });
}

// --- im2col + GEMM ---

// dst[j] += src[j] for j in [lo, hi): the stride-1 rows of col2im (vectorised inline).
template <typename T> void add_row(T* __restrict dst, const T* __restrict src, int64_t lo, int64_t hi) {
#pragma omp simd
  for (int64_t j = lo; j < hi; ++j) dst[j] += src[j];
}

// Stride 1 with OW = W (padding 'same' along W): output rows and input rows have the same length.
bool shifted_rows(const ConvShape& s) { return s.sh == 1 && s.sw == 1 && s.OW == s.W; }

// Planes of im2col and col2im where shifted_rows(s): output row i reads input row i + hoff, so
// col[q] = x[q + delta], delta = hoff W + woff, over the valid rows q in [hr.lo W, hr.hi W) is
// one shifted contiguous run (clipped to the plane: [lo, hi)). The |woff| entries per row that
// the run takes from a neighbouring row (columns j outside wr) are zeroed separately.
struct ShiftedRun {
  int64_t delta, lo, hi;
};
ShiftedRun shifted_run(int64_t hoff, int64_t woff, Range hr, const ConvShape& s) {
  const int64_t delta = hoff * s.W + woff, lo = std::min(s.OH * s.W, std::max(hr.lo * s.W, -delta));
  return {delta, lo, std::max(lo, std::min(hr.hi * s.W, s.H * s.W - delta))};
}
template <typename T> void zero_wrapped_columns(T* col, Range hr, Range wr, int64_t W) {
  for (int64_t j = 0; j < W; ++j)
    if (j < wr.lo || j >= wr.hi)
      for (int64_t i = hr.lo; i < hr.hi; ++i) col[i * W + j] = T(0);
}

// im2col of one plane: one copy, zeros around it and in the wrapped columns.
template <typename T>
void im2col_shifted_plane(T* col, const T* x, int64_t hoff, int64_t woff, Range hr, Range wr, const ConvShape& s) {
  const ShiftedRun run = shifted_run(hoff, woff, hr, s);
  std::fill(col, col + run.lo, T(0));
  std::copy(x + run.lo + run.delta, x + run.hi + run.delta, col + run.lo);
  std::fill(col + run.hi, col + s.OH * s.W, T(0));
  zero_wrapped_columns(col, hr, wr, s.W);
}

// col2im of one plane: the wrapped columns of col (scratch) zeroed, then one run of adds.
template <typename T>
void col2im_shifted_plane(T* dx, T* col, int64_t hoff, int64_t woff, Range hr, Range wr, const ConvShape& s) {
  const ShiftedRun run = shifted_run(hoff, woff, hr, s);
  zero_wrapped_columns(col, hr, wr, s.W);
  add_row(dx + run.lo + run.delta, col + run.lo, 0, run.hi - run.lo);
}

// cols (C KH KW, B, OH OW) from inp (B, C, H, W), written:
// cols[(c, kh, kw), b, i, j] = inp[b, c, i sh - ph + kh dh, j sw - pw + kw dw], 0 in the padding.
template <typename T> void im2col(T* cols, const T* inp, int64_t B, const ConvShape& s) {
  int64_t KK = s.KH * s.KW, L = s.OH * s.OW;
  parallel_for(0, s.C * KK, grain_for(B * L), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t c = r / KK, kh = r % KK / s.KW, kw = r % s.KW, woff = kw * s.dw - s.pw;
      Range hr = valid_outputs(kh * s.dh - s.ph, s.sh, s.H, s.OH), wr = valid_outputs(woff, s.sw, s.W, s.OW);
      for (int64_t b = 0; b < B; ++b) {
        T* col = cols + (r * B + b) * L;
        const T* x = inp + (b * s.C + c) * s.H * s.W;
        if (shifted_rows(s)) {
          im2col_shifted_plane(col, x, kh * s.dh - s.ph, woff, hr, wr, s);
          continue;
        }
        std::fill(col, col + hr.lo * s.OW, T(0));
        for (int64_t i = hr.lo; i < hr.hi; ++i) {
          T* crow = col + i * s.OW;
          const T* xrow = x + (i * s.sh + kh * s.dh - s.ph) * s.W;
          std::fill(crow, crow + wr.lo, T(0));
          if (s.sw == 1) std::copy(xrow + wr.lo + woff, xrow + wr.hi + woff, crow + wr.lo);
          else for (int64_t j = wr.lo; j < wr.hi; ++j) crow[j] = xrow[j * s.sw + woff];
          std::fill(crow + wr.hi, crow + s.OW, T(0));
        }
        std::fill(col + hr.hi * s.OW, col + L, T(0));
      }
    }
  });
}

// dinp (B, C, H, W), written: each column entry added back onto the input position im2col read
// it from (im2col's adjoint). One task per (b, c) plane, so no two tasks write the same place.
// cols is scratch: the shifted-row path zeroes its entries that would wrap onto a neighbouring row.
template <typename T> void col2im(T* dinp, T* cols, int64_t B, const ConvShape& s) {
  int64_t KK = s.KH * s.KW, L = s.OH * s.OW, HW = s.H * s.W;
  parallel_for(0, B * s.C, grain_for(KK * L), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      int64_t b = p / s.C, c = p % s.C;
      T* dx = dinp + p * HW;
      std::fill(dx, dx + HW, T(0));
      for (int64_t kh = 0; kh < s.KH; ++kh) {
        Range hr = valid_outputs(kh * s.dh - s.ph, s.sh, s.H, s.OH);
        for (int64_t kw = 0; kw < s.KW; ++kw) {
          int64_t woff = kw * s.dw - s.pw;
          Range wr = valid_outputs(woff, s.sw, s.W, s.OW);
          T* col = cols + ((c * KK + kh * s.KW + kw) * B + b) * L;
          if (shifted_rows(s)) {
            col2im_shifted_plane(dx, col, kh * s.dh - s.ph, woff, hr, wr, s);
            continue;
          }
          for (int64_t i = hr.lo; i < hr.hi; ++i) {
            T* dxrow = dx + (i * s.sh + kh * s.dh - s.ph) * s.W;
            const T* crow = col + i * s.OW;
            if (s.sw == 1) add_row(dxrow + woff, crow, wr.lo, wr.hi);
            else for (int64_t j = wr.lo; j < wr.hi; ++j) dxrow[j * s.sw + woff] += crow[j];
          }
        }
      }
    }
  });
}

// (B, R, L) <-> (R, B, L): the layout of a chunk of images and the layout its GEMMs use.
template <typename T> void swap_outer(T* dst, const T* src, int64_t B, int64_t R, int64_t L, bool to_gemm_layout) {
  parallel_for(0, B * R, grain_for(L), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      int64_t b = p / R, r = p % R;
      const T* from = to_gemm_layout ? src + p * L : src + (r * B + b) * L;
      T* to = to_gemm_layout ? dst + (r * B + b) * L : dst + p * L;
      std::copy(from, from + L, to);
    }
  });
}

}  // namespace

// Per chunk of B images and per group g (Cg = C / groups input and OCg = OC / groups output
// channels, K = Cg KH KW): Y_g (OCg, B L) = W_g (OCg, K) @ cols_g (K, B L), then Y moves from
// (OC, B, L) to (B, OC, L) (no move when B = 1).
template <typename T> void conv2d_forward(T* out, const T* inp, const T* weight, const ConvShape& s) {
  if (s.N == 0 || s.OC == 0) return;
  if (is_depthwise(s)) return direct_forward(out, inp, weight, s);
  int64_t Cg = s.C / s.groups, OCg = s.OC / s.groups, K = Cg * s.KH * s.KW, L = s.OH * s.OW;
  int64_t B = chunk_images(s);
  bool pointwise = is_pointwise(s);
  auto cols = scratch<T>(pointwise ? 0 : s.C * s.KH * s.KW * B * L);
  auto ychunk = scratch<T>(B > 1 ? s.OC * B * L : 0);
  for (int64_t n0 = 0; n0 < s.N; n0 += B) {
    int64_t nb = std::min(B, s.N - n0), ld = nb * L;
    const T* x = inp + n0 * s.C * s.H * s.W;
    if (!pointwise) im2col(cols.get(), x, nb, s);
    const T* colmat = pointwise ? x : cols.get();
    T* y = nb == 1 ? out + n0 * s.OC * L : ychunk.get();
    for (int64_t g = 0; g < s.groups; ++g)
      gemm<T>(false, false, OCg, ld, K, T(1), weight + g * OCg * K, K, colmat + g * K * ld, ld, T(0), y + g * OCg * ld, ld);
    if (nb > 1) swap_outer(out + n0 * s.OC * L, ychunk.get(), nb, s.OC, L, false);
  }
}

// Per chunk, with dY_g (OCg, B L) the chunk's output gradient in GEMM layout:
//   dW_g^T (K, OCg) += cols_g @ dY_g^T   (cols = im2col of the input: Y = W cols, so dW = dY cols^T),
//     summed over the chunks in a scratch and added transposed into dweight at the end: OpenBLAS
//     runs this orientation faster where OCg is small (M = OCg = 32, K = 288: 120 -> 185 GFLOP/s)
//     and no slower elsewhere;
//   dcols_g (K, B L) = W_g^T @ dY_g, then col2im adds each column entry back onto its input position.
template <typename T>
void conv2d_backward(T* dinp, T* dweight, const T* dout, const T* inp, const T* weight, const ConvShape& s) {
  if (s.N == 0) return;
  if (s.OC == 0) {
    if (dinp) std::fill(dinp, dinp + s.N * s.C * s.H * s.W, T(0));
    return;
  }
  if (is_depthwise(s)) {
    if (dinp) direct_backward_input(dinp, dout, weight, s);
    if (dweight) direct_backward_weight(dweight, dout, inp, s);
    return;
  }
  int64_t Cg = s.C / s.groups, OCg = s.OC / s.groups, K = Cg * s.KH * s.KW, L = s.OH * s.OW;
  int64_t B = chunk_images(s);
  bool pointwise = is_pointwise(s);
  auto cols = scratch<T>(pointwise ? 0 : s.C * s.KH * s.KW * B * L);
  auto dychunk = scratch<T>(B > 1 ? s.OC * B * L : 0);
  auto dweight_t = scratch<T>(dweight ? s.groups * K * OCg : 0);
  for (int64_t n0 = 0; n0 < s.N; n0 += B) {
    int64_t nb = std::min(B, s.N - n0), ld = nb * L;
    const T* dy = dout + n0 * s.OC * L;
    if (nb > 1) {
      swap_outer(dychunk.get(), dy, nb, s.OC, L, true);
      dy = dychunk.get();
    }
    if (dweight) {
      const T* x = inp + n0 * s.C * s.H * s.W;
      if (!pointwise) im2col(cols.get(), x, nb, s);
      const T* colmat = pointwise ? x : cols.get();
      for (int64_t g = 0; g < s.groups; ++g)
        gemm<T>(false, true, K, OCg, ld, T(1), colmat + g * K * ld, ld, dy + g * OCg * ld, ld, T(n0 == 0 ? 0 : 1),
                dweight_t.get() + g * K * OCg, OCg);
    }
    if (dinp) {
      T* dx = dinp + n0 * s.C * s.H * s.W;
      T* dcols = pointwise ? dx : cols.get();
      for (int64_t g = 0; g < s.groups; ++g)
        gemm<T>(true, false, K, ld, OCg, T(1), weight + g * OCg * K, K, dy + g * OCg * ld, ld, T(0), dcols + g * K * ld, ld);
      if (!pointwise) col2im(dx, cols.get(), nb, s);
    }
  }
  if (dweight)
    for (int64_t g = 0; g < s.groups; ++g)
      for (int64_t o = 0; o < OCg; ++o)
        for (int64_t k = 0; k < K; ++k) dweight[(g * OCg + o) * K + k] += dweight_t[(g * K + k) * OCg + o];
}

template <typename T> void conv_bias_forward(T* out, const T* bias, int64_t N, int64_t OC, int64_t L) {
  parallel_for(0, N * OC, grain_for(L), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      T v = bias[p % OC];
      for (T *y = out + p * L, *end = y + L; y < end; ++y) *y += v;
    }
  });
}

template <typename T> void conv_bias_backward(T* dbias, const T* dout, int64_t N, int64_t OC, int64_t L) {
  parallel_for(0, OC, grain_for(N * L), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* dy = dout + (n * OC + o) * L;
        acc += lane_sum<double>(L, [&](int64_t l) { return double(dy[l]); });
      }
      dbias[o] += T(acc);
    }
  });
}

#define LAMINA_INSTANTIATE(T)                                                                          \
  template void conv2d_forward<T>(T*, const T*, const T*, const ConvShape&);                           \
  template void conv2d_backward<T>(T*, T*, const T*, const T*, const T*, const ConvShape&);            \
  template void conv_bias_forward<T>(T*, const T*, int64_t, int64_t, int64_t);                         \
  template void conv_bias_backward<T>(T*, const T*, int64_t, int64_t, int64_t);
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
#undef LAMINA_INSTANTIATE

}  // namespace lamina::cpu

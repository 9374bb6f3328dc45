// Convolution kernels on NCHW buffers over one geometry (ConvShape), which serves conv2d, conv1d
// (H = 1) and the transposed convolutions (whose forward is conv2d's backward-input). Four
// algorithms, all checked against PyTorch by the tests, picked per product by the rules above
// conv2d_forward (measured):
//  - Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions without groups or dilation with enough
//    channels that its GEMMs outweigh its transforms (4x fewer multiplies);
//  - the implicit GEMM (implicit_conv.h) for other stride-1 convolutions without groups: im2col's
//    matrix read from the padded image by register-blocked micro-kernels, never built;
//  - direct loops that read like the math: the reference, used for grouped convolutions with one
//    input channel per group (depthwise), where a GEMM would have K = KH KW;
//  - im2col + GEMM per group otherwise. The batch runs in chunks of B images, so the column
//    buffer (C KH KW, B, OH OW) stays bounded; 1x1 stride-1 convolutions skip im2col (the input
//    image is already the column matrix); stride-1 'same'-width convolutions move each plane of
//    im2col/col2im as one shifted run. GEMMs run outside any parallel region; scratch buffers come
//    from the caching host allocator.
#include <algorithm>
#include <vector>

#include "core/parallel.h"
#include "ops/cpu/conv_kernels.h"
#include "ops/cpu/implicit_conv.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/layers.h"
#include "ops/cpu/simd.h"

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

// --- Winograd F(4x4, 3x3) (Lavin & Gray 2016) for 3x3 stride-1 convolutions without groups ---
// Each 4x4 tile y of an output plane o is, with d_c the 6x6 input patch under it (0 outside the
// plane) and g_oc the 3x3 filter,
//   y = A^T [ sum_c (G g_oc G^T) . (B^T d_c B) ] A        (. elementwise over the 6x6 positions)
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// At each of the 36 positions xi the channel sum over a block of tiles is one GEMM,
//   M_xi (OC, tiles) = U_xi (OC, C) V_xi (C, tiles),  U = G g G^T, V = B^T d B,
// 36 C multiplies per channel pair and tile of 16 outputs instead of 144 (im2col's 9 C per output).
// The transforms run on kLanes tiles at once (one vector per row). The input gradient is the same
// convolution of dout with the flipped, transposed filters (input_gradient_shape, implicit_conv.h).

constexpr int64_t kLanes = 16;                     // tiles transformed together
// Below 8 channels on either side the transforms cost more than the multiplies saved (64 images
// 32x32 -> 32 channels: 3 channels 0.71 -> 0.96 ms, 4: 1.05 -> 1.00, 8: 2.05 -> 1.35).
constexpr int64_t kWinogradMinChannels = 8;

// Elements from one of the 36 matrices of a transform (U, V, M and their gradients) to the next:
// n = rows x columns plus one vector of lanes. n itself is often a multiple of 4 KB (64 x 64 floats,
// 32 x 32 x 4), and the 36 values a transform writes or reads at once, one per matrix, then all map
// to one set of the L1 cache: 36 lines in its 12 ways, evicted at every access.
int64_t winograd_stride(int64_t n) { return n + kLanes; }

bool use_winograd(const ConvShape& s) {
  return s.KH == 3 && s.KW == 3 && s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1 && s.groups == 1 &&
         std::min(s.C, s.OC) >= kWinogradMinChannels;
}

// z[i zs] = (B^T d)[i], i < 6, for the kLanes lanes of rows d[r ds], r < 6.
template <typename T> inline void winograd_input_1d(T* z, int64_t zs, const T* d, int64_t ds) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    T d0 = d[l], d1 = d[ds + l], d2 = d[2 * ds + l], d3 = d[3 * ds + l], d4 = d[4 * ds + l], d5 = d[5 * ds + l];
    z[l] = 4 * d0 - 5 * d2 + d4;
    z[zs + l] = d3 + d4 - 4 * (d1 + d2);
    z[2 * zs + l] = 4 * (d1 - d2) + d4 - d3;
    z[3 * zs + l] = 2 * (d3 - d1) + d4 - d2;
    z[4 * zs + l] = 2 * (d1 - d3) + d4 - d2;
    z[5 * zs + l] = 4 * d1 - 5 * d3 + d5;
  }
}

// z[a zs] = (A^T m)[a], a < 4, for the kLanes lanes of rows m[i ms], i < 6.
template <typename T> inline void winograd_output_1d(T* z, int64_t zs, const T* m, int64_t ms) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    T s12 = m[ms + l] + m[2 * ms + l], d12 = m[ms + l] - m[2 * ms + l];
    T s34 = m[3 * ms + l] + m[4 * ms + l], d34 = m[3 * ms + l] - m[4 * ms + l];
    z[l] = m[l] + s12 + s34;
    z[zs + l] = d12 + 2 * d34;
    z[2 * zs + l] = s12 + 4 * s34;
    z[3 * zs + l] = d12 + 8 * d34 + m[5 * ms + l];
  }
}

// The filter transforms multiply by 1/6, 1/12 and 1/24 rounded in double (their results are then
// rounded to T) rather than divide.
constexpr double kSixth = 1.0 / 6, kTwelfth = 1.0 / 12, kTwentyFourth = 1.0 / 24;

// u[i] = (G g)[i], i < 6, in double, for g[k gs], k < 3.
inline void winograd_filter_1d(double* u, const double* g, int64_t gs) {
  double g0 = g[0], g1 = g[gs], g2 = g[2 * gs];
  u[0] = g0 * 0.25, u[1] = -(g0 + g1 + g2) * kSixth, u[2] = -(g0 - g1 + g2) * kSixth;
  u[3] = g0 * kTwentyFourth + g1 * kTwelfth + g2 * kSixth, u[4] = g0 * kTwentyFourth - g1 * kTwelfth + g2 * kSixth;
  u[5] = g2;
}

// z[i zs] = (A z')[i], i < 6, for the kLanes lanes of rows m[a ms], a < 4: the adjoint of
// winograd_output_1d (A = (A^T)^T, 6 x 4).
template <typename T> inline void winograd_output_adjoint_1d(T* z, int64_t zs, const T* m, int64_t ms) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    T m0 = m[l], m1 = m[ms + l], m2 = m[2 * ms + l], m3 = m[3 * ms + l];
    T s02 = m0 + m2, s13 = m1 + m3, t13 = 2 * m1 + 8 * m3;
    z[l] = m0;
    z[zs + l] = s02 + s13;
    z[2 * zs + l] = s02 - s13;
    z[3 * zs + l] = m0 + 4 * m2 + t13;
    z[4 * zs + l] = m0 + 4 * m2 - t13;
    z[5 * zs + l] = m3;
  }
}

// g[k gs] = (G^T u)[k], k < 3, in double, for u[i us], i < 6: the adjoint of winograd_filter_1d.
inline void winograd_filter_adjoint_1d(double* g, int64_t gs, const double* u, int64_t us) {
  double u0 = u[0], u1 = u[us], u2 = u[2 * us], u3 = u[3 * us], u4 = u[4 * us], u5 = u[5 * us];
  g[0] = u0 * 0.25 - (u1 + u2) * kSixth + (u3 + u4) * kTwentyFourth;
  g[gs] = (u2 - u1) * kSixth + (u3 - u4) * kTwelfth;
  g[2 * gs] = (u3 + u4 - u1 - u2) * kSixth + u5;
}

// U (36, OC, C) = G g G^T for the filters g = weight[o, c] (weight (OC, C, 3, 3)), or with
// `flip` for W'[c, o] = weight[o, c] rotated by 180 degrees (U then (36, C, OC)); the 36 matrices
// winograd_stride(OC C) apart. The filters run in U's order, so each matrix is written in sequence.
template <typename T> void winograd_filters(T* U, const T* weight, int64_t OC, int64_t C, bool flip) {
  const int64_t rows = flip ? C : OC, cols = flip ? OC : C, stride = winograd_stride(OC * C);
  parallel_for(0, OC * C, grain_for(200), [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; ++q) {
      const int64_t row = q / cols, col = q % cols, p = flip ? col * C + row : q;  // p = o C + c
      double g[9], gt[18], u[36], gcol[6];  // g (3, 3); gt (3, 6) = g G^T row by row; u (6, 6) = G gt
      for (int64_t k = 0; k < 9; ++k) g[k] = double(weight[p * 9 + (flip ? 8 - k : k)]);
      for (int64_t r = 0; r < 3; ++r) winograd_filter_1d(gt + 6 * r, g + 3 * r, 1);
      for (int64_t j = 0; j < 6; ++j) {
        winograd_filter_1d(gcol, gt + j, 6);
        for (int64_t i = 0; i < 6; ++i) u[i * 6 + j] = gcol[i];
      }
      for (int64_t xi = 0; xi < 36; ++xi) U[xi * stride + q] = T(u[xi]);
    }
  });
}

// Tiles per block: a block's transformed input and output, V and M (or dM), 36 (C + OC) values per
// tile, stay within 512 KB of L2. The forward's GEMMs, (OC, C) x (C, width), run there without
// packing; the weight gradient's sum over the block's tiles (K = width) and would run better longer,
// but V and dM written beyond L2 slow the transforms that fill them (2 MB blocks of 64 x 32 -> 32 at
// 32x32: input transform 2.4 vs 0.76 ms at 512 KB, a third of the layer's backward).
template <typename T> int64_t winograd_block_width(const ConvShape& s) {
  const int64_t per_tile = 36 * (s.C + s.OC) * int64_t(sizeof(T));
  return std::max<int64_t>(1, (int64_t(1) << 19) / per_tile / kLanes) * kLanes;
}
int64_t winograd_tiles(const ConvShape& s) { return s.N * ((s.OH + 3) / 4) * ((s.OW + 3) / 4); }

// Tiles t = (n, th, tw) over N x TH x TW, TH = ceil(OH / 4), TW = ceil(OW / 4): tile t covers
// output rows 4 th + a and columns 4 tw + b, a, b < 4 (clipped to the plane), and reads input rows
// 4 th - ph + r and columns 4 tw - pw + k, r, k < 6 (0 outside the plane). A block holds `width`
// tiles (a multiple of kLanes) from `first` on, `count` of them real. Each tile keeps where its
// patch and its output tile start (channel 0 of its image, in the input and the output, which may
// lie before the plane's first row or column) and which of their rows and columns lie inside the
// plane (bit r of in_rows, bit k of in_cols, ...); the lanes past `count` have no rows.
struct TileBlock {
  struct Tile {
    int64_t in_offset = 0, out_offset = 0;
    uint8_t in_rows = 0, in_cols = 0, out_rows = 0, out_cols = 0;
  };
  int64_t count, width;
  std::vector<Tile> tiles;
  TileBlock(int64_t first, int64_t count_, int64_t width_, const ConvShape& s)
      : count(count_), width(width_), tiles(size_t(width_)) {
    const int64_t TH = (s.OH + 3) / 4, TW = (s.OW + 3) / 4;
    // Bit i for each i < n with 0 <= start + i < size.
    auto inside = [](int64_t start, int64_t n, int64_t size) {
      uint8_t bits = 0;
      for (int64_t i = 0; i < n; ++i) bits |= uint8_t(start + i >= 0 && start + i < size) << i;
      return bits;
    };
    for (int64_t q = 0; q < count; ++q) {
      const int64_t t = first + q, image = t / (TH * TW), i0 = t / TW % TH * 4, j0 = t % TW * 4;
      const int64_t r0 = i0 - s.ph, c0 = j0 - s.pw;
      tiles[size_t(q)] = {(image * s.C * s.H + r0) * s.W + c0, (image * s.OC * s.OH + i0) * s.OW + j0,
                          inside(r0, 6, s.H), inside(c0, 6, s.W), inside(i0, 4, s.OH), inside(j0, 4, s.OW)};
    }
  }
};

// base + offset for the AVX-512 forms below (their masked 128- and 256-bit loads and stores need
// AVX-512VL too), formed as an integer: a tile's row may start before the tensor (in the padding)
// or past it (below the plane), where the masks leave every value unread and unwritten.
#if defined(__AVX512F__) && defined(__AVX512VL__)
inline float* address(const float* base, int64_t offset) {
  return reinterpret_cast<float*>(reinterpret_cast<uintptr_t>(base) + uintptr_t(offset) * sizeof(float));
}
#endif

// d[(r n + k) kLanes + l] = src[o_l + r ld + k] for the group's lanes l < kLanes (tiles[l]), rows r < m,
// columns k < n <= 6, with o_l the tile's offset (in_offset or out_offset, by `input`) plus `shift`:
// the tiles' patches (input, m = n = 6) or output tiles (m = n = 4) turned lane-major, 0 outside the
// plane. The scalar form copies value by value; the AVX-512 float form loads each lane's row (8
// values) and transposes 16 rows into column vectors in registers.
template <typename T>
void gather_tiles(T* d, int64_t m, int64_t n, const T* src, int64_t shift, int64_t ld, const TileBlock::Tile* tiles,
                  bool input) {
  for (int64_t l = 0; l < kLanes; ++l) {
    const TileBlock::Tile& tile = tiles[l];
    const int64_t o = (input ? tile.in_offset : tile.out_offset) + shift;
    const uint8_t rows = input ? tile.in_rows : tile.out_rows, cols = input ? tile.in_cols : tile.out_cols;
    for (int64_t r = 0; r < m; ++r)
      for (int64_t k = 0; k < n; ++k)
        d[(r * n + k) * kLanes + l] = (rows >> r & cols >> k & 1) ? src[o + r * ld + k] : T(0);
  }
}
#if defined(__AVX512F__) && defined(__AVX512VL__)
template <>
void gather_tiles<float>(float* d, int64_t m, int64_t n, const float* src, int64_t shift, int64_t ld,
                         const TileBlock::Tile* tiles, bool input) {
  static_assert(kLanes == 16, "the transpose below takes 16 lanes");
  for (int64_t r = 0; r < m; ++r) {
    // z[p] holds the rows of lanes p and p + 4 (p < 4), z[4 + p] those of lanes 8 + p and 12 + p.
    __m512 z[8];
    for (int p = 0; p < 8; ++p) {
      __m256 half[2];
      for (int h = 0; h < 2; ++h) {
        const TileBlock::Tile& tile = tiles[(p / 4) * 8 + p % 4 + 4 * h];
        const uint8_t rows = input ? tile.in_rows : tile.out_rows, cols = input ? tile.in_cols : tile.out_cols;
        const uint8_t mask = (rows >> r & 1) ? uint8_t(cols & ((1u << n) - 1)) : uint8_t(0);
        const int64_t offset = (input ? tile.in_offset : tile.out_offset) + shift + r * ld;
        half[h] = _mm256_maskz_loadu_ps(mask, address(src, offset));
      }
      z[p] = _mm512_insertf32x8(_mm512_castps256_ps512(half[0]), half[1], 1);
    }
    // In each 128-bit quarter, a 4 x 4 transpose of (z0..z3) and of (z4..z7): u[j] quarter 0 holds
    // column j of lanes 0-3, quarter 1 column j + 4, quarters 2, 3 the same for lanes 4-7 (u[4 + j]:
    // lanes 8-15). Then column k gathers quarters (0, 2) of u[k] and u[4 + k], column k + 4 (1, 3).
    __m512 u[8];
    for (int g = 0; g < 2; ++g) {
      const __m512* zg = z + 4 * g;
      const __m512 t0 = _mm512_unpacklo_ps(zg[0], zg[1]), t1 = _mm512_unpackhi_ps(zg[0], zg[1]);
      const __m512 t2 = _mm512_unpacklo_ps(zg[2], zg[3]), t3 = _mm512_unpackhi_ps(zg[2], zg[3]);
      u[4 * g] = _mm512_shuffle_ps(t0, t2, 0x44), u[4 * g + 1] = _mm512_shuffle_ps(t0, t2, 0xEE);
      u[4 * g + 2] = _mm512_shuffle_ps(t1, t3, 0x44), u[4 * g + 3] = _mm512_shuffle_ps(t1, t3, 0xEE);
    }
    for (int64_t k = 0; k < n; ++k) {
      const __m512 column = k < 4 ? _mm512_shuffle_f32x4(u[k], u[4 + k], 0x88)
                                  : _mm512_shuffle_f32x4(u[k - 4], u[k], 0xDD);
      _mm512_store_ps(d + (r * n + k) * kLanes, column);
    }
  }
}
#endif

// V (36, C, width) = B^T d B for the block's tiles and every input channel, d each tile's 6 x 6
// patch (gather_tiles, 0 outside the plane); V's matrices winograd_stride(C width) apart, as are
// those of M and dM below (OC width).
template <typename T> void winograd_input(T* V, const T* inp, const TileBlock& blk, const ConvShape& s) {
  const int64_t HW = s.H * s.W, ld = winograd_stride(s.C * blk.width), groups = blk.width / kLanes;
  parallel_for(0, s.C * groups, 1, [&](int64_t p0, int64_t p1) {
    alignas(64) T d[36 * kLanes], t[36 * kLanes];
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t c = p / groups, q0 = p % groups * kLanes;
      gather_tiles(d, 6, 6, inp, c * HW, s.W, blk.tiles.data() + q0, true);
      for (int64_t k = 0; k < 6; ++k) winograd_input_1d(t + k * kLanes, 6 * kLanes, d + k * kLanes, 6 * kLanes);
      for (int64_t i = 0; i < 6; ++i)
        winograd_input_1d(V + i * 6 * ld + c * blk.width + q0, ld, t + i * 6 * kLanes, kLanes);
    }
  });
}

// dst[o_l + a ld + b] = y[(a 4 + b) kLanes + l] for the group's lanes l < kLanes (tiles[l]) and the
// outputs a, b < 4 of each tile inside the plane, o_l = out_offset + shift: the inverse of
// gather_tiles for output tiles. The AVX-512 float form transposes four column vectors into the
// lanes' rows in registers and writes each with one masked store.
template <typename T>
void scatter_tiles(T* dst, int64_t shift, int64_t ld, const T* y, const TileBlock::Tile* tiles) {
  for (int64_t l = 0; l < kLanes; ++l) {
    const TileBlock::Tile& tile = tiles[l];
    for (int64_t a = 0; a < 4; ++a)
      for (int64_t b = 0; b < 4; ++b)
        if (tile.out_rows >> a & tile.out_cols >> b & 1)
          dst[tile.out_offset + shift + a * ld + b] = y[(a * 4 + b) * kLanes + l];
  }
}
#if defined(__AVX512F__) && defined(__AVX512VL__)
template <>
void scatter_tiles<float>(float* dst, int64_t shift, int64_t ld, const float* y, const TileBlock::Tile* tiles) {
  for (int64_t a = 0; a < 4; ++a) {
    const float* ya = y + a * 4 * kLanes;  // columns b = 0..3 of row a, one vector of lanes each
    const __m512 c0 = _mm512_load_ps(ya), c1 = _mm512_load_ps(ya + kLanes), c2 = _mm512_load_ps(ya + 2 * kLanes),
                 c3 = _mm512_load_ps(ya + 3 * kLanes);
    const __m512 v0 = _mm512_unpacklo_ps(c0, c1), v1 = _mm512_unpackhi_ps(c0, c1);
    const __m512 v2 = _mm512_unpacklo_ps(c2, c3), v3 = _mm512_unpackhi_ps(c2, c3);
    // quarter q of w[i]: the row of lane 4 q + i
    const __m512 w[4] = {_mm512_shuffle_ps(v0, v2, 0x44), _mm512_shuffle_ps(v0, v2, 0xEE),
                         _mm512_shuffle_ps(v1, v3, 0x44), _mm512_shuffle_ps(v1, v3, 0xEE)};
    for (int i = 0; i < 4; ++i) {
      const __m128 rows[4] = {_mm512_castps512_ps128(w[i]), _mm512_extractf32x4_ps(w[i], 1),
                              _mm512_extractf32x4_ps(w[i], 2), _mm512_extractf32x4_ps(w[i], 3)};
      for (int q = 0; q < 4; ++q) {
        const TileBlock::Tile& tile = tiles[4 * q + i];
        const __mmask8 mask = (tile.out_rows >> a & 1) ? tile.out_cols : 0;
        _mm_mask_storeu_ps(address(dst, tile.out_offset + shift + a * ld), mask, rows[q]);
      }
    }
  }
}
#endif

// out tiles = A^T M A (+ bias[o] where given) for the block's tiles and every output channel o,
// M (36, OC, width).
template <typename T>
void winograd_output(T* out, const T* M, const T* bias, const TileBlock& blk, const ConvShape& s) {
  const int64_t L = s.OH * s.OW, ld = winograd_stride(s.OC * blk.width), groups = blk.width / kLanes;
  parallel_for(0, s.OC * groups, 1, [&](int64_t p0, int64_t p1) {
    alignas(64) T t[24 * kLanes], y[16 * kLanes];
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t o = p / groups, q0 = p % groups * kLanes;
      for (int64_t i = 0; i < 6; ++i) winograd_output_1d(t + i * 4 * kLanes, kLanes, M + i * 6 * ld + o * blk.width + q0, ld);
      for (int64_t b = 0; b < 4; ++b) winograd_output_1d(y + b * kLanes, 4 * kLanes, t + b * kLanes, 4 * kLanes);
      if (bias)
        for (int64_t i = 0; i < 16 * kLanes; ++i) y[i] += bias[o];
      scatter_tiles(out, o * L, s.OW, y, blk.tiles.data() + q0);
    }
  });
}

// out (N, OC, OH, OW) = conv(inp (N, C, H, W), filters transformed into U (36, OC, C)) (+ bias),
// written.
// Blocks of winograd_block_width tiles. With at least two blocks per thread, each thread runs whole
// blocks, so a block's V and M stay in its core's L2 (splitting every block's transforms and GEMMs
// over the threads instead moved them between cores: a 64 x 32 -> 64 layer at 16x16 ran no faster
// at 2 threads than at 1).
template <typename T> void winograd_conv(T* out, const T* inp, const T* U, const T* bias, const ConvShape& s) {
  const int64_t tiles = winograd_tiles(s), width = winograd_block_width<T>(s);
  const int64_t blocks = (tiles + width - 1) / width;
  auto run_blocks = [&](int64_t b0, int64_t b1) {
    const int64_t v_stride = winograd_stride(s.C * width), m_stride = winograd_stride(s.OC * width);
    auto V = scratch<T>(36 * v_stride), M = scratch<T>(36 * m_stride);
    for (int64_t b = b0; b < b1; ++b) {
      const TileBlock blk(b * width, std::min(width, tiles - b * width), width, s);
      const int64_t cols = (blk.count + kLanes - 1) / kLanes * kLanes;
      winograd_input(V.get(), inp, blk, s);
      parallel_for(0, 36, 1, [&](int64_t x0, int64_t x1) {  // one GEMM per position, several to a thread
        for (int64_t xi = x0; xi < x1; ++xi)
          gemm<T>(false, false, s.OC, cols, s.C, T(1), U + xi * winograd_stride(s.OC * s.C), s.C,
                  V.get() + xi * v_stride, width, T(0), M.get() + xi * m_stride, width);
      });
      winograd_output(out, M.get(), bias, blk, s);
    }
  };
  if (blocks >= 2 * get_num_threads()) parallel_for(0, blocks, 1, run_blocks);
  else run_blocks(0, blocks);
}

// dM (36, OC, width) = A dY A^T for the block's tiles and every output channel, dY the 4 x 4 tile of
// dout (gather_tiles, 0 outside the plane): the adjoint of winograd_output.
template <typename T> void winograd_output_adjoint(T* dM, const T* dout, const TileBlock& blk, const ConvShape& s) {
  const int64_t L = s.OH * s.OW, ld = winograd_stride(s.OC * blk.width), groups = blk.width / kLanes;
  parallel_for(0, s.OC * groups, 1, [&](int64_t p0, int64_t p1) {
    alignas(64) T y[16 * kLanes], t[24 * kLanes];
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t o = p / groups, q0 = p % groups * kLanes;
      gather_tiles(y, 4, 4, dout, o * L, s.OW, blk.tiles.data() + q0, false);
      // t (4, 6) = dY A^T row by row, then dM (6, 6) = A t column by column
      for (int64_t a = 0; a < 4; ++a) winograd_output_adjoint_1d(t + a * 6 * kLanes, kLanes, y + a * 4 * kLanes, kLanes);
      for (int64_t j = 0; j < 6; ++j)
        winograd_output_adjoint_1d(dM + j * ld + o * blk.width + q0, 6 * ld, t + j * kLanes, 6 * kLanes);
    }
  });
}

// The implicit GEMM (implicit_conv.h) against Winograd and im2col, measured at 1 thread (ms,
// implicit vs the other; bench/results/conv-paths-2026-11-25.md, and for the Winograd rules since
// its transforms were mended, docs/DESIGN-NOTES.md):
//  - forward and input gradient: since the Winograd transforms stopped thrashing L1
//    (winograd_stride), Winograd wins from C OC >= 6 (C + OC) (forward + both gradients, batch 64:
//    16 -> 16 at 28x28 3.4 vs 2.95, 32 -> 32 at 32x32 15.6-17.4 vs 13.7-14.4, its forward alone
//    5.1-5.5 vs 2.7-3.5; MNIST's 16 -> 32 at 14x14, 128 images, 3.4 vs 2.8); 8 -> 16 at 28x28
//    breaks even (C OC = 5.3 (C + OC)) and 8 -> 8 at 32x32 (4) runs faster implicit (1.6 vs 1.7);
//  - 5x5 6 -> 16 at 14x14 forward 0.24 vs 0.51 (im2col); the input gradient with fewer than 8 input
//    channels: im2col wins (3 -> 32: 1.8 vs 1.0);
//  - weight gradient (rows K = C KH KW): 16 -> 32 1.6 vs 2.1, 5x5 6 -> 16 0.25 vs 0.56; with short
//    rows im2col wins (K = 9, 1 -> 16: 0.77 vs 0.42; K = 27: 3.1 vs 1.4).
bool winograd_outruns_implicit(const ConvShape& s) { return use_winograd(s) && s.C * s.OC >= 6 * (s.C + s.OC); }
bool use_implicit_forward(const ConvShape& s) {
  return implicit_conv_applies(s) && !is_pointwise(s) && !winograd_outruns_implicit(s);
}
bool use_implicit_input_gradient(const ConvShape& s) { return use_implicit_forward(s) && s.C >= 8; }

// The weight gradient takes Winograd wherever it applies: against the implicit GEMM, forward + weight
// gradient, batch 64, 8 -> 8 at 32x32 1.28 vs 0.91 ms, 8 -> 16 at 28x28 1.37 vs 1.21, 12 -> 12 at
// 32x32 2.07 vs 1.54, 16 -> 24 at 16x16 1.11 vs 0.76, MNIST's 16 -> 32 at 14x14 (128 images) 2.1-2.4
// vs 1.8.
bool use_implicit_weight_gradient(const ConvShape& s) {
  return implicit_conv_applies(s) && !is_pointwise(s) && !use_winograd(s) && s.C * s.KH * s.KW >= 64;
}

// dweight (OC, C, 3, 3) += G^T dU G with dU (36, OC, C) = sum over the tiles of dM . V (the adjoint
// of the forward in U: M = U V at each position, so dU = dM V^T; then U = G g G^T gives
// dg = G^T dU G). V is the forward's input transform, dM = A dY A^T (winograd_output_adjoint).
// The blocks are summed in up to kWeightGroups groups of consecutive blocks, each group into a dU
// of its own, then the groups in order: the same sums at any thread count, and threads that run
// whole groups (with one block at a time split over the threads, 3 fork-joins per block made the
// MNIST net's step at 2 threads 4.1 -> 5.4-6.0 ms).
constexpr int64_t kWeightGroups = 4;
template <typename T> void winograd_weight_gradient(T* dweight, const T* dout, const T* inp, const ConvShape& s) {
  const int64_t tiles = winograd_tiles(s), width = winograd_block_width<T>(s), blocks = (tiles + width - 1) / width;
  const int64_t v_stride = winograd_stride(s.C * width), m_stride = winograd_stride(s.OC * width);
  const int64_t u_stride = winograd_stride(s.OC * s.C);
  const int64_t per_group = (blocks + kWeightGroups - 1) / kWeightGroups, groups = (blocks + per_group - 1) / per_group;
  auto dU = scratch<T>(groups * 36 * u_stride);  // group g's sums at dU + g 36 u_stride
  parallel_for(0, groups, 1, [&](int64_t g0, int64_t g1) {
    auto V = scratch<T>(36 * v_stride), dM = scratch<T>(36 * m_stride);
    for (int64_t g = g0; g < g1; ++g) {
      T* dU_g = dU.get() + g * 36 * u_stride;
      for (int64_t b = g * per_group; b < std::min(blocks, (g + 1) * per_group); ++b) {
        const TileBlock blk(b * width, std::min(width, tiles - b * width), width, s);
        winograd_input(V.get(), inp, blk, s);
        winograd_output_adjoint(dM.get(), dout, blk, s);
        const T beta = b == g * per_group ? T(0) : T(1);
        parallel_for(0, 36, 1, [&](int64_t x0, int64_t x1) {
          for (int64_t xi = x0; xi < x1; ++xi)  // dU_xi (OC, C) += dM_xi (OC, count) V_xi^T, V_xi (C, width)
            gemm<T>(false, true, s.OC, s.C, blk.count, T(1), dM.get() + xi * m_stride, width,
                    V.get() + xi * v_stride, width, beta, dU_g + xi * u_stride, s.C);
        });
      }
    }
  });
  for (int64_t g = 1; g < groups; ++g)
    for (int64_t i = 0; i < 36 * u_stride; ++i) dU[i] += dU[g * 36 * u_stride + i];
  parallel_for(0, s.OC * s.C, grain_for(200), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      double u[36], gu[18], g[9];  // u (6, 6); gu (3, 6) = G^T u column by column; g (3, 3) = gu G row by row
      for (int64_t xi = 0; xi < 36; ++xi) u[xi] = double(dU[xi * u_stride + p]);
      for (int64_t j = 0; j < 6; ++j) winograd_filter_adjoint_1d(gu + j, 6, u + j, 6);
      for (int64_t k = 0; k < 3; ++k) winograd_filter_adjoint_1d(g + 3 * k, 1, gu + 6 * k, 1);
      for (int64_t k = 0; k < 9; ++k) dweight[p * 9 + k] += T(g[k]);
    }
  });
}

// conv2d_forward without the bias on the direct and im2col paths. im2col: per chunk of
// B images and per group g (Cg = C / groups input and OCg = OC / groups output
// channels, K = Cg KH KW): Y_g (OCg, B L) = W_g (OCg, K) @ cols_g (K, B L), then Y moves from
// (OC, B, L) to (B, OC, L) (no move when B = 1).
template <typename T> void conv2d_forward_unbiased(T* out, const T* inp, const T* weight, const ConvShape& s) {
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

}  // namespace

// The bias is added by the implicit GEMM and by Winograd as they write the output, after the other
// paths.
template <typename T> void conv2d_forward(T* out, const T* inp, const T* weight, const T* bias, const ConvShape& s) {
  if (s.N == 0 || s.OC == 0) return;
  if (use_implicit_forward(s)) return implicit_conv_forward(out, inp, weight, bias, s);
  if (use_winograd(s)) {
    auto U = scratch<T>(36 * winograd_stride(s.OC * s.C));
    winograd_filters(U.get(), weight, s.OC, s.C, false);
    return winograd_conv(out, inp, U.get(), bias, s);
  }
  conv2d_forward_unbiased(out, inp, weight, s);
  if (bias) conv_bias_forward(out, bias, s.N, s.OC, s.OH * s.OW);
}

namespace {

// sums[q] = sum_l x[q L + l], q < planes: each plane summed in T over four vectors of lanes (a
// plane holds at most a few thousand values); the bias gradient adds the planes' sums in double.
template <typename T> void plane_sums(T* sums, const T* x, int64_t planes, int64_t L) {
  using simd::Vec;
  constexpr int64_t V = simd::kLanes<T>;
  for (int64_t q = 0; q < planes; ++q) {
    const T* p = x + q * L;
    Vec<T> acc[4] = {};
    int64_t l = 0;
    for (; l + 4 * V <= L; l += 4 * V)
      for (int a = 0; a < 4; ++a) acc[a] += simd::load(p + l + a * V);
    for (; l + V <= L; l += V) acc[0] += simd::load(p + l);
    T sum = simd::sum_lanes((acc[0] + acc[1]) + (acc[2] + acc[3]));
    for (; l < L; ++l) sum += p[l];
    sums[q] = sum;
  }
}

// Per chunk, with dY_g (OCg, B L) the chunk's output gradient in GEMM layout:
//   dW_g^T (K, OCg) += cols_g @ dY_g^T   (cols = im2col of the input: Y = W cols, so dW = dY cols^T),
//     summed over the chunks in a scratch and added transposed into dweight at the end: OpenBLAS
//     runs this orientation faster where OCg is small (M = OCg = 32, K = 288: 120 -> 185 GFLOP/s)
//     and no slower elsewhere;
//   dcols_g (K, B L) = W_g^T @ dY_g, then col2im adds each column entry back onto its input position.
//   dout_sums (N, OC), where not null, gets the sum of each plane of dout (plane_sums) chunk by
//   chunk, before the chunk's GEMMs read it (MNIST conv 1, 1 -> 16 at 28x28: its weight gradient
//   with the bias gradient 0.29 -> 0.26 ms); the return value says whether it did. The other
//   paths leave the sums to a pass of their own (summing in the implicit weight gradient's image
//   loop measured no faster: 16 -> 32 at 14x14 reads its 3.2 MB dout from L3 in ~0.02 ms).
template <typename T>
bool conv2d_backward_products(T* dinp, T* dweight, T* dout_sums, const T* dout, const T* inp, const T* weight,
                              const ConvShape& s) {
  if (is_depthwise(s)) {
    if (dinp) direct_backward_input(dinp, dout, weight, s);
    if (dweight) direct_backward_weight(dweight, dout, inp, s);
    return false;
  }
  if (dinp && use_implicit_input_gradient(s)) {
    implicit_conv_backward_input(dinp, dout, weight, s);
    dinp = nullptr;
  }
  if (dweight && use_implicit_weight_gradient(s)) {
    implicit_conv_backward_weight(dweight, dout, inp, s);
    dweight = nullptr;
  }
  if (!dinp && !dweight) return false;
  if (use_winograd(s)) {
    if (dinp) {
      auto U = scratch<T>(36 * winograd_stride(s.OC * s.C));
      winograd_filters(U.get(), weight, s.OC, s.C, true);
      winograd_conv<T>(dinp, dout, U.get(), nullptr, input_gradient_shape(s));
    }
    dinp = nullptr;
    if (dweight) winograd_weight_gradient(dweight, dout, inp, s);
    return false;
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
    if (dout_sums) plane_sums(dout_sums + n0 * s.OC, dy, nb * s.OC, L);  // in cache for the GEMMs
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
  return true;
}

// dbias[o] += sum_n sums[n, o], the planes' sums (plane_sums) added in double in image order: the
// same result from every path and any number of threads.
template <typename T> void add_plane_sums(T* dbias, const T* sums, int64_t N, int64_t OC) {
  for (int64_t o = 0; o < OC; ++o) {
    double acc = 0;
    for (int64_t n = 0; n < N; ++n) acc += double(sums[n * OC + o]);
    dbias[o] += T(acc);
  }
}

}  // namespace

template <typename T>
void conv2d_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight, const ConvShape& s) {
  if (s.N == 0) return;
  if (s.OC == 0) {
    if (dinp) std::fill(dinp, dinp + s.N * s.C * s.H * s.W, T(0));
    return;
  }
  auto sums = scratch<T>(dbias ? s.N * s.OC : 0);
  const bool summed = conv2d_backward_products(dinp, dweight, sums.get(), dout, inp, weight, s);
  if (!dbias) return;
  if (summed) add_plane_sums(dbias, sums.get(), s.N, s.OC);
  else conv_bias_backward(dbias, dout, s.N, s.OC, s.OH * s.OW);
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
  auto sums = scratch<T>(N * OC);
  parallel_for(0, N * OC, grain_for(L), [&](int64_t b, int64_t e) { plane_sums(sums.get() + b, dout + b * L, e - b, L); });
  add_plane_sums(dbias, sums.get(), N, OC);
}

#define LAMINA_INSTANTIATE(T)                                                                          \
  template void conv2d_forward<T>(T*, const T*, const T*, const T*, const ConvShape&);                \
  template void conv2d_backward<T>(T*, T*, T*, const T*, const T*, const T*, const ConvShape&);        \
  template void conv_bias_forward<T>(T*, const T*, int64_t, int64_t, int64_t);                         \
  template void conv_bias_backward<T>(T*, const T*, int64_t, int64_t, int64_t);
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
#undef LAMINA_INSTANTIATE

}  // namespace lamina::cpu

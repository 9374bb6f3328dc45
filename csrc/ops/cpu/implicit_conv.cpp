// The implicit-GEMM convolutions of implicit_conv.h.
//
// Geometry (stride 1): output row i reads input row i - ph + kh dh. Each image is copied into
// planes of Hp x Wp, Hp = OH + (KH - 1) dh, Wp = OW + (KW - 1) dw, with
// xpad[c, r, q] = inp[c, r - ph, q - pw] (0 outside the image). Output (i, j) is the flat position
// p = i Wp + j and
//   out[o, p] = sum_{k = (c, kh, kw)} weight[o, k] xpad[off[k] + p],   off[k] = c Hp Wp + kh dh Wp + kw dw:
// row k of im2col's matrix is xpad read from off[k]. The forward computes every p < OH Wp (the
// Wp - OW positions past each row's end are computed and dropped), so a run of positions is one
// contiguous load per k; the weight gradient sums over the valid positions only.
#include "ops/cpu/implicit_conv.h"

#include <algorithm>
#include <vector>

#include "core/allocator.h"
#include "core/parallel.h"
#include "ops/cpu/simd.h"

namespace lamina::cpu {
namespace {

using simd::kLanes;
using simd::kRows;
using simd::Vec;

template <typename T> constexpr int64_t kTile = 2 * kLanes<T>;  // positions (or channels) per micro-tile

// The weight gradient's tasks: each sums a run of images (at least kImagesPerTask) into its own
// dweight^T, and the tasks' sums are added in order, so the result does not depend on the number
// of threads. The partial sums take at most kPartialBytes (or one task's): a layer with a large
// dweight runs as fewer, longer tasks.
constexpr int64_t kImagesPerTask = 4;
constexpr int64_t kPartialBytes = int64_t(1) << 25;

int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// The padded planes of one image for the geometry s, and the offset of each row of im2col's matrix.
template <typename T> struct Frame {
  int64_t Hp, Wp, plane;
  int64_t positions;  // OH Wp rounded up to whole tiles
  int64_t size;       // C planes, then the zeros that the last tile reads past the last plane
  std::vector<int64_t> off;  // off[k], k = (c, kh, kw) < C KH KW, then 0 up to a multiple of kRows

  explicit Frame(const ConvShape& s)
      : Hp(s.OH + (s.KH - 1) * s.dh), Wp(s.OW + (s.KW - 1) * s.dw), plane(Hp * Wp),
        positions(round_up(s.OH * Wp, kTile<T>)), size(s.C * plane + positions - s.OH * Wp + (s.KW - 1) * s.dw),
        off(round_up(s.C * s.KH * s.KW, kRows), 0) {
    for (int64_t c = 0, k = 0; c < s.C; ++c)
      for (int64_t kh = 0; kh < s.KH; ++kh)
        for (int64_t kw = 0; kw < s.KW; ++kw) off[k++] = c * plane + kh * s.dh * Wp + kw * s.dw;
  }

  // xpad (size) for one image inp (C, H, W): zero_padding once per buffer, then copy_image per
  // image (the border and the zeros past the planes stay).
  void zero_padding(T* xpad) const { std::fill(xpad, xpad + size, T(0)); }
  void copy_image(T* xpad, const T* inp, const ConvShape& s) const {
    const int64_t lo = std::clamp<int64_t>(s.pw, 0, Wp), hi = std::clamp<int64_t>(s.pw + s.W, lo, Wp);
    const int64_t r0 = std::clamp<int64_t>(s.ph, 0, Hp), r1 = std::clamp<int64_t>(s.ph + s.H, r0, Hp);
    for (int64_t c = 0; c < s.C; ++c)
      for (int64_t r = r0; r < r1; ++r)  // xpad row r holds input row r - ph, column q input column q - pw
        simd::copy_row(xpad + c * plane + r * Wp + lo, inp + (c * s.H + r - s.ph) * s.W + lo - s.pw, hi - lo);
  }
};

// The filter matrix (rows, K) in tiles of kRows rows, k-major within a tile:
// wpack[(t K + k) kRows + r] = row t kRows + r, column k (0 past the last row), so a micro-kernel
// broadcasts consecutive values. Rows are weight's output channels, K = C KH KW; or (flip) the
// filters of the input gradient's convolution, W'[c, (o, kh, kw)] = weight[o, c, KH-1-kh, KW-1-kw]
// (rows C, K = OC KH KW).
template <typename T> Scratch<T> pack_filters(const T* weight, const ConvShape& s, bool flip) {
  const int64_t KK = s.KH * s.KW, rows = flip ? s.C : s.OC, K = (flip ? s.OC : s.C) * KK;
  auto wpack = scratch<T>(round_up(rows, kRows) * K);
  std::fill(wpack.get(), wpack.get() + round_up(rows, kRows) * K, T(0));
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t k = 0; k < K; ++k)
      wpack[(row / kRows * K + k) * kRows + row % kRows] =
          flip ? weight[(k / KK * s.C + row) * KK + KK - 1 - k % KK] : weight[row * K + k];
  return wpack;
}

// y[r, 0:kTile] = sum_k w[k kRows + r] x[off[k] + 0:kTile], r < kRows: one tile of kRows output
// channels by kTile positions, x the padded image at the tile's first position.
template <typename T>
void forward_tile(T* __restrict y, int64_t ldy, const T* __restrict x, const int64_t* __restrict off, int64_t K,
                  const T* __restrict w) {
  constexpr int64_t L = kLanes<T>;
  Vec<T> acc[kRows][2] = {};
  for (int64_t k = 0; k < K; ++k) {
    const Vec<T> x0 = simd::load(x + off[k]), x1 = simd::load(x + off[k] + L);
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) {
      const T wr = w[k * kRows + r];
      acc[r][0] += wr * x0;
      acc[r][1] += wr * x1;
    }
  }
  for (int r = 0; r < kRows; ++r) {
    simd::store(y + r * ldy, acc[r][0]);
    simd::store(y + r * ldy + L, acc[r][1]);
  }
}

// out (N, OC, OH, OW) = the convolution of inp (N, C, H, W) with the packed filters (pack_filters),
// + bias[o] where bias is not null. Tasks are (image, tile of kRows output channels); a thread
// copies each of its images into the padded planes once.
template <typename T> void run_forward(T* out, const T* inp, const T* wpack, const T* bias, const ConvShape& s) {
  const Frame<T> f(s);
  const int64_t K = s.C * s.KH * s.KW, tiles = (s.OC + kRows - 1) / kRows, L = s.OH * s.OW;
  parallel_for(0, s.N * tiles, 1, [&](int64_t b, int64_t e) {
    auto xpad = scratch<T>(f.size), y = scratch<T>(kRows * f.positions);
    f.zero_padding(xpad.get());
    for (int64_t task = b, copied = -1; task < e; ++task) {
      const int64_t n = task / tiles, t = task % tiles;
      if (n != copied) {
        f.copy_image(xpad.get(), inp + n * s.C * s.H * s.W, s);
        copied = n;
      }
      for (int64_t p = 0; p < f.positions; p += kTile<T>)
        forward_tile(y.get() + p, f.positions, xpad.get() + p, f.off.data(), K, wpack + t * K * kRows);
      for (int64_t r = 0; r < std::min<int64_t>(kRows, s.OC - t * kRows); ++r) {
        T* o = out + (n * s.OC + t * kRows + r) * L;
        const T* yr = y.get() + r * f.positions;
        const T add = bias ? bias[t * kRows + r] : T(0);
        for (int64_t i = 0; i < s.OH; ++i) simd::copy_row(o + i * s.OW, yr + i * f.Wp, s.OW, add);
      }
    }
  });
}

// dyt (panels, L, kTile) = dy (OC, L) transposed, in panels of kTile channels; the columns past
// channel OC are left as they are (zeros, written once per buffer).
template <typename T> void transpose_panels(T* dyt, const T* dy, int64_t OC, int64_t L) {
  constexpr int64_t W = kTile<T>;
  for (int64_t o0 = 0; o0 < OC; o0 += W) {
    T* panel = dyt + o0 * L;
    const int64_t cols = std::min(W, OC - o0);
    for (int64_t l = 0; l < L; ++l)
      for (int64_t j = 0; j < cols; ++j) panel[l * W + j] = dy[(o0 + j) * L + l];
  }
}

// acc[r, 0:V L] += sum over the valid positions (i, j) of x[off[r] + i Wp + j] dyt[(i OW + j) kTile + 0:V L]:
// kRows rows of dweight^T (K, OC) by one panel of V vectors of channels, summed over one image.
template <typename T, int V>
void weight_tile(T* __restrict acc_out, int64_t ld, const T* __restrict x, const int64_t* __restrict off,
                 const T* __restrict dyt, int64_t OH, int64_t OW, int64_t Wp) {
  constexpr int64_t L = kLanes<T>;
  Vec<T> acc[kRows][V];
  for (int r = 0; r < kRows; ++r)
    for (int v = 0; v < V; ++v) acc[r][v] = simd::load(acc_out + r * ld + v * L);
  for (int64_t i = 0; i < OH; ++i) {
    const T* xi = x + i * Wp;
    const T* di = dyt + i * OW * kTile<T>;
    for (int64_t j = 0; j < OW; ++j) {
      Vec<T> d[V];
      for (int v = 0; v < V; ++v) d[v] = simd::load(di + j * kTile<T> + v * L);
#pragma GCC unroll 16
      for (int r = 0; r < kRows; ++r) {
        const T a = xi[off[r] + j];
        for (int v = 0; v < V; ++v) acc[r][v] += a * d[v];
      }
    }
  }
  for (int r = 0; r < kRows; ++r)
    for (int v = 0; v < V; ++v) simd::store(acc_out + r * ld + v * L, acc[r][v]);
}

}  // namespace

bool implicit_conv_applies(const ConvShape& s) { return s.sh == 1 && s.sw == 1 && s.groups == 1; }

ConvShape input_gradient_shape(const ConvShape& s) {
  ConvShape b = s;
  b.C = s.OC, b.H = s.OH, b.W = s.OW, b.OC = s.C, b.OH = s.H, b.OW = s.W;
  b.ph = (s.KH - 1) * s.dh - s.ph, b.pw = (s.KW - 1) * s.dw - s.pw;
  return b;
}

template <typename T>
void implicit_conv_forward(T* out, const T* inp, const T* weight, const T* bias, const ConvShape& s) {
  auto wpack = pack_filters(weight, s, false);
  run_forward(out, inp, wpack.get(), bias, s);
}

template <typename T> void implicit_conv_backward_input(T* dinp, const T* dout, const T* weight, const ConvShape& s) {
  auto wpack = pack_filters(weight, s, true);
  run_forward<T>(dinp, dout, wpack.get(), nullptr, input_gradient_shape(s));
}

// dweight^T (K, OC) summed per task of per_task images (rows k past K: padding, unused), then
// dweight[o, k] += the tasks' sums in task order.
template <typename T> void implicit_conv_backward_weight(T* dweight, const T* dout, const T* inp, const ConvShape& s) {
  const Frame<T> f(s);
  const int64_t K = s.C * s.KH * s.KW, rows = round_up(K, kRows), L = s.OH * s.OW;
  const int64_t panels = (s.OC + kTile<T> - 1) / kTile<T>, width = panels * kTile<T>;
  const int64_t max_tasks = std::max<int64_t>(1, kPartialBytes / (rows * width * int64_t(sizeof(T))));
  const int64_t per_task = std::max(kImagesPerTask, (s.N + max_tasks - 1) / max_tasks);
  const int64_t tasks = (s.N + per_task - 1) / per_task;
  auto partial = scratch<T>(tasks * rows * width);
  parallel_for(0, tasks, 1, [&](int64_t b, int64_t e) {
    auto xpad = scratch<T>(f.size), dyt = scratch<T>(width * L);
    f.zero_padding(xpad.get());
    std::fill(dyt.get(), dyt.get() + width * L, T(0));
    for (int64_t task = b; task < e; ++task) {
      T* acc = partial.get() + task * rows * width;
      std::fill(acc, acc + rows * width, T(0));
      for (int64_t n = task * per_task; n < std::min(s.N, (task + 1) * per_task); ++n) {
        f.copy_image(xpad.get(), inp + n * s.C * s.H * s.W, s);
        transpose_panels(dyt.get(), dout + n * s.OC * L, s.OC, L);
        for (int64_t panel = 0; panel < panels; ++panel) {
          const T* dp = dyt.get() + panel * L * kTile<T>;
          const bool one_vector = s.OC - panel * kTile<T> <= kLanes<T>;
          for (int64_t k = 0; k < rows; k += kRows) {
            T* a = acc + k * width + panel * kTile<T>;
            if (one_vector) weight_tile<T, 1>(a, width, xpad.get(), f.off.data() + k, dp, s.OH, s.OW, f.Wp);
            else weight_tile<T, 2>(a, width, xpad.get(), f.off.data() + k, dp, s.OH, s.OW, f.Wp);
          }
        }
      }
    }
  });
  parallel_for(0, s.OC * K, 4096, [&](int64_t b, int64_t e) {
    for (int64_t ok = b; ok < e; ++ok) {
      const int64_t o = ok / K, k = ok % K;
      T sum = 0;
      for (int64_t task = 0; task < tasks; ++task) sum += partial[(task * rows + k) * width + o];
      dweight[ok] += sum;
    }
  });
}

#define LAMINA_INSTANTIATE(T)                                                                          \
  template void implicit_conv_forward<T>(T*, const T*, const T*, const T*, const ConvShape&);         \
  template void implicit_conv_backward_input<T>(T*, const T*, const T*, const ConvShape&);             \
  template void implicit_conv_backward_weight<T>(T*, const T*, const T*, const ConvShape&);
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
#undef LAMINA_INSTANTIATE

}  // namespace lamina::cpu

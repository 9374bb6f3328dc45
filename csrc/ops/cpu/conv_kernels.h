// CPU kernels of convolution, pooling, interpolation and padding (cpu/conv.cpp, cpu/pool.cpp).
// Same conventions as cpu/kernels.h: outputs first, then inputs, then the geometry; contiguous
// NCHW buffers; activation gradients are written (=), parameter gradients accumulated (+=).
// 1-d ops run as 2-d ones with H = 1. Front-ends validate every size before calling.
#pragma once
#include <cstdint>
#include <vector>

namespace lamina::cpu {

// --- conv.cpp ---
// The geometry of Y = conv(X, W): X (N, C, H, W) the image side, Y (N, OC, OH, OW) the column
// side, W (OC, C/groups, KH, KW). ph, pw are the top and left padding; the bottom and right
// padding are implicit in OH, OW (they may differ from the top and left: padding='same').
// conv_transpose runs on the same geometry with X its output and Y its input.
struct ConvShape {
  int64_t N = 0, C = 0, H = 0, W = 0;   // image side
  int64_t OC = 0, OH = 0, OW = 0;       // column side
  int64_t KH = 1, KW = 1;
  int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int64_t groups = 1;
};

// inp (N, C, H, W), weight (OC, C/groups, KH, KW), out (N, OC, OH, OW), written:
// out[n, o, i, j] = sum_{c, kh, kw} weight[o, c, kh, kw] inp[n, g C/groups + c, i sh - ph + kh dh, j sw - pw + kw dw]
// + bias[o] where bias is not null, with g = o / (OC/groups); positions outside the input read 0.
template <typename T> void conv2d_forward(T* out, const T* inp, const T* weight, const T* bias, const ConvShape& s);
// dinp (N, C, H, W), written: the adjoint of conv2d_forward in inp, sum over the (o, kh, kw)
// that read each input position of dout * weight. dweight (OC, C/groups, KH, KW), accumulated:
// dweight[o, c, kh, kw] += sum_{n, i, j} dout[n, o, i, j] inp[n, ., ., .] (the position above).
// dbias (OC), accumulated: dbias[o] += sum_{n, i, j} dout[n, o, i, j] (as conv_bias_backward;
// im2col sums each chunk of dout before its GEMMs read it).
// Any output may be null (not needed); inp is read only for dweight, weight only for dinp.
template <typename T>
void conv2d_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight, const ConvShape& s);
// out (N, OC, L) += bias[o];  dbias[o] += sum_{n, l} dout[n, o, l] (accumulated).
template <typename T> void conv_bias_forward(T* out, const T* bias, int64_t N, int64_t OC, int64_t L);
template <typename T> void conv_bias_backward(T* dbias, const T* dout, int64_t N, int64_t OC, int64_t L);

// --- pool.cpp: inp (P, H, W) planes (P = N C), out (P, OH, OW) ---
// One spatial axis of a pooling window: output o reads the input positions start[o] + k step,
// k in [0, count[o]) (every one inside the input), and average pooling divides by
// divisor_h[oh] * divisor_w[ow].
struct PoolAxis {
  std::vector<int64_t> start, count, divisor;
  int64_t step = 1;
};
// out = max over the window; indices (P, OH, OW) = h W + w of the max (NaN wins, then the first
// maximum), saved for backward; a window wholly in the padding gives -inf and index -1.
template <typename T>
void max_pool2d_forward(T* out, int64_t* indices, const T* inp, int64_t P, int64_t H, int64_t W, const PoolAxis& ah,
                        const PoolAxis& aw);
// dinp (P, H W) = 0, then dinp[p, indices[p, l]] += dout[p, l]; written.
template <typename T>
void max_pool2d_backward(T* dinp, const T* dout, const int64_t* indices, int64_t P, int64_t HW, int64_t L);
// Max pooling whose windows are all 2x2 at stride 2 (is_max_pool2x2: MaxPool2d(2) and the like;
// OH = H / 2, OW = W / 2, an odd last row or column in no window): out (P, OH, OW) as
// max_pool2d_forward, and code (P OH, max_pool2x2_code_stride(OW)) bytes, the place of each maximum
// in its window, 2 (h - 2i) + (w - 2j) in 0..3. With relu, out = relu(max) (= max of the relu'd
// window up to the sign of a zero) and the code of an output <= 0 has bit 4 set: its window
// passes no gradient, as ReLU's backward would block it.
bool is_max_pool2x2(const PoolAxis& ah, const PoolAxis& aw);
int64_t max_pool2x2_code_stride(int64_t OW);
template <typename T>
void max_pool2x2_forward(T* out, uint8_t* code, const T* inp, int64_t P, int64_t H, int64_t W, bool relu);
// dinp (P, H, W): dout at each window's maximum, 0 elsewhere; written.
template <typename T>
void max_pool2x2_backward(T* dinp, const T* dout, const uint8_t* code, int64_t P, int64_t H, int64_t W);
// The codes (without relu) as max_pool2d_forward's indices h W + w.
void max_pool2x2_indices(int64_t* indices, const uint8_t* code, int64_t P, int64_t H, int64_t W);
// out = sum over the window / (divisor_h[oh] divisor_w[ow]); an empty window gives 0.
template <typename T>
void avg_pool2d_forward(T* out, const T* inp, int64_t P, int64_t H, int64_t W, const PoolAxis& ah, const PoolAxis& aw);
// dinp[p, h, w] = sum over the windows holding (h, w) of dout / divisor; written.
template <typename T>
void avg_pool2d_backward(T* dinp, const T* dout, int64_t P, int64_t H, int64_t W, const PoolAxis& ah,
                         const PoolAxis& aw);

// Gather by per-axis index maps (nearest interpolation, padding): out[p, i, j] =
// inp[p, hmap[i], wmap[j]], or fill where either map is -1. Backward: the adjoint, written.
template <typename T>
void gather2d_forward(T* out, const T* inp, int64_t P, int64_t H, int64_t W, const std::vector<int64_t>& hmap,
                      const std::vector<int64_t>& wmap, T fill);
template <typename T>
void gather2d_backward(T* dinp, const T* dout, int64_t P, int64_t H, int64_t W, const std::vector<int64_t>& hmap,
                       const std::vector<int64_t>& wmap);

// Linear interpolation along each axis: output o mixes the inputs i0[o], i1[o] with weights
// l0[o], l1[o] (l0 + l1 = 1). out[p, i, j] = lh0 (lw0 x[h0, w0] + lw1 x[h0, w1]) + lh1 (lw0 x[h1, w0] + lw1 x[h1, w1]).
struct LerpAxis {
  std::vector<int64_t> i0, i1;
  std::vector<double> l0, l1;
};
template <typename T>
void lerp2d_forward(T* out, const T* inp, int64_t P, int64_t H, int64_t W, const LerpAxis& ah, const LerpAxis& aw);
// dinp: each dout spread back onto its four inputs with the same weights; written.
template <typename T>
void lerp2d_backward(T* dinp, const T* dout, int64_t P, int64_t H, int64_t W, const LerpAxis& ah, const LerpAxis& aw);

}  // namespace lamina::cpu

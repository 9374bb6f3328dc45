// Stride-1 convolutions without groups as GEMMs whose column matrix is never built ("implicit
// GEMM"): each row of im2col's matrix is the zero-padded input image read from one offset, so the
// micro-kernels load it from the padded image directly. conv.cpp picks these kernels by shape.
#pragma once
#include "ops/cpu/conv_kernels.h"

namespace lamina::cpu {

// s.sh == s.sw == 1 and s.groups == 1 (any kernel size, padding and dilation).
bool implicit_conv_applies(const ConvShape& s);

// The geometry of the input gradient as a convolution: dinp = conv(dout, W') with
// W'[c, o, kh, kw] = weight[o, c, KH-1-kh, KW-1-kw] and padding (K - 1) d - p per side (stride 1):
// dinp row h collects dout rows h + ph - kh dh = h - ((KH-1) dh - ph) + (KH-1-kh) dh.
ConvShape input_gradient_shape(const ConvShape& s);

// The three products of conv2d_forward / conv2d_backward (conv_kernels.h), same contracts:
// out (+ bias[o] where bias is not null) and dinp written, dweight accumulated.
template <typename T> void implicit_conv_forward(T* out, const T* inp, const T* weight, const T* bias, const ConvShape& s);
template <typename T> void implicit_conv_backward_input(T* dinp, const T* dout, const T* weight, const ConvShape& s);
template <typename T> void implicit_conv_backward_weight(T* dweight, const T* dout, const T* inp, const ConvShape& s);

}  // namespace lamina::cpu

// Convolutions: conv1d, conv2d, conv_transpose1d, conv_transpose2d. One front-end resolves every
// variant to a 2-d geometry (1-d: H = 1, KH = 1) and records one ConvolutionBackward node saving
// the input and the weight. A transposed convolution is the adjoint of a convolution in its input:
// its forward is conv2d's backward-input, its backward-input is conv2d's forward, and its weight
// gradient is conv2d's with the roles of input and output gradient swapped.
#include <array>
#include <climits>
#include <string>

#include "ops/cpu/conv_kernels.h"
#include "ops/dispatch.h"

namespace lamina {

namespace {

// A convolution's arguments, resolved to two spatial dims.
struct ConvArgs {
  const char* op;
  int spatial;  // 1 or 2
  bool transposed;
  std::array<int64_t, 2> stride{1, 1}, dilation{1, 1}, output_padding{0, 0};
  std::array<int64_t, 4> padding{0, 0, 0, 0};  // top, bottom, left, right
  int64_t groups = 1;
};

// (H, W) values of a per-spatial-dim argument; 1-d ops give `h` for the H dim.
std::array<int64_t, 2> spatial_values(const ConvArgs& a, const char* arg, const std::vector<int64_t>& v, int64_t h) {
  LAMINA_CHECK(int64_t(v.size()) == a.spatial, ValueError, "[", a.op, "] ", arg, " must have ", a.spatial,
               a.spatial == 1 ? " value" : " values", ", got ", v.size());
  return a.spatial == 2 ? std::array<int64_t, 2>{v[0], v[1]} : std::array<int64_t, 2>{h, v[0]};
}

ConvArgs conv_args(const char* op, int spatial, bool transposed, const std::vector<int64_t>& stride,
                   const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation,
                   const std::vector<int64_t>& output_padding, int64_t groups) {
  ConvArgs a{op, spatial, transposed};
  a.stride = spatial_values(a, "stride", stride, 1);
  a.dilation = spatial_values(a, "dilation", dilation, 1);
  a.output_padding = spatial_values(a, "output_padding", output_padding, 0);
  a.groups = groups;
  // padding: one value per spatial dim (both sides), or (begin, end) pairs for conv (padding='same')
  if (!transposed && int64_t(padding.size()) == 2 * spatial) {
    a.padding = spatial == 2 ? std::array<int64_t, 4>{padding[0], padding[1], padding[2], padding[3]}
                             : std::array<int64_t, 4>{0, 0, padding[0], padding[1]};
  } else {
    auto p = spatial_values(a, "padding", padding, 0);
    a.padding = {p[0], p[0], p[1], p[1]};
  }
  for (int i = 0; i < 2; ++i) {
    LAMINA_CHECK(a.stride[i] > 0, ValueError, "[", op, "] stride must be positive, got ", a.stride[i]);
    LAMINA_CHECK(a.dilation[i] > 0, ValueError, "[", op, "] dilation must be positive, got ", a.dilation[i]);
    LAMINA_CHECK(a.output_padding[i] >= 0, ValueError, "[", op, "] output_padding must be non-negative, got ",
                 a.output_padding[i]);
  }
  for (int64_t p : a.padding) LAMINA_CHECK(p >= 0, ValueError, "[", op, "] padding must be non-negative, got ", p);
  LAMINA_CHECK(groups > 0, ValueError, "[", op, "] groups must be positive, got ", groups);
  return a;
}

// "(N, C, H, W)" / "(C, L)": the layout an input of this op must have.
std::string layout(int spatial, bool batched) {
  std::string s = batched ? "(N, C, " : "(C, ";
  return s + (spatial == 2 ? "H, W)" : "L)");
}

struct ConvolutionBackward : Node {
  cpu::ConvShape s;
  bool transposed;
  Shape input_shape, weight_shape;
  ConvolutionBackward(cpu::ConvShape shape, bool t, Shape is, Shape ws)
      : s(shape), transposed(t), input_shape(std::move(is)), weight_shape(std::move(ws)) {}
  const char* name() const override { return "ConvolutionBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    if (!grads[0].defined()) return std::vector<Tensor>(next_edges.size());
    std::vector<Tensor> out(3);  // dinput, dweight, dbias (next_edges has no bias edge without bias)
    Tensor g = contiguous(grads[0]), x = saved(0), w = saved(1);
    if (needs_input_grad(0)) out[0] = Tensor::empty(input_shape, g.dtype());
    if (needs_input_grad(1)) out[1] = zeros(weight_shape, g.dtype());
    if (needs_input_grad(2)) out[2] = zeros({transposed ? s.C : s.OC}, g.dtype());
    dispatch_float(g.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* dx = out[0].defined() ? out[0].template data<T>() : nullptr;
      T* dw = out[1].defined() ? out[1].template data<T>() : nullptr;
      const T* xp = x.defined() ? x.template data<T>() : nullptr;  // saved only where needed
      const T* wp = w.defined() ? w.template data<T>() : nullptr;
      T* db = out[2].defined() ? out[2].template data<T>() : nullptr;
      if (!transposed) {
        cpu::conv2d_backward<T>(dx, dw, db, g.data<T>(), xp, wp, s);
      } else {  // x is the column side Y, g the image side X
        if (dx) cpu::conv2d_forward<T>(dx, g.data<T>(), wp, nullptr, s);
        if (dw) cpu::conv2d_backward<T>(nullptr, dw, nullptr, xp, g.data<T>(), wp, s);
        if (db) cpu::conv_bias_backward<T>(db, g.data<T>(), s.N, s.C, s.H * s.W);
      }
    });
    out.resize(next_edges.size());
    return out;
  }
};

Tensor convolution(const Tensor& input, const Tensor& weight, const Tensor& bias, const ConvArgs& a) {
  const char* op = a.op;
  const int S = a.spatial;
  check_defined(op, input, "input");
  check_defined(op, weight, "weight");
  require_cpu(op, input);
  check_same_device(op, input, weight);
  check_floating(op, input, "input");
  LAMINA_CHECK(weight.dtype() == input.dtype(), TypeError, "[", op, "] weight must have the input's dtype ",
               dtype_name(input.dtype()), ", got ", dtype_name(weight.dtype()));
  LAMINA_CHECK(weight.dim() == S + 2, ValueError, "[", op, "] weight must be ", S + 2, "-d ",
               a.transposed ? "(in_channels, out_channels/groups, " : "(out_channels, in_channels/groups, ",
               S == 2 ? "kH, kW)" : "kL)", ", got shape ", shape_str(weight.shape()));
  LAMINA_CHECK(input.dim() == S + 1 || input.dim() == S + 2, ValueError, "[", op, "] input must be ", S + 1, "-d ",
               layout(S, false), " or ", S + 2, "-d ", layout(S, true), ", got shape ", shape_str(input.shape()));
  const bool batched = input.dim() == S + 2;
  const Shape& is = input.shape();
  const Shape& ws = weight.shape();
  int64_t N = batched ? is[0] : 1, C = is[batched ? 1 : 0];
  int64_t H = S == 2 ? is[input.dim() - 2] : 1, W = is[input.dim() - 1];
  int64_t KH = S == 2 ? ws[2] : 1, KW = ws[S + 1];
  for (int64_t k : ws) LAMINA_CHECK(k > 0, ValueError, "[", op, "] weight must have no empty dims, got shape ", shape_str(ws));

  // channels: conv (OC, C/groups, k..) reads C = ws[1] groups; conv_transpose (C, OC/groups, k..) reads C = ws[0]
  int64_t expected_c = a.transposed ? ws[0] : ws[1] * a.groups;
  LAMINA_CHECK(ws[0] % a.groups == 0, ValueError, "[", op, "] groups=", a.groups, " must divide ",
               a.transposed ? "in_channels=" : "out_channels=", ws[0], " (weight of shape ", shape_str(ws), ")");
  LAMINA_CHECK(C == expected_c, ValueError, "[", op, "] input must be ", layout(S, batched), " with C == ", expected_c,
               ", got ", shape_str(is));
  int64_t OC = a.transposed ? ws[1] * a.groups : ws[0];
  for (int64_t d : is) LAMINA_CHECK(d >= 0, ValueError, "[", op, "] bad input shape ", shape_str(is));
  if (bias.defined()) {
    check_same_device(op, input, bias);
    LAMINA_CHECK(bias.dtype() == input.dtype(), TypeError, "[", op, "] bias must have the input's dtype ",
                 dtype_name(input.dtype()), ", got ", dtype_name(bias.dtype()));
    LAMINA_CHECK(bias.dim() == 1 && bias.shape()[0] == OC, ValueError, "[", op, "] bias must have shape (", OC,
                 ",) = (out_channels,), got ", shape_str(bias.shape()));
  }

  // The geometry: conv maps the image side (the input) to the column side (the output);
  // conv_transpose maps its input (the column side) to its output (the image side).
  cpu::ConvShape s;
  s.N = N;
  s.KH = KH, s.KW = KW, s.sh = a.stride[0], s.sw = a.stride[1], s.dh = a.dilation[0], s.dw = a.dilation[1];
  s.ph = a.padding[0], s.pw = a.padding[2], s.groups = a.groups;
  const int64_t eff_h = s.dh * (KH - 1) + 1, eff_w = s.dw * (KW - 1) + 1;
  Shape out_shape;
  if (!a.transposed) {
    int64_t padded_h = H + a.padding[0] + a.padding[1], padded_w = W + a.padding[2] + a.padding[3];
    LAMINA_CHECK(eff_h <= padded_h && eff_w <= padded_w, ValueError, "[", op, "] kernel size (after dilation) ",
                 S == 2 ? fmt("(", eff_h, ", ", eff_w, ")") : fmt("(", eff_w, ",)"), " is larger than the padded input ",
                 S == 2 ? fmt("(", padded_h, ", ", padded_w, ")") : fmt("(", padded_w, ",)"));
    s.C = C, s.H = H, s.W = W, s.OC = OC;
    s.OH = (padded_h - eff_h) / s.sh + 1, s.OW = (padded_w - eff_w) / s.sw + 1;
    out_shape = {s.OC, s.OH, s.OW};
  } else {
    for (int i = 0; i < 2; ++i)
      LAMINA_CHECK(a.output_padding[i] < a.stride[i] || a.output_padding[i] < a.dilation[i], ValueError, "[", op,
                   "] output_padding must be smaller than either stride or dilation, got output_padding=",
                   a.output_padding[i], ", stride=", a.stride[i], ", dilation=", a.dilation[i]);
    int64_t oh = (H - 1) * s.sh - 2 * a.padding[0] + eff_h + a.output_padding[0];
    int64_t ow = (W - 1) * s.sw - 2 * a.padding[2] + eff_w + a.output_padding[1];
    LAMINA_CHECK(oh > 0 && ow > 0, ValueError, "[", op, "] the output size ",
                 S == 2 ? fmt("(", oh, ", ", ow, ")") : fmt("(", ow, ",)"), " is not positive for input ",
                 shape_str(is), " (padding too large)");
    s.C = OC, s.H = oh, s.W = ow, s.OC = C, s.OH = H, s.OW = W;
    out_shape = {OC, oh, ow};
  }
  if (S == 1) out_shape.erase(out_shape.begin() + 1);
  if (batched) out_shape.insert(out_shape.begin(), N);
  const int64_t K = (s.C / s.groups) * KH * KW, cols = s.OH * s.OW;
  LAMINA_CHECK(K < INT_MAX && cols < INT_MAX / 2 && s.OC < INT_MAX, ValueError, "[", op,
               "] sizes too large for BLAS (kernel volume ", K, ", output positions ", cols, ")");

  Tensor x = contiguous(detach(input)), w = contiguous(detach(weight));
  Tensor out = Tensor::empty(out_shape, input.dtype());
  dispatch_float(input.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor b = bias.defined() ? contiguous(detach(bias)) : Tensor();
    const T* bp = b.defined() ? b.data<T>() : nullptr;
    if (!a.transposed) {
      cpu::conv2d_forward<T>(out.data<T>(), x.data<T>(), w.data<T>(), bp, s);
    } else {
      cpu::conv2d_backward<T>(out.data<T>(), nullptr, nullptr, x.data<T>(), nullptr, w.data<T>(), s);
      if (bp) cpu::conv_bias_forward<T>(out.data<T>(), bp, N, s.C, s.H * s.W);
    }
  });

  bool needs = bias.defined() ? any_requires_grad({&input, &weight, &bias}) : any_requires_grad({&input, &weight});
  if (!needs) return out;
  auto node = bias.defined() ? make_node<ConvolutionBackward>({&input, &weight, &bias}, s, a.transposed, is, ws)
                             : make_node<ConvolutionBackward>({&input, &weight}, s, a.transposed, is, ws);
  // conv: dinp needs the weight, dweight the input; conv_transpose the same (input = column side).
  node->save({node->needs_input_grad(1) ? x : Tensor(), node->needs_input_grad(0) ? w : Tensor()});
  set_history(out, std::move(node));
  return out;
}

// padding='valid' (none) or 'same' (output size = input size at stride 1; an odd total padding
// puts the extra row or column at the end, as PyTorch does), as (begin, end) pairs.
std::vector<int64_t> padding_from_string(const char* op, const std::string& padding, const Tensor& weight,
                                         const std::vector<int64_t>& stride, const std::vector<int64_t>& dilation,
                                         int spatial) {
  LAMINA_CHECK(padding == "valid" || padding == "same", ValueError, "[", op,
               "] padding must be 'valid', 'same', an int or a tuple, got '", padding, "'");
  std::vector<int64_t> pads(size_t(2 * spatial), 0);
  if (padding == "valid") return pads;
  for (int64_t st : stride)
    LAMINA_CHECK(st == 1, ValueError, "[", op, "] padding='same' is not supported for strided convolutions");
  check_defined(op, weight, "weight");
  LAMINA_CHECK(weight.dim() == spatial + 2 && int64_t(dilation.size()) == spatial, ValueError, "[", op,
               "] weight must be ", spatial + 2, "-d, got shape ", shape_str(weight.shape()));
  for (int i = 0; i < spatial; ++i) {
    int64_t total = dilation[size_t(i)] * (weight.shape()[size_t(2 + i)] - 1);
    pads[size_t(2 * i)] = total / 2;
    pads[size_t(2 * i + 1)] = total - total / 2;
  }
  return pads;
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
              const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation, int64_t groups) {
  return convolution(input, weight, bias, conv_args("conv2d", 2, false, stride, padding, dilation, {0, 0}, groups));
}
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
              const std::string& padding, const std::vector<int64_t>& dilation, int64_t groups) {
  return conv2d(input, weight, bias, stride, padding_from_string("conv2d", padding, weight, stride, dilation, 2),
                dilation, groups);
}
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
              const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation, int64_t groups) {
  return convolution(input, weight, bias, conv_args("conv1d", 1, false, stride, padding, dilation, {0}, groups));
}
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
              const std::string& padding, const std::vector<int64_t>& dilation, int64_t groups) {
  return conv1d(input, weight, bias, stride, padding_from_string("conv1d", padding, weight, stride, dilation, 1),
                dilation, groups);
}
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
                        const std::vector<int64_t>& padding, const std::vector<int64_t>& output_padding,
                        int64_t groups, const std::vector<int64_t>& dilation) {
  return convolution(input, weight, bias,
                     conv_args("conv_transpose2d", 2, true, stride, padding, dilation, output_padding, groups));
}
Tensor conv_transpose1d(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
                        const std::vector<int64_t>& padding, const std::vector<int64_t>& output_padding,
                        int64_t groups, const std::vector<int64_t>& dilation) {
  return convolution(input, weight, bias,
                     conv_args("conv_transpose1d", 1, true, stride, padding, dilation, output_padding, groups));
}

}  // namespace lamina

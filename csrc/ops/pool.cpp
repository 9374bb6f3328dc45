// Pooling (max, average, adaptive), interpolation (nearest, linear, bilinear) and padding. Each
// front-end views its input as planes (P, H, W) (1-d ops: H = 1), describes the op along each
// spatial axis (a window, a source index or two interpolation weights per output position:
// every op here is separable) and records one node. Max pooling saves its argmax indices (2x2
// windows at stride 2: a byte per output); the others save no tensor, only the per-axis description.
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "core/allocator.h"
#include "ops/cpu/conv_kernels.h"
#include "ops/dispatch.h"

namespace lamina {

namespace {

// An input seen as planes: lead = the dims before the S spatial ones, P = their product.
struct Planes {
  Shape lead;
  int64_t P = 1, H = 1, W = 1;
};

std::string dims_text(int spatial, bool batched) {
  std::string s = batched ? "(N, C, " : "(C, ";
  return s + (spatial == 2 ? "H, W)" : "L)");
}

Planes planes_of(const char* op, const Tensor& x, int S) {
  check_defined(op, x, "input");
  require_cpu(op, x);
  check_floating(op, x, "input");
  LAMINA_CHECK(x.dim() == S + 1 || x.dim() == S + 2, ValueError, "[", op, "] input must be ", S + 1, "-d ",
               dims_text(S, false), " or ", S + 2, "-d ", dims_text(S, true), ", got shape ", shape_str(x.shape()));
  Planes p;
  p.lead.assign(x.shape().begin(), x.shape().end() - S);
  for (int64_t d : p.lead) p.P *= d;
  p.H = S == 2 ? x.shape()[size_t(x.dim() - 2)] : 1;
  p.W = x.shape().back();
  LAMINA_CHECK(p.H > 0 && p.W > 0, ValueError, "[", op, "] input must have non-empty spatial dims, got shape ",
               shape_str(x.shape()));
  return p;
}

Shape planes_shape(const Planes& p, int S, int64_t OH, int64_t OW) {
  Shape s = p.lead;
  if (S == 2) s.push_back(OH);
  s.push_back(OW);
  return s;
}

// (H, W) values of a per-spatial-dim argument (1-d ops: `h` for H).
std::array<int64_t, 2> hw_values(const char* op, const char* arg, const std::vector<int64_t>& v, int S, int64_t h) {
  LAMINA_CHECK(int64_t(v.size()) == S, ValueError, "[", op, "] ", arg, " must have ", S, S == 1 ? " value" : " values",
               ", got ", v.size());
  return S == 2 ? std::array<int64_t, 2>{v[0], v[1]} : std::array<int64_t, 2>{h, v[0]};
}

std::string size_text(int S, int64_t h, int64_t w) { return S == 2 ? fmt("(", h, ", ", w, ")") : fmt("(", w, ",)"); }

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// PyTorch's pooling_output_shape: ceil_mode rounds up, but the last window must start inside
// the input or its left padding.
int64_t pooled_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  int64_t out = floor_div(in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0), s) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

// Max pooling along one axis: output o reads o s - p + k d, k < K, where inside the input.
cpu::PoolAxis max_axis(int64_t in, int64_t out, int64_t K, int64_t s, int64_t p, int64_t d) {
  cpu::PoolAxis a;
  a.step = d;
  for (int64_t o = 0; o < out; ++o) {
    int64_t first = o * s - p;
    int64_t kmin = first < 0 ? (-first + d - 1) / d : 0;
    int64_t kmax = first > in - 1 ? 0 : std::min(K, (in - 1 - first) / d + 1);
    a.start.push_back(kmax > kmin ? first + kmin * d : 0);
    a.count.push_back(std::max<int64_t>(0, kmax - kmin));
  }
  return a;
}

// Average pooling along one axis: the window [o s - p, o s - p + K) clipped to the input; the
// divisor counts the padding (up to in + p) when count_include_pad.
cpu::PoolAxis avg_axis(int64_t in, int64_t out, int64_t K, int64_t s, int64_t p, bool count_include_pad) {
  cpu::PoolAxis a;
  for (int64_t o = 0; o < out; ++o) {
    int64_t begin = o * s - p, end = std::min(begin + K, in + p), padded = end - begin;
    begin = std::max<int64_t>(begin, 0), end = std::min(end, in);
    int64_t count = std::max<int64_t>(0, end - begin);
    a.start.push_back(begin);
    a.count.push_back(count);
    a.divisor.push_back(count_include_pad ? padded : count);
  }
  return a;
}

// Adaptive pooling along one axis: [floor(o in / out), ceil((o + 1) in / out)).
cpu::PoolAxis adaptive_axis(int64_t in, int64_t out) {
  cpu::PoolAxis a;
  for (int64_t o = 0; o < out; ++o) {
    int64_t begin = o * in / out, end = ((o + 1) * in + out - 1) / out;
    a.start.push_back(begin);
    a.count.push_back(end - begin);
    a.divisor.push_back(end - begin);
  }
  return a;
}

struct MaxPoolBackward : Node {
  const char* node_name;
  Shape input_shape;
  int64_t P, HW, L;
  MaxPoolBackward(const char* n, Shape s, int64_t p, int64_t hw, int64_t l)
      : node_name(n), input_shape(std::move(s)), P(p), HW(hw), L(l) {}
  const char* name() const override { return node_name; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    if (!grads[0].defined()) return {Tensor()};
    Tensor g = contiguous(grads[0]), indices = saved(0);
    Tensor dx = Tensor::empty(input_shape, g.dtype());
    dispatch_float(g.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::max_pool2d_backward<T>(dx.data<T>(), g.data<T>(), indices.data<int64_t>(), P, HW, L);
    });
    return {dx};
  }
};

// The backward of an op that maps each (H, W) plane through a plan (a pair of per-axis plans for
// average pooling, gather2d and lerp2d; the window codes of the 2x2 max-pool kernels, private to
// the node): dx (P, H, W) = Kernel's backward of g, written.
template <typename Plan, typename Kernel> struct PlaneBackward : Node {
  const char* node_name;
  Shape input_shape;
  int64_t P, H, W;
  Plan plan;
  PlaneBackward(const char* n, Shape s, int64_t p, int64_t h, int64_t w, Plan pl)
      : node_name(n), input_shape(std::move(s)), P(p), H(h), W(w), plan(std::move(pl)) {}
  const char* name() const override { return node_name; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    if (!grads[0].defined()) return {Tensor()};
    Tensor g = contiguous(grads[0]);
    Tensor dx = Tensor::empty(input_shape, g.dtype());
    dispatch_float(g.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      Kernel{}(dx.data<T>(), g.data<T>(), P, H, W, plan);
    });
    return {dx};
  }
};

template <typename A> using AxisPair = std::pair<A, A>;
struct AvgPoolKernel {
  template <typename T, typename A>
  void operator()(T* dx, const T* g, int64_t P, int64_t H, int64_t W, const AxisPair<A>& a) const {
    cpu::avg_pool2d_backward<T>(dx, g, P, H, W, a.first, a.second);
  }
};
struct GatherKernel {
  template <typename T, typename A>
  void operator()(T* dx, const T* g, int64_t P, int64_t H, int64_t W, const AxisPair<A>& a) const {
    cpu::gather2d_backward<T>(dx, g, P, H, W, a.first, a.second);
  }
};
struct LerpKernel {
  template <typename T, typename A>
  void operator()(T* dx, const T* g, int64_t P, int64_t H, int64_t W, const AxisPair<A>& a) const {
    cpu::lerp2d_backward<T>(dx, g, P, H, W, a.first, a.second);
  }
};
struct MaxPool2x2Kernel {
  template <typename T>
  void operator()(T* dx, const T* g, int64_t P, int64_t H, int64_t W, const Scratch<uint8_t>& code) const {
    cpu::max_pool2x2_backward<T>(dx, g, code.get(), P, H, W);
  }
};
using AvgPoolBackward = PlaneBackward<AxisPair<cpu::PoolAxis>, AvgPoolKernel>;
using GatherBackward = PlaneBackward<AxisPair<std::vector<int64_t>>, GatherKernel>;
using LerpBackward = PlaneBackward<AxisPair<cpu::LerpAxis>, LerpKernel>;
using MaxPool2x2Backward = PlaneBackward<Scratch<uint8_t>, MaxPool2x2Kernel>;

// Max pooling by the 2x2 kernels (of relu(input) with relu): the values, the indices if asked, and
// a node holding the window codes.
std::pair<Tensor, Tensor> max_pool2x2_impl(const char* op, const char* node_name, const Tensor& input, const Planes& p,
                                           int S, bool relu, bool return_indices) {
  const int64_t OH = p.H / 2, OW = p.W / 2;
  Tensor x = contiguous(detach(input));
  Tensor out = Tensor::empty(planes_shape(p, S, OH, OW), x.dtype());
  Scratch<uint8_t> code = scratch<uint8_t>(p.P * OH * cpu::max_pool2x2_code_stride(OW));
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::max_pool2x2_forward<T>(out.data<T>(), code.get(), x.data<T>(), p.P, p.H, p.W, relu);
  });
  Tensor indices;
  if (return_indices) {
    indices = Tensor::empty(out.shape(), Dtype::Int64);
    cpu::max_pool2x2_indices(indices.data<int64_t>(), code.get(), p.P, p.H, p.W);
  }
  if (any_requires_grad({&input}))
    set_history(out, make_node<MaxPool2x2Backward>({&input}, node_name, input.shape(), p.P, p.H, p.W, std::move(code)));
  return {out, indices};
}

std::pair<Tensor, Tensor> max_pool_impl(const char* op, const char* node_name, const Tensor& input, const Planes& p,
                                        int S, const cpu::PoolAxis& ah, const cpu::PoolAxis& aw, bool return_indices) {
  if (cpu::is_max_pool2x2(ah, aw)) return max_pool2x2_impl(op, node_name, input, p, S, false, return_indices);
  int64_t OH = int64_t(ah.start.size()), OW = int64_t(aw.start.size());
  Tensor x = contiguous(detach(input));
  Tensor out = Tensor::empty(planes_shape(p, S, OH, OW), x.dtype());
  Tensor indices = return_indices ? Tensor::empty(out.shape(), Dtype::Int64) : Tensor();
  Tensor argmax = return_indices ? indices : Tensor::empty(out.shape(), Dtype::Int64);
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::max_pool2d_forward<T>(out.data<T>(), argmax.data<int64_t>(), x.data<T>(), p.P, p.H, p.W, ah, aw);
  });
  if (any_requires_grad({&input})) {
    auto node = make_node<MaxPoolBackward>({&input}, node_name, input.shape(), p.P, p.H * p.W, OH * OW);
    node->save({argmax});
    set_history(out, std::move(node));
  }
  return {out, indices};
}

Tensor avg_pool_impl(const char* op, const char* node_name, const Tensor& input, const Planes& p, int S,
                     cpu::PoolAxis ah, cpu::PoolAxis aw) {
  int64_t OH = int64_t(ah.start.size()), OW = int64_t(aw.start.size());
  Tensor x = contiguous(detach(input));
  Tensor out = Tensor::empty(planes_shape(p, S, OH, OW), x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::avg_pool2d_forward<T>(out.data<T>(), x.data<T>(), p.P, p.H, p.W, ah, aw);
  });
  if (any_requires_grad({&input}))
    set_history(out, make_node<AvgPoolBackward>({&input}, node_name, input.shape(), p.P, p.H, p.W,
                                                std::pair{std::move(ah), std::move(aw)}));
  return out;
}

// Checks and output sizes shared by max and average pooling.
struct PoolArgs {
  std::array<int64_t, 2> kernel, stride, padding, dilation, out;
};
PoolArgs pool_args(const char* op, const Planes& p, int S, const std::vector<int64_t>& kernel_size,
                   const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                   const std::vector<int64_t>& dilation, bool ceil_mode, bool is_max) {
  PoolArgs a;
  a.kernel = hw_values(op, "kernel_size", kernel_size, S, 1);
  a.stride = stride.empty() ? a.kernel : hw_values(op, "stride", stride, S, 1);
  a.padding = hw_values(op, "padding", padding, S, 0);
  a.dilation = hw_values(op, "dilation", dilation, S, 1);
  const int64_t in[2] = {p.H, p.W};
  for (int i = 0; i < 2; ++i) {
    LAMINA_CHECK(a.kernel[i] > 0, ValueError, "[", op, "] kernel_size must be positive, got ", a.kernel[i]);
    LAMINA_CHECK(a.stride[i] > 0, ValueError, "[", op, "] stride must be positive, got ", a.stride[i]);
    LAMINA_CHECK(a.dilation[i] > 0, ValueError, "[", op, "] dilation must be positive, got ", a.dilation[i]);
    LAMINA_CHECK(a.padding[i] >= 0, ValueError, "[", op, "] padding must be non-negative, got ", a.padding[i]);
    LAMINA_CHECK(a.padding[i] <= a.kernel[i] / 2, ValueError, "[", op,
                 "] padding should be at most half of the kernel size, got padding=", a.padding[i], ", kernel_size=",
                 a.kernel[i]);
  }
  const int64_t eh = a.dilation[0] * (a.kernel[0] - 1) + 1, ew = a.dilation[1] * (a.kernel[1] - 1) + 1;
  LAMINA_CHECK(eh <= p.H + 2 * a.padding[0] && ew <= p.W + 2 * a.padding[1], ValueError, "[", op, "] kernel size ",
               is_max ? "(after dilation) " : "", size_text(S, eh, ew), " is larger than the padded input ",
               size_text(S, p.H + 2 * a.padding[0], p.W + 2 * a.padding[1]));
  for (int i = 0; i < 2; ++i)
    a.out[i] = pooled_size(in[i], a.kernel[i], a.stride[i], a.padding[i], a.dilation[i], ceil_mode);
  return a;
}

// Max pooling of input (of relu(input) with relu: one pass where the windows are 2x2 at stride 2).
std::pair<Tensor, Tensor> max_pool(const char* op, int S, const Tensor& input, const std::vector<int64_t>& kernel_size,
                                   const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                                   const std::vector<int64_t>& dilation, bool ceil_mode, bool return_indices,
                                   bool relu = false) {
  Planes p = planes_of(op, input, S);
  PoolArgs a = pool_args(op, p, S, kernel_size, stride, padding, dilation, ceil_mode, true);
  cpu::PoolAxis ah = max_axis(p.H, a.out[0], a.kernel[0], a.stride[0], a.padding[0], a.dilation[0]);
  cpu::PoolAxis aw = max_axis(p.W, a.out[1], a.kernel[1], a.stride[1], a.padding[1], a.dilation[1]);
  if (relu && cpu::is_max_pool2x2(ah, aw))
    return max_pool2x2_impl(op, "ReluMaxPool2DBackward0", input, p, S, true, return_indices);
  return max_pool_impl(op, S == 2 ? "MaxPool2DWithIndicesBackward0" : "MaxPool1DWithIndicesBackward0",
                       relu ? lamina::relu(input) : input, p, S, ah, aw, return_indices);
}

Tensor avg_pool(const char* op, int S, const Tensor& input, const std::vector<int64_t>& kernel_size,
                const std::vector<int64_t>& stride, const std::vector<int64_t>& padding, bool ceil_mode,
                bool count_include_pad, std::optional<int64_t> divisor_override) {
  Planes p = planes_of(op, input, S);
  PoolArgs a = pool_args(op, p, S, kernel_size, stride, padding, std::vector<int64_t>(size_t(S), 1), ceil_mode, false);
  cpu::PoolAxis ah = avg_axis(p.H, a.out[0], a.kernel[0], a.stride[0], a.padding[0], count_include_pad);
  cpu::PoolAxis aw = avg_axis(p.W, a.out[1], a.kernel[1], a.stride[1], a.padding[1], count_include_pad);
  if (divisor_override) {
    LAMINA_CHECK(*divisor_override != 0, ValueError, "[", op, "] divisor_override must be non-zero");
    ah.divisor.assign(ah.divisor.size(), *divisor_override);
    aw.divisor.assign(aw.divisor.size(), 1);
  }
  return avg_pool_impl(op, S == 2 ? "AvgPool2DBackward0" : "AvgPool1DBackward0", input, p, S, std::move(ah),
                       std::move(aw));
}

std::array<int64_t, 2> adaptive_size(const char* op, const std::vector<int64_t>& output_size, int S) {
  auto out = hw_values(op, "output_size", output_size, S, 1);
  for (int64_t o : out) LAMINA_CHECK(o > 0, ValueError, "[", op, "] output_size must be positive, got ", o);
  return out;
}

// --- interpolation and padding ---


// out[p, i, j] = input[p, hmap[i], wmap[j]] (fill where a map is -1); out_shape ends in the maps' sizes.
Tensor gather2d(const char* op, const char* node_name, const Tensor& input, const Shape& out_shape, int64_t P,
                int64_t H, int64_t W, std::vector<int64_t> hmap, std::vector<int64_t> wmap, double fill) {
  Tensor x = contiguous(detach(input));
  Tensor out = Tensor::empty(out_shape, x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::gather2d_forward<T>(out.data<T>(), x.data<T>(), P, H, W, hmap, wmap, T(fill));
  });
  if (any_requires_grad({&input}))
    set_history(out, make_node<GatherBackward>({&input}, node_name, input.shape(), P, H, W,
                                               std::pair{std::move(hmap), std::move(wmap)}));
  return out;
}


// Nearest source index along one axis (PyTorch's nearest_idx, in float): floor(o in / out), or
// floor(o / scale_factor) when a scale factor is given. PyTorch's 2-d kernel (exact_sizes) takes
// o when out == in and o / 2 when out == 2 in, whatever the scale factor; its 1-d kernel does not.
template <typename Acc>
std::vector<int64_t> nearest_axis(int64_t in, int64_t out, std::optional<double> scale, bool exact_sizes) {
  std::vector<int64_t> source;
  Acc ratio = scale && *scale > 0 ? Acc(1.0 / *scale) : Acc(in) / Acc(out);
  for (int64_t o = 0; o < out; ++o) {
    if (exact_sizes && out == in) source.push_back(o);
    else if (exact_sizes && out == 2 * in) source.push_back(o / 2);
    else source.push_back(std::min(int64_t(std::floor(Acc(o) * ratio)), in - 1));
  }
  return source;
}

// Linear interpolation along one axis (PyTorch's area_pixel_compute_source_index): with
// align_corners the corner pixels' centres match, src = o (in - 1) / (out - 1); else
// src = max((o + 0.5) in / out - 0.5, 0) (or 1 / scale_factor for in / out). out == in copies,
// whatever the scale factor (as PyTorch).
template <typename Acc> cpu::LerpAxis lerp_axis(int64_t in, int64_t out, std::optional<double> scale, bool align_corners) {
  cpu::LerpAxis a;
  Acc ratio = align_corners ? (out > 1 ? Acc(in - 1) / Acc(out - 1) : Acc(0))
                            : (scale && *scale > 0 && out != in ? Acc(1.0 / *scale) : Acc(in) / Acc(out));
  for (int64_t o = 0; o < out; ++o) {
    Acc src = align_corners ? ratio * Acc(o) : std::max(ratio * (Acc(o) + Acc(0.5)) - Acc(0.5), Acc(0));
    int64_t i0 = std::min(int64_t(src), in - 1);
    Acc l1 = std::min(std::max(src - Acc(i0), Acc(0)), Acc(1));
    a.i0.push_back(i0);
    a.i1.push_back(i0 < in - 1 ? i0 + 1 : i0);
    a.l0.push_back(double(Acc(1) - l1));
    a.l1.push_back(double(l1));
  }
  return a;
}

// Source index of output o along a padded axis of input size `in`, or -1 (constant fill).
int64_t pad_source(int64_t o, int64_t in, int64_t before, const std::string& mode) {
  int64_t i = o - before;
  if (mode == "constant") return i >= 0 && i < in ? i : -1;
  if (mode == "replicate") return std::min(std::max<int64_t>(i, 0), in - 1);
  if (mode == "circular") return ((i % in) + in) % in;
  if (i < 0) i = -i;  // reflect: mirror about the edge elements
  if (i >= in) i = 2 * (in - 1) - i;
  return i;
}

}  // namespace

std::pair<Tensor, Tensor> max_pool2d(const Tensor& input, const std::vector<int64_t>& kernel_size,
                                     const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                                     const std::vector<int64_t>& dilation, bool ceil_mode, bool return_indices) {
  return max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices);
}
Tensor relu_max_pool2d(const Tensor& input, const std::vector<int64_t>& kernel_size, const std::vector<int64_t>& stride,
                       const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation, bool ceil_mode) {
  return max_pool("relu_max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, false, true).first;
}
std::pair<Tensor, Tensor> max_pool1d(const Tensor& input, const std::vector<int64_t>& kernel_size,
                                     const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                                     const std::vector<int64_t>& dilation, bool ceil_mode, bool return_indices) {
  return max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices);
}
Tensor avg_pool2d(const Tensor& input, const std::vector<int64_t>& kernel_size, const std::vector<int64_t>& stride,
                  const std::vector<int64_t>& padding, bool ceil_mode, bool count_include_pad,
                  std::optional<int64_t> divisor_override) {
  return avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override);
}
Tensor avg_pool1d(const Tensor& input, const std::vector<int64_t>& kernel_size, const std::vector<int64_t>& stride,
                  const std::vector<int64_t>& padding, bool ceil_mode, bool count_include_pad) {
  return avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, {});
}

Tensor adaptive_avg_pool2d(const Tensor& input, const std::vector<int64_t>& output_size) {
  const char* op = "adaptive_avg_pool2d";
  Planes p = planes_of(op, input, 2);
  auto out = adaptive_size(op, output_size, 2);
  return avg_pool_impl(op, "AdaptiveAvgPool2DBackward0", input, p, 2, adaptive_axis(p.H, out[0]),
                       adaptive_axis(p.W, out[1]));
}
Tensor adaptive_avg_pool1d(const Tensor& input, const std::vector<int64_t>& output_size) {
  const char* op = "adaptive_avg_pool1d";
  Planes p = planes_of(op, input, 1);
  auto out = adaptive_size(op, output_size, 1);
  return avg_pool_impl(op, "AdaptiveAvgPool1DBackward0", input, p, 1, adaptive_axis(1, out[0]), adaptive_axis(p.W, out[1]));
}
std::pair<Tensor, Tensor> adaptive_max_pool2d(const Tensor& input, const std::vector<int64_t>& output_size,
                                              bool return_indices) {
  const char* op = "adaptive_max_pool2d";
  Planes p = planes_of(op, input, 2);
  auto out = adaptive_size(op, output_size, 2);
  return max_pool_impl(op, "AdaptiveMaxPool2DBackward0", input, p, 2, adaptive_axis(p.H, out[0]),
                       adaptive_axis(p.W, out[1]), return_indices);
}

Tensor interpolate(const Tensor& input, const std::vector<int64_t>& size, const std::vector<double>& scale_factor,
                   const std::string& mode, bool align_corners) {
  const char* op = "interpolate";
  check_defined(op, input, "input");
  LAMINA_CHECK(mode == "nearest" || mode == "linear" || mode == "bilinear", ValueError,
               "[interpolate] mode must be 'nearest', 'linear' or 'bilinear', got '", mode, "'");
  LAMINA_CHECK(input.dim() == 3 || input.dim() == 4, ValueError,
               "[interpolate] input must be 3-d (N, C, L) or 4-d (N, C, H, W), got shape ", shape_str(input.shape()));
  const int S = int(input.dim()) - 2;
  LAMINA_CHECK(mode == "nearest" || (mode == "linear") == (S == 1), ValueError, "[interpolate] mode '", mode,
               "' expects ", mode == "linear" ? "3-d" : "4-d", " input, got shape ", shape_str(input.shape()));
  Planes p = planes_of(op, input, S);
  LAMINA_CHECK(size.empty() != scale_factor.empty(), ValueError,
               "[interpolate] exactly one of size or scale_factor must be given");
  std::array<int64_t, 2> out{1, 1};
  std::array<std::optional<double>, 2> scale;
  if (!size.empty()) {
    out = hw_values(op, "size", size, S, 1);
  } else {
    LAMINA_CHECK(int64_t(scale_factor.size()) == S, ValueError, "[interpolate] scale_factor must have ", S,
                 S == 1 ? " value" : " values", ", got ", scale_factor.size());
    for (int i = 0; i < S; ++i) {
      double f = scale_factor[size_t(i)];
      LAMINA_CHECK(f > 0 && std::isfinite(f), ValueError, "[interpolate] scale_factor must be positive, got ", f);
      scale[size_t(i + 2 - S)] = f;
      out[size_t(i + 2 - S)] = int64_t(std::floor(double((i + 2 - S) == 0 ? p.H : p.W) * f));
    }
  }
  for (int i = 2 - S; i < 2; ++i)
    LAMINA_CHECK(out[size_t(i)] > 0, ValueError, "[interpolate] the output size must be positive, got ",
                 size_text(S, out[0], out[1]), " for input ", shape_str(input.shape()));
  Shape out_shape = planes_shape(p, S, out[0], out[1]);
  if (mode == "nearest") {
    return dispatch_float(input.dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;
      return gather2d(op, S == 2 ? "UpsampleNearest2DBackward0" : "UpsampleNearest1DBackward0", input, out_shape, p.P,
                      p.H, p.W, nearest_axis<Acc>(p.H, out[0], scale[0], S == 2),
                      nearest_axis<Acc>(p.W, out[1], scale[1], S == 2), 0);
    });
  }
  Tensor x = contiguous(detach(input));
  Tensor result = Tensor::empty(out_shape, x.dtype());
  cpu::LerpAxis ah, aw;
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;
    ah = lerp_axis<Acc>(p.H, out[0], scale[0], align_corners);
    aw = lerp_axis<Acc>(p.W, out[1], scale[1], align_corners);
    cpu::lerp2d_forward<T>(result.data<T>(), x.data<T>(), p.P, p.H, p.W, ah, aw);
  });
  if (any_requires_grad({&input}))
    set_history(result, make_node<LerpBackward>({&input}, S == 2 ? "UpsampleBilinear2DBackward0" : "UpsampleLinear1DBackward0",
                                                input.shape(), p.P, p.H, p.W, std::pair{std::move(ah), std::move(aw)}));
  return result;
}

Tensor pad(const Tensor& input, const std::vector<int64_t>& pad, const std::string& mode, double value) {
  const char* op = "pad";
  check_defined(op, input, "input");
  require_cpu(op, input);
  check_floating(op, input, "input");
  LAMINA_CHECK(mode == "constant" || mode == "reflect" || mode == "replicate" || mode == "circular", ValueError,
               "[pad] mode must be 'constant', 'reflect', 'replicate' or 'circular', got '", mode, "'");
  LAMINA_CHECK(pad.size() == 2 || pad.size() == 4, ValueError,
               "[pad] pad must have 2 values (last dim) or 4 (last two dims), got ", pad.size());
  const int S = int(pad.size()) / 2;
  LAMINA_CHECK(input.dim() >= S + (mode == "constant" ? 0 : 1), ValueError, "[pad] padding ", S, " dims in mode '",
               mode, "' needs a ", S + (mode == "constant" ? 0 : 1), "-d input at least, got shape ",
               shape_str(input.shape()));
  const Shape& is = input.shape();
  Shape out_shape = is;
  int64_t P = 1;
  for (int64_t i = 0; i < input.dim() - S; ++i) P *= is[size_t(i)];
  int64_t H = S == 2 ? is[size_t(input.dim() - 2)] : 1, W = is.back();
  std::vector<int64_t> maps[2];
  for (int axis = 0; axis < 2; ++axis) {  // axis 0: H (pad[2], pad[3]), axis 1: W (pad[0], pad[1])
    int64_t in = axis == 0 ? H : W, before = 0, after = 0;
    if (axis == 1 || S == 2) {
      before = pad[size_t(axis == 1 ? 0 : 2)], after = pad[size_t(axis == 1 ? 1 : 3)];
      int64_t dim = input.dim() - (axis == 1 ? 1 : 2);
      if (mode != "constant") {
        LAMINA_CHECK(before >= 0 && after >= 0, ValueError, "[pad] mode '", mode, "' needs non-negative padding, got (",
                     before, ", ", after, ") for dim ", dim);
        int64_t limit = mode == "reflect" ? in - 1 : mode == "circular" ? in : INT64_MAX;
        LAMINA_CHECK(in > 0 && before <= limit && after <= limit, ValueError, "[pad] padding (", before, ", ", after,
                     ") of dim ", dim, " must be ", mode == "reflect" ? "smaller than" : "at most", " its size ", in,
                     " in mode '", mode, "'");
      }
      LAMINA_CHECK(in + before + after >= 0, ValueError, "[pad] padding (", before, ", ", after, ") of dim ", dim,
                   " leaves a negative size for input of shape ", shape_str(is));
      out_shape[size_t(dim)] = in + before + after;
    }
    for (int64_t o = 0; o < in + before + after; ++o) maps[axis].push_back(pad_source(o, in, before, mode));
  }
  const char* node_name = mode == "constant" ? "ConstantPadNdBackward0"
                          : mode == "reflect" ? "ReflectionPadBackward0"
                          : mode == "replicate" ? "ReplicationPadBackward0"
                                                : "CircularPadBackward0";
  return gather2d(op, node_name, input, out_shape, P, H, W, std::move(maps[0]), std::move(maps[1]), value);
}

}  // namespace lamina

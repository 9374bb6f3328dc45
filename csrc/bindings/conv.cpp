// Convolution, pooling, interpolation and padding as lamina._C functions with
// torch.nn.functional's argument names and defaults. Size arguments take an int (repeated for
// every spatial dim) or a tuple/list; max pooling returns (values, indices) here, and the Python
// wrappers (nn/_functional_conv.py) add return_indices. The GIL is released around each op.
#include "bindings/bindings.h"

namespace lamina::bindings {

namespace {

// An int (one value for each of n spatial dims) or a sequence of ints; None gives an empty vector.
std::vector<int64_t> sizes_from(py::handle h, int n, const char* op, const char* arg) {
  if (h.is_none()) return {};
  if (py::isinstance<py::int_>(h) && !py::isinstance<py::bool_>(h)) return std::vector<int64_t>(size_t(n), h.cast<int64_t>());
  try {
    return h.cast<std::vector<int64_t>>();
  } catch (const py::cast_error&) {
    throw TypeError(fmt("[", op, "] ", arg, " must be an int or a tuple of ints, got ",
                        std::string(py::str(h.get_type().attr("__name__")))));
  }
}

Tensor or_none(const std::optional<Tensor>& t) { return t.value_or(Tensor()); }

// conv1d / conv2d: padding is an int, a tuple or 'valid' / 'same'.
template <int S>
Tensor conv(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias, py::handle stride,
            py::handle padding, py::handle dilation, int64_t groups) {
  const char* op = S == 2 ? "conv2d" : "conv1d";
  auto st = sizes_from(stride, S, op, "stride"), di = sizes_from(dilation, S, op, "dilation");
  Tensor b = or_none(bias);
  if (py::isinstance<py::str>(padding)) {
    std::string pad = padding.cast<std::string>();
    py::gil_scoped_release release;
    return S == 2 ? conv2d(input, weight, b, st, pad, di, groups) : conv1d(input, weight, b, st, pad, di, groups);
  }
  auto pad = sizes_from(padding, S, op, "padding");
  py::gil_scoped_release release;
  return S == 2 ? conv2d(input, weight, b, st, pad, di, groups) : conv1d(input, weight, b, st, pad, di, groups);
}

template <int S>
Tensor conv_transpose(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias, py::handle stride,
                      py::handle padding, py::handle output_padding, int64_t groups, py::handle dilation) {
  const char* op = S == 2 ? "conv_transpose2d" : "conv_transpose1d";
  auto st = sizes_from(stride, S, op, "stride"), pad = sizes_from(padding, S, op, "padding");
  auto op_ = sizes_from(output_padding, S, op, "output_padding"), di = sizes_from(dilation, S, op, "dilation");
  py::gil_scoped_release release;
  return S == 2 ? conv_transpose2d(input, weight, or_none(bias), st, pad, op_, groups, di)
                : conv_transpose1d(input, weight, or_none(bias), st, pad, op_, groups, di);
}

// Max pooling as F.max_pool2d/1d: the values, or (values, int64 indices) with return_indices.
template <int S>
py::object max_pool(const Tensor& input, py::handle kernel_size, py::handle stride, py::handle padding,
                    py::handle dilation, bool ceil_mode, bool return_indices) {
  const char* op = S == 2 ? "max_pool2d" : "max_pool1d";
  auto k = sizes_from(kernel_size, S, op, "kernel_size"), st = sizes_from(stride, S, op, "stride");
  auto pad = sizes_from(padding, S, op, "padding"), di = sizes_from(dilation, S, op, "dilation");
  std::pair<Tensor, Tensor> result;
  {
    py::gil_scoped_release release;
    result = S == 2 ? max_pool2d(input, k, st, pad, di, ceil_mode, return_indices)
                    : max_pool1d(input, k, st, pad, di, ceil_mode, return_indices);
  }
  return return_indices ? py::cast(result) : py::cast(result.first);
}

// Adaptive output sizes: None entries keep the input's size.
std::vector<int64_t> adaptive_sizes(const Tensor& input, py::handle output_size, int S, const char* op) {
  std::vector<int64_t> out;
  if (py::isinstance<py::int_>(output_size)) return sizes_from(output_size, S, op, "output_size");
  for (py::handle h : output_size) {
    int64_t dim = input.dim() - S + int64_t(out.size());
    out.push_back(h.is_none() ? (dim >= 0 && dim < input.dim() ? input.shape()[size_t(dim)] : -1) : h.cast<int64_t>());
  }
  return out;
}

}  // namespace

void init_conv(py::module_& m) {
  m.def("conv2d", &conv<2>, py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1,
        py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("groups") = 1,
        "2-d convolution: input (N, C, H, W) or (C, H, W), weight (OC, C/groups, kH, kW), bias (OC,) -> "
        "(N, OC, OH, OW), OH = (H + 2 padding - dilation (kH - 1) - 1) // stride + 1. padding: int, tuple, "
        "'valid' or 'same'.");
  m.def("conv1d", &conv<1>, py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1,
        py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("groups") = 1,
        "1-d convolution: input (N, C, L) or (C, L), weight (OC, C/groups, k), bias (OC,) -> (N, OC, OL).");
  m.def("conv_transpose2d", &conv_transpose<2>, py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(),
        py::arg("stride") = 1, py::arg("padding") = 0, py::arg("output_padding") = 0, py::arg("groups") = 1,
        py::arg("dilation") = 1,
        "Transposed 2-d convolution (the adjoint of conv2d in its input): weight (C, OC/groups, kH, kW) -> "
        "(N, OC, OH, OW), OH = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.");
  m.def("conv_transpose1d", &conv_transpose<1>, py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(),
        py::arg("stride") = 1, py::arg("padding") = 0, py::arg("output_padding") = 0, py::arg("groups") = 1,
        py::arg("dilation") = 1, "Transposed 1-d convolution: weight (C, OC/groups, k) -> (N, OC, OL).");

  m.def("max_pool2d", &max_pool<2>, py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(),
        py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("ceil_mode") = false,
        py::arg("return_indices") = false,
        "2-d max pooling, stride None = kernel_size; with return_indices also the int64 index h W + w of each "
        "maximum in its plane.");
  m.def("relu_max_pool2d", [](const Tensor& input, py::handle kernel_size, py::handle stride, py::handle padding,
                              py::handle dilation, bool ceil_mode) {
    const char* op = "relu_max_pool2d";
    auto k = sizes_from(kernel_size, 2, op, "kernel_size"), st = sizes_from(stride, 2, op, "stride");
    auto pad = sizes_from(padding, 2, op, "padding"), di = sizes_from(dilation, 2, op, "dilation");
    py::gil_scoped_release release;
    return relu_max_pool2d(input, k, st, pad, di, ceil_mode);
  }, py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
        py::arg("dilation") = 1, py::arg("ceil_mode") = false,
        "max_pool2d(relu(input)) in one pass where the windows are 2x2 at stride 2 (nn.Sequential's ReLU, "
        "MaxPool2d).");
  m.def("max_pool1d", &max_pool<1>, py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(),
        py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("ceil_mode") = false,
        py::arg("return_indices") = false,
        "1-d max pooling; with return_indices also the int64 index of each maximum along L.");
  m.def("avg_pool2d", [](const Tensor& input, py::handle kernel_size, py::handle stride, py::handle padding,
                         bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor_override) {
    auto k = sizes_from(kernel_size, 2, "avg_pool2d", "kernel_size"), st = sizes_from(stride, 2, "avg_pool2d", "stride");
    auto pad = sizes_from(padding, 2, "avg_pool2d", "padding");
    py::gil_scoped_release release;
    return avg_pool2d(input, k, st, pad, ceil_mode, count_include_pad, divisor_override);
  }, py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
        py::arg("ceil_mode") = false, py::arg("count_include_pad") = true, py::arg("divisor_override") = py::none(),
        "2-d average pooling: the mean over each window (the padding counted when count_include_pad), or the "
        "window sum / divisor_override.");
  m.def("avg_pool1d", [](const Tensor& input, py::handle kernel_size, py::handle stride, py::handle padding,
                         bool ceil_mode, bool count_include_pad) {
    auto k = sizes_from(kernel_size, 1, "avg_pool1d", "kernel_size"), st = sizes_from(stride, 1, "avg_pool1d", "stride");
    auto pad = sizes_from(padding, 1, "avg_pool1d", "padding");
    py::gil_scoped_release release;
    return avg_pool1d(input, k, st, pad, ceil_mode, count_include_pad);
  }, py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
        py::arg("ceil_mode") = false, py::arg("count_include_pad") = true, "1-d average pooling.");
  m.def("adaptive_avg_pool2d", [](const Tensor& input, py::handle output_size) {
    auto out = adaptive_sizes(input, output_size, 2, "adaptive_avg_pool2d");
    py::gil_scoped_release release;
    return adaptive_avg_pool2d(input, out);
  }, py::arg("input"), py::arg("output_size"),
        "Average over [floor(o H / OH), ceil((o + 1) H / OH)) along each axis; None keeps a size.");
  m.def("adaptive_avg_pool1d", [](const Tensor& input, py::handle output_size) {
    auto out = adaptive_sizes(input, output_size, 1, "adaptive_avg_pool1d");
    py::gil_scoped_release release;
    return adaptive_avg_pool1d(input, out);
  }, py::arg("input"), py::arg("output_size"), "1-d adaptive average pooling.");
  m.def("adaptive_max_pool2d", [](const Tensor& input, py::handle output_size, bool return_indices) {
    auto out = adaptive_sizes(input, output_size, 2, "adaptive_max_pool2d");
    std::pair<Tensor, Tensor> result;
    {
      py::gil_scoped_release release;
      result = adaptive_max_pool2d(input, out, return_indices);
    }
    return return_indices ? py::cast(result) : py::cast(result.first);
  }, py::arg("input"), py::arg("output_size"), py::arg("return_indices") = false,
        "Adaptive max pooling; with return_indices also the int64 indices h W + w.");

  m.def("interpolate", [](const Tensor& input, py::handle size, py::handle scale_factor, const std::string& mode,
                          bool align_corners) {
    int S = std::max<int>(1, int(input.dim()) - 2);
    auto sz = sizes_from(size, S, "interpolate", "size");
    std::vector<double> sf;
    if (!scale_factor.is_none())
      sf = py::isinstance<py::float_>(scale_factor) || py::isinstance<py::int_>(scale_factor)
               ? std::vector<double>(size_t(S), scale_factor.cast<double>())
               : scale_factor.cast<std::vector<double>>();
    py::gil_scoped_release release;
    return interpolate(input, sz, sf, mode, align_corners);
  }, py::arg("input"), py::arg("size") = py::none(), py::arg("scale_factor") = py::none(), py::arg("mode") = "nearest",
        py::arg("align_corners") = false,
        "Resamples the spatial dims to size (or floor(size * scale_factor)): 'nearest', 'linear' (3-d) or "
        "'bilinear' (4-d), align_corners for the linear modes.");
  m.def("pad", [](const Tensor& input, const std::vector<int64_t>& pad_, const std::string& mode, std::optional<double> value) {
    return pad(input, pad_, mode, value.value_or(0.0));
  }, py::arg("input"), py::arg("pad"), py::arg("mode") = "constant", py::arg("value") = py::none(),
        py::call_guard<py::gil_scoped_release>(),
        "Pads the last dim by (left, right), or the last two by (left, right, top, bottom): 'constant' (value; "
        "negative pads crop), 'reflect', 'replicate' or 'circular'.");
}

}  // namespace lamina::bindings

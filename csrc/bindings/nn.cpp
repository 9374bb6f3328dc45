// The layer ops as lamina._C functions with torch.nn.functional's argument names and defaults
// (None for an absent optional tensor). The GIL is released around each call.
#include "bindings/bindings.h"

namespace lamina::bindings {

namespace {

using GilRelease = py::call_guard<py::gil_scoped_release>;

Tensor or_none(const std::optional<Tensor>& t) { return t ? *t : Tensor(); }

// normalized_shape given as an int or a sequence of ints.
Shape normalized_shape_from(py::handle h) {
  if (py::isinstance<py::int_>(h)) return {h.cast<int64_t>()};
  return h.cast<Shape>();
}

}  // namespace

void init_nn(py::module_& m) {
  m.def("linear", [](const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias) {
    return linear(input, weight, or_none(bias));
  }, py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), GilRelease(),
        "y = x W^T + b: input (*, in_features), weight (out_features, in_features), bias (out_features,).");

  m.def("dropout", &dropout, py::arg("input"), py::arg("p") = 0.5, py::arg("training") = true, GilRelease(),
        "Inverted dropout: zeroes elements with probability p and scales the rest by 1 / (1 - p) when training.");

  m.def("batch_norm", [](const Tensor& input, const std::optional<Tensor>& running_mean,
                         const std::optional<Tensor>& running_var, const std::optional<Tensor>& weight,
                         const std::optional<Tensor>& bias, bool training, double momentum, double eps) {
    return batch_norm(input, or_none(running_mean), or_none(running_var), or_none(weight), or_none(bias), training,
                      momentum, eps);
  }, py::arg("input"), py::arg("running_mean"), py::arg("running_var"), py::arg("weight") = py::none(),
        py::arg("bias") = py::none(), py::arg("training") = false, py::arg("momentum") = 0.1, py::arg("eps") = 1e-5,
        GilRelease(),
        "y = (x - mean) / sqrt(var + eps) * weight + bias per channel of (N, C, *) input. Training uses batch "
        "statistics and updates running_mean/running_var in place: r = (1 - momentum) r + momentum stat "
        "(unbiased variance); otherwise the running statistics.");

  m.def("layer_norm", [](const Tensor& input, py::handle normalized_shape, const std::optional<Tensor>& weight,
                         const std::optional<Tensor>& bias, double eps) {
    Shape shape = normalized_shape_from(normalized_shape);
    py::gil_scoped_release release;
    return layer_norm(input, shape, or_none(weight), or_none(bias), eps);
  }, py::arg("input"), py::arg("normalized_shape"), py::arg("weight") = py::none(), py::arg("bias") = py::none(),
        py::arg("eps") = 1e-5,
        "y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over the trailing normalized_shape dims.");

  m.def("group_norm", [](const Tensor& input, int64_t num_groups, const std::optional<Tensor>& weight,
                         const std::optional<Tensor>& bias, double eps) {
    return group_norm(input, num_groups, or_none(weight), or_none(bias), eps);
  }, py::arg("input"), py::arg("num_groups"), py::arg("weight") = py::none(), py::arg("bias") = py::none(),
        py::arg("eps") = 1e-5, GilRelease(),
        "Normalizes (N, C, *) input over each sample's groups of C / num_groups channels, then weight and bias "
        "per channel.");

  m.def("embedding", &embedding, py::arg("input"), py::arg("weight"), py::arg("padding_idx") = py::none(), GilRelease(),
        "Rows of weight (num_embeddings, embedding_dim) at the int64 indices of input: (*) -> (*, embedding_dim). "
        "The row padding_idx gets no gradient.");
  // --- parametrised activations (functional forms with `inplace` live in Python) ---
  m.def("leaky_relu", &leaky_relu, py::arg("input"), py::arg("negative_slope") = 0.01, GilRelease(),
        "x > 0 ? x : negative_slope x");
  m.def("elu", &elu, py::arg("input"), py::arg("alpha") = 1.0, GilRelease(), "x > 0 ? x : alpha (e^x - 1)");
  m.def("selu", &selu, py::arg("input"), GilRelease(),
        "scale (x > 0 ? x : alpha (e^x - 1)), alpha = 1.6732632423543772, scale = 1.0507009873554805");
  m.def("gelu", &gelu, py::arg("input"), py::kw_only(), py::arg("approximate") = "none", GilRelease(),
        "x Phi(x) (approximate='none'), or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (approximate='tanh')");
  m.def("silu", &silu, py::arg("input"), GilRelease(), "x sigmoid(x)");
  m.def("mish", &mish, py::arg("input"), GilRelease(), "x tanh(softplus(x))");
  m.def("hardtanh", &hardtanh, py::arg("input"), py::arg("min_val") = -1.0, py::arg("max_val") = 1.0, GilRelease(),
        "clamp(x, min_val, max_val)");
  m.def("softplus", &softplus, py::arg("input"), py::arg("beta") = 1.0, py::arg("threshold") = 20.0, GilRelease(),
        "log(1 + e^(beta x)) / beta, and x where beta x > threshold");
  m.def("prelu", &prelu, py::arg("input"), py::arg("weight"), GilRelease(),
        "x > 0 ? x : weight[c] x, weight of 1 element or one per channel (input.shape[1])");
}

}  // namespace lamina::bindings

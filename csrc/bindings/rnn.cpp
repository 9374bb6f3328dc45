// The recurrent-layer op as lamina._C.rnn_layer: one layer in one direction over a whole
// sequence. None stands for an absent tensor (states, biases, projection) and for the absent c_n.
// The GIL is released around the computation.
#include "bindings/bindings.h"

namespace lamina::bindings {

namespace {

Tensor or_none(const std::optional<Tensor>& t) { return t ? *t : Tensor(); }

RnnMode rnn_mode_from(const std::string& mode) {
  if (mode == "rnn_tanh") return RnnMode::RnnTanh;
  if (mode == "rnn_relu") return RnnMode::RnnRelu;
  if (mode == "lstm") return RnnMode::Lstm;
  if (mode == "gru") return RnnMode::Gru;
  throw ValueError(fmt("[rnn_layer] mode must be 'rnn_tanh', 'rnn_relu', 'lstm' or 'gru', got '", mode, "'"));
}

py::object tensor_or_none(const Tensor& t) { return t.defined() ? py::cast(t) : py::none(); }

}  // namespace

void init_rnn(py::module_& m) {
  m.def("rnn_layer", [](const std::string& mode, const Tensor& input, const std::optional<Tensor>& hx,
                        const std::optional<Tensor>& cx, const Tensor& weight_ih, const Tensor& weight_hh,
                        const std::optional<Tensor>& bias_ih, const std::optional<Tensor>& bias_hh,
                        const std::optional<Tensor>& weight_hr, const std::vector<int64_t>& batch_sizes, bool reverse) {
    RnnMode rnn_mode = rnn_mode_from(mode);
    std::vector<Tensor> r;
    {
      py::gil_scoped_release release;
      r = rnn_layer(rnn_mode, input, or_none(hx), or_none(cx), weight_ih, weight_hh, or_none(bias_ih),
                    or_none(bias_hh), or_none(weight_hr), batch_sizes, reverse);
    }
    return py::make_tuple(r[0], r[1], tensor_or_none(r[2]));
  }, py::arg("mode"), py::arg("input"), py::arg("hx") = py::none(), py::arg("cx") = py::none(),
        py::arg("weight_ih"), py::arg("weight_hh"), py::arg("bias_ih") = py::none(), py::arg("bias_hh") = py::none(),
        py::arg("weight_hr") = py::none(), py::arg("batch_sizes") = std::vector<int64_t>{}, py::arg("reverse") = false,
        "One recurrent layer in one direction over a whole sequence: returns (output, h_n, c_n). mode: 'rnn_tanh', "
        "'rnn_relu', 'lstm' (gates i, f, g, o; c' = f c + i g, h' = o tanh(c'), times weight_hr^T with a "
        "projection) or 'gru' (r, z, n; n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h). "
        "input (T, N, I), or packed (sum(batch_sizes), I) with nonincreasing batch_sizes; hx (N, P), cx (N, H) "
        "(LSTM), None = zeros; weight_ih (G*H, I), weight_hh (G*H, P), biases (G*H,), weight_hr (P, H). "
        "output (T, N, P) or (sum(batch_sizes), P), h_n (N, P), c_n (N, H) or None. reverse: last step first.");
}

}  // namespace lamina::bindings

// Loss functions as lamina._C.<name>, with PyTorch's argument names (the legacy size_average /
// reduce arguments and PyTorch's warnings live in lamina.nn._functional_loss). reduction is a
// string here and an enum in C++.
#include "bindings/bindings.h"

namespace lamina::bindings {

namespace {

using GilRelease = py::call_guard<py::gil_scoped_release>;

Reduction reduction_of(const std::string& s, const char* op) {
  if (s == "none") return Reduction::None;
  if (s == "mean") return Reduction::Mean;
  if (s == "sum") return Reduction::Sum;
  if (s == "batchmean") return Reduction::BatchMean;
  throw ValueError(fmt("[", op, "] reduction must be 'none', 'mean' or 'sum', got '", s, "'"));
}

Tensor or_none(const std::optional<Tensor>& t) { return t.value_or(Tensor()); }

}  // namespace

void init_loss(py::module_& m) {
  m.def("mse_loss", [](const Tensor& input, const Tensor& target, const std::string& reduction,
                       const std::optional<Tensor>& weight) {
    return mse_loss(input, target, reduction_of(reduction, "mse_loss"), or_none(weight));
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("weight") = py::none(), GilRelease(),
        "w (input - target)^2; 'mean' divides by sum(w) (the element count without weight).");
  m.def("l1_loss", [](const Tensor& input, const Tensor& target, const std::string& reduction,
                      const std::optional<Tensor>& weight) {
    return l1_loss(input, target, reduction_of(reduction, "l1_loss"), or_none(weight));
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("weight") = py::none(), GilRelease(),
        "w |input - target|; 'mean' divides by sum(w) (the element count without weight).");
  m.def("smooth_l1_loss", [](const Tensor& input, const Tensor& target, const std::string& reduction, double beta) {
    return smooth_l1_loss(input, target, reduction_of(reduction, "smooth_l1_loss"), beta);
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("beta") = 1.0, GilRelease(),
        "z = |input - target|: 0.5 z^2 / beta if z < beta else z - 0.5 beta.");
  m.def("huber_loss", [](const Tensor& input, const Tensor& target, const std::string& reduction, double delta,
                         const std::optional<Tensor>& weight) {
    return huber_loss(input, target, reduction_of(reduction, "huber_loss"), delta, or_none(weight));
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("delta") = 1.0,
        py::arg("weight") = py::none(), GilRelease(),
        "z = |input - target|: 0.5 z^2 if z < delta else delta (z - 0.5 delta), times weight.");
  m.def("cross_entropy", [](const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                            int64_t ignore_index, const std::string& reduction, double label_smoothing) {
    return cross_entropy(input, target, or_none(weight), ignore_index, reduction_of(reduction, "cross_entropy"),
                         label_smoothing);
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
        py::arg("reduction") = "mean", py::arg("label_smoothing") = 0.0, GilRelease(),
        "-sum_c w_c t_c log_softmax(input)_c over the class dim 1 (dim 0 unbatched); target: int64 class indices "
        "(N, d1, ...) or float class probabilities of the input's shape.");
  m.def("nll_loss", [](const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                       int64_t ignore_index, const std::string& reduction) {
    return nll_loss(input, target, or_none(weight), ignore_index, reduction_of(reduction, "nll_loss"));
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
        py::arg("reduction") = "mean", GilRelease(), "-w_y input[y] for log-probabilities input (N, C, d1, ...).");
  m.def("binary_cross_entropy", [](const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                                   const std::string& reduction) {
    return binary_cross_entropy(input, target, or_none(weight), reduction_of(reduction, "binary_cross_entropy"));
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("reduction") = "mean", GilRelease(),
        "-w (t log x + (1 - t) log(1 - x)), each log clamped at -100.");
  m.def("binary_cross_entropy_with_logits", [](const Tensor& input, const Tensor& target,
                                               const std::optional<Tensor>& weight, const std::string& reduction,
                                               const std::optional<Tensor>& pos_weight) {
    return binary_cross_entropy_with_logits(input, target, or_none(weight),
                                            reduction_of(reduction, "binary_cross_entropy_with_logits"),
                                            or_none(pos_weight));
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("reduction") = "mean",
        py::arg("pos_weight") = py::none(), GilRelease(),
        "-w (pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))), computed stably.");
  m.def("kl_div", [](const Tensor& input, const Tensor& target, const std::string& reduction, bool log_target) {
    return kl_div(input, target, reduction_of(reduction, "kl_div"), log_target);
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("log_target") = false, GilRelease(),
        "t (log t - input) (log_target: exp(t) (t - input)); 'batchmean' divides the sum by input.size(0).");
}

}  // namespace lamina::bindings

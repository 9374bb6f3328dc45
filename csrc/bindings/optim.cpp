// Fused optimizer steps as lamina._C.<name>_step_: each updates every tensor of a parameter group
// in place in one call (the optimizer classes in lamina.optim hold the state and call these).
#include "bindings/bindings.h"

namespace lamina::bindings {

namespace {

using GilRelease = py::call_guard<py::gil_scoped_release>;
using Tensors = std::vector<Tensor>;

}  // namespace

void init_optim(py::module_& m) {
  m.def("sgd_step_", [](const Tensors& params, const Tensors& grads,
                        const std::vector<std::optional<Tensor>>& momentum_buffers, double lr, double momentum,
                        double dampening, double weight_decay, bool nesterov, bool maximize) {
    Tensors bufs;
    for (const auto& b : momentum_buffers) bufs.push_back(b.value_or(Tensor()));
    return sgd_step_(params, grads, bufs, lr, momentum, dampening, weight_decay, nesterov, maximize);
  }, py::arg("params"), py::arg("grads"), py::arg("momentum_buffers"), py::kw_only(), py::arg("lr"),
        py::arg("momentum"), py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"), py::arg("maximize"),
        GilRelease(),
        "SGD on every tensor of a group; momentum_buffers entries may be None (first step). Returns the buffers.");
  m.def("adam_step_", &adam_step_, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"),
        py::arg("max_exp_avg_sqs"), py::arg("state_steps"), py::kw_only(), py::arg("lr"), py::arg("beta1"),
        py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"), py::arg("amsgrad"), py::arg("maximize"),
        py::arg("decoupled_weight_decay"), GilRelease(),
        "Adam (AdamW with decoupled_weight_decay) on every tensor of a group; increments state_steps.");
  m.def("rmsprop_step_", &rmsprop_step_, py::arg("params"), py::arg("grads"), py::arg("square_avgs"),
        py::arg("grad_avgs"), py::arg("momentum_buffers"), py::arg("state_steps"), py::kw_only(), py::arg("lr"),
        py::arg("alpha"), py::arg("eps"), py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"),
        py::arg("maximize"), GilRelease(), "RMSprop on every tensor of a group; increments state_steps.");
  m.def("adagrad_step_", &adagrad_step_, py::arg("params"), py::arg("grads"), py::arg("state_sums"),
        py::arg("state_steps"), py::kw_only(), py::arg("lr"), py::arg("lr_decay"), py::arg("weight_decay"),
        py::arg("eps"), py::arg("maximize"), GilRelease(),
        "Adagrad on every tensor of a group; increments state_steps.");
  m.def("adadelta_step_", &adadelta_step_, py::arg("params"), py::arg("grads"), py::arg("square_avgs"),
        py::arg("acc_deltas"), py::arg("state_steps"), py::kw_only(), py::arg("lr"), py::arg("rho"), py::arg("eps"),
        py::arg("weight_decay"), py::arg("maximize"), GilRelease(),
        "Adadelta on every tensor of a group; increments state_steps.");
}

}  // namespace lamina::bindings

"""Adagrad, as PyTorch's torch.optim.Adagrad; the update of a group is one fused C++ call
(lamina._C.adagrad_step_). With t the step count of a parameter:

    g = -grad if maximize else grad;  g += weight_decay p
    sum += g^2;  p -= lr / (1 + (t - 1) lr_decay) g / (sqrt(sum) + eps)

State per parameter, created with the optimizer: "step" and "sum" (initial_accumulator_value).
"""
import lamina
from lamina import _C
from lamina.optim.optimizer import Optimizer, _check_hyperparameters, _scalar

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_hyperparameters(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                               initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = lamina.tensor(0.0)
        state["sum"] = lamina.full_like(p, float(group["initial_accumulator_value"]))

    def _update_group(self, group, params, grads, states):
        _C.adagrad_step_(params, grads, [s["sum"] for s in states], [s["step"] for s in states],
                         lr=_scalar(group["lr"]), lr_decay=_scalar(group["lr_decay"]),
                         weight_decay=_scalar(group["weight_decay"]), eps=_scalar(group["eps"]),
                         maximize=bool(group["maximize"]))

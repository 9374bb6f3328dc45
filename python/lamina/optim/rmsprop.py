"""RMSprop, as PyTorch's torch.optim.RMSprop; the update of a group is one fused C++ call
(lamina._C.rmsprop_step_):

    g = -grad if maximize else grad;  g += weight_decay p
    sq = alpha sq + (1 - alpha) g^2
    centered: ga = alpha ga + (1 - alpha) g, avg = sqrt(sq - ga^2) + eps;  else avg = sqrt(sq) + eps
    momentum > 0: buf = momentum buf + g / avg, p -= lr buf;  else p -= lr g / avg

State per parameter: "step", "square_avg" (and "momentum_buffer", "grad_avg").
"""
import lamina
from lamina import _C
from lamina.optim.optimizer import Optimizer, _check_hyperparameters, _scalar

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_hyperparameters(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = lamina.tensor(0.0)
        state["square_avg"] = lamina.zeros_like(p)
        if _scalar(group["momentum"]) > 0:
            state["momentum_buffer"] = lamina.zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = lamina.zeros_like(p)

    def _update_group(self, group, params, grads, states):
        momentum, centered = _scalar(group["momentum"]), bool(group["centered"])
        _C.rmsprop_step_(params, grads, [s["square_avg"] for s in states],
                         [s["grad_avg"] for s in states] if centered else [],
                         [s["momentum_buffer"] for s in states] if momentum > 0 else [],
                         [s["step"] for s in states], lr=_scalar(group["lr"]), alpha=_scalar(group["alpha"]),
                         eps=_scalar(group["eps"]), weight_decay=_scalar(group["weight_decay"]),
                         momentum=momentum, centered=centered, maximize=bool(group["maximize"]))

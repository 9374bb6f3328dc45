"""Adadelta, as PyTorch's torch.optim.Adadelta; the update of a group is one fused C++ call
(lamina._C.adadelta_step_):

    g = -grad if maximize else grad;  g += weight_decay p
    sq = rho sq + (1 - rho) g^2;  delta = sqrt(acc + eps) / sqrt(sq + eps) g
    acc = rho acc + (1 - rho) delta^2;  p -= lr delta

State per parameter: "step", "square_avg", "acc_delta".
"""
import lamina
from lamina import _C
from lamina.optim.optimizer import Optimizer, _check_hyperparameters, _scalar

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_hyperparameters(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_hyperparameters(eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = lamina.tensor(0.0)
        state["square_avg"] = lamina.zeros_like(p)
        state["acc_delta"] = lamina.zeros_like(p)

    def _update_group(self, group, params, grads, states):
        _C.adadelta_step_(params, grads, [s["square_avg"] for s in states], [s["acc_delta"] for s in states],
                          [s["step"] for s in states], lr=_scalar(group["lr"]), rho=_scalar(group["rho"]),
                          eps=_scalar(group["eps"]), weight_decay=_scalar(group["weight_decay"]),
                          maximize=bool(group["maximize"]))

"""Adam and AdamW, as PyTorch's torch.optim.Adam / AdamW; the update of a group is one fused
C++ call (lamina._C.adam_step_). With t the step count of a parameter:

    g = -grad if maximize else grad;  Adam: g += weight_decay p;  AdamW: p *= 1 - lr weight_decay
    m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;  (amsgrad: v_max = max(v_max, v))
    p -= lr / (1 - beta1^t) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

State per parameter: "step" (0-d float tensor), "exp_avg", "exp_avg_sq" (and "max_exp_avg_sq").
"""
import lamina
from lamina import Tensor, _C
from lamina.optim.optimizer import Optimizer, _check_hyperparameters, _scalar

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_hyperparameters(lr=lr, eps=eps)
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        _check_hyperparameters(weight_decay=weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        betas = tuple(_scalar(b) for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = lamina.tensor(0.0)
        state["exp_avg"] = lamina.zeros_like(p)
        state["exp_avg_sq"] = lamina.zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = lamina.zeros_like(p)

    def _update_group(self, group, params, grads, states):
        amsgrad = bool(group["amsgrad"])
        beta1, beta2 = group["betas"]
        _C.adam_step_(params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
                      [s["max_exp_avg_sq"] for s in states] if amsgrad else [], [s["step"] for s in states],
                      lr=_scalar(group["lr"]), beta1=_scalar(beta1), beta2=_scalar(beta2),
                      eps=_scalar(group["eps"]), weight_decay=_scalar(group["weight_decay"]), amsgrad=amsgrad,
                      maximize=bool(group["maximize"]), decoupled_weight_decay=bool(group["decoupled_weight_decay"]))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): p *= 1 - lr weight_decay before
    the Adam update, instead of adding weight_decay p to the gradient."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True

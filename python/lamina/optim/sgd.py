"""SGD with momentum, dampening, Nesterov momentum, L2 weight decay and maximize, as PyTorch's
torch.optim.SGD; the update of a group is one fused C++ call (lamina._C.sgd_step_):

    g = -grad if maximize else grad;  g += weight_decay p
    buf = g (first step) or momentum buf + (1 - dampening) g
    p -= lr (g + momentum buf if nesterov else buf)        (without momentum: p -= lr g)
"""
from lamina import _C
from lamina.optim.optimizer import Optimizer, _check_hyperparameters, _scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _check_hyperparameters(lr=lr, momentum=momentum, weight_decay=weight_decay)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _update_group(self, group, params, grads, states):
        momentum = _scalar(group["momentum"])
        buffers = [s["momentum_buffer"] if s else None for s in states] if momentum != 0 else []
        buffers = _C.sgd_step_(params, grads, buffers, lr=_scalar(group["lr"]), momentum=momentum,
                               dampening=_scalar(group["dampening"]), weight_decay=_scalar(group["weight_decay"]),
                               nesterov=bool(group["nesterov"]), maximize=bool(group["maximize"]))
        for p, buf in zip(params, buffers):  # created by the first step with momentum
            self.state[p]["momentum_buffer"] = buf

"""Gradient clipping: rescale the gradients of a set of parameters so that their joint norm is
at most max_norm (clip_grad_norm_), or clamp each gradient element (clip_grad_value_). Both
work in place on p.grad under no_grad, as in PyTorch."""
import math

from lamina import _C
from lamina._creation import tensor as _tensor
from lamina.autograd import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, _C.Tensor) else list(tensors)


def _vector_norm(x, norm_type):
    """||x||_p over all elements: p = inf -> max |x|, -inf -> min |x|, 0 -> count of nonzeros,
    otherwise (sum |x|^p)^(1/p)."""
    if norm_type == math.inf:
        return x.abs().max()
    if norm_type == -math.inf:
        return x.abs().min()
    if norm_type == 0:
        return x.ne(0).to(x.dtype).sum()
    if norm_type == 2:
        return (x * x).sum().sqrt()
    return x.abs().pow(norm_type).sum().pow(1.0 / norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False):
    """The norm of the concatenation of tensors (as one vector), computed as the norm of their
    norms: ||(||g_1||_p, ..., ||g_n||_p)||_p, a 0-d tensor (0. for no tensors)."""
    tensors = [t for t in _as_list(tensors) if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return _tensor(0.0)
    with no_grad():
        norms = [_vector_norm(t, norm_type) for t in tensors]
        total = norms[0] if len(norms) == 1 else _vector_norm(_C.stack([n.to(norms[0].dtype) for n in norms]), norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm):
    """Scales every p.grad by min(1, max_norm / (total_norm + 1e-6)) in place."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    with no_grad():
        clip_coef = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(clip_coef.to(g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Rescales the gradients of parameters (a tensor or an iterable) in place so that their
    total norm, taken as one vector, is at most max_norm:

        total = ||(||g_1||_p, ..., ||g_n||_p)||_p,   g_i <- g_i * min(1, max_norm / (total + 1e-6))

    norm_type p may be inf. Returns total (the norm before clipping) as a 0-d tensor. With
    error_if_nonfinite, a NaN or infinite total raises RuntimeError."""
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_value_(parameters, clip_value):
    """Clamps every gradient element to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)

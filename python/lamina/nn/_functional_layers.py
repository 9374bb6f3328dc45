"""Functional forms of the layer ops whose PyTorch signatures carry arguments the C++ bindings
do not take (``inplace``, ``dim=None``, ``dtype``, embedding's ``max_norm`` family).

``linear``, ``batch_norm``, ``layer_norm`` and ``group_norm`` need no wrapper: ``lamina._C``'s
functions already have torch.nn.functional's signatures.

``inplace=True`` is accepted for compatibility; the result is computed out of place and
returned (use the return value, as PyTorch code does).
"""
import warnings

from lamina import _C

__all__ = ["dropout", "dropout2d", "embedding", "softmax", "log_softmax", "relu", "leaky_relu", "elu", "selu", "silu", "mish",
           "hardtanh"]


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: each element is zeroed with probability p (mask from
    ``lamina.manual_seed``'s generator) and the rest scaled by 1 / (1 - p); input itself when
    not training. Raises ValueError for p outside [0, 1]."""
    out = _C.dropout(input, p, training)
    return out if training else input


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) or (C, H, W) input with probability p and scales the
    rest by 1 / (1 - p): the input times a dropout mask of shape (N, C, 1, 1), broadcast."""
    if input.dim() not in (3, 4):
        raise ValueError(f"[dropout2d] expected 3D or 4D input, got {input.dim()}D")
    if not training or p == 0:
        return input
    mask_shape = tuple(input.shape[:-2]) + (1, 1)
    return input * _C.dropout(_C._full(list(mask_shape), 1, input.dtype, input.device), p, True)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """out (*, D) = weight (num_embeddings, D)[input]; input holds int64 indices in
    [0, num_embeddings) (IndexError otherwise). The row padding_idx gets no gradient."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("[embedding] max_norm, scale_grad_by_freq and sparse are not supported")
    return _C.embedding(input, weight, padding_idx)


def _softmax_dim(ndim):
    warnings.warn("Implicit dimension choice for softmax has been deprecated. "
                  "Change the call to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum exp(x) along dim (stable); dtype casts the input first."""
    if dtype is not None:
        input = input.to(dtype)
    return _C.softmax(input, _softmax_dim(input.dim()) if dim is None else dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - log sum exp(x) along dim (stable); dtype casts the input first."""
    if dtype is not None:
        input = input.to(dtype)
    return _C.log_softmax(input, _softmax_dim(input.dim()) if dim is None else dim)


def relu(input, inplace=False):
    """max(x, 0)."""
    return _C.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x > 0 ? x : negative_slope x."""
    return _C.leaky_relu(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x > 0 ? x : alpha (e^x - 1)."""
    return _C.elu(input, alpha)


def selu(input, inplace=False):
    """scale (x > 0 ? x : alpha (e^x - 1)) with PyTorch's fixed alpha and scale."""
    return _C.selu(input)


def silu(input, inplace=False):
    """x sigmoid(x)."""
    return _C.silu(input)


def mish(input, inplace=False):
    """x tanh(softplus(x))."""
    return _C.mish(input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val); the gradient passes strictly between the bounds."""
    return _C.hardtanh(input, min_val, max_val)

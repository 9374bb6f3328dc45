"""Functional forms of the layer ops whose PyTorch signatures carry arguments the C++ bindings
do not take (``inplace``, ``dim=None``, ``dtype``, embedding's ``max_norm`` family).

``linear``, ``batch_norm``, ``layer_norm`` and ``group_norm`` need no wrapper: ``lamina._C``'s
functions already have torch.nn.functional's signatures.

``inplace=True`` is accepted for compatibility; the result is computed out of place and
returned (use the return value, as PyTorch code does).
"""
import warnings

from lamina import _C

__all__ = ["dropout", "embedding", "softmax", "log_softmax", "relu"]


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: each element is zeroed with probability p (mask from
    ``lamina.manual_seed``'s generator) and the rest scaled by 1 / (1 - p); input itself when
    not training. Raises ValueError for p outside [0, 1]."""
    out = _C.dropout(input, p, training)
    return out if training else input


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

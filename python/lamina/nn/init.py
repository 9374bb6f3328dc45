"""nn.init: in-place initialisers with PyTorch's names, arguments and formulas.

Every function fills its tensor under no_grad from lamina's global generator (lamina.rand,
lamina.randn), so lamina.manual_seed makes initialisation reproducible, and returns the tensor.
Fans follow PyTorch: for a weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and
fan_out = out * prod(kernel). orthogonal_ and trunc_normal_ transform the samples with NumPy
(QR, inverse normal CDF): initialisation, not training math.
"""
import math
import warnings

import numpy as np

from lamina import _C
from lamina._creation import rand, randn
from lamina.autograd import no_grad

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_"]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh,
    sqrt(2) for relu, sqrt(2 / (1 + negative_slope^2)) for leaky_relu (slope param, default
    0.01), 3/4 for selu."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field_size = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field_size, tensor.shape[0] * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check_floating(tensor, fn):
    if not isinstance(tensor, _C.Tensor):
        raise TypeError(f"[{fn}] expected a lamina.Tensor, got {type(tensor).__name__}")
    if not tensor.is_floating_point():
        raise TypeError(f"[{fn}] needs a floating-point tensor, got {tensor.dtype}")


def uniform_(tensor, a=0.0, b=1.0):
    """Fills tensor with samples from U(a, b)."""
    _check_floating(tensor, "uniform_")
    with no_grad():
        return tensor.copy_(rand(tensor.shape, dtype=tensor.dtype) * (b - a) + a)


def normal_(tensor, mean=0.0, std=1.0):
    """Fills tensor with samples from N(mean, std^2)."""
    _check_floating(tensor, "normal_")
    with no_grad():
        return tensor.copy_(randn(tensor.shape, dtype=tensor.dtype) * std + mean)


def _norm_ppf(p):
    """The standard normal quantile Phi^-1(p) for p in (0, 1), elementwise (P. J. Acklam's
    rational approximation, relative error below 1.2e-9)."""
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
         -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
         -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
         4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)

    def tail(q):  # the lower tail, q = sqrt(-2 log p)
        num = ((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]
        return num / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)

    p = np.asarray(p, dtype=np.float64)
    out = np.empty_like(p)
    low, high = p < 0.02425, p > 1 - 0.02425
    mid = ~(low | high)
    q = p[mid] - 0.5
    r = q * q
    out[mid] = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1))
    out[low] = tail(np.sqrt(-2 * np.log(p[low])))
    out[high] = -tail(np.sqrt(-2 * np.log1p(-p[high])))
    return out


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Fills tensor with samples from N(mean, std^2) truncated to [a, b] (a and b are absolute
    bounds, not multiples of std), by the inverse CDF in float64: with alpha = (a - mean) / std
    and beta = (b - mean) / std, x = mean + std * Phi^-1(u), u ~ U(Phi(alpha), Phi(beta)),
    clamped to [a, b]. An interval above the mean is sampled as the mirror image of the one
    below it, where Phi is small and precise, so any interval, even far in a tail, is exact."""
    _check_floating(tensor, "trunc_normal_")
    alpha, beta = (a - mean) / std, (b - mean) / std
    mirrored = alpha > -beta
    if mirrored:
        alpha, beta = -beta, -alpha
    lo, hi = (math.erfc(-x / math.sqrt(2.0)) / 2.0 for x in (alpha, beta))
    u = rand(tensor.shape, dtype=_C.dtype.float64).numpy()
    p = np.clip(lo + (hi - lo) * u, np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0))
    z = _norm_ppf(p)
    values = np.clip(mean + std * (-z if mirrored else z), a, b)
    with no_grad():
        return tensor.copy_(_C.from_numpy(values))


def constant_(tensor, val):
    """Fills tensor with val."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def xavier_uniform_(tensor, gain=1.0):
    """Glorot uniform: U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity):
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan), gain =
    calculate_gain(nonlinearity, a) and fan the fan_in or fan_out (mode). nn.Linear's default
    is kaiming_uniform_(w, a=sqrt(5)), i.e. bound = 1 / sqrt(fan_in)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """He normal: N(0, std^2) with std = gain / sqrt(fan) (gain and fan as kaiming_uniform_)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


def orthogonal_(tensor, gain=1):
    """A (semi-)orthogonal matrix times gain: tensor viewed as (rows, cols) with rows =
    shape[0] gets Q from the QR decomposition of a standard normal matrix, the signs of Q's
    columns fixed by diag(R) so that Q is uniform (Haar). Q^T Q = I when rows >= cols, else
    Q Q^T = I."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flattened = randn(rows, cols, dtype=_C.dtype.float64).numpy()
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    with no_grad():
        return tensor.copy_(_C.from_numpy(np.ascontiguousarray(q * gain).reshape(tensor.shape)))

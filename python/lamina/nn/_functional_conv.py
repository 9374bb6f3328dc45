"""Functional forms of convolution, pooling, interpolation and padding, with
torch.nn.functional's signatures. Each is one call into ``lamina._C`` (one autograd node); the
wrappers only add what the bindings leave to Python: the ``*_with_indices`` forms, interpolate's
argument rules, pad's default value.

``conv1d``, ``conv2d``, ``conv_transpose1d``, ``conv_transpose2d``, the max and average pools
and the adaptive pools are ``lamina._C``'s functions, which already have PyTorch's signatures.
"""
import math

from lamina import _C

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
           "max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices", "interpolate", "pad"]

conv1d = _C.conv1d
conv2d = _C.conv2d
conv_transpose1d = _C.conv_transpose1d
conv_transpose2d = _C.conv_transpose2d
avg_pool1d = _C.avg_pool1d
avg_pool2d = _C.avg_pool2d
adaptive_avg_pool1d = _C.adaptive_avg_pool1d
adaptive_avg_pool2d = _C.adaptive_avg_pool2d
max_pool1d = _C.max_pool1d
max_pool2d = _C.max_pool2d
adaptive_max_pool2d = _C.adaptive_max_pool2d


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """max_pool1d's (values, int64 index of each maximum along L), as for max_unpool1d."""
    return _C.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """max_pool2d's (values, int64 index h W + w of each maximum in its plane)."""
    return _C.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool2d_with_indices(input, output_size):
    """adaptive_max_pool2d's (values, int64 index h W + w of each maximum in its plane)."""
    return _C.adaptive_max_pool2d(input, output_size, True)


def _ntuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resamples the spatial dims of (N, C, L) or (N, C, H, W) to ``size`` or to
    floor(input size * scale_factor).

    mode 'nearest': out[i] = in[floor(i * in_size / out_size)] (1 / scale_factor when given).
    mode 'linear' (3-d) / 'bilinear' (4-d): linear mixing of the two nearest inputs along each
    axis at src = (i + 0.5) * in_size / out_size - 0.5 (clamped at 0), or with align_corners
    src = i * (in_size - 1) / (out_size - 1), which keeps the corner pixels.
    recompute_scale_factor=True computes the output size first and then uses its exact ratio.
    """
    if antialias:
        raise NotImplementedError("[interpolate] antialias=True is not supported")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if scale_factor is not None and recompute_scale_factor:
        spatial = input.dim() - 2
        factors = _ntuple(scale_factor, spatial)
        size = [math.floor(float(input.shape[i + 2]) * float(factors[i])) for i in range(spatial)]
        scale_factor = None
    return _C.interpolate(input, size, scale_factor, mode, bool(align_corners))


def pad(input, pad, mode="constant", value=None):
    """Pads the last dim by pad = (left, right), or the last two by (left, right, top, bottom).

    mode 'constant' fills ``value`` (0 by default; negative pads crop), 'reflect' mirrors about
    the edge element (pad < size), 'replicate' repeats the edge element, 'circular' wraps
    around (pad <= size). The gradient sums each output element back onto its source."""
    if value is not None and mode != "constant":
        raise ValueError(f"[pad] padding mode '{mode}' doesn't take in value argument")
    return _C.pad(input, list(pad), mode, value)

"""Resampling and padding modules: Upsample (nearest, linear, bilinear) and the padding layers
(ZeroPad1d/2d, ConstantPad1d/2d, ReflectionPad1d/2d, ReplicationPad1d/2d, CircularPad1d/2d).
No parameters; each forward is one C++ op. Arguments, attributes and repr are PyTorch's.
"""
from lamina.nn import _functional_conv as F
from lamina.nn.module import Module

__all__ = ["Upsample", "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d",
           "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d"]


class Upsample(Module):
    """Resamples (N, C, L) or (N, C, H, W) to ``size`` or to floor(size * scale_factor) with
    ``interpolate`` (mode 'nearest', 'linear' or 'bilinear'; align_corners for the linear modes)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class _PadNd(Module):
    """Pads the last 1 (...1d) or 2 (...2d) dims by padding = (left, right[, top, bottom]); an int
    pads every side by the same amount."""

    def __init__(self, padding):
        super().__init__()
        n = 2 * self._spatial_dims
        self.padding = tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * n
        if len(self.padding) != n:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a {n}-tuple, got {padding}")

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim by (left, right) with ``value``."""
    _spatial_dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dims by (left, right, top, bottom) with ``value``."""
    _spatial_dims = 2


class ZeroPad1d(ConstantPad1d):
    """Pads the last dim by (left, right) with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pads the last two dims by (left, right, top, bottom) with zeros: ZeroPad2d(1) adds a one
    pixel zero border; negative values crop."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pads the last dim by mirroring about the edge element (padding < size)."""
    _spatial_dims = 1
    mode = "reflect"


class ReflectionPad2d(_PadNd):
    """Pads the last two dims by mirroring about the edge elements (padding < size)."""
    _spatial_dims = 2
    mode = "reflect"


class ReplicationPad1d(_PadNd):
    """Pads the last dim by repeating the edge element."""
    _spatial_dims = 1
    mode = "replicate"


class ReplicationPad2d(_PadNd):
    """Pads the last two dims by repeating the edge elements."""
    _spatial_dims = 2
    mode = "replicate"


class CircularPad1d(_PadNd):
    """Pads the last dim by wrapping around (padding <= size)."""
    _spatial_dims = 1
    mode = "circular"


class CircularPad2d(_PadNd):
    """Pads the last two dims by wrapping around (padding <= size)."""
    _spatial_dims = 2
    mode = "circular"

"""Pooling modules: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, AdaptiveMaxPool2d. No
parameters; each forward is one C++ op (one autograd node). Constructor arguments, attributes
and repr are PyTorch's; inputs are (N, C, H, W) or (C, H, W) (1-d: (N, C, L) or (C, L)).
"""
from lamina.nn import _functional_conv as F
from lamina.nn.module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool2d"]


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return self._pool(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                          return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """out[n, c, l] = max_{k < kernel_size} input[n, c, l stride - padding + k dilation] (padding
    never wins); L_out = floor or ceil ((L + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1.
    return_indices also returns the int64 position of each maximum."""
    _pool = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max over kernel_size windows (stride defaults to kernel_size; padding counts as -inf;
    dilation spaces the window's taps); H_out = floor or ceil (ceil_mode)
    ((H + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1. return_indices also returns
    the int64 index h W + w of each maximum in its plane."""
    _pool = staticmethod(F.max_pool2d)


class AvgPool1d(Module):
    """Mean over windows of kernel_size along L; count_include_pad counts the zero padding in the
    divisor. L_out as MaxPool1d's with dilation 1."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over kernel_size windows: the window sum divided by its size (count_include_pad: the
    zero padding counts), or by divisor_override when given."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePoolNd(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """Mean over [floor(i L / L_out), ceil((i + 1) L / L_out)) for each output i."""

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """Mean over [floor(i H / OH), ceil((i + 1) H / OH)) x (the same along W) for each output
    (i, j); output_size is an int, a pair, or a pair with None (keep that input size).
    AdaptiveAvgPool2d(1) is global average pooling."""

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveMaxPool2d(_AdaptivePoolNd):
    """Max over the adaptive windows of AdaptiveAvgPool2d; return_indices also returns the int64
    index h W + w of each maximum."""

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


def _single(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)

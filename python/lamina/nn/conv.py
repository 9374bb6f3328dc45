"""Convolution modules: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d. Each is a short class
over one fused C++ op (``lamina._C.conv2d`` ...); constructor arguments, attributes, parameter
names and shapes, initialisation and repr are PyTorch's. Random initialisation draws from
lamina's generator, so ``lamina.manual_seed`` reproduces a model.

Weights: conv (out_channels, in_channels / groups, *kernel_size); transposed conv
(in_channels, out_channels / groups, *kernel_size). Both start as U(-k, k) with
k = 1 / sqrt(weight.shape[1] * prod(kernel_size)) (PyTorch's kaiming_uniform_(a=sqrt(5))), and
the bias with the same bound.
"""
import math

from lamina._creation import empty
from lamina.nn import _functional_conv as F
from lamina.nn import init
from lamina.nn.module import Module
from lamina.nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, n):
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,) * n


class _ConvNd(Module):
    """What the four convolution modules share: arguments, checks, parameters, repr."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed, output_padding,
                 groups, bias, padding_mode, device=None, dtype=None):
        super().__init__()
        n = self._spatial_dims
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got padding_mode='{padding_mode}'")
        kernel_size, stride, dilation = _ntuple(kernel_size, n), _ntuple(stride, n), _ntuple(dilation, n)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _ntuple(padding, n)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = _ntuple(output_padding, n)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's argument for the non-zeros padding modes: (left, right) per dim, last dim first.
        if padding == "valid":
            self._reversed_padding_repeated_twice = [0, 0] * n
        elif padding == "same":
            self._reversed_padding_repeated_twice = [0, 0] * n
            for i, (d, k) in enumerate(zip(reversed(dilation), reversed(kernel_size))):
                total = d * (k - 1)
                self._reversed_padding_repeated_twice[2 * i:2 * i + 2] = [total // 2, total - total // 2]
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(padding) for _ in range(2)]
        if transposed:
            shape = (in_channels, out_channels // groups, *kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *kernel_size)
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _ConvForward(_ConvNd):
    """Conv1d and Conv2d: zeros padding inside the op; the other modes pad explicitly first."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups, bias,
                         padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return self._conv(input, weight, bias, self.stride, 0, self.dilation, self.groups)
        return self._conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_ConvForward):
    """1-d convolution over (N, C_in, L) or (C_in, L) -> (N, C_out, L_out),
    L_out = floor((L + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1.

    out[n, o] = bias[o] + sum_{c in group(o)} weight[o, c] (cross-correlation) input[n, c].
    padding: int, tuple, 'valid' or 'same'; padding_mode 'zeros', 'reflect', 'replicate' or
    'circular'; groups splits the channels into independent convolutions.
    """
    _spatial_dims = 1
    _conv = staticmethod(F.conv1d)


class Conv2d(_ConvForward):
    """2-d convolution over (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out),
    H_out = floor((H + 2 padding[0] - dilation[0] (kernel_size[0] - 1) - 1) / stride[0]) + 1.

    out[n, o] = bias[o] + sum_{c in group(o)} weight[o, c] (cross-correlation) input[n, c].
    padding: int, tuple, 'valid' or 'same'; padding_mode 'zeros', 'reflect', 'replicate' or
    'circular'; groups splits the channels into independent convolutions (groups = in_channels:
    depthwise).
    """
    _spatial_dims = 2
    _conv = staticmethod(F.conv2d)


class _ConvTransposeNd(_ConvNd):
    """ConvTranspose1d and ConvTranspose2d: the adjoint of the convolution in its input (the
    gradient of conv with respect to its input, as a layer), used to upsample."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True, output_padding,
                         groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """output_padding, or the one that gives output_size (which may include N and C)."""
        if output_size is None:
            return self.output_padding
        n = self._spatial_dims
        non_spatial = 2 if input.dim() == n + 2 else 1
        output_size = list(output_size)
        if len(output_size) == non_spatial + n:
            output_size = output_size[non_spatial:]
        if len(output_size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.dim()}D input, output_size must have {n} or "
                             f"{non_spatial + n} elements (got {len(output_size)})")
        min_sizes = [(input.shape[d + non_spatial] - 1) * self.stride[d] - 2 * self.padding[d]
                     + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        max_sizes = [m + s - 1 for m, s in zip(min_sizes, self.stride)]
        for size, lo, hi in zip(output_size, min_sizes, max_sizes):
            if size < lo or size > hi:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from {min_sizes} "
                                 f"to {max_sizes} (for an input of {tuple(input.shape[non_spatial:])})")
        return tuple(size - lo for size, lo in zip(output_size, min_sizes))

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return self._conv(input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
                          self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-d convolution over (N, C_in, L) or (C_in, L) -> (N, C_out, L_out),
    L_out = (L - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1.
    weight (in_channels, out_channels / groups, kernel_size). forward(input, output_size=None)
    picks output_padding from output_size when given."""
    _spatial_dims = 1
    _conv = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-d convolution over (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out),
    H_out = (H - 1) stride[0] - 2 padding[0] + dilation[0] (kernel_size[0] - 1) + output_padding[0] + 1.
    weight (in_channels, out_channels / groups, kH, kW). forward(input, output_size=None) picks
    output_padding from output_size when given."""
    _spatial_dims = 2
    _conv = staticmethod(F.conv_transpose2d)

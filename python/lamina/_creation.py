"""Tensor factories with PyTorch's signatures: sizes as ``zeros(2, 3)`` or ``zeros((2, 3))``,
``dtype``, ``device`` and ``requires_grad`` keywords. Random ones draw from the one generator
seeded by ``lamina.manual_seed``."""
import builtins

import numpy as np

from lamina import _C

_NUMPY_DTYPES = {
    _C.dtype.float32: np.float32,
    _C.dtype.float64: np.float64,
    _C.dtype.int64: np.int64,
    _C.dtype.bool: np.bool_,
}


def _size(size, name):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, builtins.bool) or not hasattr(s, "__index__"):
            raise TypeError(f"[{name}] sizes must be integers, got {type(s).__name__}")
    return [s.__index__() for s in size]


def _count(n, arg, name):
    """An integer argument (a size or a count); TypeError naming the factory otherwise."""
    if isinstance(n, builtins.bool) or not hasattr(n, "__index__"):
        raise TypeError(f"[{name}] {arg} must be an integer, got {type(n).__name__}")
    return n.__index__()


def _dtype(dtype, name, default=None):
    """dtype, or default when None; TypeError naming the factory for anything but a lamina dtype."""
    if dtype is None:
        return default
    if not isinstance(dtype, _C.dtype):
        raise TypeError(f"[{name}] dtype must be a lamina dtype (lamina.float32, float64, int64 or bool), "
                        f"got {dtype!r}")
    return dtype


def _device(device):
    return _C.device("cpu") if device is None else _C.device(str(device))


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def _numpy_dtype_of(data):
    """The lamina dtype that torch.tensor would infer: bools, int64, float32 for Python floats,
    and an array's own float32/float64."""
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        kind = data.dtype.kind
        if kind == "b":
            return _C.dtype.bool
        if kind in "iu":
            return _C.dtype.int64
        if kind == "f":
            return _C.dtype.float64 if data.dtype.itemsize == 8 else _C.dtype.float32
        raise TypeError(f"[tensor] can't convert an array of dtype {data.dtype} to a tensor")
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as e:
        raise type(e)(f"[tensor] can't convert data to a tensor: {e}") from None
    if arr.dtype == object:
        raise TypeError("[tensor] data must be a number, a (nested) sequence of numbers of equal lengths, "
                        "an array or a tensor")
    kind = arr.dtype.kind
    if kind == "b":
        return _C.dtype.bool
    if kind in "iu":
        return _C.dtype.int64
    if kind == "f":
        return _C.dtype.float32
    raise TypeError(f"[tensor] can't convert data of type {arr.dtype} to a tensor")


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of data (a number, nested lists, a NumPy array or a tensor).

    Python floats give float32, ints int64, bools bool; NumPy arrays keep float64 and float32.
    """
    if isinstance(data, _C.Tensor):
        data = data.detach().cpu().numpy()
    elif isinstance(data, (list, tuple)) and any(isinstance(x, _C.Tensor) for x in data):
        data = [x.detach().cpu().numpy() if isinstance(x, _C.Tensor) else x for x in data]
    dtype = _dtype(dtype, "tensor") or _numpy_dtype_of(data)
    try:
        arr = np.array(data, dtype=_NUMPY_DTYPES[dtype], order="C", copy=True)
    except (ValueError, TypeError) as e:
        raise type(e)(f"[tensor] can't convert data to a tensor: {e}") from None
    t = _C.from_numpy(arr)
    if device is not None and _device(device) != _C.device("cpu"):
        t = t.to(device)
    return _finish(t, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like tensor, but a tensor of the right dtype and device is returned as it is."""
    if isinstance(data, _C.Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    return tensor(data, dtype=dtype, device=device)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of the given size."""
    return _finish(_C._empty(_size(size, "empty"), _dtype(dtype, "empty", _C.dtype.float32), _device(device)),
                   requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros."""
    return _finish(_C._zeros(_size(size, "zeros"), _dtype(dtype, "zeros", _C.dtype.float32), _device(device)),
                   requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones."""
    return _finish(_C._ones(_size(size, "ones"), _dtype(dtype, "ones", _C.dtype.float32), _device(device)),
                   requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor filled with fill_value (its dtype inferred from the value when dtype is None)."""
    if dtype is None and isinstance(fill_value, builtins.bool):
        dtype = _C.dtype.bool
    return _finish(_C._full(_size((size,), "full"), fill_value, _dtype(dtype, "full"), _device(device)), requires_grad)


def arange(start=0, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from start to end (exclusive) by step; int64 when all three are integers."""
    if end is None:
        start, end = 0, start
    t = _C._arange(start, end, step, _dtype(dtype, "arange"))
    return _finish(t if device is None else t.to(device), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """steps values evenly spaced from start to end (both included)."""
    t = _C._linspace(float(start), float(end), _count(steps, "steps", "linspace"), _dtype(dtype, "linspace", _C.dtype.float32))
    return _finish(t if device is None else t.to(device), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """An n x m identity matrix (m defaults to n)."""
    n = _count(n, "n", "eye")
    t = _C._eye(n, n if m is None else _count(m, "m", "eye"), _dtype(dtype, "eye", _C.dtype.float32))
    return _finish(t if device is None else t.to(device), requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform samples from [0, 1)."""
    t = _C._rand(_size(size, "rand"), _dtype(dtype, "rand", _C.dtype.float32))
    return _finish(t if device is None else t.to(device), requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    t = _C._randn(_size(size, "randn"), _dtype(dtype, "randn", _C.dtype.float32))
    return _finish(t if device is None else t.to(device), requires_grad)


def randint(*args, size=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform in [low, high): randint(high, size) or randint(low, high, size)."""
    if size is None:
        if not args:
            raise TypeError("[randint] missing the size argument")
        *args, size = args
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError("[randint] expected randint(high, size) or randint(low, high, size)")
    t = _C._randint(_count(low, "low", "randint"), _count(high, "high", "randint"), _size((size,), "randint"),
                    _dtype(dtype, "randint", _C.dtype.int64))
    return _finish(t if device is None else t.to(device), requires_grad)


def _like(input, dtype, device):
    return dict(dtype=dtype or input.dtype, device=device or input.device)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    return empty(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    return zeros(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))


def ones_like(input, dtype=None, device=None, requires_grad=False):
    return ones(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, requires_grad=requires_grad, **_like(input, dtype, device))


def rand_like(input, dtype=None, device=None, requires_grad=False):
    return rand(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))


def randn_like(input, dtype=None, device=None, requires_grad=False):
    return randn(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))


def randint_like(input, low=0, high=None, dtype=None, device=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, requires_grad=requires_grad, **_like(input, dtype, device))

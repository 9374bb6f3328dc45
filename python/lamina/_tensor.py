"""Tensor's Python-side methods: printing like PyTorch, conversions (to, cpu, float, ...),
item/tolist/NumPy protocol, backward, and small conveniences built from the C++ ops."""
import builtins
import math

import numpy as np

from lamina import _C
from lamina._creation import _NUMPY_DTYPES, zeros, ones, full, empty, tensor

Tensor = _C.Tensor


# ---------------------------------------------------------------- printing, as PyTorch prints
# A port of torch/_tensor_str.py (default print options) to NumPy arrays, so that the two reprs
# are equal character for character.
_PRECISION, _THRESHOLD, _EDGEITEMS, _LINEWIDTH = 4, 1000, 3, 80


class _Formatter:
    """One width for every element; floats in integer mode ("2."), fixed ("2.5000") or scientific
    ("2.5000e+03") notation, chosen from the nonzero finite values."""

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        if not self.floating:
            for v in values.tolist():
                self.max_width = builtins.max(self.max_width, len(f"{v}"))
            return
        vals = values[np.isfinite(values) & (values != 0)]
        if vals.size == 0:
            return
        absolute = np.abs(vals.astype(np.float64))
        lo, hi = absolute.min(), absolute.max()
        self.int_mode = builtins.bool(np.all(vals == np.ceil(vals)))
        self.sci_mode = builtins.bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
        for v in vals.tolist():
            if self.sci_mode:
                text = f"{v:.{_PRECISION}e}"
            elif self.int_mode:
                text = f"{v:.0f}."
            else:
                text = f"{v:.{_PRECISION}f}"
            self.max_width = builtins.max(self.max_width, len(text))

    def format(self, v):
        if not self.floating:
            text = f"{v}"
        elif self.sci_mode:
            text = f"{v:{self.max_width}.{_PRECISION}e}"
        elif self.int_mode:
            text = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
        else:
            text = f"{v:.{_PRECISION}f}"
        return (self.max_width - len(text)) * " " + text


def _summarized(arr):
    """The edge items that a summarized print shows (what the formatter is fitted to)."""
    if arr.ndim == 0:
        return arr
    if arr.shape[0] > 2 * _EDGEITEMS:
        arr = np.concatenate([arr[:_EDGEITEMS], arr[-_EDGEITEMS:]])
    if arr.ndim == 1:
        return arr
    return np.stack([_summarized(a) for a in arr])


def _vector_str(arr, indent, summarize, fmt):
    per_line = builtins.max(1, math.floor((_LINEWIDTH - indent) / (fmt.max_width + 2)))
    if summarize and arr.shape[0] > 2 * _EDGEITEMS:
        data = ([fmt.format(v) for v in arr[:_EDGEITEMS].tolist()] + [" ..."]
                + [fmt.format(v) for v in arr[-_EDGEITEMS:].tolist()])
    else:
        data = [fmt.format(v) for v in arr.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _array_str(arr, indent, summarize, fmt):
    if arr.ndim == 0:
        return fmt.format(arr.item())
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, fmt)
    rows = range(arr.shape[0])
    if summarize and arr.shape[0] > 2 * _EDGEITEMS:
        rows = list(range(_EDGEITEMS)) + [None] + list(range(arr.shape[0] - _EDGEITEMS, arr.shape[0]))
    slices = ["..." if i is None else _array_str(arr[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _add_suffixes(text, suffixes, indent):
    parts, last_line_len = [text], len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    return "".join(parts) + ")"


def _repr(self):
    prefix = "tensor("
    indent = len(prefix)
    t = self.detach().cpu() if self.device.type != "cpu" else self.detach()
    arr = t.numpy()
    suffixes = []
    if self.device.type != "cpu":
        suffixes.append(f"device='{self.device}'")
    if arr.size == 0:
        body = "[]"
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(self.shape)}")
        if self.dtype != _C.dtype.float32:
            suffixes.append(f"dtype={self.dtype!r}")
    else:
        summarize = arr.size > _THRESHOLD
        fmt = _Formatter((_summarized(arr) if summarize else arr).reshape(-1))
        body = _array_str(arr, indent, summarize, fmt)
        if self.dtype not in (_C.dtype.float32, _C.dtype.int64, _C.dtype.bool):
            suffixes.append(f"dtype={self.dtype!r}")
    if self.grad_fn is not None:
        suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
    elif self.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


# ---------------------------------------------------------------- conversions
def _to(self, *args, **kwargs):
    """to(dtype), to(device), to(device, dtype), to(other_tensor); keywords dtype=, device=."""
    dtype, device = kwargs.pop("dtype", None), kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"[to] unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, _C.dtype):
            dtype = a
        elif isinstance(a, (str, _C.device)):
            device = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif a is not None:
            raise TypeError(f"[to] expected a dtype, a device or a tensor, got {type(a).__name__}")
    out = self  # the tensor itself when it already has the dtype and device, as in PyTorch
    if device is not None and _C.device(str(device)) != out.device:
        out = out._to_device(_C.device(str(device)))
    if dtype is not None and dtype != out.dtype:
        out = out._to_dtype(dtype)
    return out


def _item(self):
    if self.numel() != 1:
        raise ValueError(f"[item] a tensor with {self.numel()} elements cannot be converted to a Python number")
    return self.detach().cpu().numpy().reshape(-1)[0].item()


def _tolist(self):
    return self.detach().cpu().numpy().tolist()


def _array(self, dtype=None, copy=None):
    arr = self.detach().cpu().numpy()
    return arr.astype(dtype) if dtype is not None else arr


def _bool(self):
    if self.numel() != 1:
        raise ValueError(f"[bool] the truth value of a tensor with {self.numel()} elements is ambiguous; "
                         "use .any() or .all()")
    return builtins.bool(self.item())


def _index(self):
    if self.dtype not in (_C.dtype.int64, _C.dtype.bool) or self.numel() != 1:
        raise TypeError("[index] only integer tensors of a single element can be converted to an index")
    return int(self.item())


def _iter(self):
    if self.dim() == 0:
        raise TypeError("[iter] iteration over a 0-d tensor")
    return (self[i] for i in range(self.shape[0]))


def _backward(self, gradient=None, retain_graph=None, create_graph=False):
    """Computes the gradient of this tensor with respect to the leaves that require grad,
    accumulating it into their .grad. A non-scalar tensor needs ``gradient`` (same shape)."""
    if create_graph:
        raise NotImplementedError("[backward] create_graph=True (higher-order gradients) is not supported by lamina")
    self._backward(gradient, builtins.bool(retain_graph))


def _deepcopy(self, memo):
    out = self.detach().clone()
    if self.requires_grad and self.is_leaf:
        out.requires_grad_(True)
    memo[id(self)] = out
    return out


def _where(self, condition, other):
    return _C.where(condition, self, other)


_methods = {
    "__repr__": _repr,
    "__str__": _repr,
    "to": _to,
    "cpu": lambda self: self.to("cpu"),
    "cuda": lambda self, device=None: self._to_device(_C.device("cuda" if device is None else (
        f"cuda:{device}" if isinstance(device, int) else str(device)))),
    "float": lambda self: self.to(_C.dtype.float32),
    "double": lambda self: self.to(_C.dtype.float64),
    "long": lambda self: self.to(_C.dtype.int64),
    "int": lambda self: self.to(_C.dtype.int64),
    "bool": lambda self: self.to(_C.dtype.bool),
    "type_as": lambda self, other: self.to(other.dtype),
    "item": _item,
    "tolist": _tolist,
    "__array__": _array,
    "__bool__": _bool,
    "__float__": lambda self: builtins.float(self.item()),
    "__int__": lambda self: builtins.int(self.item()),
    "__index__": _index,
    "__iter__": _iter,
    "__deepcopy__": _deepcopy,
    "backward": _backward,
    "where": _where,
    "expand_as": lambda self, other: self.expand(other.shape),
    "view_as": lambda self, other: self.view(other.shape),
    "reshape_as": lambda self, other: self.reshape(other.shape),
    "new_zeros": lambda self, *size, dtype=None, requires_grad=False: zeros(
        *size, dtype=dtype or self.dtype, device=self.device, requires_grad=requires_grad),
    "new_ones": lambda self, *size, dtype=None, requires_grad=False: ones(
        *size, dtype=dtype or self.dtype, device=self.device, requires_grad=requires_grad),
    "new_empty": lambda self, *size, dtype=None, requires_grad=False: empty(
        *size, dtype=dtype or self.dtype, device=self.device, requires_grad=requires_grad),
    "new_full": lambda self, size, fill_value, dtype=None, requires_grad=False: full(
        size, fill_value, dtype=dtype or self.dtype, device=self.device, requires_grad=requires_grad),
    "new_tensor": lambda self, data, dtype=None, requires_grad=False: tensor(
        data, dtype=dtype or self.dtype, device=self.device, requires_grad=requires_grad),
}
for _name, _fn in _methods.items():
    setattr(Tensor, _name, _fn)

Tensor.T = property(lambda self: self.permute(*reversed(range(self.dim()))), doc="The dims reversed.")
Tensor.mT = property(lambda self: self.transpose(-2, -1), doc="The last two dims swapped.")
Tensor.data = property(lambda self: self.detach(), lambda self, value: self._set_data(value),
                       doc="This tensor's data without history (shares storage); assigning replaces the data "
                           "and keeps the tensor's identity (requires_grad, grad, the Python object).")
Tensor.__module__ = "lamina"

del _NUMPY_DTYPES

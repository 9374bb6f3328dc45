"""Tensor's Python-side methods: printing like PyTorch, conversions (to, cpu, float, ...),
item/tolist/NumPy protocol, backward, and small conveniences built from the C++ ops."""
import builtins

import numpy as np

from lamina import _C
from lamina._creation import _NUMPY_DTYPES, zeros, ones, full, empty, tensor

Tensor = _C.Tensor


# ---------------------------------------------------------------- printing, as PyTorch prints
def _float_formatter(values):
    """A function formatting each float of `values` the way PyTorch's repr does."""
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0:
        return lambda v: f"{v}"
    nonzero = finite[finite != 0]
    if np.all(finite == np.round(finite)) and (finite.size == 0 or finite.max() < 1e8):
        return lambda v: f"{v:.0f}." if np.isfinite(v) else f"{v}"
    sci = nonzero.size > 0 and (nonzero.max() / nonzero.min() > 1000.0 or nonzero.max() > 1e8 or nonzero.min() < 1e-4)
    if sci:
        return lambda v: f"{v:.4e}" if np.isfinite(v) else f"{v}"
    return lambda v: f"{v:.4f}" if np.isfinite(v) else f"{v}"


def _format_array(arr, indent, summarize):
    if arr.dtype == np.bool_:
        fmt = lambda v: "True" if v else "False"  # noqa: E731
    elif arr.dtype.kind in "iu":
        fmt = lambda v: f"{v}"  # noqa: E731
    else:
        fmt = _float_formatter(arr.astype(np.float64).ravel())
    width = builtins.max((len(fmt(v)) for v in arr.ravel()), default=1)

    def rec(a, depth):
        if a.ndim == 0:
            return fmt(a.item()).rjust(width)
        items = list(range(a.shape[0]))
        if summarize and a.shape[0] > 6:
            items = items[:3] + [None] + items[-3:]
        if a.ndim == 1:
            return "[" + ", ".join("..." if i is None else fmt(a[i].item()).rjust(width) for i in items) + "]"
        sep = "," + "\n" * (a.ndim - 1) + " " * (indent + depth + 1)
        return "[" + sep.join("..." if i is None else rec(a[i], depth + 1) for i in items) + "]"

    return rec(arr, 0)


def _repr(self):
    prefix = "tensor("
    t = self.detach().cpu() if self.device.type != "cpu" else self.detach()
    arr = t.numpy()
    if arr.size == 0:
        body = "[]"
    else:
        body = _format_array(arr, len(prefix), arr.size > 1000)
    suffixes = []
    if arr.size == 0 and arr.ndim != 1:
        suffixes.append(f"size={tuple(self.shape)}")
    if self.device.type != "cpu":
        suffixes.append(f"device='{self.device}'")
    if self.dtype not in (_C.dtype.float32, _C.dtype.int64, _C.dtype.bool):
        suffixes.append(f"dtype={self.dtype!r}")
    if self.grad_fn is not None:
        suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
    elif self.requires_grad:
        suffixes.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffixes) + ")"


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
    out = self
    if device is not None:
        out = out._to_device(_C.device(str(device)))
    if dtype is not None:
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
    "cpu": lambda self: self._to_device(_C.device("cpu")),
    "cuda": lambda self, device=None: self._to_device(_C.device("cuda" if device is None else (
        f"cuda:{device}" if isinstance(device, int) else str(device)))),
    "float": lambda self: self._to_dtype(_C.dtype.float32),
    "double": lambda self: self._to_dtype(_C.dtype.float64),
    "long": lambda self: self._to_dtype(_C.dtype.int64),
    "int": lambda self: self._to_dtype(_C.dtype.int64),
    "bool": lambda self: self._to_dtype(_C.dtype.bool),
    "type_as": lambda self, other: self._to_dtype(other.dtype),
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
Tensor.data = property(lambda self: self.detach(), doc="This tensor's data without history (shares storage).")
Tensor.__module__ = "lamina"

del _NUMPY_DTYPES

"""Grad mode: whether ops record history for backward (thread-local, as in PyTorch).

``no_grad``, ``enable_grad`` and ``set_grad_enabled`` work as context managers and as
decorators.
"""
import functools

from lamina import _C

is_grad_enabled = _C.is_grad_enabled


class _GradMode:
    """Sets grad mode on entry and restores the previous mode on exit."""

    _enabled = True

    def __enter__(self):
        self._prev = _C.is_grad_enabled()
        _C._set_grad_enabled(self._enabled)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class _BareDecoratorMode(_GradMode):
    """A grad mode that also decorates without parentheses: ``@no_grad`` as ``@no_grad()``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"[{cls.__name__}] takes no arguments, got {type(orig_func).__name__}")
        return cls()(orig_func)


class no_grad(_BareDecoratorMode):
    """Ops inside run without recording history: ``with lamina.no_grad(): ...``."""

    _enabled = False


class enable_grad(_BareDecoratorMode):
    """Turns history recording back on inside a ``no_grad`` block."""

    _enabled = True


class set_grad_enabled(_GradMode):
    """Sets grad mode to ``mode``; takes effect at once, and as a context manager restores it."""

    def __init__(self, mode):
        self._prev = _C.is_grad_enabled()
        self._enabled = bool(mode)
        _C._set_grad_enabled(self._enabled)

    def __enter__(self):
        pass

    def __call__(self, fn):
        _C._set_grad_enabled(self._prev)  # as a decorator, it applies only inside fn
        mode = self._enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


def backward(tensors, grad_tensors=None, retain_graph=None):
    """Runs backward from one tensor or a list of tensors (see Tensor.backward)."""
    if not isinstance(tensors, (list, tuple)):
        tensors = [tensors]
    if grad_tensors is None or not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors] * len(tensors)
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        t.backward(g, retain_graph=True if i < len(tensors) - 1 else retain_graph)

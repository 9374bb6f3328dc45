"""nn.Parameter: a Tensor that a Module registers as a learnable parameter when it is assigned
as an attribute. Parameter(data) is a new leaf over data's storage (no copy); it requires grad
by default and prints as "Parameter containing:\\ntensor(...)", as in PyTorch."""
from lamina import _C
from lamina._creation import empty


class Parameter(_C.Tensor):
    """A tensor that is a module parameter: ``Parameter(data=None, requires_grad=True)``.

    It shares data's storage, has no history (a leaf), and is a ``lamina.Tensor``, so every op
    accepts it. Ops on a parameter return plain tensors.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, _C.Tensor):
            raise TypeError(f"[Parameter] data must be a lamina.Tensor, got {type(data).__name__}")
        super().__init__(data)
        self.requires_grad_(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.detach().clone(), self.requires_grad)
        if self.grad is not None:
            result.grad = self.grad.clone()
        memo[id(self)] = result
        return result


"""Module.summary: runs one forward pass on zeros of the given input size, with forward hooks on
every submodule, and tabulates each layer (a module without children, or one with parameters of
its own) in call order: name, type, output shape, parameters, FLOPs per sample and activation
memory per sample; then the totals.

FLOPs count 2 x multiply-adds of the matrix products: Linear 2 * in_features * out_features per
output row; Conv 2 * (C_in / groups) * prod(kernel) per output element (ConvTranspose: 2 *
(C_out / groups) * prod(kernel) per input element); recurrent layers 2 * (sum of their weight
matrices' sizes) per time step. Elementwise layers (activations, normalisation, pooling,
dropout) count 0: they are memory-bound and small beside the products. Biases are not counted.
Activation memory is the bytes of each layer's output for one sample (what backward keeps); an
output that is a view of the layer's input (Flatten, Identity) counts 0.
"""
import math
from dataclasses import dataclass, field

from lamina import _C
from lamina._creation import zeros
from lamina.autograd import no_grad
from lamina.nn.layers import Linear

__all__ = ["summary", "ModelSummary", "LayerSummary"]


@dataclass
class LayerSummary:
    """One row: name (dotted path), type, output_shape (batch of batch_size), params (its own),
    flops and activation_bytes (per sample)."""
    name: str
    type: str
    output_shape: list
    params: int
    flops: int
    activation_bytes: int


@dataclass
class ModelSummary:
    """Totals (per sample where it applies) and the rows; str() is the table."""
    total_params: int
    trainable_params: int
    param_bytes: int
    flops: int
    activation_bytes: int
    input_bytes: int
    layers: list = field(default_factory=list)

    @property
    def non_trainable_params(self):
        return self.total_params - self.trainable_params

    def __str__(self):
        header = ("Layer (type)", "Output shape", "Param #", "FLOPs/sample", "Activations")
        rows = [(f"{r.name} ({r.type})", ", ".join(str(tuple(s)) for s in r.output_shape), f"{r.params:,}",
                 f"{r.flops:,}", _human_bytes(r.activation_bytes)) for r in self.layers]
        widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
        line = "  ".join(f"{{:<{widths[0]}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
        rule = "=" * (sum(widths) + 2 * (len(widths) - 1))
        out = [rule, line.format(*header), rule] + [line.format(*row) for row in rows] + [rule]
        out += [f"Total params: {self.total_params:,}", f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}",
                f"FLOPs per sample: {self.flops:,} ({_human(self.flops)}FLOPs)",
                f"Input size per sample: {_human_bytes(self.input_bytes)}",
                f"Activations per sample: {_human_bytes(self.activation_bytes)}",
                f"Parameters size: {_human_bytes(self.param_bytes)}", rule]
        return "\n".join(out)


def _human(n):
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} "


def _human_bytes(n):
    for unit, scale in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def _tensors(output):
    if isinstance(output, _C.Tensor):
        return [output]
    if isinstance(output, (tuple, list)):
        return [t for item in output for t in _tensors(item)]
    return []


def _macs_per_sample(module, args, output, batch_size):
    """Multiply-adds of module's matrix products for one sample (see the module docstring)."""
    outputs = _tensors(output)
    if isinstance(module, Linear):
        return module.weight.numel() * (outputs[0].numel() // module.out_features) // batch_size
    if hasattr(module, "transposed") and hasattr(module, "groups") and isinstance(
            getattr(module, "weight", None), _C.Tensor):  # convolutions
        per_element = math.prod(module.weight.shape[1:])
        counted = args[0] if module.transposed else outputs[0]
        return per_element * counted.numel() // batch_size
    if hasattr(module, "hidden_size") and hasattr(module, "input_size"):  # RNN, LSTM, GRU and their cells
        matrices = sum(p.numel() for p in module.parameters(recurse=False) if p.dim() == 2)
        if not hasattr(module, "num_layers"):  # a cell: one step
            return matrices
        x = args[0]
        steps = x.shape[0] if x.dim() == 2 else (x.shape[1] if module.batch_first else x.shape[0])
        return matrices * steps
    return 0


def summary(self, input_size, dtype=None, batch_size=1, device=None, print_fn=print):
    """Prints (through print_fn; None prints nothing) and returns a ModelSummary of the model run
    on zeros of shape (batch_size, *input_size) in eval mode under no_grad (every submodule's
    training flag is restored). input_size: one shape without the batch dim, e.g. (1, 28, 28),
    or a list of shapes for a model of several inputs; dtype: a lamina dtype or one per input
    (default: the dtype of the model's first floating parameter, else float32; use int64 for
    token indices); device: default the model's."""
    sizes = [tuple(input_size)] if all(isinstance(d, int) for d in input_size) else [tuple(s) for s in input_size]
    params = list(self.parameters())
    if dtype is None:
        dtype = next((p.dtype for p in params if p.is_floating_point()), _C.dtype.float32)
    dtypes = list(dtype) if isinstance(dtype, (list, tuple)) else [dtype] * len(sizes)
    if device is None:
        device = params[0].device if params else "cpu"
    inputs = [zeros(batch_size, *size, dtype=dt).to(device) for size, dt in zip(sizes, dtypes)]

    named = list(self.named_modules())
    rows, seen_params, handles = [], set(), []

    def make_hook(name):
        def hook(mod, args, output):
            own = [p for p in mod.parameters(recurse=False) if id(p) not in seen_params]
            seen_params.update(id(p) for p in own)
            outs = _tensors(output)
            input_pointers = {t.data_ptr() for t in _tensors(args)}  # views (Flatten, reshape) hold no new memory
            rows.append(LayerSummary(
                name=name or type(mod).__name__, type=type(mod).__name__, output_shape=[list(t.shape) for t in outs],
                params=sum(p.numel() for p in own),
                flops=2 * _macs_per_sample(mod, args, output, batch_size),
                activation_bytes=sum(t.numel() * t.element_size() for t in outs
                                     if t.data_ptr() not in input_pointers) // batch_size))
        return hook

    for name, module in named:
        is_leaf = not any(True for _ in module.children())
        if is_leaf or any(True for _ in module.parameters(recurse=False)):
            handles.append(module.register_forward_hook(make_hook(name)))
    modes = [(m, m.training) for _, m in named]
    self.eval()
    try:
        with no_grad():
            self(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for m, mode in modes:
            m.training = mode

    result = ModelSummary(
        total_params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        param_bytes=sum(p.numel() * p.element_size() for p in params),
        flops=sum(r.flops for r in rows), activation_bytes=sum(r.activation_bytes for r in rows),
        input_bytes=sum(t.numel() * t.element_size() for t in inputs) // batch_size, layers=rows)
    if print_fn is not None:
        print_fn(str(result))
    return result

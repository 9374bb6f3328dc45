"""Recurrent layers: RNN, LSTM, GRU and the cells RNNCell, LSTMCell, GRUCell, with PyTorch's
parameter names, shapes, initialisation, inputs and outputs.

Each layer in each direction is one C++ op over the whole sequence (``lamina._C.rnn_layer``:
the input projection of all steps as one GEMM, one recurrent GEMM and one fused gate kernel per
step, backward through time in C++); this file only loops over layers and directions, adds
dropout between layers and handles batch_first, unbatched input, initial states and
PackedSequence. A cell is the same op over one step. Parameters start as U(-k, k),
k = 1 / sqrt(hidden_size), drawn from lamina's generator (``lamina.manual_seed`` reproduces them).
"""
import math
import numbers
import warnings

from lamina import _C
from lamina._creation import empty
from lamina.nn import init
from lamina.nn.module import Module
from lamina.nn.parameter import Parameter
from lamina.nn.utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_KERNEL_MODE = {"RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu", "LSTM": "lstm", "GRU": "gru"}
_OP_NAME = {"RNN_TANH": "rnn", "RNN_RELU": "rnn", "LSTM": "lstm", "GRU": "gru"}


def _shape(t):
    return tuple(t.shape)


def _check_dtype(op, input, weight):
    if input.dtype != weight.dtype:
        raise TypeError(f"[{op}] input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}); convert "
                        f"the input with input.to({weight.dtype}) or the model with model.to({input.dtype})")


class RNNBase(Module):
    """The multi-layer recurrent network behind RNN, LSTM and GRU (mode 'RNN_TANH', 'RNN_RELU',
    'LSTM' or 'GRU').

    Parameters per layer k and direction (suffix '' or '_reverse'), G = 1, 4 or 3 gate blocks:
    weight_ih_l{k} (G*H, I_k), weight_hh_l{k} (G*H, P), bias_ih_l{k} and bias_hh_l{k} (G*H,),
    and for an LSTM with proj_size > 0, weight_hr_l{k} (P, H); P = proj_size or H, I_0 =
    input_size, I_k = D*P for k > 0 (D = 2 when bidirectional).
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"[rnn] Unrecognized RNN mode: {mode}")
        op = _OP_NAME[mode]
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"[{op}] dropout should be a number in range [0, 1] representing the probability of an "
                             f"element being zeroed, got {dropout}")
        for name, value in (("bias", bias), ("batch_first", batch_first), ("bidirectional", bidirectional)):
            if not isinstance(value, bool):
                raise TypeError(f"[{op}] {name} should be of type bool, got: {type(value).__name__}")
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers),
                            ("proj_size", proj_size)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"[{op}] {name} should be of type int, got: {type(value).__name__}")
        if input_size <= 0:
            raise ValueError(f"[{op}] input_size must be greater than zero, got {input_size}")
        if hidden_size <= 0:
            raise ValueError(f"[{op}] hidden_size must be greater than zero, got {hidden_size}")
        if num_layers <= 0:
            raise ValueError(f"[{op}] num_layers must be greater than zero, got {num_layers}")
        if proj_size < 0:
            raise ValueError(f"[{op}] proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError(f"[{op}] proj_size has to be smaller than hidden_size, got proj_size={proj_size} and "
                             f"hidden_size={hidden_size}")
        if proj_size > 0 and mode != "LSTM":
            raise ValueError(f"[{op}] proj_size argument is only supported for LSTM, not RNN or GRU")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=2)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size

        num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
            for direction in range(num_directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = [(f"weight_ih_l{layer}{suffix}", (gate_size, layer_input_size)),
                          (f"weight_hh_l{layer}{suffix}", (gate_size, real_hidden_size))]
                if bias:
                    shapes += [(f"bias_ih_l{layer}{suffix}", (gate_size,)), (f"bias_hh_l{layer}{suffix}", (gate_size,))]
                if proj_size > 0:
                    shapes += [(f"weight_hr_l{layer}{suffix}", (proj_size, hidden_size))]
                for name, shape in shapes:
                    setattr(self, name, Parameter(empty(*shape, dtype=dtype, device=device)))
                names = [name for name, _ in shapes]
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """Every parameter = U(-k, k), k = 1 / sqrt(hidden_size)."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """Kept for PyTorch compatibility (cuDNN's weight layout); nothing to do here."""

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters per layer and direction: [[weight_ih, weight_hh, bias_ih, bias_hh, (weight_hr)], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_weights(self, index):
        """(weight_ih, weight_hh, bias_ih, bias_hh, weight_hr) of layer-direction `index` (None where absent)."""
        names = self._all_weights[index]
        w_ih, w_hh = getattr(self, names[0]), getattr(self, names[1])
        b_ih, b_hh = (getattr(self, names[2]), getattr(self, names[3])) if self.bias else (None, None)
        w_hr = getattr(self, names[-1]) if self.proj_size > 0 else None
        return w_ih, w_hh, b_ih, b_hh, w_hr

    @property
    def _op(self):
        return _OP_NAME[self.mode]

    def _check_hidden(self, hx, expected, what):
        if not isinstance(hx, _C.Tensor):
            raise TypeError(f"[{self._op}] {what} must be a lamina.Tensor, got {type(hx).__name__}")
        if _shape(hx) != expected:
            raise ValueError(f"[{self._op}] Expected {what} size {expected}, got {_shape(hx)}")

    def forward(self, input, hx=None):
        """input (T, N, I), (N, T, I) with batch_first, (T, I) unbatched, or a PackedSequence;
        hx: h_0 (D*num_layers, N, P) (an LSTM takes (h_0, c_0), c_0 (D*num_layers, N, H)) or None
        (zeros). Returns (output, h_n) (LSTM: (output, (h_n, c_n))): output (T, N, D*P) (or the
        input's layout, or a PackedSequence), h_n (D*num_layers, N, P), c_n (D*num_layers, N, H)."""
        op, lstm = self._op, self.mode == "LSTM"
        num_directions = 2 if self.bidirectional else 1
        real_hidden_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        packed = isinstance(input, PackedSequence)
        is_batched = True
        if packed:
            x, batch_sizes_tensor, sorted_indices, unsorted_indices = input
            batch_sizes = batch_sizes_tensor.tolist()
            if x.dim() != 2:
                raise ValueError(f"[{op}] packed input data must be 2-d (sum(lengths), input_size), got shape "
                                 f"{_shape(x)}")
            mini_batch = batch_sizes[0]
        else:
            if not isinstance(input, _C.Tensor):
                raise TypeError(f"[{op}] input must be a lamina.Tensor or a PackedSequence, got {type(input).__name__}")
            if input.dim() not in (2, 3):
                raise ValueError(f"[{op}] Expected input to be 2D or 3D, got {input.dim()}D instead")
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            x = input if is_batched else input.unsqueeze(batch_dim)
            if self.batch_first:
                x = x.transpose(0, 1)
            batch_sizes, sorted_indices, unsorted_indices = [], None, None
            mini_batch = x.size(1)
        if x.size(-1) != self.input_size:
            raise ValueError(f"[{op}] input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                             f"got {x.size(-1)}")
        _check_dtype(op, x, self.weight_ih_l0)

        h0, c0 = None, None
        if hx is not None:
            if lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise TypeError(f"[{op}] hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
                h0, c0 = hx
            else:
                h0 = hx
            states = [(h0, "hidden[0]" if lstm else "hidden", real_hidden_size)]
            if lstm:
                states.append((c0, "hidden[1]", self.hidden_size))
            unpacked_dim = 3 if is_batched else 2
            for state, what, size in states:
                if not isinstance(state, _C.Tensor):
                    raise TypeError(f"[{op}] {what} must be a lamina.Tensor, got {type(state).__name__}")
                if not packed and state.dim() != unpacked_dim:
                    kind = "batched 3-D" if is_batched else "unbatched 2-D"
                    raise ValueError(f"[{op}] For {kind} input, {what} should also be {unpacked_dim}-D but got "
                                     f"{state.dim()}-D tensor")
            if not is_batched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if lstm else None
            expected = (self.num_layers * num_directions, mini_batch)
            self._check_hidden(h0, expected + (real_hidden_size,), states[0][1])
            if lstm:
                self._check_hidden(c0, expected + (self.hidden_size,), "hidden[1]")
            if sorted_indices is not None:
                h0 = h0.index_select(1, sorted_indices)
                c0 = c0.index_select(1, sorted_indices) if lstm else None

        mode = _KERNEL_MODE[self.mode]
        h_n, c_n = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                index = layer * num_directions + direction
                out, h, c = _C.rnn_layer(mode, layer_input, None if h0 is None else h0[index],
                                         None if c0 is None else c0[index], *self._layer_weights(index),
                                         batch_sizes=batch_sizes, reverse=direction == 1)
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_input = outputs[0] if num_directions == 1 else _C.cat(outputs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = _C.dropout(layer_input, self.dropout, True)
        output = layer_input
        h_n = _C.stack(h_n, 0)
        c_n = _C.stack(c_n, 0) if lstm else None

        if packed:
            output = PackedSequence(output, batch_sizes_tensor, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                h_n = h_n.index_select(1, unsorted_indices)
                c_n = c_n.index_select(1, unsorted_indices) if lstm else None
        else:
            if self.batch_first:
                output = output.transpose(0, 1)
            if not is_batched:
                output = output.squeeze(batch_dim)
                h_n = h_n.squeeze(1)
                c_n = c_n.squeeze(1) if lstm else None
        return (output, (h_n, c_n)) if lstm else (output, h_n)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu
    (nonlinearity), for each of num_layers layers (and both directions when bidirectional).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False). forward(input, h_0=None) -> (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"[rnn] Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, per layer and step (gate order i, f, g, o as PyTorch):

        i = s(W_ii x + b_ii + W_hi h + b_hi)   f = s(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)   o = s(W_io x + b_io + W_ho h + b_ho)
        c' = f c + i g,   h' = o tanh(c')   (with proj_size > 0: h' = W_hr (o tanh(c')))

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0). forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n)).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit, per layer and step (gate order r, z, n as PyTorch):

        r = s(W_ir x + b_ir + W_hr h + b_hr)   z = s(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r (W_hn h + b_hn)),   h' = (1 - z) n + z h

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False). forward(input, h_0=None) -> (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)


class RNNCellBase(Module):
    """One step of a recurrent cell: weight_ih (G*H, I), weight_hh (G*H, H), bias_ih and bias_hh
    (G*H,) (G = num_chunks), all U(-k, k), k = 1 / sqrt(hidden_size)."""

    _mode = None  # the rnn_layer kernel mode
    _name = None  # the class name, and _op its name in messages
    _op = None

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        op = self._op
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"[{op}] {name} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"[{op}] {name} must be greater than zero, got {value}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _step(self, input, states):
        """Checks input (N, I) or (I,) and the states (N, H) or (H,) (None = zeros), runs one step,
        returns (h', c') (c' None unless LSTM) in the input's batchedness."""
        op = self._op
        if not isinstance(input, _C.Tensor):
            raise TypeError(f"[{op}] input must be a lamina.Tensor, got {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ValueError(f"[{op}] {self._name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        is_batched = input.dim() == 2
        x = input if is_batched else input.unsqueeze(0)
        if x.size(1) != self.input_size:
            raise ValueError(f"[{op}] input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                             f"got {x.size(1)}")
        _check_dtype(op, x, self.weight_ih)
        checked = []
        for what, state in states:
            if state is None:
                checked.append(None)
                continue
            if not isinstance(state, _C.Tensor):
                raise TypeError(f"[{op}] {what} must be a lamina.Tensor, got {type(state).__name__}")
            if state.dim() != input.dim():
                raise ValueError(f"[{op}] {self._name}: Expected {what} to be {input.dim()}D like the input, got "
                                 f"{state.dim()}D instead")
            state = state if is_batched else state.unsqueeze(0)
            if _shape(state) != (x.size(0), self.hidden_size):
                raise ValueError(f"[{op}] Expected {what} size {(x.size(0), self.hidden_size)}, got {_shape(state)}")
            checked.append(state)
        h0, c0 = checked if len(checked) == 2 else (checked[0], None)
        _, h, c = _C.rnn_layer(self._mode, x.unsqueeze(0), h0, c0, self.weight_ih, self.weight_hh, self.bias_ih,
                               self.bias_hh)
        if not is_batched:
            h = h.squeeze(0)
            c = c.squeeze(0) if c is not None else None
        return h, c


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu.
    forward(input (N, I) or (I,), hx (N, H) or None) -> h' (N, H)."""

    _name = "RNNCell"
    _op = "rnn_cell"

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"[rnn_cell] Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    @property
    def _mode(self):
        return "rnn_tanh" if self.nonlinearity == "tanh" else "rnn_relu"

    def forward(self, input, hx=None):
        return self._step(input, [("hx", hx)])[0]


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o): c' = f c + i g, h' = o tanh(c').
    forward(input (N, I) or (I,), (h, c) or None) -> (h', c'), each (N, H)."""

    _name = "LSTMCell"
    _op = "lstm_cell"
    _mode = "lstm"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if hx is None:
            hx = (None, None)
        elif not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"[lstm_cell] hx must be a tuple (h, c), got {type(hx).__name__}")
        return self._step(input, [("hx[0]", hx[0]), ("hx[1]", hx[1])])


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n): n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
    h' = (1 - z) n + z h. forward(input (N, I) or (I,), hx (N, H) or None) -> h' (N, H)."""

    _name = "GRUCell"
    _op = "gru_cell"
    _mode = "gru"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step(input, [("hx", hx)])[0]

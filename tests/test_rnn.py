"""Recurrent layers: RNN (tanh, relu), LSTM (with proj_size), GRU and their cells, and the
nn.utils.rnn packing functions. The modules are compared with PyTorch's (weights copied by
parameter name) over a representative grid of layers, directions, batch_first, bias, initial
states, projections and packed variable-length batches: outputs, final states and the
gradients of the input, the initial states and every parameter. The op itself
(lamina._C.rnn_layer) is gradchecked in float64 for each cell type, packed and reversed."""
import numpy as np
import pytest

import lamina as lm
from lamina import _C
from lamina.nn import rnn as R
from lamina.nn.utils import rnn as U
from helpers import gradcheck, torch_or_skip

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
rng = np.random.default_rng(0)
I, H, T, N = 4, 5, 5, 3  # input size, hidden size, steps, batch


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def make_pair(cls_name, **kwargs):
    """A torch module and the lamina one with the same parameters (copied by name; the names
    and their order must agree)."""
    torch = torch_or_skip()
    th = getattr(torch.nn, cls_name)(**kwargs)
    ours = getattr(R, cls_name)(**kwargs)
    th_names = [n for n, _ in th.named_parameters()]
    assert [n for n, _ in ours.named_parameters()] == th_names
    with lm.no_grad():
        for (_, p), (_, q) in zip(ours.named_parameters(), th.named_parameters()):
            assert tuple(p.shape) == tuple(q.shape)
            p.copy_(lm.tensor(q.detach().numpy()))
    return th, ours


def assert_close(a, b, what, atol=1e-5, rtol=1e-4):
    a = a.detach().numpy() if hasattr(a, "detach") else a
    b = b.detach().numpy() if hasattr(b, "detach") else b
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch {b.shape}"
    np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, err_msg=f"{what} differs from torch")


def backward_of_all(outputs, weights, module):
    """sum(out * w) over every output, backward."""
    loss = None
    for out, w in zip(outputs, weights):
        term = (out * module.tensor(w)).sum()
        loss = term if loss is None else loss + term
    loss.backward()


def compare_run(th, ours, x, states, pack=None):
    """Runs both modules on x (NumPy) with initial states (list of NumPy or None) and compares
    outputs, final states and every gradient. pack: (lengths, enforce_sorted) to feed a
    PackedSequence built from x, and compare the padded outputs."""
    torch = torch_or_skip()
    lstm = isinstance(ours, R.LSTM)
    results = {}
    for name, mod, lib in (("torch", th, torch), ("lamina", ours, lm)):
        xt = lib.tensor(x, requires_grad=True)
        st = [None if s is None else lib.tensor(s, requires_grad=True) for s in states]
        hx = None if st[0] is None else (tuple(st) if lstm else st[0])
        inp = xt
        if pack is not None:
            utils = torch.nn.utils.rnn if lib is torch else U
            inp = utils.pack_padded_sequence(xt, pack[0], batch_first=mod.batch_first, enforce_sorted=pack[1])
        out, final = mod(inp, hx)
        if pack is not None:
            out, lengths = (torch.nn.utils.rnn if lib is torch else U).pad_packed_sequence(
                out, batch_first=mod.batch_first)
            assert list(lengths.tolist()) == list(pack[0])
        finals = list(final) if lstm else [final]
        outputs = [out] + finals
        w = np.random.default_rng(1)
        backward_of_all(outputs, [w.standard_normal(tuple(o.shape)).astype(np.float32) for o in outputs], lib)
        grads = [xt.grad] + [s.grad for s in st if s is not None]
        grads += [p.grad for _, p in mod.named_parameters()]
        results[name] = (outputs, grads)
    (th_out, th_grads), (lm_out, lm_grads) = results["torch"], results["lamina"]
    for k, (a, b) in enumerate(zip(lm_out, th_out)):
        assert_close(a, b, ["output", "h_n", "c_n"][k])
    names = ["input"] + [f"state {k}" for k, s in enumerate(states) if s is not None]
    names += [n for n, _ in ours.named_parameters()]
    assert len(lm_grads) == len(th_grads) == len(names)
    for name, a, b in zip(names, lm_grads, th_grads):
        assert a is not None and b is not None, f"gradient of {name} missing"
        assert_close(a, b, f"gradient of {name}")


def initial_states(mode, layers, directions, proj, with_states, batch=N):
    if not with_states:
        return [None, None] if mode == "LSTM" else [None]
    P = proj or H
    states = [randn(layers * directions, batch, P)]
    if mode == "LSTM":
        states.append(randn(layers * directions, batch, H))
    return states


# (layers, bidirectional, batch_first, bias, initial states, proj_size): a representative subset
LSTM_GRID = [
    (1, False, False, True, False, 0),
    (2, True, True, True, True, 0),
    (3, False, False, False, True, 0),
    (2, True, False, True, True, 2),
    (1, False, True, False, False, 3),
    (3, True, True, True, False, 2),
]
GRU_RNN_GRID = [
    (1, False, False, True, True),
    (2, True, True, True, False),
    (3, True, False, False, True),
    (2, False, True, False, True),
]


@pytest.mark.parametrize("layers,bidirectional,batch_first,bias,states,proj", LSTM_GRID)
def test_lstm_matches_torch(layers, bidirectional, batch_first, bias, states, proj):
    th, ours = make_pair("LSTM", input_size=I, hidden_size=H, num_layers=layers, bias=bias, batch_first=batch_first,
                         bidirectional=bidirectional, proj_size=proj)
    x = randn(N, T, I) if batch_first else randn(T, N, I)
    compare_run(th, ours, x, initial_states("LSTM", layers, 1 + bidirectional, proj, states))


@pytest.mark.parametrize("layers,bidirectional,batch_first,bias,states", GRU_RNN_GRID)
def test_gru_matches_torch(layers, bidirectional, batch_first, bias, states):
    th, ours = make_pair("GRU", input_size=I, hidden_size=H, num_layers=layers, bias=bias, batch_first=batch_first,
                         bidirectional=bidirectional)
    x = randn(N, T, I) if batch_first else randn(T, N, I)
    compare_run(th, ours, x, initial_states("GRU", layers, 1 + bidirectional, 0, states))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("layers,bidirectional,batch_first,bias,states", GRU_RNN_GRID[:3])
def test_rnn_matches_torch(nonlinearity, layers, bidirectional, batch_first, bias, states):
    th, ours = make_pair("RNN", input_size=I, hidden_size=H, num_layers=layers, nonlinearity=nonlinearity, bias=bias,
                         batch_first=batch_first, bidirectional=bidirectional)
    x = randn(N, T, I) if batch_first else randn(T, N, I)
    compare_run(th, ours, x, initial_states("RNN", layers, 1 + bidirectional, 0, states))


# (module, kwargs, lengths, enforce_sorted, initial states)
PACKED = [
    ("LSTM", dict(num_layers=2, bidirectional=True), [5, 3, 3, 1], True, True),
    ("LSTM", dict(num_layers=1, batch_first=True, proj_size=2), [2, 5, 1, 4], False, True),
    ("LSTM", dict(num_layers=3, bidirectional=True, batch_first=True, proj_size=3), [3, 5, 5, 2], False, False),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True), [1, 4, 5, 2], False, True),
    ("GRU", dict(num_layers=1), [5, 4, 2, 2], True, False),
    ("RNN", dict(num_layers=2, bidirectional=True, nonlinearity="relu"), [4, 5, 1, 3], False, True),
    ("RNN", dict(num_layers=1, batch_first=True, bias=False), [5, 5, 2, 1], True, True),
]


@pytest.mark.parametrize("cls_name,kwargs,lengths,enforce_sorted,states", PACKED)
def test_packed_input_matches_torch(cls_name, kwargs, lengths, enforce_sorted, states):
    th, ours = make_pair(cls_name, input_size=I, hidden_size=H, **kwargs)
    B = len(lengths)
    x = randn(B, T, I) if kwargs.get("batch_first") else randn(T, B, I)
    directions = 2 if kwargs.get("bidirectional") else 1
    init = initial_states(cls_name.upper(), kwargs.get("num_layers", 1), directions, kwargs.get("proj_size", 0),
                          states, batch=B)
    compare_run(th, ours, x, init, pack=(lengths, enforce_sorted))


# Sizes past the tails of the packed GEMM (column panels of 32 floats, row blocks of 8: hidden 1,
# 17, 130, batch 33) and sequences of more rows than one chunk of the backward (256 rows), padded
# and packed with a batch that shrinks inside a chunk. (module, kwargs, batch, steps, lengths)
LARGE = [
    ("LSTM", dict(hidden_size=130, proj_size=17), 33, 9, None),
    ("LSTM", dict(hidden_size=1, bidirectional=True), 17, 20, None),
    ("LSTM", dict(hidden_size=20, bidirectional=True), 40, 12, [12] * 9 + [11, 9, 9, 8] + [7] * 10 + [5] * 16 + [1]),
    ("GRU", dict(hidden_size=130, bidirectional=True), 33, 9, None),
    ("GRU", dict(hidden_size=17), 40, 12, list(range(12, 0, -1)) * 3 + [12, 7, 3, 1]),
    ("RNN", dict(hidden_size=33, nonlinearity="relu"), 40, 8, None),
]


@pytest.mark.parametrize("cls_name,kwargs,batch,steps,lengths", LARGE)
def test_large_sizes_match_torch(cls_name, kwargs, batch, steps, lengths):
    th, ours = make_pair(cls_name, input_size=7, **kwargs)
    x = randn(steps, batch, 7)
    pack = None if lengths is None else (sorted(lengths, reverse=True), True)
    directions, hidden = 2 if kwargs.get("bidirectional") else 1, kwargs["hidden_size"]
    init = [randn(directions, batch, kwargs.get("proj_size") or hidden)]
    if cls_name == "LSTM":
        init.append(randn(directions, batch, hidden))
    compare_run(th, ours, x, init, pack=pack)


def test_lstm_results_do_not_depend_on_thread_count():
    """At batch 32, hidden 128 the per-step GEMMs split their column panels over the threads and
    the gate kernels their rows: every value is still summed in the same order."""
    before, data = lm.get_num_threads(), randn(20, 32, 16)
    try:
        results = []
        for threads in (1, 2):
            lm.set_num_threads(threads)
            lm.manual_seed(0)
            lstm = R.LSTM(16, 128, proj_size=40)
            x = lm.tensor(data, requires_grad=True)
            out, (h, c) = lstm(x)
            (out.sum() + c.sum()).backward()
            grads = [x.grad] + [p.grad for p in lstm.parameters()]
            results.append([out.detach().numpy().copy()] + [g.numpy().copy() for g in grads])
        for a, b in zip(*results):
            np.testing.assert_array_equal(a, b)
    finally:
        lm.set_num_threads(before)


@pytest.mark.parametrize("cls_name", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("packed", [False, True])
def test_zero_initial_state_equals_explicit_zeros(cls_name, packed):
    """Without hx the kernels skip the products with the zero initial h (forward: the first step's
    h W_hh^T; backward: its dh_prev and its rows of dW_hh, at either end of a chunk of steps with
    both directions): every result equals the run with explicit zero states, value for value."""
    steps, batch, hidden = 20, 32, 128  # 640 rows: several chunks of steps
    data, w = randn(steps, batch, 16), randn(steps, batch, 2 * hidden)
    lengths = sorted(rng.integers(1, steps + 1, batch).tolist(), reverse=True)
    lengths[0] = steps
    results = []
    for explicit in (False, True):
        lm.manual_seed(0)
        module = getattr(R, cls_name)(16, hidden, bidirectional=True)
        x = lm.tensor(data, requires_grad=True)
        inp = U.pack_padded_sequence(x, lengths) if packed else x
        zeros = lm.zeros(2, batch, hidden)
        hx = ((zeros, lm.zeros(2, batch, hidden)) if cls_name == "LSTM" else zeros) if explicit else None
        out, _ = module(inp, hx)
        out = U.pad_packed_sequence(out)[0] if packed else out
        (out * lm.tensor(w)).sum().backward()
        results.append([out.detach().numpy().copy(), x.grad.numpy().copy()] +
                       [p.grad.numpy().copy() for p in module.parameters()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_last_step_head_of_batch_first_lstm_matches_torch():
    """The benchmark's sequence classifier: a linear head on out[:, -1] of a batch-first LSTM. The
    output's gradient reaches the op as the transposed view of a (N, T, P) tensor, read in place."""
    torch = torch_or_skip()
    th, ours = make_pair("LSTM", input_size=8, hidden_size=32, batch_first=True)
    data, w = randn(6, 7, 8), randn(6, 32)
    xt, xo = torch.tensor(data, requires_grad=True), lm.tensor(data, requires_grad=True)
    outs = []
    for lib, module, x in ((torch, th, xt), (lm, ours, xo)):
        out, _ = module(x)
        (out[:, -1] * lib.tensor(w)).sum().backward()
        outs.append(out)
    assert_close(outs[1], outs[0], "output")
    assert_close(xo.grad, xt.grad, "input gradient")
    for (name, p), (_, q) in zip(ours.named_parameters(), th.named_parameters()):
        assert_close(p.grad, q.grad, f"gradient of {name}")


def test_packed_output_keeps_layout_and_indices():
    torch = torch_or_skip()
    th, ours = make_pair("GRU", input_size=I, hidden_size=H)
    x, lengths = randn(T, 4, I), [3, 5, 1, 4]
    packed = U.pack_padded_sequence(lm.tensor(x), lengths, enforce_sorted=False)
    th_packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, enforce_sorted=False)
    assert packed.batch_sizes.tolist() == th_packed.batch_sizes.tolist()
    assert packed.sorted_indices.tolist() == th_packed.sorted_indices.tolist()
    assert packed.unsorted_indices.tolist() == th_packed.unsorted_indices.tolist()
    assert_close(packed.data, th_packed.data, "packed data")
    out, _ = ours(packed)
    th_out, _ = th(th_packed)
    assert isinstance(out, U.PackedSequence)
    assert out.batch_sizes is packed.batch_sizes and out.sorted_indices is packed.sorted_indices
    assert_close(out.data, th_out.data, "packed output data")


@pytest.mark.parametrize("cls_name", ["RNN", "LSTM", "GRU"])
def test_saturated_gates_match_torch(cls_name):
    """Pre-activations far into the flat parts of sigmoid and tanh (|a| up to ~100): the float
    gate math (a polynomial exp, clamped) stays finite and as close to float64 as torch's."""
    torch = torch_or_skip()
    th, ours = make_pair(cls_name, input_size=I, hidden_size=H, bidirectional=True)
    th64 = getattr(torch.nn, cls_name)(I, H, bidirectional=True).double()
    th64.load_state_dict(th.state_dict())
    x, w = randn(T, N, I) * 40, randn(T, N, 2 * H)
    results = {}
    for name, mod, lib, dtype in (("lamina", ours, lm, np.float32), ("torch", th, torch, np.float32),
                                  ("torch64", th64, torch, np.float64)):
        xt = lib.tensor(x.astype(dtype), requires_grad=True)
        out = mod(xt)[0]
        (out * lib.tensor(w.astype(dtype))).sum().backward()
        results[name] = [out.detach().numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in mod.parameters()]
    # Saturated gates make float32 gradients coarse in both libraries (1 - s and 1 - tanh^2 come
    # from outputs rounded near 1, where lamina's float gate math is within an ulp of the correctly
    # rounded value): measure both float32 results against float64 and require lamina's error to
    # be of the order of torch's (over 45 random cases the ratio of the errors reached 4.6).
    for k, (ours_k, theirs_k, exact) in enumerate(zip(results["lamina"], results["torch"], results["torch64"])):
        assert np.all(np.isfinite(ours_k)), f"result {k} is not finite"
        ours_err, torch_err = np.abs(ours_k - exact).max(), np.abs(theirs_k - exact).max()
        assert ours_err <= 5 * torch_err + 1e-6, f"result {k}: error {ours_err:.3g} vs torch float32 {torch_err:.3g}"


@pytest.mark.parametrize("cls_name", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_matches_torch(cls_name):
    torch = torch_or_skip()
    th, ours = make_pair(cls_name, input_size=I, hidden_size=H, num_layers=2, bidirectional=True)
    x, h = randn(T, I), randn(4, H)
    hx_th = (torch.tensor(h), torch.tensor(h)) if cls_name == "LSTM" else torch.tensor(h)
    hx_lm = (lm.tensor(h), lm.tensor(h)) if cls_name == "LSTM" else lm.tensor(h)
    out, final = ours(lm.tensor(x), hx_lm)
    th_out, th_final = th(torch.tensor(x), hx_th)
    assert_close(out, th_out, "output")
    for a, b in zip(final if cls_name == "LSTM" else [final], th_final if cls_name == "LSTM" else [th_final]):
        assert_close(a, b, "final state")


# --- cells ------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls_name,kwargs", [("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu", bias=False)),
                                             ("LSTMCell", {}), ("LSTMCell", dict(bias=False)), ("GRUCell", {}),
                                             ("GRUCell", dict(bias=False))])
@pytest.mark.parametrize("with_state", [False, True])
def test_cell_matches_torch(cls_name, kwargs, with_state):
    torch = torch_or_skip()
    th, ours = make_pair(cls_name, input_size=I, hidden_size=H, **kwargs)
    lstm = cls_name == "LSTMCell"
    x = randn(N, I)
    states = [randn(N, H), randn(N, H)] if lstm else [randn(N, H)]
    results = []
    for mod, lib in ((th, torch), (ours, lm)):
        xt = lib.tensor(x, requires_grad=True)
        st = [lib.tensor(s, requires_grad=True) for s in states]
        hx = (tuple(st) if lstm else st[0]) if with_state else None
        out = mod(xt, hx)
        outs = list(out) if lstm else [out]
        w = np.random.default_rng(2)
        backward_of_all(outs, [w.standard_normal(tuple(o.shape)).astype(np.float32) for o in outs], lib)
        grads = [xt.grad] + ([s.grad for s in st] if with_state else []) + [p.grad for p in mod.parameters()]
        results.append((outs, grads))
    for a, b in zip(results[1][0], results[0][0]):
        assert_close(a, b, "cell output")
    for k, (a, b) in enumerate(zip(results[1][1], results[0][1])):
        assert_close(a, b, f"cell gradient {k}")


@pytest.mark.parametrize("cls_name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_unbatched_matches_torch(cls_name):
    torch = torch_or_skip()
    th, ours = make_pair(cls_name, input_size=I, hidden_size=H)
    x, h = randn(I), randn(H)
    lstm = cls_name == "LSTMCell"
    out = ours(lm.tensor(x), (lm.tensor(h), lm.tensor(h)) if lstm else lm.tensor(h))
    th_out = th(torch.tensor(x), (torch.tensor(h), torch.tensor(h)) if lstm else torch.tensor(h))
    for a, b in zip(out if lstm else [out], th_out if lstm else [th_out]):
        assert_close(a, b, "unbatched cell output")


# --- gradcheck of the op (float64) ------------------------------------------------------------

def op_outputs(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr=None, batch_sizes=(), reverse=False):
    out, h, c = _C.rnn_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes=list(batch_sizes),
                             reverse=reverse)
    parts = [out.reshape(-1), h.reshape(-1)] + ([] if c is None else [c.reshape(-1)])
    return lm.cat(parts, 0)


# (mode, gates, proj, batch_sizes or None for padded, reverse)
GRADCHECK = [
    ("rnn_tanh", 1, 0, None, False),
    ("rnn_relu", 1, 0, [3, 2, 1], True),
    ("lstm", 4, 0, None, False),
    ("lstm", 4, 0, [3, 3, 1], True),
    ("lstm", 4, 2, [3, 2, 2], False),
    ("gru", 3, 0, None, True),
    ("gru", 3, 0, [3, 1, 1], False),
]


@pytest.mark.parametrize("mode,gates,proj,batch_sizes,reverse", GRADCHECK)
def test_rnn_layer_gradcheck(mode, gates, proj, batch_sizes, reverse):
    h, i, n, steps = 3, 2, 3, 3
    p = proj or h
    r = np.random.default_rng(3)
    x = r.standard_normal((sum(batch_sizes), i) if batch_sizes else (steps, n, i))
    if mode == "rnn_relu":  # keep the pre-activations away from the kink at 0
        x = x + np.sign(x)
    inputs = [x, r.standard_normal((n, p)) * 0.5]
    if mode == "lstm":
        inputs.append(r.standard_normal((n, h)) * 0.5)
    inputs += [r.standard_normal((gates * h, i)) * 0.5, r.standard_normal((gates * h, p)) * 0.5,
               r.standard_normal(gates * h) * 0.5, r.standard_normal(gates * h) * 0.5]
    if proj:
        inputs.append(r.standard_normal((p, h)) * 0.5)
    lstm = mode == "lstm"

    def fn(*t):
        x, h0, rest = t[0], t[1], list(t[2:])
        c0 = rest.pop(0) if lstm else None
        w_hr = rest.pop() if proj else None
        return op_outputs(mode, x, h0, c0, *rest, w_hr=w_hr, batch_sizes=batch_sizes or (), reverse=reverse)

    gradcheck(fn, inputs)


def test_float32_gate_activation_is_accurate():
    """The float32 gate math builds tanh and sigmoid on a polynomial exp: an RNN step with
    weight 1 and no recurrence is tanh(x) itself, compared with float64 over [-20, 20]."""
    x = np.linspace(-20, 20, 20001).astype(np.float32)
    out, _, _ = _C.rnn_layer("rnn_tanh", lm.tensor(x.reshape(1, -1, 1)), None, None, lm.ones(1, 1), lm.zeros(1, 1))
    error = np.abs(out.numpy().reshape(-1).astype(np.float64) - np.tanh(x.astype(np.float64)))
    assert error.max() < 3e-7


# --- packing utilities ------------------------------------------------------------------------

def test_pack_and_pad_round_trip_with_gradients():
    torch = torch_or_skip()
    x, lengths = randn(6, 3, 2), [4, 6, 2]
    for lib, utils in ((lm, U), (torch, torch.nn.utils.rnn)):
        xt = lib.tensor(x, requires_grad=True)
        packed = utils.pack_padded_sequence(xt, lengths, enforce_sorted=False)
        padded, out_lengths = utils.pad_packed_sequence(packed, padding_value=-2.0, total_length=7)
        (padded * padded).sum().backward()
        if lib is lm:
            ours = (padded.detach().numpy(), out_lengths.tolist(), xt.grad.numpy())
        else:
            theirs = (padded.detach().numpy(), out_lengths.tolist(), xt.grad.numpy())
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1] == theirs[1]
    np.testing.assert_array_equal(ours[2], theirs[2])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_and_pack_sequence_match_torch(batch_first, padding_side):
    torch = torch_or_skip()
    seqs = [randn(n, 2) for n in (3, 5, 1)]
    ours = U.pad_sequence([lm.tensor(s) for s in seqs], batch_first=batch_first, padding_value=7.0,
                          padding_side=padding_side)
    theirs = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=batch_first,
                                             padding_value=7.0, padding_side=padding_side)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    packed = U.pack_sequence([lm.tensor(s) for s in seqs], enforce_sorted=False)
    th_packed = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(packed.data.numpy(), th_packed.data.numpy())
    assert packed.batch_sizes.tolist() == th_packed.batch_sizes.tolist()
    back = U.unpack_sequence(packed)
    for a, b in zip(back, seqs):
        np.testing.assert_array_equal(a.numpy(), b)


# --- modules: parameters, init, dropout, repr ---------------------------------------------------

def test_parameters_are_uniform_and_seed_reproducible():
    lm.manual_seed(0)
    a = R.LSTM(3, 8, num_layers=2, bidirectional=True, proj_size=4)
    lm.manual_seed(0)
    b = R.LSTM(3, 8, num_layers=2, bidirectional=True, proj_size=4)
    bound = 1 / np.sqrt(8)
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        values = p.detach().numpy()
        assert np.all(np.abs(values) <= bound) and values.std() > bound / 4, name
        np.testing.assert_array_equal(values, q.detach().numpy())
    assert [len(w) for w in a.all_weights] == [5] * 4


def test_dropout_between_layers_applies_in_training_only():
    torch = torch_or_skip()
    th, ours = make_pair("LSTM", input_size=I, hidden_size=H, num_layers=2, dropout=0.5)
    x = randn(T, N, I)
    ours.eval()
    th.eval()
    out, _ = ours(lm.tensor(x))
    assert_close(out, th(torch.tensor(x))[0], "eval output with dropout")
    ours.train()
    lm.manual_seed(5)
    train_a, _ = ours(lm.tensor(x))
    lm.manual_seed(5)
    train_b, _ = ours(lm.tensor(x))
    np.testing.assert_array_equal(train_a.detach().numpy(), train_b.detach().numpy())
    assert np.abs(train_a.detach().numpy() - out.detach().numpy()).max() > 1e-3


def test_repr_matches_torch():
    torch = torch_or_skip()
    for cls_name, kwargs in [("LSTM", dict(num_layers=2, proj_size=2, batch_first=True)),
                             ("GRU", dict(bias=False, bidirectional=True, dropout=0.1, num_layers=2)),
                             ("RNN", dict(nonlinearity="relu")), ("RNNCell", dict(nonlinearity="relu")),
                             ("LSTMCell", dict(bias=False)), ("GRUCell", {})]:
        assert repr(getattr(R, cls_name)(3, 4, **kwargs)) == repr(getattr(torch.nn, cls_name)(3, 4, **kwargs))


def test_gru_runs_in_float64():
    model = R.GRU(I, H, num_layers=2).double()
    out, h = model(lm.tensor(randn(T, N, I, dtype=np.float64)))
    (out.sum() + h.sum()).backward()
    assert out.dtype == lm.float64 and model.weight_ih_l1.grad.dtype == lm.float64


# --- bad input --------------------------------------------------------------------------------

def test_wrong_input_size_names_the_op():
    with pytest.raises(ValueError, match=r"\[lstm\] input.size\(-1\) must be equal to input_size. Expected 32, got 16"):
        R.LSTM(32, 8)(lm.zeros(5, 2, 16))
    with pytest.raises(ValueError, match=r"\[gru_cell\] input.size\(-1\) must be equal to input_size"):
        R.GRUCell(4, 3)(lm.zeros(2, 5))


def test_wrong_state_shapes():
    with pytest.raises(ValueError, match=r"\[lstm\] Expected hidden\[0\] size \(2, 3, 4\), got \(1, 3, 4\)"):
        R.LSTM(2, 4, num_layers=2)(lm.zeros(5, 3, 2), (lm.zeros(1, 3, 4), lm.zeros(2, 3, 4)))
    with pytest.raises(ValueError, match=r"\[lstm\] Expected hidden\[1\] size \(1, 3, 4\), got \(1, 3, 2\)"):
        R.LSTM(2, 4, proj_size=2)(lm.zeros(5, 3, 2), (lm.zeros(1, 3, 2), lm.zeros(1, 3, 2)))
    with pytest.raises(ValueError, match=r"\[gru\] Expected hidden size \(2, 3, 4\), got \(2, 2, 4\)"):
        R.GRU(2, 4, bidirectional=True)(lm.zeros(5, 3, 2), lm.zeros(2, 2, 4))
    with pytest.raises(ValueError, match=r"\[rnn\] For batched 3-D input, hidden should also be 3-D"):
        R.RNN(2, 4)(lm.zeros(5, 3, 2), lm.zeros(3, 4))
    with pytest.raises(ValueError, match=r"\[lstm_cell\] Expected hx\[1\] size \(3, 4\), got \(3, 5\)"):
        R.LSTMCell(2, 4)(lm.zeros(3, 2), (lm.zeros(3, 4), lm.zeros(3, 5)))
    with pytest.raises(TypeError, match=r"\[lstm\] hx must be a tuple"):
        R.LSTM(2, 4)(lm.zeros(5, 3, 2), lm.zeros(1, 3, 4))


def test_bad_inputs_and_constructor_arguments():
    with pytest.raises(ValueError, match=r"\[rnn\] Expected input to be 2D or 3D, got 4D"):
        R.RNN(2, 4)(lm.zeros(1, 5, 3, 2))
    with pytest.raises(TypeError, match=r"\[gru\] input dtype"):
        R.GRU(2, 4)(lm.zeros(5, 3, 2, dtype=lm.float64))
    with pytest.raises(ValueError, match=r"proj_size has to be smaller than hidden_size"):
        R.LSTM(2, 4, proj_size=4)
    with pytest.raises(ValueError, match=r"Unknown nonlinearity 'sigmoid'"):
        R.RNN(2, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"dropout should be a number in range \[0, 1\]"):
        R.GRU(2, 4, dropout=1.5)
    with pytest.raises(ValueError, match=r"hidden_size must be greater than zero"):
        R.LSTM(2, 0)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        R.LSTM(2, 4, dropout=0.2)


def test_packing_rejects_bad_lengths():
    x = lm.zeros(4, 3, 2)
    with pytest.raises(ValueError, match=r"\[pack_padded_sequence\] `lengths` array must be sorted in decreasing"):
        U.pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(ValueError, match=r"\[pack_padded_sequence\] lengths must not exceed the sequence length 4"):
        U.pack_padded_sequence(x, [5, 4, 1])
    with pytest.raises(ValueError, match=r"\[pack_padded_sequence\] Length of all samples has to be greater than 0"):
        U.pack_padded_sequence(x, [4, 2, 0])
    with pytest.raises(ValueError, match=r"Expected `len\(lengths\)` to be equal to batch_size, but got 2"):
        U.pack_padded_sequence(x, [4, 2])
    packed = U.pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match=r"\[pad_packed_sequence\] Expected total_length to be at least"):
        U.pad_packed_sequence(packed, total_length=3)


def test_rnn_layer_op_rejects_malformed_calls():
    w_ih, w_hh = lm.zeros(8, 2), lm.zeros(8, 2)
    with pytest.raises(ValueError, match=r"\[lstm\] batch_sizes must be positive and nonincreasing"):
        _C.rnn_layer("lstm", lm.zeros(5, 2), None, None, w_ih, w_hh, batch_sizes=[2, 3])
    with pytest.raises(ValueError, match=r"\[lstm\] batch_sizes sum to 4 but the packed input has 5 rows"):
        _C.rnn_layer("lstm", lm.zeros(5, 2), None, None, w_ih, w_hh, batch_sizes=[2, 2])
    with pytest.raises(ValueError, match=r"\[lstm\] weight_hh must have shape \(8, 2\), got \(8, 3\)"):
        _C.rnn_layer("lstm", lm.zeros(3, 2, 2), None, None, w_ih, lm.zeros(8, 3))
    with pytest.raises(ValueError, match=r"\[gru\] weight_ih must have shape \(3 \* hidden_size, input_size\)"):
        _C.rnn_layer("gru", lm.zeros(3, 2, 2), None, None, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"\[lstm\] hx must have shape \(2, 2\), got \(3, 2\)"):
        _C.rnn_layer("lstm", lm.zeros(3, 2, 2), lm.zeros(3, 2), None, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"\[rnn_layer\] mode must be"):
        _C.rnn_layer("lstmx", lm.zeros(3, 2, 2), None, None, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"\[lstm\] input \(T, N, I\) must have at least one step"):
        _C.rnn_layer("lstm", lm.zeros(0, 2, 2), None, None, w_ih, w_hh)
    with pytest.raises(TypeError, match=r"\[lstm\] input must be a float32 or float64 tensor"):
        _C.rnn_layer("lstm", lm.zeros(3, 2, 2, dtype=lm.int64), None, None, w_ih, w_hh)

"""Layer ops and modules: linear, dropout, batch/layer/group norm, embedding. Each op is
gradchecked in float64 and compared with PyTorch in float32 (forward and every gradient); the
modules are compared with torch's for parameters, buffers, state_dict keys and reprs."""
import types

import numpy as np
import pytest

import lamina as lm
from lamina import _C
from lamina.nn import _functional_layers as LF
from lamina.nn import layers as L
from helpers import check_against_torch, gradcheck, torch_or_skip

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def F(m):
    """torch.nn.functional for torch, the matching lamina functions for lamina."""
    if m is lm:
        return types.SimpleNamespace(linear=_C.linear, batch_norm=_C.batch_norm, layer_norm=_C.layer_norm,
                                     group_norm=_C.group_norm, embedding=LF.embedding, dropout=LF.dropout)
    return m.nn.functional


def lm_module_from(torch_module, lm_module):
    """Copies torch_module's state into lm_module (parameters and buffers)."""
    lm_module.load_state_dict({k: lm.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()})
    return lm_module


def run_steps(lm_mod, th_mod, inputs, train=True):
    """Runs both modules over the inputs (a backward of sum(out * w) each step) and compares the
    outputs, input gradients and parameter gradients step by step."""
    torch = torch_or_skip()
    lm_mod.train(train)
    th_mod.train(train)
    for x in inputs:
        w = randn(*x.shape[:1], *([] if lm_mod.__class__ is L.Linear else x.shape[1:]))
        lx, tx = lm.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        lo, to = lm_mod(lx), th_mod(tx)
        if lm_mod.__class__ is L.Linear:
            w = randn(*to.shape)
        np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), atol=1e-5, rtol=1e-4)
        (lo * lm.tensor(w)).sum().backward()
        (to * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), atol=1e-4, rtol=1e-4)
    for name, p in th_mod.named_parameters():
        np.testing.assert_allclose(getattr(lm_mod, name).grad.numpy(), p.grad.numpy(), atol=1e-4, rtol=1e-4,
                                   err_msg=name)
    for name, b in th_mod.named_buffers():
        np.testing.assert_allclose(getattr(lm_mod, name).detach().numpy(), b.numpy(), atol=1e-6, rtol=1e-5, err_msg=name)


# --- linear ------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 3), (3,)])
def test_linear_gradcheck(shape):
    gradcheck(lambda x, w, b: _C.linear(x, w, b), [randn(*shape, dtype=np.float64), randn(5, 3, dtype=np.float64),
                                                  randn(5, dtype=np.float64)])
    gradcheck(lambda x, w: _C.linear(x, w), [randn(*shape, dtype=np.float64), randn(2, 3, dtype=np.float64)])


@pytest.mark.parametrize("shape", [(8, 7), (2, 5, 7), (7,), (0, 7)])
def test_linear_matches_torch(shape):
    check_against_torch(lambda m, x, w, b: F(m).linear(x, w, b), [randn(*shape), randn(6, 7), randn(6)])
    check_against_torch(lambda m, x, w: F(m).linear(x, w), [randn(*shape), randn(6, 7)])


def test_linear_non_contiguous_input_matches_torch():
    check_against_torch(lambda m, x, w, b: F(m).linear(x.transpose(0, 1), w.transpose(0, 1), b),
                        [randn(7, 4), randn(7, 3), randn(3)])


def test_linear_module_matches_torch_and_init_is_seeded():
    torch = torch_or_skip()
    lm.manual_seed(3)
    a = L.Linear(20, 7)
    lm.manual_seed(3)
    b = L.Linear(20, 7)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    np.testing.assert_array_equal(a.bias.detach().numpy(), b.bias.detach().numpy())
    bound = 1 / np.sqrt(20)
    assert np.abs(a.weight.detach().numpy()).max() <= bound and np.abs(a.bias.detach().numpy()).max() <= bound
    assert a.weight.detach().numpy().std() > 0.4 * bound
    big = L.Linear(400, 300)
    np.testing.assert_allclose(big.weight.detach().numpy().std(), 1 / np.sqrt(400) / np.sqrt(3), rtol=0.02)
    th = torch.nn.Linear(20, 7)
    run_steps(lm_module_from(th, L.Linear(20, 7)), th, [randn(5, 20), randn(2, 3, 20)])
    thn = torch.nn.Linear(20, 7, bias=False)
    run_steps(lm_module_from(thn, L.Linear(20, 7, bias=False)), thn, [randn(5, 20)])


def test_linear_bad_inputs():
    x, w = lm.tensor(randn(4, 3)), lm.tensor(randn(5, 2))
    with pytest.raises(ValueError, match=r"\[linear\].*in_features == 2.*\(5, 2\).*\(4, 3\)"):
        _C.linear(x, w)
    with pytest.raises(ValueError, match=r"\[linear\] bias"):
        _C.linear(x, lm.tensor(randn(5, 3)), lm.tensor(randn(4)))
    with pytest.raises(ValueError, match=r"\[linear\] weight must be 2-d"):
        _C.linear(x, lm.tensor(randn(3)))
    with pytest.raises(TypeError, match=r"\[linear\]"):
        _C.linear(x, lm.tensor(randn(5, 3, dtype=np.float64)))
    with pytest.raises(ValueError):
        L.Linear(3, 5)(lm.tensor(randn(2, 4)))


# --- dropout -----------------------------------------------------------------------------------

def test_dropout_mask_is_reproducible_scaled_and_close_to_p():
    x = lm.ones(200_000)
    lm.manual_seed(7)
    a = _C.dropout(x, 0.3).numpy()
    lm.manual_seed(7)
    b = _C.dropout(x, 0.3).numpy()
    np.testing.assert_array_equal(a, b)
    assert abs((a == 0).mean() - 0.3) < 0.005
    np.testing.assert_allclose(a[a != 0], 1 / 0.7, rtol=1e-6)
    c = _C.dropout(x, 0.3).numpy()
    assert (a != c).any()  # the generator moved on


def test_dropout_mask_is_independent_of_thread_count():
    x = lm.ones(100_000)
    threads = lm.get_num_threads()
    try:
        lm.set_num_threads(1)
        lm.manual_seed(11)
        a = _C.dropout(x, 0.5).numpy()
        lm.set_num_threads(max(2, threads))
        lm.manual_seed(11)
        b = _C.dropout(x, 0.5).numpy()
    finally:
        lm.set_num_threads(threads)
    np.testing.assert_array_equal(a, b)


def test_dropout_backward_uses_the_same_mask():
    x = lm.tensor(randn(50, 40), requires_grad=True)
    out = _C.dropout(x, 0.4)
    g = randn(50, 40)
    out.backward(lm.tensor(g))
    mask = out.detach().numpy() / x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), g * mask, rtol=1e-5, atol=1e-6)
    kept = mask[mask != 0]
    np.testing.assert_allclose(kept, 1 / 0.6, rtol=1e-5)


def test_dropout_gradcheck():
    def fn(x):
        lm.manual_seed(5)
        return _C.dropout(x, 0.3)
    gradcheck(fn, [randn(4, 6, dtype=np.float64)])


def test_dropout_edge_probabilities_and_eval():
    x = lm.tensor(randn(10, 10), requires_grad=True)
    zero = _C.dropout(x, 1.0)
    assert (zero.detach().numpy() == 0).all()
    zero.sum().backward()
    assert (x.grad.numpy() == 0).all()
    np.testing.assert_array_equal(_C.dropout(x, 0.0).detach().numpy(), x.detach().numpy())
    assert LF.dropout(x, 0.5, training=False) is x
    np.testing.assert_array_equal(_C.dropout(x, 0.5, training=False).detach().numpy(), x.detach().numpy())
    m = L.Dropout(0.5)
    m.eval()
    assert m(x) is x
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            _C.dropout(x, p)
        with pytest.raises(ValueError, match="between 0 and 1"):
            L.Dropout(p)


# --- batch norm --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batch_norm_gradcheck_training_and_eval(shape):
    rm, rv = lm.zeros(3, dtype=lm.float64), lm.ones(3, dtype=lm.float64)
    x, w, b = randn(*shape, dtype=np.float64), randn(3, dtype=np.float64), randn(3, dtype=np.float64)
    gradcheck(lambda x, w, b: _C.batch_norm(x, None, None, w, b, True, 0.1, 1e-5), [x, w, b])
    gradcheck(lambda x: _C.batch_norm(x, None, None, None, None, True, 0.1, 1e-5), [x])
    rm, rv = lm.tensor(randn(3, dtype=np.float64)), lm.tensor(np.abs(randn(3, dtype=np.float64)) + 0.5)
    gradcheck(lambda x, w, b: _C.batch_norm(x, rm, rv, w, b, False, 0.1, 1e-5), [x, w, b])


@pytest.mark.parametrize("shape", [(8, 4), (5, 4, 6), (3, 4, 2, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(shape, training):
    torch = torch_or_skip()
    rm0, rv0 = randn(4), np.abs(randn(4)) + 0.5
    lrm, lrv, trm, trv = lm.tensor(rm0), lm.tensor(rv0), torch.tensor(rm0), torch.tensor(rv0)
    check_against_torch(lambda m, x, w, b: F(m).batch_norm(x, *((lrm, lrv) if m is lm else (trm, trv)), w, b,
                                                           training, 0.2, 1e-3),
                        [randn(*shape), randn(4), randn(4)])
    np.testing.assert_allclose(lrm.numpy(), trm.numpy(), atol=1e-6, rtol=1e-5)
    np.testing.assert_allclose(lrv.numpy(), trv.numpy(), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False},
                                    {"bias": False}, {"eps": 1e-3, "momentum": 0.3}])
@pytest.mark.parametrize("shape", [(8, 4), (5, 4, 3)])
def test_batch_norm1d_module_steps_match_torch(kwargs, shape):
    torch = torch_or_skip()
    th = torch.nn.BatchNorm1d(4, **kwargs)
    if th.weight is not None:
        with torch.no_grad():
            th.weight.copy_(torch.tensor(randn(4)))
            if th.bias is not None:
                th.bias.copy_(torch.tensor(randn(4)))
    lmod = lm_module_from(th, L.BatchNorm1d(4, **kwargs))
    run_steps(lmod, th, [randn(*shape) * 2 + 1 for _ in range(4)])           # training: running stats
    run_steps(lmod, th, [randn(*shape) for _ in range(2)], train=False)     # eval
    if th.num_batches_tracked is not None:
        assert int(lmod.num_batches_tracked.item()) == int(th.num_batches_tracked) == 4
        assert lmod.num_batches_tracked.dtype == lm.int64


def test_batch_norm_bad_inputs():
    x = lm.tensor(randn(4, 3))
    with pytest.raises(ValueError, match=r"\[batch_norm\] weight must have shape \(3,\)"):
        _C.batch_norm(x, None, None, lm.ones(5), None, True)
    with pytest.raises(ValueError, match=r"\[batch_norm\] running_mean must have shape \(3,\)"):
        _C.batch_norm(x, lm.zeros(4), lm.ones(4), None, None, True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        _C.batch_norm(lm.tensor(randn(1, 3)), None, None, None, None, True)
    with pytest.raises(ValueError, match="evaluation mode"):
        _C.batch_norm(x, None, None, None, None, False)
    with pytest.raises(ValueError, match=r"\[batch_norm\] input"):
        _C.batch_norm(lm.tensor(randn(4)), None, None, None, None, True)
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        L.BatchNorm1d(3)(lm.tensor(randn(2, 3, 4, 5)))
    with pytest.raises(ValueError, match="shape"):
        L.BatchNorm1d(5)(x)


# --- layer norm and group norm -----------------------------------------------------------------

def test_layer_norm_gradcheck():
    x, w, b = randn(3, 2, 4, dtype=np.float64), randn(2, 4, dtype=np.float64), randn(2, 4, dtype=np.float64)
    gradcheck(lambda x, w, b: _C.layer_norm(x, (2, 4), w, b), [x, w, b])
    gradcheck(lambda x, b: _C.layer_norm(x, 4, None, b[0]), [x, b])
    gradcheck(lambda x: _C.layer_norm(x, [3, 2, 4]), [x])


@pytest.mark.parametrize("shape,normalized", [((6, 10), (10,)), ((2, 3, 4, 5), (4, 5)), ((7,), 7)])
def test_layer_norm_matches_torch(shape, normalized):
    ns = (normalized,) if isinstance(normalized, int) else normalized
    check_against_torch(lambda m, x, w, b: F(m).layer_norm(x, normalized if m is lm else ns, w, b, 1e-4),
                        [randn(*shape) * 3 + 1, randn(*ns), randn(*ns)])
    check_against_torch(lambda m, x: F(m).layer_norm(x, ns), [randn(*shape)])


def test_group_norm_gradcheck():
    x, w, b = randn(2, 6, 2, 2, dtype=np.float64), randn(6, dtype=np.float64), randn(6, dtype=np.float64)
    gradcheck(lambda x, w, b: _C.group_norm(x, 3, w, b), [x, w, b])
    gradcheck(lambda x: _C.group_norm(x, 2), [randn(3, 4, dtype=np.float64)])


@pytest.mark.parametrize("shape,groups", [((4, 6), 3), ((3, 6, 5), 2), ((2, 8, 3, 3), 4), ((2, 4, 3), 1), ((2, 4, 3), 4)])
def test_group_norm_matches_torch(shape, groups):
    C = shape[1]
    check_against_torch(lambda m, x, w, b: F(m).group_norm(x, groups, w, b, 1e-5), [randn(*shape), randn(C), randn(C)])
    check_against_torch(lambda m, x: F(m).group_norm(x, groups), [randn(*shape)])


@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-3}])
def test_layer_norm_module_matches_torch(kwargs):
    torch = torch_or_skip()
    th = torch.nn.LayerNorm([3, 4], **kwargs)
    with torch.no_grad():
        for p in th.parameters():
            p.copy_(torch.tensor(randn(*p.shape)))
    run_steps(lm_module_from(th, L.LayerNorm([3, 4], **kwargs)), th, [randn(5, 3, 4), randn(2, 2, 3, 4)])


@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"bias": False}])
def test_group_norm_module_matches_torch(kwargs):
    torch = torch_or_skip()
    th = torch.nn.GroupNorm(2, 6, **kwargs)
    with torch.no_grad():
        for p in th.parameters():
            p.copy_(torch.tensor(randn(*p.shape)))
    run_steps(lm_module_from(th, L.GroupNorm(2, 6, **kwargs)), th, [randn(3, 6, 4), randn(2, 6)])


def test_norm_bad_inputs():
    with pytest.raises(ValueError, match=r"\[group_norm\].*divisible by num_groups=4"):
        _C.group_norm(lm.tensor(randn(2, 6, 3)), 4)
    with pytest.raises(ValueError, match=r"\[group_norm\]"):
        _C.group_norm(lm.tensor(randn(2, 6, 3)), 0)
    with pytest.raises(ValueError, match=r"\[group_norm\] weight"):
        _C.group_norm(lm.tensor(randn(2, 6, 3)), 3, lm.ones(5))
    with pytest.raises(ValueError, match="divisible"):
        L.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"\[layer_norm\] normalized_shape=\(5,\)"):
        _C.layer_norm(lm.tensor(randn(2, 3)), 5)
    with pytest.raises(ValueError, match=r"\[layer_norm\] weight"):
        _C.layer_norm(lm.tensor(randn(2, 3)), 3, lm.ones(4))
    with pytest.raises(TypeError):
        _C.layer_norm(lm.tensor(np.arange(6).reshape(2, 3)), 3)


# --- embedding ---------------------------------------------------------------------------------

def test_embedding_gradcheck_with_repeats_and_padding():
    idx = np.array([[1, 3, 1], [0, 3, 3]])
    gradcheck(lambda w: _C.embedding(lm.tensor(idx), w), [randn(5, 4, dtype=np.float64)])
    w = lm.tensor(randn(5, 4), requires_grad=True)
    _C.embedding(lm.tensor(idx), w, padding_idx=3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy()[[0, 1]], [[1] * 4, [2] * 4])
    assert (w.grad.numpy()[3] == 0).all()  # padding row: no gradient (its forward value still counts)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx):
    torch = torch_or_skip()
    idx = rng.integers(0, 6, size=(4, 7))
    idx[0, :3] = 5
    idx[1, :2] = 2
    w = randn(6, 130)  # more than one column block of the backward kernel
    lw, tw = lm.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    lo = LF.embedding(lm.tensor(idx), lw, padding_idx)
    to = torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx)
    np.testing.assert_array_equal(lo.detach().numpy(), to.detach().numpy())
    g = randn(*to.shape)
    lo.backward(lm.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_allclose(lw.grad.numpy(), tw.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_embedding_module_init_and_padding_row():
    torch = torch_or_skip()
    lm.manual_seed(1)
    e = L.Embedding(300, 50, padding_idx=4)
    assert (e.weight.detach().numpy()[4] == 0).all()
    assert abs(e.weight.detach().numpy().std() - 1) < 0.02 and abs(e.weight.detach().numpy().mean()) < 0.02
    th = torch.nn.Embedding(300, 50, padding_idx=4)
    lmod = lm_module_from(th, L.Embedding(300, 50, padding_idx=4))
    idx = rng.integers(0, 300, size=(3, 9))
    np.testing.assert_array_equal(lmod(lm.tensor(idx)).detach().numpy(), th(torch.tensor(idx)).detach().numpy())
    pre = L.Embedding.from_pretrained(lm.tensor(randn(4, 2)))
    assert not pre.weight.requires_grad and tuple(pre.weight.shape) == (4, 2)


def test_embedding_bad_inputs():
    w = lm.tensor(randn(10, 3))
    with pytest.raises(IndexError, match=r"index 10 is out of range for num_embeddings=10"):
        _C.embedding(lm.tensor(np.array([1, 10])), w)
    with pytest.raises(IndexError, match=r"index -1 is out of range"):
        _C.embedding(lm.tensor(np.array([-1])), w)
    with pytest.raises(TypeError, match="int64"):
        _C.embedding(lm.tensor(randn(3)), w)
    with pytest.raises(ValueError, match="padding_idx"):
        _C.embedding(lm.tensor(np.array([1])), w, padding_idx=10)
    with pytest.raises(ValueError, match="padding_idx"):
        L.Embedding(10, 3, padding_idx=10)
    with pytest.raises(NotImplementedError):
        L.Embedding(10, 3, max_norm=1.0)


# --- state_dict keys and reprs -----------------------------------------------------------------

MODULES = [
    ("Linear", (3, 4), {}), ("Linear", (3, 4), {"bias": False}), ("Dropout", (), {}), ("Dropout", (0.2, True), {}),
    ("BatchNorm1d", (5,), {}), ("BatchNorm1d", (5,), {"momentum": None, "affine": False}),
    ("BatchNorm1d", (5,), {"track_running_stats": False}), ("BatchNorm1d", (5,), {"bias": False}),
    ("LayerNorm", (7,), {}), ("LayerNorm", ([2, 3],), {"elementwise_affine": False}),
    ("LayerNorm", (4,), {"bias": False, "eps": 1e-3}), ("GroupNorm", (2, 4), {}), ("GroupNorm", (1, 3), {"affine": False}),
    ("Embedding", (10, 3), {}), ("Embedding", (10, 3), {"padding_idx": -2}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES)
def test_module_state_dict_keys_shapes_and_repr_match_torch(name, args, kwargs):
    torch = torch_or_skip()
    ours, theirs = getattr(L, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    ls, ts = ours.state_dict(), theirs.state_dict()
    assert list(ls) == list(ts)
    for k in ts:
        assert tuple(ls[k].shape) == tuple(ts[k].shape), k
        assert str(ls[k].dtype).split(".")[-1] == str(ts[k].dtype).split(".")[-1], k
        if name not in ("Linear", "Embedding"):  # deterministic initial values
            np.testing.assert_array_equal(ls[k].detach().numpy(), ts[k].numpy(), err_msg=k)

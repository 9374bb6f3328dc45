"""Activation modules (and the parametrised activation ops): gradcheck in float64 away from
kinks, forward and backward against PyTorch in float32, reprs equal to torch's."""
import numpy as np
import pytest

import lamina as lm
from lamina import _C
from lamina.nn import _functional_layers as LF
from lamina.nn import layers as L
from helpers import check_against_torch, gradcheck, torch_or_skip

rng = np.random.default_rng(0)


def away_from_kinks(*shape, dtype=np.float32, kinks=(0.0,)):
    """Random values at least 0.05 away from each kink (finite differences straddle none)."""
    x = rng.standard_normal(shape) * 2
    for k in kinks:
        near = np.abs(x - k) < 0.05
        x[near] += 0.1 * np.sign(x[near] - k + 1e-12)
    return x.astype(dtype)


# (lamina module name, constructor args, kwargs, kinks of the function)
MODULES = [
    ("ReLU", (), {}, (0.0,)),
    ("LeakyReLU", (), {}, (0.0,)),
    ("LeakyReLU", (0.2,), {}, (0.0,)),
    ("PReLU", (), {}, (0.0,)),
    ("PReLU", (5,), {"init": 0.1}, (0.0,)),
    ("ELU", (), {}, (0.0,)),
    ("ELU", (0.5,), {}, (0.0,)),
    ("SELU", (), {}, (0.0,)),
    ("GELU", (), {}, ()),
    ("GELU", ("tanh",), {}, ()),
    ("SiLU", (), {}, ()),
    ("Mish", (), {}, ()),
    ("Sigmoid", (), {}, ()),
    ("Tanh", (), {}, ()),
    ("Hardtanh", (), {}, (-1.0, 1.0)),
    ("Hardtanh", (-2.0, 0.5), {}, (-2.0, 0.5)),
    ("Softplus", (), {}, ()),
    ("Softplus", (2.0, 1.0), {}, (0.5,)),  # threshold crossed at x = 0.5
    ("Softmax", (1,), {}, ()),
    ("LogSoftmax", (-1,), {}, ()),
]


def torch_module(torch, name, args, kwargs):
    return getattr(torch.nn, name)(*args, **kwargs)




@pytest.mark.parametrize("name,args,kwargs,kinks", MODULES)
def test_activation_module_gradcheck(name, args, kwargs, kinks):
    m = getattr(L, name)(*args, **kwargs).double()
    x = away_from_kinks(3, 5, dtype=np.float64, kinks=kinks)
    if name == "PReLU":  # the weight too
        w = rng.uniform(0.05, 0.5, size=tuple(m.weight.shape))
        gradcheck(lambda x, w: _C.prelu(x, w), [x, w])
    else:
        gradcheck(lambda x: m(x), [x])


@pytest.mark.parametrize("name,args,kwargs,kinks", MODULES)
def test_activation_module_matches_torch(name, args, kwargs, kinks):
    torch = torch_or_skip()
    ours, theirs = getattr(L, name)(*args, **kwargs), torch_module(torch, name, args, kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = away_from_kinks(4, 5, 3, kinks=kinks)
    if name == "PReLU":  # weight gradient too
        w = rng.uniform(0.05, 0.5, size=tuple(theirs.weight.shape)).astype(np.float32)
        check_against_torch(lambda m, x, w: m.nn.functional.prelu(x, w) if m is not lm else _C.prelu(x, w), [x, w])
    else:
        check_against_torch(lambda m, x: (ours if m is lm else theirs)(x), [x])


def test_activation_reprs_with_options_match_torch():
    torch = torch_or_skip()
    for name, args, kwargs in [("ReLU", (True,), {}), ("Softmax", (), {}), ("LogSoftmax", (), {"dim": 0})]:
        assert repr(getattr(L, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("fn,kwargs", [("leaky_relu", {"negative_slope": 0.3}), ("elu", {"alpha": 2.0}), ("selu", {}),
                                       ("silu", {}), ("mish", {}), ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
                                       ("relu", {})])
def test_functional_activations_accept_torch_signature(fn, kwargs):
    x = away_from_kinks(6, 4, kinks=(0.0, -0.5, 2.0))
    check_against_torch(lambda m, x: getattr(LF if m is lm else m.nn.functional, fn)(x, **kwargs, inplace=False), [x])


@pytest.mark.parametrize("fn,kwargs", [("gelu", {"approximate": "tanh"}), ("gelu", {}), ("softplus", {"beta": 0.5}),
                                       ("softplus", {"beta": 1.0, "threshold": 1.0}), ("prelu", None)])
def test_functional_activations_match_torch(fn, kwargs):
    x = away_from_kinks(5, 3, 4, kinks=(0.0, 1.0))
    if kwargs is None:
        check_against_torch(lambda m, x, w: (_C if m is lm else m.nn.functional).prelu(x, w), [x, np.float32([0.1, 0.2, 0.3])])
    else:
        check_against_torch(lambda m, x: getattr(_C if m is lm else m.nn.functional, fn)(x, **kwargs), [x])


def test_activations_extreme_inputs_stay_finite():
    x = lm.tensor(np.float32([-1e4, -50, 50, 1e4]))
    for fn in (_C.silu, _C.mish, _C.softplus, _C.elu, _C.selu, _C.gelu):
        assert np.isfinite(fn(x).numpy()).all(), fn.__name__


def test_relu_passes_nan_and_its_gradient_like_torch():
    th = torch_or_skip()
    x = np.float32([np.nan, -1.0, -0.0, 0.0, 2.0])
    xl, xt = lm.tensor(x, requires_grad=True), th.tensor(x, requires_grad=True)
    out, ref = _C.relu(xl), th.relu(xt)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    out.backward(lm.ones(5))
    ref.backward(th.ones(5))
    np.testing.assert_array_equal(xl.grad.numpy(), xt.grad.numpy())  # [1, 0, 0, 0, 1]


def test_activation_bad_inputs():
    x = lm.tensor(np.float32([[1, 2, 3]]))
    with pytest.raises(ValueError, match="approximate"):
        _C.gelu(x, approximate="fast")
    with pytest.raises(ValueError, match="min_val"):
        _C.hardtanh(x, 1.0, -1.0)
    with pytest.raises(ValueError, match="min_val"):
        L.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match=r"\[prelu\] weight"):
        _C.prelu(x, lm.ones(2))
    with pytest.raises(TypeError):
        _C.silu(lm.tensor(np.arange(3)))

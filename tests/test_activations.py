"""Activation modules (and the parametrised activation ops): gradcheck in float64 away from
kinks, forward and backward against PyTorch in float32, reprs equal to torch's."""
import numpy as np
import pytest

import lamina as lm
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
    ("Sigmoid", (), {}, ()),
    ("Tanh", (), {}, ()),
    ("Softmax", (1,), {}, ()),
    ("LogSoftmax", (-1,), {}, ()),
]


def torch_module(torch, name, args, kwargs):
    return getattr(torch.nn, name)(*args, **kwargs)


@pytest.mark.parametrize("name,args,kwargs,kinks", MODULES)
def test_activation_module_gradcheck(name, args, kwargs, kinks):
    m = getattr(L, name)(*args, **kwargs).double()
    gradcheck(lambda x: m(x), [away_from_kinks(3, 5, dtype=np.float64, kinks=kinks)])


@pytest.mark.parametrize("name,args,kwargs,kinks", MODULES)
def test_activation_module_matches_torch(name, args, kwargs, kinks):
    torch = torch_or_skip()
    ours, theirs = getattr(L, name)(*args, **kwargs), torch_module(torch, name, args, kwargs)
    assert repr(ours) == repr(theirs)
    check_against_torch(lambda m, x: (ours if m is lm else theirs)(x), [away_from_kinks(4, 6, 3, kinks=kinks)])


def test_activation_reprs_with_options_match_torch():
    torch = torch_or_skip()
    for name, args, kwargs in [("ReLU", (True,), {}), ("Softmax", (), {}), ("LogSoftmax", (), {"dim": 0})]:
        assert repr(getattr(L, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))

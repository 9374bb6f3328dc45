"""nn.init: sample statistics of every initialiser on large tensors (mean, std, bounds), fans and
gains equal to torch's, orthogonality, truncation, in-place use on parameters, reproducibility
under manual_seed, and bad arguments."""
import math

import numpy as np
import pytest

import lamina as lm
from lamina.nn import init
from lamina.nn.parameter import Parameter

torch = pytest.importorskip("torch", reason="PyTorch (test extra) is not installed")

@pytest.fixture(autouse=True)
def seeded():
    """Each test draws from a known generator state, whatever ran before it."""
    lm.manual_seed(0)
    torch.manual_seed(0)


SHAPES = [(64, 32), (16, 8, 3), (32, 16, 3, 5), (5, 7, 2, 2, 2)]


def stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.mean(), a.std(), a.min(), a.max()


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(lm.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


@pytest.mark.parametrize("nonlinearity,param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                                 ("tanh", None), ("relu", None), ("leaky_relu", None),
                                                 ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def torch_uniform_bound(name, shape, kwargs):
    """The bound that torch's formula gives, with torch's fans and gains."""
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    if name == "xavier_uniform_":
        return kwargs.get("gain", 1.0) * math.sqrt(6.0 / (fan_in + fan_out))
    fan = fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out
    gain = torch.nn.init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
    return math.sqrt(3.0) * gain / math.sqrt(fan)


@pytest.mark.parametrize("name,kwargs", [("xavier_uniform_", dict(gain=1.5)), ("kaiming_uniform_", dict(a=math.sqrt(5))),
                                         ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu"))])
@pytest.mark.parametrize("shape", [(300, 200), (64, 30, 3, 3)])
def test_uniform_family_bounds_match_torch(name, kwargs, shape):
    bound = torch_uniform_bound(name, shape, kwargs)
    assert float(getattr(torch.nn.init, name)(torch.empty(*shape), **kwargs).abs().max()) <= bound
    mean, std, lo, hi = stats(getattr(init, name)(lm.empty(*shape), **kwargs))
    assert -bound * (1 + 1e-6) <= lo and hi <= bound * (1 + 1e-6)  # float32 rounding of the bound
    assert hi == pytest.approx(bound, rel=0.01) and -lo == pytest.approx(bound, rel=0.01)
    assert std == pytest.approx(bound / math.sqrt(3), rel=0.02) and abs(mean) < 0.01 * bound


@pytest.mark.parametrize("name,kwargs", [("xavier_normal_", dict(gain=0.7)), ("kaiming_normal_", dict()),
                                         ("kaiming_normal_", dict(mode="fan_out", nonlinearity="relu"))])
def test_normal_family_std_matches_torch(name, kwargs):
    shape = (256, 128, 3, 3)
    lw = getattr(init, name)(lm.empty(*shape), **kwargs)
    tw = getattr(torch.nn.init, name)(torch.empty(*shape), **kwargs)
    mean, std, _, _ = stats(lw)
    assert std == pytest.approx(float(tw.std()), rel=0.01) and abs(mean) < 0.01 * std


def test_uniform_normal_constant_statistics():
    t = lm.empty(1000, 1000)
    mean, std, lo, hi = stats(init.uniform_(t, -2.0, 3.0))
    assert mean == pytest.approx(0.5, abs=0.01) and std == pytest.approx(5 / math.sqrt(12), rel=0.01)
    assert -2.0 <= lo < -1.99 and 2.99 < hi <= 3.0
    mean, std, _, _ = stats(init.normal_(lm.empty(1000, 1000, dtype=lm.float64), mean=1.5, std=0.2))
    assert mean == pytest.approx(1.5, abs=0.002) and std == pytest.approx(0.2, rel=0.01)
    assert init.constant_(lm.empty(3, dtype=lm.int64), 7).numpy().tolist() == [7, 7, 7]
    assert init.zeros_(lm.ones(2)).numpy().tolist() == [0, 0] and init.ones_(lm.zeros(2)).numpy().tolist() == [1, 1]


def truncated_normal_moments(mean, std, a, b):
    """Mean and std of N(mean, std^2) truncated to [a, b] (computed on the lower-tail side of
    the mean, mirrored, so that no CDF difference cancels)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    sign = 1.0
    if alpha > -beta:
        alpha, beta, sign = -beta, -alpha, -1.0
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: math.erfc(-x / math.sqrt(2)) / 2  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    m = (pdf(alpha) - pdf(beta)) / z
    var = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - m**2
    return mean + sign * std * m, std * math.sqrt(var)


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (1.0, 1.0, 2.0, 3.0),
                                          (0.0, 1.0, -6.0, -4.5), (0.0, 1.0, 8.0, 9.0)])
def test_trunc_normal_stays_in_bounds_with_the_right_moments(mean, std, a, b):
    _, _, lo, hi = stats(init.trunc_normal_(lm.empty(500, 1000), mean=mean, std=std, a=a, b=b))
    m, s, _, _ = stats(init.trunc_normal_(lm.empty(500, 1000, dtype=lm.float64), mean=mean, std=std, a=a, b=b))
    assert a <= lo and hi <= b
    exp_m, exp_s = truncated_normal_moments(mean, std, a, b)
    assert m == pytest.approx(exp_m, abs=0.01 * exp_s) and s == pytest.approx(exp_s, rel=0.01)


@pytest.mark.parametrize("shape,gain", [((40, 20), 1.0), ((20, 40), 2.0), ((8, 4, 3, 3), 1.0), ((30, 30), 0.5)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape, gain):
    w = init.orthogonal_(lm.empty(*shape, dtype=lm.float64), gain=gain).numpy().reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w.T @ w if rows >= cols else w @ w.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-10)
    w32 = init.orthogonal_(lm.empty(*shape), gain=gain).numpy().reshape(shape[0], -1).astype(np.float64)
    gram = w32.T @ w32 if rows >= cols else w32 @ w32.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-5)


INITS = [lambda t: init.uniform_(t, -1, 1), lambda t: init.normal_(t), lambda t: init.trunc_normal_(t, std=0.5),
         init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_, init.orthogonal_]


@pytest.mark.parametrize("fn", INITS)
def test_initialisers_are_reproducible_under_manual_seed_and_work_in_place(fn):
    p = Parameter(lm.empty(6, 5))
    lm.manual_seed(123)
    out = fn(p)
    assert out is p and p.requires_grad and p.grad_fn is None
    first = p.detach().numpy().copy()
    lm.manual_seed(123)
    fn(p)
    np.testing.assert_array_equal(p.detach().numpy(), first)
    fn(p)
    assert not np.array_equal(p.detach().numpy(), first)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(lm.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(lm.empty(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "x")
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(lm.empty(4))
    with pytest.raises(TypeError, match="floating-point"):
        init.uniform_(lm.empty(3, dtype=lm.int64))
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(lm.empty(0, 3))

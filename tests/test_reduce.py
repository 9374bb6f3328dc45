"""Reductions: sum, mean, var, std, max, min, argmax, argmin. Each differentiable reduction is
checked against finite differences (float64) and against PyTorch (float32, forward and gradient),
over dim None / int / negative / tuples of non-adjacent dims, keepdim, non-contiguous inputs and
0-d / 1-element inputs; plus dtypes of integer sums and the errors of malformed calls."""
import numpy as np
import pytest

import lamina as lm
from helpers import check_against_torch, gradcheck, torch_or_skip

RNG = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


DIMS = [None, 0, 1, -1, 2, (0, 2), (-1, 0), (0, 1), (1, 2), (0, 1, 2), ()]


def dim_kwargs(dim):
    return {} if dim is None else {"dim": dim}


# ---------------------------------------------------------------- sum and mean
@pytest.mark.parametrize("op", ["sum", "mean"])
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_mean_match_torch(op, dim, keepdim):
    kwargs = dim_kwargs(dim)
    if dim is not None:
        kwargs["keepdim"] = keepdim
    check_against_torch(lambda m, x: getattr(m, op)(x, **kwargs), [randn(3, 4, 5)])


@pytest.mark.parametrize("op", ["sum", "mean"])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), (2, 0)])
def test_sum_mean_of_transposed_input_match_torch(op, dim):
    kwargs = dim_kwargs(dim)
    check_against_torch(lambda m, x: getattr(x.transpose(0, 2), op)(**kwargs), [randn(3, 4, 5)])
    check_against_torch(lambda m, x: getattr(x.permute(1, 2, 0), op)(**kwargs), [randn(3, 4, 5)])


@pytest.mark.parametrize("op", ["sum", "mean"])
@pytest.mark.parametrize("dim", [None, 1, (0, 2), -2])
def test_sum_mean_gradcheck(op, dim):
    kwargs = dim_kwargs(dim)
    gradcheck(lambda x: getattr(x, op)(**kwargs), [randn(2, 3, 4, dtype=np.float64)])
    gradcheck(lambda x: getattr(x.transpose(0, 2), op)(keepdim=True, **kwargs), [randn(2, 3, 4, dtype=np.float64)])


@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean_of_zero_dim_and_one_element(op):
    check_against_torch(lambda m, x: getattr(m, op)(x), [np.array(2.5, dtype=np.float32)])
    check_against_torch(lambda m, x: getattr(m, op)(x, 0), [np.array(2.5, dtype=np.float32)])
    check_against_torch(lambda m, x: getattr(m, op)(x, -1, keepdim=True), [np.array(2.5, dtype=np.float32)])
    check_against_torch(lambda m, x: getattr(m, op)(x, 1), [randn(3, 1)])
    check_against_torch(lambda m, x: getattr(m, op)(x), [randn(1, 1, 1)])
    gradcheck(lambda x: getattr(x, op)(), [np.array(1.5)])


def test_sum_of_empty_is_zero_and_mean_is_nan():
    torch = torch_or_skip()
    x = np.zeros((0, 3), dtype=np.float32)
    for op in ("sum", "mean"):
        for kwargs in ({}, {"dim": 0}, {"dim": 1}):
            got = getattr(lm, op)(lm.tensor(x), **kwargs)
            want = getattr(torch, op)(torch.tensor(x), **kwargs)
            assert tuple(got.shape) == tuple(want.shape)
            np.testing.assert_allclose(got.numpy(), want.numpy())


def test_sum_of_bool_and_int64_gives_int64():
    b = lm.tensor([[True, False, True], [True, True, False]])
    assert b.sum().dtype == lm.int64 and b.sum().item() == 4
    assert b.sum(0).dtype == lm.int64 and b.sum(0).tolist() == [2, 1, 1]
    i = lm.tensor([[1, 2, 3], [4, 5, 6]])
    assert i.sum().dtype == lm.int64 and i.sum().item() == 21
    assert i.sum(1, keepdim=True).tolist() == [[6], [15]]
    big = lm.tensor([2**40, 2**40, 3])
    assert big.sum().item() == 2**41 + 3  # integer sums stay exact


def test_sum_dtype_argument():
    i = lm.tensor([1, 2, 3])
    s = lm.sum(i, dtype=lm.float64)
    assert s.dtype == lm.float64 and s.item() == 6.0
    x = lm.tensor([0.1, 0.2], dtype=lm.float32)
    assert x.sum(dtype=lm.float64).dtype == lm.float64
    m = lm.tensor([1, 2]).mean(dtype=lm.float32)
    assert m.dtype == lm.float32 and m.item() == 1.5


def test_sum_dtype_keeps_the_gradient():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    x.sum(dtype=lm.float64).backward()
    assert x.grad.dtype == lm.float32
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_mean_of_integers_raises_type_error():
    with pytest.raises(TypeError, match="mean"):
        lm.tensor([1, 2, 3]).mean()


@pytest.mark.parametrize("call", [
    lambda x: x.sum(), lambda x: x.sum(0), lambda x: x.sum((0, 1)), lambda x: x.mean(), lambda x: x.mean(1),
    lambda x: x.var(), lambda x: x.std(0), lambda x: x.max(), lambda x: x.min(), lambda x: x.max(0)[0],
    lambda x: x.min(1, keepdim=True)[0],
])
def test_reduction_grad_fn_names_match_torch(call):
    torch = torch_or_skip()
    x = randn(2, 3)
    got = call(lm.tensor(x, requires_grad=True)).grad_fn.name()
    assert got == call(torch.tensor(x, requires_grad=True)).grad_fn.name()


# ---------------------------------------------------------------- var and std
VAR_ARGS = [
    {},
    {"dim": 0},
    {"dim": -1, "keepdim": True},
    {"dim": (0, 2)},
    {"dim": (2, 0), "keepdim": True},
    {"dim": 1, "unbiased": False},
    {"unbiased": False},
    {"dim": 1, "correction": 0},
    {"dim": (0, 1), "correction": 2},
    {"correction": 0.5},
]


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("kwargs", VAR_ARGS)
def test_var_std_match_torch(op, kwargs):
    check_against_torch(lambda m, x: getattr(m, op)(x, **kwargs), [randn(3, 4, 5)])
    check_against_torch(lambda m, x: getattr(x.transpose(0, 2), op)(**kwargs), [randn(5, 4, 3)])


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": (0, 2), "unbiased": False}, {"dim": -1, "correction": 2}])
def test_var_std_gradcheck(op, kwargs):
    gradcheck(lambda x: getattr(x, op)(**kwargs), [randn(3, 4, 5, dtype=np.float64)])
    gradcheck(lambda x: getattr(x.transpose(0, 1), op)(**kwargs), [randn(4, 3, 5, dtype=np.float64)])


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_positional_unbiased_and_large_mean(op):
    torch = torch_or_skip()
    x = (randn(4, 6) + 1e4).astype(np.float32)  # two-pass: no cancellation
    for args in [(1, False), (1, True), (0, False, True)]:
        got = getattr(lm.tensor(x), op)(*args)
        want = getattr(torch.tensor(x), op)(*args)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-3)


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
def test_var_std_of_one_element(op):
    # correction=1 over one element is 0/0 = nan, as torch; correction=0 gives 0.
    with np.errstate(all="ignore"):
        check_against_torch(lambda m, x: getattr(m, op)(x, correction=0), [np.array([1.5], dtype=np.float32)], grad=False)
        check_against_torch(lambda m, x: getattr(m, op)(x), [np.array(1.5, dtype=np.float32)], grad=False)
        check_against_torch(lambda m, x: getattr(m, op)(x, 1), [randn(3, 1)], grad=False)
    check_against_torch(lambda m, x: m.var(x, correction=0), [np.array([1.5], dtype=np.float32)])


def test_var_std_of_integers_raise_type_error():
    for op in ("var", "std"):
        with pytest.raises(TypeError, match=op):
            getattr(lm.tensor([1, 2, 3]), op)()


# ---------------------------------------------------------------- max and min
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_overall_match_torch(op):
    check_against_torch(lambda m, x: getattr(m, op)(x), [randn(3, 4)])
    check_against_torch(lambda m, x: getattr(x.t(), op)(), [randn(3, 4)])
    check_against_torch(lambda m, x: getattr(m, op)(x), [np.array(2.0, dtype=np.float32)])
    gradcheck(lambda x: getattr(x, op)(), [randn(3, 4, dtype=np.float64)])


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_overall_ties_split_the_gradient_evenly(op):
    v = 3.0 if op == "max" else -3.0
    x = np.array([[1.0, v, 0.5], [v, 2.0 * np.sign(v) * -1, v]], dtype=np.float32)
    out = check_against_torch(lambda m, t: getattr(t, op)(), [x])
    assert out.item() == v
    t = lm.tensor(x, requires_grad=True)
    getattr(t, op)().backward()
    np.testing.assert_allclose(t.grad.numpy(), (x == v) / 3.0)


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim_match_torch(op, dim, keepdim):
    torch = torch_or_skip()
    x = randn(3, 4, 5)
    check_against_torch(lambda m, t: getattr(m, op)(t, dim, keepdim=keepdim)[0], [x])
    check_against_torch(lambda m, t: getattr(t.transpose(0, 2), op)(dim=dim, keepdim=keepdim).values, [x])
    got = getattr(lm.tensor(x), op)(dim, keepdim)
    want = getattr(torch.tensor(x), op)(dim, keepdim)
    assert got.indices.dtype == lm.int64
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_dim_returns_a_namedtuple(op):
    x = lm.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    r = getattr(lm, op)(x, 1)
    assert type(r).__name__ == op and r._fields == ("values", "indices")
    values, indices = r
    assert values.same(r.values) if hasattr(values, "same") else values is r.values
    assert r.values.tolist() == ([5.0, 7.0] if op == "max" else [1.0, 0.0])
    assert r.indices.tolist() == ([1, 0] if op == "max" else [0, 1])
    assert r[0] is r.values and r[1] is r.indices


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_dim_pick_the_first_among_ties(op):
    torch = torch_or_skip()
    x = np.array([[2, 2, 1, 2], [0, 0, 0, 0], [1, 3, 3, 0], [3, 1, 1, 3]], dtype=np.float32)
    if op == "min":
        x = -x
    for dim in (0, 1):
        got = getattr(lm.tensor(x), op)(dim)
        want = getattr(torch.tensor(x), op)(dim)
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    # the gradient goes to that first index only
    check_against_torch(lambda m, t: getattr(t, op)(1).values, [x])
    check_against_torch(lambda m, t: getattr(t, op)(0, keepdim=True).values, [x])


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_dim_gradcheck(op):
    gradcheck(lambda x: getattr(x, op)(1).values, [randn(3, 4, 5, dtype=np.float64)])
    gradcheck(lambda x: getattr(x.transpose(0, 2), op)(-1, keepdim=True).values, [randn(3, 4, 5, dtype=np.float64)])


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_dim_of_zero_dim_and_one_element(op):
    check_against_torch(lambda m, x: getattr(m, op)(x, 0).values, [np.array(2.0, dtype=np.float32)])
    check_against_torch(lambda m, x: getattr(m, op)(x, -1, keepdim=True).values, [np.array(2.0, dtype=np.float32)])
    check_against_torch(lambda m, x: getattr(m, op)(x, 0).values, [np.array([2.0], dtype=np.float32)])
    check_against_torch(lambda m, x: getattr(m, op)(x, 1).values, [randn(3, 1)])
    assert getattr(lm.tensor(2.0), op)(0).indices.item() == 0


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_of_integers_and_bools(op):
    torch = torch_or_skip()
    x = np.array([[3, -1, 7], [7, 2, -5]], dtype=np.int64)
    assert getattr(lm.tensor(x), op)().item() == getattr(torch.tensor(x), op)().item()
    r, w = getattr(lm.tensor(x), op)(1), getattr(torch.tensor(x), op)(1)
    assert r.values.dtype == lm.int64
    np.testing.assert_array_equal(r.values.numpy(), w.values.numpy())
    np.testing.assert_array_equal(r.indices.numpy(), w.indices.numpy())
    b = np.array([False, True, True])
    assert getattr(lm.tensor(b), op)().item() == getattr(torch.tensor(b), op)().item()


def test_max_min_propagate_nan_like_torch():
    torch = torch_or_skip()
    x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0], [np.nan, 0.0, np.nan]], dtype=np.float32)
    for op in ("max", "min"):
        assert np.isnan(getattr(lm.tensor(x), op)().item())
        got, want = getattr(lm.tensor(x), op)(1), getattr(torch.tensor(x), op)(1)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


def test_max_min_gradient_goes_to_the_nans_like_torch():
    x = np.array([[1.0, np.nan], [3.0, np.nan]], dtype=np.float32)
    for op in ("max", "min"):
        check_against_torch(lambda m, t: getattr(t, op)(), [x])
        check_against_torch(lambda m, t: getattr(t, op)(1).values, [x])
        check_against_torch(lambda m, t: getattr(t, op)(0).values, [x])


def test_max_min_with_a_tensor_are_elementwise():
    check_against_torch(lambda m, a, b: m.max(a, b), [randn(3, 4), randn(3, 4)])
    check_against_torch(lambda m, a, b: m.min(a, b), [randn(3, 4), randn(4)])


# ---------------------------------------------------------------- argmax and argmin
@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("kwargs", [{}, {"keepdim": True}, {"dim": 0}, {"dim": 1}, {"dim": -1, "keepdim": True}, {"dim": 2}])
def test_argmax_argmin_match_torch(op, kwargs):
    torch = torch_or_skip()
    x = randn(3, 4, 5)
    for arr in (x, x.round()):  # rounded: many ties
        got = getattr(lm, op)(lm.tensor(arr), **kwargs)
        want = getattr(torch, op)(torch.tensor(arr), **kwargs)
        assert got.dtype == lm.int64
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        got_t = getattr(lm.tensor(arr).transpose(0, 2), op)(**kwargs)
        want_t = getattr(torch.tensor(arr).transpose(0, 2), op)(**kwargs)
        np.testing.assert_array_equal(got_t.numpy(), want_t.numpy())


@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_argmin_of_zero_dim_and_integers(op):
    torch = torch_or_skip()
    for arr, kwargs in [(np.array(3.0), {}), (np.array(3.0), {"dim": 0}), (np.array(3.0), {"keepdim": True}),
                        (np.array([[4, 1, 4], [0, 9, 9]]), {}), (np.array([[4, 1, 4], [0, 9, 9]]), {"dim": 1})]:
        got = getattr(lm, op)(lm.tensor(arr), **kwargs)
        want = getattr(torch, op)(torch.tensor(arr), **kwargs)
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_argmax_does_not_record_history():
    x = lm.randn(3, 4, requires_grad=True)
    assert not x.argmax().requires_grad and not x.argmin(1).requires_grad
    assert not x.max(1).indices.requires_grad


# ---------------------------------------------------------------- large inputs
@pytest.mark.parametrize("dim", [None, 0, 1, 2, (0, 2), (1, 2)])
def test_large_reductions_match_torch(dim):
    # sizes that split into many parallel chunks, with odd inner lengths
    x = randn(32, 129, 67)
    kwargs = dim_kwargs(dim)
    for op in ("sum", "mean", "var", "std"):
        check_against_torch(lambda m, t: getattr(t, op)(**kwargs), [x], atol=1e-4)
    if isinstance(dim, int):
        torch = torch_or_skip()
        check_against_torch(lambda m, t: t.max(dim).values, [x])
        np.testing.assert_array_equal(lm.tensor(x).argmin(dim).numpy(), torch.tensor(x).argmin(dim).numpy())


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("call", [
    lambda x: x.sum(3), lambda x: x.sum(-4), lambda x: x.mean((0, 5)), lambda x: x.var(3), lambda x: x.std(-4),
    lambda x: x.max(3), lambda x: x.min(-4), lambda x: x.argmax(3), lambda x: x.argmin(-4),
])
def test_out_of_range_dim_raises_index_error(call):
    with pytest.raises(IndexError, match=r"\[\w+\].*dim"):
        call(lm.zeros(2, 3, 4))


def test_repeated_dim_raises_value_error():
    with pytest.raises(ValueError, match=r"\[sum\].*multiple times"):
        lm.zeros(2, 3).sum((0, 0))
    with pytest.raises(ValueError, match=r"\[var\].*multiple times"):
        lm.zeros(2, 3).var((1, -1))


def test_reductions_over_empty_dims_raise():
    x = lm.zeros(0, 3)
    with pytest.raises(ValueError, match=r"\[max\]"):
        x.max()
    with pytest.raises(ValueError, match=r"\[argmin\]"):
        x.argmin()
    with pytest.raises(IndexError, match=r"\[max\]"):
        x.max(0)
    with pytest.raises(IndexError, match=r"\[argmax\]"):
        x.argmax(0)
    assert tuple(x.max(1).values.shape) == (0,)


def test_reductions_reject_non_tensors():
    with pytest.raises(TypeError):
        lm.sum([1.0, 2.0])
    with pytest.raises(TypeError):
        lm.max([1.0, 2.0])


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_reject_a_dim_that_is_not_an_int(op):
    with pytest.raises(TypeError, match=rf"\[{op}\] dim"):
        getattr(lm.zeros(2, 3), op)("a")
    with pytest.raises(TypeError, match=rf"\[{op}\] dim"):
        getattr(lm.zeros(2, 3), op)(1.5)


def test_sum_rejects_a_dim_that_is_not_an_int_with_type_error():
    for bad in ("a", 1.5, (0, "a"), True):
        with pytest.raises(TypeError, match=r"\[dim\]"):
            lm.zeros(2, 3).sum(bad)

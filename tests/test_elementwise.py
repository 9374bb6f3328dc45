"""Elementwise ops: binary arithmetic (+ - * / pow maximum minimum), comparisons, where, unary
math, clamp/clip and the in-place forms, each checked by finite differences (float64) and beside
PyTorch (float32), with broadcasting, non-contiguous views, Python numbers and type promotion.
"""
import numpy as np
import pytest

import lamina as lm
from helpers import check_against_torch, gradcheck

try:
    import torch
except ImportError:  # the parity tests skip through check_against_torch / needs_torch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (test extra) is not installed")


def rand(*shape, low=-2.0, high=2.0, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed + 7 * len(shape) + sum(shape))
    return rng.uniform(low, high, size=shape).astype(dtype)


def away_from_zero(*shape, dtype=np.float32, seed=0):
    """Values in [-2, -0.5] U [0.5, 2]: safe divisors, away from the kinks of abs/relu."""
    a = rand(*shape, low=0.5, high=2.0, dtype=dtype, seed=seed)
    signs = np.where(rand(*shape, seed=seed + 1) > 0, 1, -1).astype(dtype)
    return a * signs


def positive(*shape, dtype=np.float32, seed=0):
    return rand(*shape, low=0.5, high=2.0, dtype=dtype, seed=seed)


# ---------------------------------------------------------------- binary ops
# name -> (fn(module, a, b), input maker for a, input maker for b)
BINARY = {
    "add": (lambda m, a, b: a + b, rand, rand),
    "sub": (lambda m, a, b: a - b, rand, rand),
    "mul": (lambda m, a, b: a * b, rand, rand),
    "div": (lambda m, a, b: a / b, rand, away_from_zero),
    "pow": (lambda m, a, b: a ** b, positive, rand),
    "maximum": (lambda m, a, b: m.maximum(a, b), rand, rand),
    "minimum": (lambda m, a, b: m.minimum(a, b), rand, rand),
}
# The same ops as module functions and as methods.
BINARY_FORMS = [
    ("add_fn", lambda m, a, b: m.add(a, b), rand, rand),
    ("add_method", lambda m, a, b: a.add(b), rand, rand),
    ("sub_fn", lambda m, a, b: m.sub(a, b), rand, rand),
    ("sub_method", lambda m, a, b: a.sub(b), rand, rand),
    ("mul_fn", lambda m, a, b: m.mul(a, b), rand, rand),
    ("mul_method", lambda m, a, b: a.mul(b), rand, rand),
    ("div_fn", lambda m, a, b: m.div(a, b), rand, away_from_zero),
    ("div_method", lambda m, a, b: a.div(b), rand, away_from_zero),
    ("pow_fn", lambda m, a, b: m.pow(a, b), positive, rand),
    ("pow_method", lambda m, a, b: a.pow(b), positive, rand),
    ("maximum_method", lambda m, a, b: a.maximum(b), rand, rand),
    ("minimum_method", lambda m, a, b: a.minimum(b), rand, rand),
    ("max_of_two", lambda m, a, b: m.max(a, b), rand, rand),
    ("min_of_two", lambda m, a, b: m.min(a, b), rand, rand),
]
BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 3, 4)),
    ((), (3,)),
    ((2, 3), ()),
    ((), ()),
    ((2, 1, 3), (4, 1)),
    ((0, 3), (1, 3)),
]


@pytest.mark.parametrize("name", BINARY)
def test_binary_gradcheck(name):
    fn, make_a, make_b = BINARY[name]
    gradcheck(lambda a, b: fn(lm, a, b), [make_a(3, 1, dtype=np.float64), make_b(1, 4, dtype=np.float64, seed=3)])


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shape_a,shape_b", BROADCAST_SHAPES, ids=str)
def test_binary_matches_torch_with_broadcasting(name, shape_a, shape_b):
    fn, make_a, make_b = BINARY[name]
    check_against_torch(fn, [make_a(*shape_a), make_b(*shape_b, seed=5)])


@pytest.mark.parametrize("name,fn,make_a,make_b", BINARY_FORMS, ids=[f[0] for f in BINARY_FORMS])
def test_binary_function_and_method_forms_match_torch(name, fn, make_a, make_b):
    check_against_torch(fn, [make_a(2, 3), make_b(3, seed=1)])


@pytest.mark.parametrize("name", BINARY)
def test_binary_matches_torch_on_non_contiguous_views(name):
    fn, make_a, make_b = BINARY[name]
    # a.t() is a transposed view (3, 4); b[:, ::2] is a strided slice (3, 4); c[1] an offset view.
    check_against_torch(lambda m, a, b: fn(m, a.t(), b[:, ::2]), [make_a(4, 3), make_b(3, 8, seed=2)])
    check_against_torch(lambda m, a, b: fn(m, a[::2, 1:], b.t()[1]), [make_a(6, 5), make_b(4, 3, seed=4)])


def test_binary_of_a_tensor_with_itself_matches_torch():
    check_against_torch(lambda m, a: a * a + a / (a * a + 1) - m.maximum(a, a), [rand(3, 4)])


# Python numbers on either side: x + 2, 2 - x, 2 ** x, x / 3, ...
SCALAR_OPS = {
    "x+2": lambda m, x: x + 2,
    "2+x": lambda m, x: 2 + x,
    "x+2.5": lambda m, x: x + 2.5,
    "x-2": lambda m, x: x - 2,
    "2-x": lambda m, x: 2 - x,
    "2.5-x": lambda m, x: 2.5 - x,
    "x*3": lambda m, x: x * 3,
    "3*x": lambda m, x: 3 * x,
    "x/3": lambda m, x: x / 3,
    "3/x": lambda m, x: 3 / x,
    "x**2": lambda m, x: x ** 2,
    "x**0.5": lambda m, x: x ** 0.5,
    "x**-1.5": lambda m, x: x ** -1.5,
    "2**x": lambda m, x: 2 ** x,
    "2.5**x": lambda m, x: 2.5 ** x,
    "x**0": lambda m, x: x ** 0,
    "add(x,2)": lambda m, x: m.add(x, 2),
    "x.mul(0.5)": lambda m, x: x.mul(0.5),
    "pow(x,3)": lambda m, x: m.pow(x, 3),
    "x.div(4)": lambda m, x: x.div(4),
    "x.sub(1)": lambda m, x: x.sub(1),
}


@pytest.mark.parametrize("name", SCALAR_OPS)
def test_python_number_operands_match_torch(name):
    check_against_torch(SCALAR_OPS[name], [positive(2, 3)])


@pytest.mark.parametrize("name", SCALAR_OPS)
def test_python_number_operands_gradcheck(name):
    gradcheck(lambda x: SCALAR_OPS[name](lm, x), [positive(2, 3, dtype=np.float64)])


def test_python_number_keeps_float64():
    x = lm.tensor(np.ones(3))
    assert (x + 1.5).dtype == lm.float64
    assert (2 * x).dtype == lm.float64
    assert (x / 3).dtype == lm.float64


def test_pow_gradient_at_zero_base_matches_torch():
    # d(0^b)/db is taken as 0 for b >= 0, and d(a^0)/da is 0 (PyTorch's conventions).
    check_against_torch(lambda m, a, b: a ** b, [np.array([0.0, 0.0, 2.0], np.float32), np.array([2.0, 0.0, 0.0], np.float32)])


def test_maximum_minimum_split_gradient_on_ties_like_torch():
    a = np.array([1.0, 2.0, 3.0], np.float32)
    b = np.array([1.0, 0.0, 3.0], np.float32)
    check_against_torch(lambda m, x, y: m.maximum(x, y), [a, b])
    check_against_torch(lambda m, x, y: m.minimum(x, y), [a, b])


def test_maximum_minimum_propagate_nan():
    a = lm.tensor([float("nan"), 1.0, 2.0])
    b = lm.tensor([0.0, float("nan"), 1.0])
    assert np.isnan(lm.maximum(a, b).numpy()[:2]).all() and lm.maximum(a, b).numpy()[2] == 2.0
    assert np.isnan(lm.minimum(a, b).numpy()[:2]).all() and lm.minimum(a, b).numpy()[2] == 1.0


# ---------------------------------------------------------------- type promotion
# (lhs, rhs) as Python expressions on x_f32, x_f64, x_i64, x_b, s_f64 (0-d float64), s_i64 (0-d).
PROMOTION = [
    "i64 + 1.5", "1.5 + i64", "i64 + 2", "i64 * 2", "i64 - 3", "i64 / 2", "i64 / i64", "i64 ** 2", "2 ** i64",
    "i64 + f32", "f32 + f64", "f64 * f32", "i64 * f64",
    "b + b", "b * b", "b + i64", "b * f32", "b + 1", "b * 2.5", "b / b", "m.maximum(b, b)", "m.minimum(i64, b)",
    "f32 + s_f64", "s_f64 + f32", "i64 + s_f64", "i64 * s_i64", "b + s_i64", "f64 + s_f64", "s_f64 + s_i64",
    "s_i64 / s_i64", "s_i64 + 2.5", "m.maximum(i64, i64)", "m.minimum(f32, i64)",
]


def _promotion_operands(m):
    return dict(
        m=m,
        f32=m.tensor(np.array([1.5, -2.0, 3.0], np.float32)),
        f64=m.tensor(np.array([0.5, 4.0, -1.0], np.float64)),
        i64=m.tensor(np.array([3, -4, 5], np.int64)),
        b=m.tensor(np.array([True, False, True])),
        s_f64=m.tensor(np.float64(2.5)),
        s_i64=m.tensor(np.int64(3)),
    )


@needs_torch
@pytest.mark.parametrize("expr", PROMOTION)
def test_type_promotion_matches_torch(expr):
    got = eval(expr, {}, _promotion_operands(lm))
    want = eval(expr, {}, _promotion_operands(torch))
    assert str(got.dtype).replace("lamina", "torch") == str(want.dtype), expr
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("expr", ["b - b", "b - 1", "1 - b", "b ** b"])
def test_bool_subtraction_and_pow_raise_like_torch(expr):
    with pytest.raises((TypeError, RuntimeError)):
        eval(expr, {}, _promotion_operands(lm))


def test_integer_arithmetic_stays_exact():
    a = lm.tensor([2**40 + 1, -7, 9])
    np.testing.assert_array_equal((a * 3 + 1).numpy(), np.array([3 * (2**40 + 1) + 1, -20, 28]))
    np.testing.assert_array_equal(lm.maximum(a, lm.tensor([0, 0, 10])).numpy(), [2**40 + 1, 0, 10])


def test_integer_tensor_cannot_require_grad_through_ops():
    with pytest.raises(RuntimeError):
        lm.tensor([1, 2]).requires_grad_(True)


# ---------------------------------------------------------------- comparisons
COMPARE = {
    "eq": (lambda a, b: a == b, lambda m, a, b: m.eq(a, b), lambda a, b: a.eq(b)),
    "ne": (lambda a, b: a != b, lambda m, a, b: m.ne(a, b), lambda a, b: a.ne(b)),
    "lt": (lambda a, b: a < b, lambda m, a, b: m.lt(a, b), lambda a, b: a.lt(b)),
    "le": (lambda a, b: a <= b, lambda m, a, b: m.le(a, b), lambda a, b: a.le(b)),
    "gt": (lambda a, b: a > b, lambda m, a, b: m.gt(a, b), lambda a, b: a.gt(b)),
    "ge": (lambda a, b: a >= b, lambda m, a, b: m.ge(a, b), lambda a, b: a.ge(b)),
}
COMPARE_OPERANDS = [
    ("f32_f32_broadcast", lambda m: (m.tensor([[1.0], [2.0], [3.0]]), m.tensor([1.0, 2.5, 3.0, 0.0]))),
    ("f32_scalar_int", lambda m: (m.tensor([1.0, 2.0, 3.0]), 2)),
    ("f32_scalar_float", lambda m: (m.tensor([1.0, 2.5, 3.0]), 2.5)),
    ("i64_scalar_float", lambda m: (m.tensor([1, 2, 3]), 2.5)),
    ("i64_scalar_int", lambda m: (m.tensor([1, 2, 3]), 2)),
    ("i64_f32", lambda m: (m.tensor([1, 2, 3]), m.tensor([1.0, 2.5, 2.0]))),
    ("f32_f64", lambda m: (m.tensor([0.1, 0.2, 0.3]), m.tensor(np.array([0.1, 0.2, 0.3])))),
    ("bool_bool", lambda m: (m.tensor([True, False, True]), m.tensor([True, True, False]))),
    ("bool_int", lambda m: (m.tensor([True, False, True]), 1)),
    ("transposed", lambda m: (m.tensor([[1.0, 2.0], [3.0, 4.0]]).t(), m.tensor([[1.0, 3.0], [2.0, 5.0]]))),
    ("zero_d", lambda m: (m.tensor(2.0), m.tensor([1.0, 2.0, 3.0]))),
    ("nan", lambda m: (m.tensor([float("nan"), 1.0]), m.tensor([float("nan"), 1.0]))),
]


@needs_torch
@pytest.mark.parametrize("op", COMPARE)
@pytest.mark.parametrize("case,operands", COMPARE_OPERANDS, ids=[c[0] for c in COMPARE_OPERANDS])
def test_comparisons_match_torch_and_return_bool(op, case, operands):
    operator, function, method = COMPARE[op]
    for form in (operator, lambda a, b: function(lm if isinstance(a, lm.Tensor) else torch, a, b), method):
        got, want = form(*operands(lm)), form(*operands(torch))
        assert got.dtype == lm.bool
        assert not got.requires_grad
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_comparison_of_tensor_that_requires_grad_has_no_history():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    out = x > 1
    assert out.dtype == lm.bool and out.grad_fn is None and not out.requires_grad


def test_reflected_comparison_with_number_on_the_left():
    x = lm.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal((2 < x).numpy(), [False, False, True])
    np.testing.assert_array_equal((2 >= x).numpy(), [True, True, False])
    np.testing.assert_array_equal((2 == x).numpy(), [False, True, False])


def test_comparison_with_unknown_object_is_not_equal():
    x = lm.tensor([1.0])
    assert (x == "a") is False
    assert (x != None) is True  # noqa: E711
    with pytest.raises(TypeError):
        x < "a"  # noqa: B015


# ---------------------------------------------------------------- where
def test_where_matches_torch_with_broadcasting():
    cond = np.array([[True], [False], [True]])
    check_against_torch(lambda m, c, a, b: m.where(c, a, b), [cond, rand(3, 4), rand(4, seed=1)])
    check_against_torch(lambda m, a, b: m.where(a > b, a, b), [rand(2, 3), rand(2, 3, seed=2)])
    check_against_torch(lambda m, a, b: a.where(a > 0, b), [rand(2, 3), rand(1, 3, seed=2)])


def test_where_matches_torch_on_views():
    check_against_torch(lambda m, a, b: m.where(a.t() > 0, a.t(), b[::2]), [rand(3, 2), rand(4, 3, seed=3)])


def test_where_gradcheck():
    cond = np.array([[True, False, True, False]])
    gradcheck(lambda c, a, b: lm.where(c, a, b), [cond, rand(3, 1, dtype=np.float64), rand(3, 4, dtype=np.float64, seed=1)])


@needs_torch
@pytest.mark.parametrize("expr", [
    "m.where(c, f32, 0.0)", "m.where(c, 1.5, f32)", "m.where(c, i64, 2.5)", "m.where(c, i64, f32)",
    "m.where(c, f32, f64)", "m.where(c, i64, 2)", "m.where(c, b, b)",
])
def test_where_dtypes_match_torch(expr):
    def env(m):
        return dict(m=m, c=m.tensor([True, False, True]), f32=m.tensor([1.0, 2.0, 3.0]),
                    f64=m.tensor(np.array([4.0, 5.0, 6.0])), i64=m.tensor([7, 8, 9]), b=m.tensor([False, True, True]))
    got, want = eval(expr, {}, env(lm)), eval(expr, {}, env(torch))
    assert str(got.dtype).replace("lamina", "torch") == str(want.dtype)
    np.testing.assert_allclose(got.numpy(), want.numpy())


# ---------------------------------------------------------------- unary ops
UNARY = {
    "neg": (lambda m, x: -x, away_from_zero),
    "neg_fn": (lambda m, x: m.neg(x), away_from_zero),
    "exp": (lambda m, x: x.exp(), rand),
    "exp_fn": (lambda m, x: m.exp(x), rand),
    "log": (lambda m, x: x.log(), positive),
    "log_fn": (lambda m, x: m.log(x), positive),
    "sqrt": (lambda m, x: x.sqrt(), positive),
    "sqrt_fn": (lambda m, x: m.sqrt(x), positive),
    "abs": (lambda m, x: x.abs(), away_from_zero),
    "abs_fn": (lambda m, x: m.abs(x), away_from_zero),
    "abs_builtin": (lambda m, x: abs(x), away_from_zero),
    "relu": (lambda m, x: x.relu(), away_from_zero),
    "relu_fn": (lambda m, x: m.relu(x), away_from_zero),
    "sigmoid": (lambda m, x: x.sigmoid(), rand),
    "sigmoid_fn": (lambda m, x: m.sigmoid(x), rand),
    "tanh": (lambda m, x: x.tanh(), rand),
    "tanh_fn": (lambda m, x: m.tanh(x), rand),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradcheck(name):
    fn, make = UNARY[name]
    gradcheck(lambda x: fn(lm, x), [make(2, 3, dtype=np.float64)])


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", [(2, 3), (), (0,), (5,)], ids=str)
def test_unary_matches_torch(name, shape):
    fn, make = UNARY[name]
    check_against_torch(fn, [make(*shape)])


@pytest.mark.parametrize("name", UNARY)
def test_unary_matches_torch_on_non_contiguous_views(name):
    fn, make = UNARY[name]
    check_against_torch(lambda m, x: fn(m, x.t()[::2]), [make(3, 6)])


@needs_torch
@pytest.mark.parametrize("name", ["neg", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh"])
def test_unary_on_integers_matches_torch(name):
    data = [1, 4, 9, -2] if name not in ("log", "sqrt") else [1, 4, 9, 2]
    got, want = getattr(lm.tensor(data), name)(), getattr(torch.tensor(data), name)()
    assert str(got.dtype).replace("lamina", "torch") == str(want.dtype)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_unary_special_values_match_torch():
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -50.0, 50.0, 100.0, -100.0], np.float32)
    for name in ("exp", "sigmoid", "tanh", "abs", "relu", "neg"):
        check_against_torch(lambda m, x: getattr(x, name)(), [special], grad=False)
    with np.errstate(all="ignore"):
        check_against_torch(lambda m, x: x.log(), [np.abs(special)], grad=False)
        check_against_torch(lambda m, x: x.sqrt(), [np.abs(special)], grad=False)


def test_sigmoid_is_stable_for_large_inputs():
    x = lm.tensor([-1000.0, 1000.0], requires_grad=True)
    y = x.sigmoid()
    y.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [0.0, 1.0])
    assert np.isfinite(x.grad.numpy()).all()


def test_relu_and_abs_gradients_at_zero_match_torch():
    check_against_torch(lambda m, x: x.relu() + x.abs(), [np.array([0.0, 1.0, -1.0], np.float32)])


def test_grad_fn_names_match_torch():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    names = {
        "AddBackward0": x + x, "SubBackward0": x - x, "MulBackward0": x * x, "DivBackward0": x / x,
        "NegBackward0": -x, "ExpBackward0": x.exp(), "LogBackward0": x.log(), "SqrtBackward0": x.sqrt(),
        "AbsBackward0": x.abs(), "ReluBackward0": x.relu(), "SigmoidBackward0": x.sigmoid(),
        "TanhBackward0": x.tanh(), "WhereBackward0": lm.where(x > 1, x, x),
    }
    for name, out in names.items():
        assert out.grad_fn.name() == name


# ---------------------------------------------------------------- clamp / clip
CLAMP = {
    "min_only": lambda m, x: x.clamp(min=-0.5),
    "max_only": lambda m, x: x.clamp(max=0.7),
    "both": lambda m, x: x.clamp(-0.5, 0.7),
    "fn_both": lambda m, x: m.clamp(x, min=-0.5, max=0.7),
    "clip_both": lambda m, x: x.clip(-0.5, 0.7),
    "clip_fn_min": lambda m, x: m.clip(x, min=0.1),
    "int_bounds": lambda m, x: x.clamp(-1, 1),
    "min_above_max": lambda m, x: x.clamp(min=0.7, max=-0.5),
}


def _clamp_input(dtype=np.float32):
    # values kept 0.05 away from the bounds (-0.5, 0.7, 0.1, -1, 1): no kinks within eps
    x = rand(3, 4, dtype=dtype)
    for bound in (-1.0, -0.5, 0.1, 0.7, 1.0):
        x = np.where(np.abs(x - bound) < 0.05, x + 0.1, x)
    return x.astype(dtype)


@pytest.mark.parametrize("name", CLAMP)
def test_clamp_gradcheck(name):
    gradcheck(lambda x: CLAMP[name](lm, x), [_clamp_input(np.float64)])


@pytest.mark.parametrize("name", CLAMP)
def test_clamp_matches_torch(name):
    check_against_torch(CLAMP[name], [_clamp_input()])
    check_against_torch(lambda m, x: CLAMP[name](m, x.t()[1:]), [_clamp_input()])


def test_clamp_gradient_at_the_bounds_matches_torch():
    check_against_torch(lambda m, x: x.clamp(-1.0, 1.0), [np.array([-1.0, 1.0, 0.0, 2.0], np.float32)])


@needs_torch
@pytest.mark.parametrize("expr", ["x.clamp(2, 4)", "x.clamp(min=2.5)", "x.clamp(max=3.5)", "x.clamp(1.5, 3)"])
def test_clamp_of_integers_matches_torch(expr):
    got = eval(expr, {}, dict(x=lm.tensor([1, 3, 5])))
    want = eval(expr, {}, dict(x=torch.tensor([1, 3, 5])))
    assert str(got.dtype).replace("lamina", "torch") == str(want.dtype)
    np.testing.assert_allclose(got.numpy(), want.numpy())


def test_clamp_keeps_nan():
    out = lm.tensor([float("nan"), 5.0]).clamp(0, 1)
    assert np.isnan(out.numpy()[0]) and out.numpy()[1] == 1.0


def test_clamp_without_bounds_raises():
    with pytest.raises(ValueError, match=r"\[clamp\]"):
        lm.tensor([1.0]).clamp()


# ---------------------------------------------------------------- in-place ops
INPLACE = {
    "add_": lambda x, o: x.add_(o),
    "sub_": lambda x, o: x.sub_(o),
    "mul_": lambda x, o: x.mul_(o),
    "div_": lambda x, o: x.div_(o),
}


def _iadd(x, o):
    x += o
    return x


def _isub(x, o):
    x -= o
    return x


def _imul(x, o):
    x *= o
    return x


def _idiv(x, o):
    x /= o
    return x


INPLACE.update({"+=": _iadd, "-=": _isub, "*=": _imul, "/=": _idiv})


@needs_torch
@pytest.mark.parametrize("name", INPLACE)
@pytest.mark.parametrize("other", ["tensor", "row", "number", "int", "zero_d"])
def test_inplace_ops_match_torch_and_keep_identity(name, other):
    fn = INPLACE[name]
    data = rand(3, 4)
    operands = {"tensor": away_from_zero(3, 4, seed=1), "row": away_from_zero(4, seed=2), "number": 2.5, "int": 3,
                "zero_d": np.float32(-1.5)}
    o = operands[other]
    lx, tx = lm.tensor(data), torch.tensor(data)
    lo = lm.tensor(o) if isinstance(o, np.ndarray) else o
    to = torch.tensor(o) if isinstance(o, np.ndarray) else o
    if other == "zero_d":
        lo, to = lm.tensor(o), torch.tensor(o)
    ptr = lx.data_ptr()
    result = fn(lx, lo)
    fn(tx, to)
    assert result is lx and lx.data_ptr() == ptr and lx.dtype == lm.float32
    np.testing.assert_allclose(lx.numpy(), tx.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_ops_write_through_views(name):
    base = lm.zeros(3, 4) + 1
    view = base[:, 1::2]
    out = INPLACE[name](view, 2.0)
    assert out is view
    expected = {"add_": 3.0, "+=": 3.0, "sub_": -1.0, "-=": -1.0, "mul_": 2.0, "*=": 2.0, "div_": 0.5, "/=": 0.5}[name]
    np.testing.assert_array_equal(base.numpy(), np.array([[1, expected, 1, expected]] * 3, np.float32))


def test_inplace_on_transposed_view_matches_torch():
    def fn(m, x, y):
        with (lm.no_grad() if m is lm else torch.no_grad()):
            z = x.clone()
            z.t().mul_(y)
            z.t()[1:] += 1
        return z
    check_against_torch(fn, [rand(3, 4), rand(4, 3, seed=1)], grad=False)


def test_inplace_with_self_aliasing_operand():
    x = lm.tensor([1.0, 2.0, 3.0])
    x += x
    np.testing.assert_array_equal(x.numpy(), [2.0, 4.0, 6.0])
    y = lm.tensor([[1.0, 2.0], [3.0, 4.0]])
    y.mul_(y.t().contiguous())
    np.testing.assert_array_equal(y.numpy(), [[1.0, 6.0], [6.0, 16.0]])


@needs_torch
@pytest.mark.parametrize("expr", ["i64 += 2", "i64 *= 3", "f32 += i64", "f64 += f32", "b += b", "b *= b", "i64 += b",
                                  "f32 += 2", "f32 /= 4"])
def test_inplace_type_rules_match_torch(expr):
    for m in (lm, torch):
        env = dict(i64=m.tensor([1, 2, 3]), f32=m.tensor([1.0, 2.0, 3.0]), f64=m.tensor(np.array([1.0, 2.0, 3.0])),
                   b=m.tensor([True, False, True]))
        exec(expr, {}, env)
        if m is lm:
            got = {k: v for k, v in env.items()}
        else:
            for k in got:
                assert str(got[k].dtype).replace("lamina", "torch") == str(env[k].dtype), (expr, k)
                np.testing.assert_allclose(got[k].numpy(), env[k].numpy())


@pytest.mark.parametrize("expr", ["i64 += 1.5", "i64 /= 2", "i64 *= f32", "b += 1", "b += i64"])
def test_inplace_result_that_cannot_be_cast_raises_and_leaves_input(expr):
    env = dict(i64=lm.tensor([1, 2, 3]), f32=lm.tensor([1.0, 2.0, 3.0]), b=lm.tensor([True, False, True]))
    before = {k: v.numpy().copy() for k, v in env.items()}
    with pytest.raises((TypeError, RuntimeError)):
        exec(expr, {}, env)
    for k, v in env.items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_inplace_broadcast_of_self_is_an_error():
    x = lm.zeros(3)
    with pytest.raises(ValueError, match=r"\[add_\]"):
        x += lm.ones(2, 3)
    np.testing.assert_array_equal(x.numpy(), np.zeros(3))


@needs_torch
@pytest.mark.parametrize("call", ["x.clamp_(min=0.0)", "x.clamp_(max=0.0)", "x.clamp_(-0.5, 0.5)", "x.clip_(-0.5, 0.5)"])
def test_clamp_inplace_matches_torch(call):
    data = rand(3, 4)
    lx, tx = lm.tensor(data), torch.tensor(data)
    ptr = lx.data_ptr()
    assert eval(call, {}, dict(x=lx)) is lx and lx.data_ptr() == ptr
    eval(call, {}, dict(x=tx))
    np.testing.assert_array_equal(lx.numpy(), tx.numpy())


def test_clamp_inplace_on_a_view_writes_through():
    base = lm.tensor([[-2.0, 2.0], [-3.0, 3.0]])
    base[:, 1].clamp_(max=1.0)
    np.testing.assert_array_equal(base.numpy(), [[-2.0, 1.0], [-3.0, 1.0]])
    base.t()[0].clamp_(min=-1.0)
    np.testing.assert_array_equal(base.numpy(), [[-1.0, 1.0], [-1.0, 1.0]])


def test_fill_and_zero_inplace():
    x = lm.ones(2, 3)
    ptr = x.data_ptr()
    assert x.fill_(2.5) is x and x.data_ptr() == ptr
    np.testing.assert_array_equal(x.numpy(), np.full((2, 3), 2.5, np.float32))
    x[:, 1].fill_(-1)
    np.testing.assert_array_equal(x.numpy()[:, 1], [-1.0, -1.0])
    np.testing.assert_array_equal(x.numpy()[:, 0], [2.5, 2.5])
    x.t()[2].zero_()
    np.testing.assert_array_equal(x.numpy(), [[2.5, -1.0, 0.0], [2.5, -1.0, 0.0]])
    assert x.zero_() is x
    np.testing.assert_array_equal(x.numpy(), np.zeros((2, 3), np.float32))
    i = lm.tensor([1, 2, 3]).fill_(7)
    assert i.dtype == lm.int64 and i.tolist() == [7, 7, 7]
    b = lm.zeros(2, dtype=lm.bool).fill_(True)
    assert b.tolist() == [True, True]


def test_fill_of_a_value_the_dtype_cannot_hold_truncates_like_torch():
    assert lm.zeros(2, dtype=lm.int64).fill_(2.7).tolist() == [2, 2]


@needs_torch
@pytest.mark.parametrize("src_kind", ["same", "row", "scalar", "int_to_float", "float_to_int", "transposed", "f64"])
def test_copy_inplace_matches_torch(src_kind):
    dst = rand(3, 4)
    srcs = {
        "same": rand(3, 4, seed=1), "row": rand(4, seed=2), "scalar": np.float32(3.5),
        "int_to_float": np.arange(12).reshape(3, 4), "float_to_int": rand(3, 4, seed=3) * 10,
        "transposed": rand(4, 3, seed=4), "f64": rand(3, 4, dtype=np.float64, seed=5),
    }
    results = []
    for m in (lm, torch):
        d = m.tensor(dst if src_kind != "float_to_int" else np.zeros((3, 4), np.int64))
        s = m.tensor(srcs[src_kind])
        if src_kind == "transposed":
            s = s.t()
        ptr = d.data_ptr()
        assert d.copy_(s) is d and d.data_ptr() == ptr
        results.append(d.numpy())
    np.testing.assert_array_equal(results[0], results[1])
    assert results[0].dtype == results[1].dtype


def test_copy_into_a_view_writes_into_the_base():
    base = lm.zeros(3, 4)
    base[1:, ::2].copy_(lm.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(base.numpy(), [[0, 0, 0, 0], [1, 0, 2, 0], [1, 0, 2, 0]])
    base.t().copy_(lm.arange(3).float())
    np.testing.assert_array_equal(base.numpy(), [[0] * 4, [1] * 4, [2] * 4])


# ---------------------------------------------------------------- in-place and autograd
@needs_torch
@pytest.mark.parametrize("name", INPLACE)
def test_inplace_on_non_leaf_records_history_like_torch(name):
    fn = INPLACE[name]

    def run(m, x, o):
        y = x * 1
        out = fn(y, o)
        assert out is y
        return y * y
    check_against_torch(run, [rand(3, 4), away_from_zero(4, seed=1)])
    check_against_torch(lambda m, x: run(m, x, 2.0), [rand(3, 4)])


def test_inplace_on_non_leaf_sets_grad_fn_like_torch():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y += 1
    assert y.grad_fn is not None and y.grad_fn.name() == "AddBackward0" and y.requires_grad and not y.is_leaf
    y *= x
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 * 1 + 1, 2 * 2 + 1])  # d((x + 1) x)/dx


def test_inplace_with_grad_operand_into_plain_tensor_records_history():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = lm.ones(2)
    y.mul_(x)
    assert y.requires_grad and y.grad_fn is not None
    (y * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


@pytest.mark.parametrize("call", ["x.add_(1)", "x.sub_(1)", "x.mul_(2)", "x.div_(2)", "x.clamp_(0, 1)", "x.fill_(0)",
                                  "x.zero_()", "x.copy_(lm.ones(3))", "iadd"])
def test_inplace_on_leaf_that_requires_grad_raises(call):
    x = lm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        if call == "iadd":
            x += 1
        else:
            eval(call, {}, dict(x=x, lm=lm))
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0, 3.0])
    with lm.no_grad():
        x.add_(1)
    np.testing.assert_array_equal(x.detach().numpy(), [2.0, 3.0, 4.0])
    assert x.requires_grad and x.is_leaf and x.grad_fn is None


@pytest.mark.parametrize("make", [
    lambda x: x.exp(), lambda x: x.sigmoid(), lambda x: x.tanh(), lambda x: x.sqrt(), lambda x: x.relu(),
])
def test_backward_after_inplace_change_of_a_saved_output_raises(make):
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = make(x)
    y += 1
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


def test_backward_after_inplace_change_of_a_saved_input_raises():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    z = a * x  # saves a
    a.mul_(2)
    with pytest.raises(RuntimeError, match="in-place"):
        z.sum().backward()
    w = x * 1
    v = w.log()  # saves w
    with lm.no_grad():
        w.fill_(3.0)
    with pytest.raises(RuntimeError, match="in-place"):
        v.sum().backward()


def test_inplace_change_of_a_tensor_not_saved_is_fine():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    a = x + 1  # add saves nothing
    b = a + 2
    a += 10
    b.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_large_strided_and_broadcast_ops_match_torch():
    # more elements than one thread's grain: the parallel strided loops with offsets
    check_against_torch(lambda m, a, b: a.t() * b + (a.t()[:, ::3] / (b[::3] + 3)).exp().sum(), [rand(300, 257), rand(300, seed=1)])
    check_against_torch(lambda m, a: m.where(a > 0, a.sigmoid(), a.t().t().clamp(-0.5)), [rand(257, 300)])

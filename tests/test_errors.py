"""Bad input to the tensor, view, factory, copy and elementwise functions: the right Python
exception type (ValueError shapes/values, TypeError dtypes/argument types, IndexError dims and
indices, RuntimeError state), a message that names the op in brackets, no crash, and inputs left
exactly as they were.
"""
import re

import numpy as np
import pytest

import lamina as lm


def _inputs():
    """Fresh operands for every case: x (2, 3) float32, i (3,) int64, b (2, 3) bool, g requires grad."""
    return dict(
        lm=lm, np=np,
        x=lm.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        y=lm.tensor([1.0, 2.0, 3.0, 4.0]),
        i=lm.tensor([0, 1, 2]),
        b=lm.tensor([[True, False, True], [False, True, False]]),
        g=lm.tensor([1.0, 2.0], requires_grad=True),
    )


# (expression, exception type, op named in the message)
CASES = [
    # shapes that do not broadcast
    ("x + y", ValueError, "add"),
    ("y - x", ValueError, "sub"),
    ("lm.mul(x, y)", ValueError, "mul"),
    ("x.div(y)", ValueError, "div"),
    ("x ** y", ValueError, "pow"),
    ("lm.maximum(x, y)", ValueError, "maximum"),
    ("lm.minimum(y, x)", ValueError, "minimum"),
    ("x == y", ValueError, "compare"),
    ("lm.lt(x, y)", ValueError, "compare"),
    ("lm.where(b, x, y)", ValueError, "where"),
    ("lm.where(lm.tensor([True, False]), x, x)", ValueError, "where"),
    ("x.add_(y)", ValueError, "add_"),
    ("x.mul_(lm.ones(3, 2, 3))", ValueError, "mul_"),
    ("x.copy_(y)", ValueError, "copy_"),
    ("x.expand(4, 3)", ValueError, "expand"),
    ("x.expand(3)", ValueError, "expand"),
    ("x.expand(-1, 2, 3)", ValueError, "expand"),
    # bad dtypes
    ("lm.where(x, x, x)", TypeError, "where"),
    ("x[lm.tensor([0.5])]", TypeError, "index"),
    ("x[lm.tensor([[0, 1]]).float()]", TypeError, "index"),
    ("b - b", TypeError, "sub"),
    ("x - b", TypeError, "sub"),
    ("b ** b", TypeError, "pow"),
    ("i.add_(1.5)", TypeError, "add_"),
    ("i.div_(2)", TypeError, "div_"),
    ("b.add_(1)", TypeError, "add_"),
    ("i.requires_grad_()", RuntimeError, "requires_grad"),
    ("i.clamp_(min=0.5)", TypeError, "clamp_"),
    ("lm.rand(2, dtype=lm.int64)", TypeError, "rand"),
    ("lm.randn(2, dtype=lm.bool)", TypeError, "randn"),
    ("lm.arange(3, dtype=lm.bool)", TypeError, "arange"),
    ("lm.from_numpy(np.zeros(3, np.complex64))", TypeError, "from_numpy"),
    ("lm.tensor(['a'])", TypeError, "tensor"),
    ("lm.tensor([1, 2], dtype='float32')", TypeError, "tensor"),
    ("lm.zeros(2, dtype='float32')", TypeError, "zeros"),
    ("lm.ones(2, dtype=np.float32)", TypeError, "ones"),
    ("x.to(5)", TypeError, "to"),
    # out-of-range dims and indices
    ("x[2]", IndexError, "index"),
    ("x[-3]", IndexError, "index"),
    ("x[0, 3]", IndexError, "index"),
    ("x[0, 0, 0]", IndexError, "index"),
    ("x[..., ...]", IndexError, "index"),
    ("x[lm.tensor([0, 2])]", IndexError, "index"),
    ("x[lm.tensor([-3])]", IndexError, "index"),
    ("x[[0, 5]]", IndexError, "index"),
    ("x[lm.tensor([True, False, True])]", IndexError, "index"),
    ("lm.tensor(1.0)[0]", IndexError, "index"),
    ("x.__setitem__(2, 0.0)", IndexError, "index"),
    ("x.__setitem__((0, -4), 0.0)", IndexError, "index"),
    ("x.__setitem__(lm.tensor([True]), 0.0)", IndexError, "index_put_"),
    ("x.transpose(0, 2)", IndexError, "transpose"),
    ("x.transpose(-3, 0)", IndexError, "transpose"),
    ("x.permute(0, 2)", IndexError, "permute"),
    ("x.squeeze(2)", IndexError, "squeeze"),
    ("x.unsqueeze(3)", IndexError, "unsqueeze"),
    ("x.unsqueeze(-4)", IndexError, "unsqueeze"),
    ("x.flatten(0, 2)", IndexError, "flatten"),
    ("x.narrow(2, 0, 1)", IndexError, "narrow"),
    ("x.narrow(1, 2, 2)", IndexError, "narrow"),
    ("x.narrow(0, -3, 1)", IndexError, "narrow"),
    ("x.select(0, 2)", IndexError, "index"),
    ("x.select(2, 0)", IndexError, "select"),
    ("x.size(2)", IndexError, "size"),
    ("x.stride(-3)", IndexError, "stride"),
    # wrong argument types
    ("lm.add(x, 'a')", TypeError, "add"),
    ("x.mul(None)", TypeError, "mul"),
    ("lm.pow(x, [1, 2])", TypeError, "pow"),
    ("lm.eq(x, 'a')", TypeError, "eq"),
    ("x.add_('a')", TypeError, "add_"),
    ("x.fill_('a')", TypeError, "fill_"),
    ("x.fill_(None)", TypeError, "fill_"),
    ("x.clamp('a')", TypeError, "clamp"),
    ("x.clamp(max=[1])", TypeError, "clamp"),
    ("lm.where(b, 'a', x)", TypeError, "where"),
    ("lm.where(b, 1.0, 2.0)", TypeError, "where"),
    ("x.__setitem__(0, 'a')", TypeError, "index_put_"),
    ("x['a']", IndexError, "index"),
    ("x[1.5]", IndexError, "index"),
    ("x[[0.5]]", TypeError, "index"),
    ("x.view('a')", TypeError, "view"),
    ("x.view(2.0, 3)", TypeError, "view"),
    ("x.reshape(None)", TypeError, "reshape"),
    ("x.expand('a')", TypeError, "expand"),
    ("x.permute(0, 1.0)", TypeError, "permute"),
    ("lm.zeros(2.5)", TypeError, "zeros"),
    ("lm.ones('a')", TypeError, "ones"),
    ("lm.empty(None)", TypeError, "empty"),
    ("lm.full((2,), 'a')", TypeError, "full"),
    ("lm.full(2.5, 1.0)", TypeError, "full"),
    ("lm.rand(True)", TypeError, "rand"),
    ("lm.randn([2, 'a'])", TypeError, "randn"),
    ("lm.randint(0, 5, (2.5,))", TypeError, "randint"),
    ("lm.arange('a')", TypeError, "arange"),
    ("lm.arange(0, 5, None)", TypeError, "arange"),
    ("lm.tensor([1, None])", TypeError, "tensor"),
    ("lm.tensor({'a': 1})", TypeError, "tensor"),
    # bad reshape sizes and values
    ("x.view(4)", ValueError, "view"),
    ("x.view(-1, 4)", ValueError, "view"),
    ("x.view(-1, -1)", ValueError, "view"),
    ("x.view(-2, -3)", ValueError, "view"),
    ("x.view(0, -1)", ValueError, "view"),
    ("x.reshape(7)", ValueError, "reshape"),
    ("x.reshape(2, -1, 4)", ValueError, "reshape"),
    ("x.reshape(-5)", ValueError, "reshape"),
    ("lm.zeros(0, 3).view(-1, 0)", ValueError, "view"),
    ("x.flatten(1, 0)", ValueError, "flatten"),
    ("x.permute(0)", ValueError, "permute"),
    ("x.permute(1, 1)", ValueError, "permute"),
    ("lm.zeros(2, 3, 4).t()", ValueError, "t"),
    ("x.t().view(6)", RuntimeError, "view"),
    ("x.clamp()", ValueError, "clamp"),
    ("x[::0]", ValueError, "index"),
    ("x[::-1]", ValueError, "index"),
    ("lm.arange(0, 10, 0)", ValueError, "arange"),
    ("lm.arange(10, 0, 1)", ValueError, "arange"),
    ("lm.arange(0, float('inf'))", ValueError, "arange"),
    ("lm.arange(0, float('nan'))", ValueError, "arange"),
    ("lm.linspace(0, 1, -1)", ValueError, "linspace"),
    ("lm.eye(-1)", ValueError, "eye"),
    ("lm.eye(2, -1)", ValueError, "eye"),
    ("lm.randint(5, 5, (2,))", ValueError, "randint"),
    ("lm.randint(0, (2,))", ValueError, "randint"),
    ("lm.tensor([[1, 2], [3]])", ValueError, "tensor"),
    ("lm.ones(2).item()", ValueError, "item"),
    ("bool(lm.ones(2))", ValueError, "bool"),
    # huge and negative sizes: a clear error, never an allocation attempt or a crash
    ("lm.zeros(2**40, 2**40)", ValueError, "zeros"),
    ("lm.ones(2**62)", ValueError, "ones"),
    ("lm.empty(2**31, 2**31, 2**31)", ValueError, "empty"),
    ("lm.full((2**40, 2**40), 1.0)", ValueError, "full"),
    ("lm.rand(2**40, 2**40)", ValueError, "rand"),
    ("lm.randn(2**63 - 1, 2)", ValueError, "randn"),
    ("lm.randint(0, 5, (2**40, 2**40))", ValueError, "randint"),
    ("lm.eye(2**40)", ValueError, "eye"),
    ("lm.arange(0, 1e20)", ValueError, "arange"),
    ("lm.linspace(0, 1, 2**62)", ValueError, "linspace"),
    ("lm.zeros_like(x).expand(2**40, 2**40, 2, 3)", ValueError, "expand"),
    ("x.view(2**40, 2**40)", ValueError, "view"),
    ("x.view(-1, 2**40, 2**40)", ValueError, "view"),
    ("x.view(-1, 2**62, 2**62)", ValueError, "view"),
    ("x.reshape(2**62, 4, 0, -1)", ValueError, "reshape"),
    ("x.reshape(2**63 - 1, 2**63 - 1)", ValueError, "reshape"),
    ("lm.zeros(-1)", ValueError, "zeros"),
    ("lm.ones(2, -3)", ValueError, "ones"),
    ("lm.empty(-2)", ValueError, "empty"),
    ("lm.full((-1,), 1.0)", ValueError, "full"),
    ("lm.rand(-1)", ValueError, "rand"),
    ("lm.randn(3, -1)", ValueError, "randn"),
    ("lm.randint(0, 2, (-4,))", ValueError, "randint"),
    ("x.expand(-2, 3)", ValueError, "expand"),
    ("x.expand(2, -2)", ValueError, "expand"),
    # state errors
    ("g.add_(1)", RuntimeError, "add_"),
    ("g.fill_(0)", RuntimeError, "fill_"),
    ("g.zero_()", RuntimeError, "fill_"),
    ("g.copy_(lm.ones(2))", RuntimeError, "copy_"),
    ("g.clamp_(0, 1)", RuntimeError, "clamp_"),
    ("g.numpy()", RuntimeError, "numpy"),
    ("lm.ones(2).copy_(g)", RuntimeError, "copy_"),
    ("(g * 1).__setitem__(0, 1.0)", RuntimeError, "index_put_"),
    ("x.to('cuda')", RuntimeError, "cuda"),
    ("len(lm.tensor(1.0))", TypeError, "len"),
    ("iter(lm.tensor(1.0))", TypeError, "iter"),
    ("[1, 2][lm.tensor(1.5)]", TypeError, "index"),
]


@pytest.mark.parametrize("expr,error,op", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_named_error_and_leaves_inputs_unchanged(expr, error, op):
    env = _inputs()
    before = {k: (v.detach().numpy().copy(), v.requires_grad, v.grad_fn) for k, v in env.items() if isinstance(v, lm.Tensor)}
    with pytest.raises(error) as info:
        eval(expr, {}, env)
    message = str(info.value)
    if op == "cuda":
        assert "CUDA" in message
    else:
        assert f"[{op}]" in message, f"message does not name [{op}]: {message!r}"
    for k, (values, requires_grad, grad_fn) in before.items():
        t = env[k]
        np.testing.assert_array_equal(t.detach().numpy(), values, err_msg=f"{k} changed after: {expr}")
        assert t.requires_grad == requires_grad and t.grad_fn is grad_fn


# pybind11 checks the types of C++ tensor and integer parameters itself; its TypeError names the
# function as "op(): incompatible function arguments" rather than "[op]".
SIGNATURE_CASES = [
    ("lm.exp('a')", "exp"), ("lm.exp(None)", "exp"), ("lm.sigmoid([1.0])", "sigmoid"), ("lm.add('a', x)", "add"),
    ("lm.where(x > 0, x)", "where"), ("lm.where([True], x, x)", "where"), ("x.unsqueeze('a')", "unsqueeze"),
    ("x.transpose(0)", "transpose"), ("x.narrow(0, 'a', 1)", "narrow"), ("x.select(0, None)", "select"),
    ("x.copy_(None)", "copy_"), ("x.copy_([1.0])", "copy_"), ("lm.clone('a')", "clone"), ("x.squeeze('a')", "squeeze"),
    ("x.flatten('a')", "flatten"), ("lm.from_numpy([1.0])", "from_numpy"), ("lm.linspace(0, 1, 2.5)", "linspace"),
]


@pytest.mark.parametrize("expr,op", SIGNATURE_CASES, ids=[c[0] for c in SIGNATURE_CASES])
def test_wrong_argument_types_raise_type_error_naming_the_function(expr, op):
    env = _inputs()
    before = env["x"].numpy().copy()
    with pytest.raises(TypeError) as info:
        eval(expr, {}, env)
    assert re.search(rf"(\[{op}\]|\b{op}\(\))", str(info.value)), str(info.value)
    np.testing.assert_array_equal(env["x"].numpy(), before)


def test_operators_with_unknown_objects_raise_type_error():
    x = lm.ones(2)
    for op in ("+", "-", "*", "/", "**", "<", ">=", "@"):
        with pytest.raises(TypeError):
            eval(f"x {op} 'a'", {}, dict(x=x))
        with pytest.raises(TypeError):
            eval(f"'a' {op} x", {}, dict(x=x))
    with pytest.raises(TypeError):
        x += "a"
    np.testing.assert_array_equal(x.numpy(), [1.0, 1.0])


def test_failed_inplace_leaves_autograd_state_intact():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    fn = y.grad_fn
    with pytest.raises(ValueError):
        y.add_(lm.ones(3))
    with pytest.raises(TypeError):
        y.add_("a")
    assert y.grad_fn is fn
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_failed_setitem_with_mask_leaves_the_tensor_unchanged():
    x = lm.arange(6.0).view(2, 3)
    with pytest.raises(ValueError, match=r"\[index_put_\]"):
        x[x > 2] = lm.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\[index_put_\]"):
        x[0] = lm.ones(4)
    np.testing.assert_array_equal(x.numpy(), np.arange(6.0).reshape(2, 3))


def test_errors_do_not_break_later_calls():
    for _ in range(3):
        with pytest.raises(ValueError):
            lm.zeros(2**40, 2**40)
        with pytest.raises(IndexError):
            lm.ones(2)[5]
    assert (lm.ones(2, 2) + 1).sum().item() == 8.0

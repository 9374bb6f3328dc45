"""softmax and log_softmax: every dim (negative ones too) of 1-d to 4-d inputs, non-contiguous
inputs, stability at logits of +-1e4, rows of -inf; forward and gradient against PyTorch and
finite differences; errors of malformed calls."""
import numpy as np
import pytest

import lamina as lm
from helpers import check_against_torch, gradcheck, torch_or_skip

RNG = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


OPS = ["softmax", "log_softmax"]
CASES = [((5,), d) for d in (0, -1)] + [((3, 4), d) for d in (0, 1, -1, -2)] + \
        [((2, 3, 4), d) for d in (0, 1, 2, -1, -2, -3)] + [((2, 3, 2, 5), d) for d in (0, 1, 2, 3, -1, -4)]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shape,dim", CASES)
def test_softmax_matches_torch(op, shape, dim):
    check_against_torch(lambda m, x: getattr(m, op)(x, dim), [randn(*shape) * 3])
    check_against_torch(lambda m, x: getattr(x, op)(dim=dim), [randn(*shape)])


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_of_transposed_input_matches_torch(op, dim):
    check_against_torch(lambda m, x: getattr(m, op)(x.transpose(0, 2), dim), [randn(4, 3, 5)])
    check_against_torch(lambda m, x: getattr(m, op)(x[:, ::2], dim), [randn(3, 6, 2)])


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shape,dim", [((4,), 0), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((2, 3, 2, 2), -3)])
def test_softmax_gradcheck(op, shape, dim):
    gradcheck(lambda x: getattr(lm, op)(x, dim), [randn(*shape, dtype=np.float64)])
    gradcheck(lambda x: getattr(lm, op)(x.transpose(0, -1), dim), [randn(*shape, dtype=np.float64)])


@pytest.mark.parametrize("op", OPS)
def test_softmax_of_zero_dim_and_one_element(op):
    check_against_torch(lambda m, x: getattr(m, op)(x, 0), [np.array(1.5, dtype=np.float32)])
    check_against_torch(lambda m, x: getattr(m, op)(x, -1), [np.array(1.5, dtype=np.float32)])
    check_against_torch(lambda m, x: getattr(m, op)(x, 1), [randn(3, 1)])


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_softmax_is_stable_at_large_logits(op, scale):
    x = (randn(3, 5) * scale).astype(np.float32)
    out = check_against_torch(lambda m, t: getattr(m, op)(t, 1), [x], atol=1e-3)
    assert np.all(np.isfinite(out.detach().numpy()))
    x64 = (randn(2, 4) * scale).astype(np.float64)
    gradcheck(lambda t: getattr(lm, op)(t, 1), [x64])


@pytest.mark.parametrize("op", OPS)
def test_softmax_of_identical_huge_logits(op):
    x = np.full((2, 4), 1e4, dtype=np.float32)
    x[1] = -1e4
    check_against_torch(lambda m, t: getattr(m, op)(t, -1), [x])


@pytest.mark.parametrize("op", OPS)
def test_softmax_of_rows_with_inf(op):
    torch = torch_or_skip()
    x = np.array([[-np.inf] * 4, [0.0, -np.inf, 1.0, -np.inf], [np.inf, 0.0, 1.0, 2.0]], dtype=np.float32)
    got = getattr(lm, op)(lm.tensor(x), 1).numpy()
    want = getattr(torch, op)(torch.tensor(x), 1).numpy()
    np.testing.assert_allclose(got, want, atol=1e-6)  # nan where torch has nan
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.parametrize("op", OPS)
def test_softmax_gradient_with_masked_entries_matches_torch(op):
    x = randn(3, 5)
    x[0, 1] = x[2, 4] = -np.inf
    if op == "softmax":
        check_against_torch(lambda m, t: m.softmax(t, 1), [x])
    else:  # log_softmax is -inf there; compare the gradient of the finite part only
        torch = torch_or_skip()
        w = randn(3, 5)
        w[0, 1] = w[2, 4] = 0
        a, b = lm.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out_a, out_b = lm.log_softmax(a, 1), torch.log_softmax(b, 1)
        keep = lm.tensor(np.isfinite(x))
        lm.where(keep, out_a, lm.zeros(3, 5)).mul(lm.tensor(w)).sum().backward()
        torch.where(torch.tensor(np.isfinite(x)), out_b, torch.zeros(3, 5)).mul(torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_large_softmax_matches_torch(op, dim):
    check_against_torch(lambda m, t: getattr(m, op)(t, dim), [randn(24, 129, 67) * 4])


def test_softmax_rows_sum_to_one_and_log_softmax_is_its_log():
    x = lm.randn(4, 7, dtype=lm.float64)
    s = lm.softmax(x, 1)
    np.testing.assert_allclose(s.sum(1).numpy(), np.ones(4), atol=1e-12)
    np.testing.assert_allclose(lm.log_softmax(x, 1).numpy(), np.log(s.numpy()), atol=1e-12)


@pytest.mark.parametrize("op", OPS)
def test_softmax_dtype_argument(op):
    out = check_against_torch(lambda m, x: getattr(m, op)(x, 1, dtype=m.float64), [randn(3, 4)])
    assert out.dtype == lm.float64
    out = check_against_torch(lambda m, x: getattr(x, op)(0, m.float64), [randn(3, 4)])
    assert out.dtype == lm.float64


def test_softmax_grad_fn_names():
    x = lm.randn(2, 3, requires_grad=True)
    assert lm.softmax(x, 1).grad_fn.name() == "SoftmaxBackward0"
    assert lm.log_softmax(x, 1).grad_fn.name() == "LogSoftmaxBackward0"


def test_softmax_of_empty_input():
    for op in OPS:
        assert tuple(getattr(lm, op)(lm.zeros(0, 3), 1).shape) == (0, 3)
        assert tuple(getattr(lm, op)(lm.zeros(3, 0), 1).shape) == (3, 0)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("op", OPS)
def test_softmax_bad_input(op):
    with pytest.raises(IndexError, match=rf"\[{op}\].*dim"):
        getattr(lm, op)(lm.zeros(2, 3), 2)
    with pytest.raises(IndexError, match=rf"\[{op}\].*dim"):
        getattr(lm, op)(lm.zeros(2, 3), -3)
    with pytest.raises(TypeError, match=rf"\[{op}\].*int64"):
        getattr(lm, op)(lm.tensor([1, 2, 3]), 0)
    with pytest.raises(TypeError):
        getattr(lm, op)(lm.zeros(2, 3))  # dim is required

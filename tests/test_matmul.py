"""Matrix products: mm, bmm, addmm and matmul (every numpy.matmul rank combination, batch
broadcasting), transposed (non-contiguous) operands, empty K, float64, the @ operator; forward and
every gradient against PyTorch and finite differences; errors of malformed calls."""
import numpy as np
import pytest

import lamina as lm
from helpers import check_against_torch, gradcheck, torch_or_skip

RNG = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- mm, bmm
def test_mm_matches_torch():
    check_against_torch(lambda m, a, b: m.mm(a, b), [randn(3, 4), randn(4, 5)])
    check_against_torch(lambda m, a, b: a.mm(b), [randn(1, 7), randn(7, 1)])



@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("M,K,N", [(301, 70, 50), (3, 64, 1001), (1, 784, 512), (700, 400, 1), (40, 40, 40)])
def test_products_split_over_threads_match_numpy(threads, ta, tb, M, K, N):
    # Large products are split into one panel of rows (M >= N) or columns per thread; the small
    # ones of a bmm run several to a thread.
    a = randn(K, M).T if ta else randn(M, K)
    b = randn(N, K).T if tb else randn(K, N)
    batch = randn(16, M, K) if M * K * N < 1 << 18 else None
    before = lm.get_num_threads()
    try:
        lm.set_num_threads(threads)
        x, y = lm.tensor(a.T).t() if ta else lm.tensor(a), lm.tensor(b.T).t() if tb else lm.tensor(b)
        np.testing.assert_allclose((x @ y).numpy(), a @ b, rtol=1e-4, atol=1e-4)
        if batch is not None:
            np.testing.assert_allclose(lm.bmm(lm.tensor(batch), y.unsqueeze(0).expand(16, K, N)).numpy(), batch @ b, rtol=1e-4, atol=1e-4)
    finally:
        lm.set_num_threads(before)

@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_mm_of_transposed_operands_matches_torch(ta, tb):
    a = randn(4, 3) if ta else randn(3, 4)
    b = randn(5, 4) if tb else randn(4, 5)
    check_against_torch(lambda m, x, y: m.mm(x.t() if ta else x, y.t() if tb else y), [a, b])


def test_mm_of_strided_slices_matches_torch():
    # column slices (row stride > cols) and every-other-row views that GEMM cannot read directly
    check_against_torch(lambda m, a, b: m.mm(a[:, 1:5], b[::2]), [randn(3, 6), randn(8, 2)])
    check_against_torch(lambda m, a, b: m.mm(a[::2, ::2], b.t()[1:, :]), [randn(6, 8), randn(3, 5)])


def test_mm_gradcheck():
    gradcheck(lambda a, b: lm.mm(a, b), [randn(3, 4, dtype=np.float64), randn(4, 2, dtype=np.float64)])
    gradcheck(lambda a, b: lm.mm(a.t(), b.t()), [randn(4, 3, dtype=np.float64), randn(2, 4, dtype=np.float64)])


def test_mm_float64_matches_torch():
    out = check_against_torch(lambda m, a, b: m.mm(a, b), [randn(5, 6, dtype=np.float64), randn(6, 3, dtype=np.float64)],
                              atol=1e-12, rtol=1e-12)
    assert out.dtype == lm.float64


def test_bmm_matches_torch():
    check_against_torch(lambda m, a, b: m.bmm(a, b), [randn(2, 3, 4), randn(2, 4, 5)])
    check_against_torch(lambda m, a, b: m.bmm(a.transpose(1, 2), b.transpose(1, 2)), [randn(2, 4, 3), randn(2, 5, 4)])
    check_against_torch(lambda m, a, b: m.bmm(a.permute(1, 0, 2), b), [randn(3, 2, 4), randn(2, 4, 5)])
    check_against_torch(lambda m, a, b: m.bmm(a, b.transpose(0, 2).transpose(0, 1)), [randn(2, 3, 4), randn(5, 2, 4)])
    check_against_torch(lambda m, a, b: m.bmm(a.expand(3, 2, 4), b), [randn(1, 2, 4), randn(3, 4, 2)])


def test_bmm_gradcheck():
    gradcheck(lambda a, b: lm.bmm(a, b), [randn(2, 3, 4, dtype=np.float64), randn(2, 4, 2, dtype=np.float64)])
    gradcheck(lambda a, b: lm.bmm(a.transpose(1, 2), b), [randn(2, 4, 3, dtype=np.float64), randn(2, 4, 2, dtype=np.float64)])


def test_mm_grad_fn_names():
    a, b = lm.randn(2, 3, requires_grad=True), lm.randn(3, 4, requires_grad=True)
    assert lm.mm(a, b).grad_fn.name() == "MmBackward0"
    assert lm.bmm(a[None], b[None]).grad_fn.name() == "BmmBackward0"
    assert lm.addmm(lm.zeros(4), a, b).grad_fn.name() == "AddmmBackward0"


# ---------------------------------------------------------------- addmm
@pytest.mark.parametrize("bias_shape", [(3, 5), (5,), (1, 5), (3, 1), (1,), ()])
@pytest.mark.parametrize("beta,alpha", [(1.0, 1.0), (0.5, 2.0), (0.0, 1.0), (-1.5, 0.0)])
def test_addmm_matches_torch(bias_shape, beta, alpha):
    check_against_torch(lambda m, c, a, b: m.addmm(c, a, b, beta=beta, alpha=alpha), [randn(*bias_shape), randn(3, 4), randn(4, 5)])


def test_addmm_of_transposed_operands_and_method_form():
    check_against_torch(lambda m, c, a, b: c.addmm(a.t(), b.t(), alpha=0.5), [randn(5), randn(4, 3), randn(5, 4)])
    check_against_torch(lambda m, c, a, b: m.addmm(c.t(), a, b), [randn(5, 3), randn(3, 4), randn(4, 5)])


def test_addmm_gradcheck():
    gradcheck(lambda c, a, b: lm.addmm(c, a, b, beta=0.5, alpha=-2.0),
              [randn(3, dtype=np.float64), randn(2, 4, dtype=np.float64), randn(4, 3, dtype=np.float64)])
    gradcheck(lambda c, a, b: lm.addmm(c, a, b), [randn(2, 1, dtype=np.float64), randn(2, 4, dtype=np.float64), randn(4, 3, dtype=np.float64)])


def test_addmm_with_empty_k_is_beta_times_bias():
    check_against_torch(lambda m, c, a, b: m.addmm(c, a, b, beta=2.0), [randn(3, 2), randn(3, 0), randn(0, 2)])


def test_addmm_with_beta_zero_ignores_nan_in_the_bias():
    bias = np.array([[np.nan, 1.0]], dtype=np.float32)
    out = check_against_torch(lambda m, c, a, b: m.addmm(c, a, b, beta=0.0), [bias, randn(1, 3), randn(3, 2)])
    assert np.all(np.isfinite(out.detach().numpy()))
    out = check_against_torch(lambda m, c, a, b: m.addmm(c, a, b, beta=0.0), [bias, randn(1, 0), randn(0, 2)])
    assert out.detach().tolist() == [[0.0, 0.0]]


# ---------------------------------------------------------------- matmul: numpy.matmul rules
SHAPES = [
    ((4,), (4,)),                 # dot -> 0-d
    ((4,), (4, 3)),               # vector @ matrix -> (3,)
    ((3, 4), (4,)),               # matrix @ vector -> (3,)
    ((3, 4), (4, 5)),
    ((2, 3, 4), (4, 5)),          # batch @ matrix
    ((3, 4), (2, 4, 5)),          # matrix @ batch
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),    # batch dims broadcast: (2, 5, 3, 2)
    ((1, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4,)),            # batch @ vector -> (2, 3)
    ((4,), (2, 4, 5)),            # vector @ batch -> (2, 5)
    ((2, 1, 3, 4), (4,)),
    ((4,), (3, 1, 4, 2)),
    ((1, 1), (1, 1)),
]


@pytest.mark.parametrize("sa,sb", SHAPES)
def test_matmul_matches_numpy_shapes_and_torch(sa, sb):
    a, b = randn(*sa), randn(*sb)
    out = check_against_torch(lambda m, x, y: m.matmul(x, y), [a, b])
    assert tuple(out.shape) == np.matmul(a, b).shape


@pytest.mark.parametrize("sa,sb", [s for s in SHAPES if len(s[0]) > 1 or len(s[1]) > 1])
def test_matmul_of_transposed_operands_matches_torch(sa, sb):
    def flip(x):  # the same values through a transposed view: x = y.mT with y contiguous
        return x if x.dim() < 2 else x.transpose(-1, -2)
    def swapped(shape):
        return shape if len(shape) < 2 else shape[:-2] + (shape[-1], shape[-2])
    check_against_torch(lambda m, x, y: m.matmul(flip(x), flip(y)), [randn(*swapped(sa)), randn(*swapped(sb))])


@pytest.mark.parametrize("sa,sb", [((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)), ((2, 3, 4), (4, 2)), ((3, 4), (2, 4, 2)),
                                   ((2, 1, 3, 4), (3, 4, 2)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3))])
def test_matmul_gradcheck(sa, sb):
    gradcheck(lambda x, y: lm.matmul(x, y), [randn(*sa, dtype=np.float64), randn(*sb, dtype=np.float64)])


def test_matmul_of_non_contiguous_batch_with_a_matrix():
    # a batched, non-contiguous left operand with a plain matrix on the right
    check_against_torch(lambda m, x, y: m.matmul(x.transpose(0, 1), y), [randn(3, 2, 4), randn(4, 5)])
    check_against_torch(lambda m, x, y: m.matmul(x.permute(2, 0, 1), y.t()), [randn(3, 4, 2), randn(5, 4)])
    check_against_torch(lambda m, x, y: m.matmul(x.expand(2, 3, 4), y), [randn(3, 4), randn(4, 5)])


def test_matmul_float64_and_operator():
    out = check_against_torch(lambda m, x, y: x @ y, [randn(2, 3, 4, dtype=np.float64), randn(4, 2, dtype=np.float64)],
                              atol=1e-12, rtol=1e-12)
    assert out.dtype == lm.float64
    check_against_torch(lambda m, x, y: x @ y, [randn(5), randn(5)])
    check_against_torch(lambda m, x, y: x.matmul(y), [randn(2, 5), randn(5)])


def test_matmul_with_empty_dims():
    torch = torch_or_skip()
    for sa, sb in [((3, 0), (0, 4)), ((0,), (0,)), ((2, 3, 0), (0, 4)), ((0, 3), (3, 2)), ((3, 2), (2, 0)), ((0, 2, 3), (3, 4))]:
        a, b = randn(*sa), randn(*sb)
        got = lm.matmul(lm.tensor(a), lm.tensor(b))
        want = torch.matmul(torch.tensor(a), torch.tensor(b))
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    check_against_torch(lambda m, x, y: m.mm(x, y), [randn(3, 0), randn(0, 4)])
    check_against_torch(lambda m, x, y: m.bmm(x, y), [randn(2, 3, 0), randn(2, 0, 4)])


def test_matmul_gradient_of_a_matrix_used_on_both_sides():
    check_against_torch(lambda m, x: m.matmul(x, x.t()), [randn(3, 4)])
    check_against_torch(lambda m, x: x @ x, [randn(4, 4)])


def test_gradients_when_only_some_operands_require_grad():
    torch = torch_or_skip()
    a, b, c, w = randn(2, 4), randn(4, 3), randn(3), randn(2, 3)
    for needs in [(True, False, False), (False, True, False), (False, False, True), (True, False, True)]:
        grads = []
        for m in (lm, torch):
            ts = [m.tensor(v, requires_grad=n) for v, n in zip((a, b, c), needs)]
            (m.addmm(ts[2], ts[0], ts[1], beta=0.5, alpha=2.0) * m.tensor(w)).sum().backward()
            grads.append([t.grad.numpy() if n else None for t, n in zip(ts, needs)])
        for g_lm, g_th in zip(*grads):
            if g_th is not None:
                np.testing.assert_allclose(g_lm, g_th, rtol=1e-5, atol=1e-6)
    x = lm.tensor(randn(2, 3, 4), requires_grad=True)
    (x @ lm.tensor(randn(4, 2))).sum().backward()
    assert tuple(x.grad.shape) == (2, 3, 4)


def test_matmul_does_not_record_history_under_no_grad():
    a, b = lm.randn(2, 3, requires_grad=True), lm.randn(3, 2, requires_grad=True)
    with lm.no_grad():
        out = a @ b
    assert not out.requires_grad and out.grad_fn is None


# ---------------------------------------------------------------- bad input
def test_matmul_shape_mismatch_messages():
    a, b = lm.zeros(2, 3), lm.zeros(4, 5)
    with pytest.raises(ValueError, match=r"\[matmul\] shapes \(2, 3\) and \(4, 5\) cannot be multiplied"):
        lm.matmul(a, b)
    with pytest.raises(ValueError, match=r"\[matmul\] shapes \(2, 3\) and \(4, 5\) cannot be multiplied"):
        a @ b
    with pytest.raises(ValueError, match=r"\[mm\] shapes \(2, 3\) and \(4, 5\) cannot be multiplied"):
        lm.mm(a, b)
    with pytest.raises(ValueError, match=r"\[matmul\] shapes \(3,\) and \(4,\) cannot be multiplied"):
        lm.matmul(lm.zeros(3), lm.zeros(4))


def test_matmul_batch_dims_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"\[matmul\]"):
        lm.matmul(lm.zeros(2, 3, 4), lm.zeros(3, 4, 5))


def test_mm_bmm_need_the_right_ranks():
    with pytest.raises(ValueError, match=r"\[mm\].*\(3,\)"):
        lm.mm(lm.zeros(3), lm.zeros(3, 2))
    with pytest.raises(ValueError, match=r"\[bmm\]"):
        lm.bmm(lm.zeros(2, 3), lm.zeros(2, 3))
    with pytest.raises(ValueError, match=r"\[bmm\]"):
        lm.bmm(lm.zeros(2, 3, 4), lm.zeros(3, 4, 5))
    with pytest.raises(ValueError, match=r"\[matmul\].*at least 1 dimension"):
        lm.matmul(lm.zeros(()), lm.zeros(3))


def test_addmm_bias_that_does_not_broadcast():
    with pytest.raises(ValueError, match=r"\[addmm\]"):
        lm.addmm(lm.zeros(4), lm.zeros(3, 2), lm.zeros(2, 5))
    with pytest.raises(ValueError, match=r"\[addmm\]"):
        lm.addmm(lm.zeros(2, 3, 5), lm.zeros(3, 2), lm.zeros(2, 5))


def test_matmul_dtype_errors():
    with pytest.raises(TypeError, match=r"\[matmul\].*int64"):
        lm.matmul(lm.tensor([[1, 2]]), lm.tensor([[1], [2]]))
    with pytest.raises(TypeError, match=r"\[mm\].*float32.*float64"):
        lm.mm(lm.zeros(2, 2), lm.zeros(2, 2, dtype=lm.float64))
    with pytest.raises(TypeError, match=r"\[matmul\]"):
        lm.matmul(lm.zeros(2, 2), lm.zeros(2, 2).bool())
    with pytest.raises(TypeError, match=r"\[addmm\]"):
        lm.addmm(lm.zeros(2, dtype=lm.float64), lm.zeros(2, 2), lm.zeros(2, 2))
    with pytest.raises(TypeError):
        lm.zeros(2, 2) @ [[1.0, 2.0], [3.0, 4.0]]

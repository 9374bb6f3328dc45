"""Tensor basics beside PyTorch: creation and dtype inference, factories and the seeded
generator, conversions, views (shared storage, gradients), indexing and assignment, NumPy
interop, Python protocols (item, tolist, len, iter, bool), repr, contiguous/clone/detach.
"""
import math

import numpy as np
import pytest

import lamina as lm
from helpers import assert_same_on_one_and_two_threads, check_against_torch

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (test extra) is not installed")


def same_dtype(lt, tt):
    return str(lt.dtype).replace("lamina", "torch") == str(tt.dtype)


def assert_same(lt, tt):
    """Same dtype, shape and values (NaN where torch has NaN)."""
    assert same_dtype(lt, tt), (lt.dtype, tt.dtype)
    assert tuple(lt.shape) == tuple(tt.shape)
    np.testing.assert_array_equal(lt.detach().numpy(), tt.detach().numpy())


def arange_f32(*shape):
    return np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) - 3.5


# ---------------------------------------------------------------- lamina.tensor and dtype inference
TENSOR_DATA = {
    "float": 1.5, "int": 3, "bool": True, "float_list": [1.0, 2.5], "int_list": [1, 2, 3],
    "mixed_list": [1, 2.5], "bool_list": [True, False], "nested": [[1, 2], [3, 4], [5, 6]],
    "nested_float": [[[1.0]], [[2.0]]], "empty": [], "empty_nested": [[], []], "tuple": (1.0, 2.0),
    "np_float64": np.array([1.0, 2.0]), "np_float32": np.array([1.0, 2.0], np.float32),
    "np_int64": np.array([[1, 2]], np.int64), "np_bool": np.array([True, False]),
    "np_scalar_f64": np.float64(2.5), "np_scalar_i64": np.int64(7), "np_0d": np.array(3.0),
    "np_non_contiguous": np.arange(12.0).reshape(3, 4)[:, ::2].T, "bool_int_list": [True, 2],
}


@needs_torch
@pytest.mark.parametrize("name", TENSOR_DATA)
def test_tensor_infers_dtype_and_shape_like_torch(name):
    data = TENSOR_DATA[name]
    assert_same(lm.tensor(data), torch.tensor(data))


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_tensor_with_explicit_dtype_matches_torch(dtype):
    data = [[0.0, 1.7], [-2.2, 3.0]]
    assert_same(lm.tensor(data, dtype=getattr(lm, dtype)), torch.tensor(data, dtype=getattr(torch, dtype)))


def test_tensor_copies_its_data():
    arr = np.array([1.0, 2.0])
    t = lm.tensor(arr)
    arr[0] = 100.0
    assert t.tolist() == [1.0, 2.0]
    u = lm.tensor(t)
    t.fill_(0)
    assert u.tolist() == [1.0, 2.0]


def test_tensor_of_a_list_of_tensors():
    t = lm.tensor([lm.tensor(1.0), lm.tensor(2.0)])
    assert t.tolist() == [1.0, 2.0] and t.dtype == lm.float32


def test_tensor_requires_grad_flag():
    t = lm.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None
    assert not lm.tensor([1.0]).requires_grad


def test_tensor_of_ragged_or_odd_data_raises():
    with pytest.raises((ValueError, TypeError), match=r"\[tensor\]"):
        lm.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match=r"\[tensor\]"):
        lm.tensor("abc")
    with pytest.raises(TypeError, match=r"\[tensor\]"):
        lm.tensor([1, None])


# ---------------------------------------------------------------- factories
FACTORIES = [
    ("zeros", lambda m: m.zeros(2, 3)),
    ("zeros_tuple", lambda m: m.zeros((2, 3))),
    ("zeros_list_int64", lambda m: m.zeros([4], dtype=m.int64)),
    ("zeros_0d", lambda m: m.zeros(())),
    ("zeros_empty", lambda m: m.zeros(0, 3)),
    ("ones", lambda m: m.ones(3)),
    ("ones_f64", lambda m: m.ones(2, 2, dtype=m.float64)),
    ("ones_bool", lambda m: m.ones(2, dtype=m.bool)),
    ("full_float", lambda m: m.full((2, 2), 1.5)),
    ("full_int", lambda m: m.full((3,), 7)),
    ("full_bool", lambda m: m.full((2,), True)),
    ("full_dtype", lambda m: m.full([2], 2, dtype=m.float64)),
    ("arange_end", lambda m: m.arange(5)),
    ("arange_start_end", lambda m: m.arange(2, 7)),
    ("arange_step", lambda m: m.arange(1, 10, 3)),
    ("arange_negative_step", lambda m: m.arange(5, 0, -2)),
    ("arange_float", lambda m: m.arange(0, 1, 0.25)),
    ("arange_float_end", lambda m: m.arange(2.5)),
    ("arange_float_dtype", lambda m: m.arange(4, dtype=m.float64)),
    ("arange_empty", lambda m: m.arange(3, 3)),
    ("linspace", lambda m: m.linspace(0, 1, 5)),
    ("linspace_negative", lambda m: m.linspace(2, -3, 7)),
    ("linspace_one", lambda m: m.linspace(3, 9, 1)),
    ("linspace_zero", lambda m: m.linspace(3, 9, 0)),
    ("linspace_f64", lambda m: m.linspace(-1, 1, 11, dtype=m.float64)),
    ("eye", lambda m: m.eye(3)),
    ("eye_rect", lambda m: m.eye(2, 4)),
    ("eye_tall_int", lambda m: m.eye(4, 2, dtype=m.int64)),
    ("zeros_like", lambda m: m.zeros_like(m.ones(2, 3, dtype=m.float64))),
    ("ones_like_dtype", lambda m: m.ones_like(m.zeros(2), dtype=m.int64)),
    ("full_like", lambda m: m.full_like(m.zeros(2, 2), 4.0)),
    ("full_like_int", lambda m: m.full_like(m.zeros(2, dtype=m.int64), 3)),
    ("new_zeros", lambda m: m.ones(2, dtype=m.float64).new_zeros(3)),
    ("new_ones", lambda m: m.ones(2, dtype=m.int64).new_ones((2, 2))),
    ("new_full", lambda m: m.ones(2).new_full((2,), 5.0)),
    ("new_tensor", lambda m: m.ones(2, dtype=m.float64).new_tensor([1, 2])),
]


@needs_torch
@pytest.mark.parametrize("name,make", FACTORIES, ids=[f[0] for f in FACTORIES])
def test_factories_match_torch(name, make):
    got, want = make(lm), make(torch)
    assert same_dtype(got, want), (got.dtype, want.dtype)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("make", [lambda: lm.empty(2, 3), lambda: lm.empty((4,), dtype=lm.int64),
                                  lambda: lm.empty_like(lm.ones(2, 3, dtype=lm.float64))])
def test_empty_has_the_right_shape_and_dtype(make):
    t = make()
    assert t.shape in ((2, 3), (4,)) and t.is_contiguous()
    assert t.dtype in (lm.float32, lm.int64, lm.float64)


def test_factories_requires_grad_keyword():
    for t in (lm.zeros(2, requires_grad=True), lm.ones(2, requires_grad=True), lm.randn(2, requires_grad=True),
              lm.full((2,), 1.0, requires_grad=True), lm.rand(2, requires_grad=True), lm.arange(3.0, requires_grad=True)):
        assert t.requires_grad and t.is_leaf


def test_manual_seed_repeats_the_same_numbers():
    draws = []
    for _ in range(2):
        lm.manual_seed(1234)
        draws.append((lm.rand(5).numpy(), lm.randn(2, 3).numpy(), lm.randint(0, 100, (6,)).numpy(),
                      lm.rand(3, dtype=lm.float64).numpy()))
    for a, b in zip(*draws):
        np.testing.assert_array_equal(a, b)
    lm.manual_seed(1235)
    assert not np.array_equal(lm.rand(5).numpy(), draws[0][0])


def test_rand_is_uniform_in_zero_one():
    lm.manual_seed(0)
    for dtype in (lm.float32, lm.float64):
        x = lm.rand(20000, dtype=dtype).numpy()
        assert x.min() >= 0.0 and x.max() < 1.0
        assert abs(x.mean() - 0.5) < 0.02 and abs(x.std() - np.sqrt(1 / 12)) < 0.01


def test_randn_keeps_shape_dtype_and_requires_grad():
    x = lm.randn(200, 100)
    assert x.shape == (200, 100) and x.dtype == lm.float32 and not x.requires_grad
    assert lm.randn(3, dtype=lm.float64).dtype == lm.float64
    assert lm.randn(2, 3, requires_grad=True).requires_grad
    assert lm.randn(0).shape == (0,) and lm.randn(1).shape == (1,)


@pytest.mark.parametrize("dtype", [lm.float32, lm.float64])
def test_randn_moments_ks_statistic_and_tails_match_the_normal_distribution(dtype):
    """2^20 + 1 samples (odd: the dropped sine of the last pair): mean, variance, skewness, kurtosis
    within about 5 standard errors, the Kolmogorov-Smirnov statistic against Phi (p > 0.001), and the
    fractions beyond 3 and 4 sigma within about 4 standard errors of 2.70e-3 and 6.33e-5."""
    lm.manual_seed(0)
    n = (1 << 20) + 1
    x = lm.randn(n, dtype=dtype).numpy().astype(np.float64)
    assert np.all(np.isfinite(x))
    mean, var = x.mean(), x.var()
    skew = np.mean((x - mean) ** 3) / var**1.5
    kurtosis = np.mean((x - mean) ** 4) / var**2
    assert abs(mean) < 5 / math.sqrt(n) and abs(var - 1) < 5 * math.sqrt(2 / n)
    assert abs(skew) < 5 * math.sqrt(6 / n) and abs(kurtosis - 3) < 5 * math.sqrt(24 / n)
    cdf = 0.5 * (1 + np.frompyfunc(math.erf, 1, 1)(np.sort(x) / math.sqrt(2)).astype(np.float64))
    ks = max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))
    assert ks * math.sqrt(n) < 1.95
    for sigmas, p in ((3, 2.6997960632601866e-3), (4, 6.334248366623996e-5)):
        beyond = np.count_nonzero(np.abs(x) > sigmas)
        assert abs(beyond - n * p) < 4 * math.sqrt(n * p), (sigmas, beyond, n * p)


@pytest.mark.parametrize("dtype", [lm.float32, lm.float64])
def test_randn_is_reproducible_across_thread_counts_and_rng_state_round_trips(dtype):
    def draw():
        lm.manual_seed(7)
        return (lm.randn(100_001, dtype=dtype).numpy(),)

    assert_same_on_one_and_two_threads(draw)
    state = lm.get_rng_state()
    first = lm.randn(1001, dtype=dtype).numpy()
    lm.set_rng_state(state)
    np.testing.assert_array_equal(lm.randn(1001, dtype=dtype).numpy(), first)


def test_randint_is_in_range_and_hits_every_value():
    lm.manual_seed(0)
    x = lm.randint(-3, 4, (5000,))
    assert x.dtype == lm.int64
    assert set(np.unique(x.numpy()).tolist()) == set(range(-3, 4))
    y = lm.randint(10, (2, 3))
    assert y.shape == (2, 3) and y.numpy().min() >= 0 and y.numpy().max() < 10
    z = lm.randint(0, 2**40, (100,))
    assert z.numpy().min() >= 0 and z.numpy().max() < 2**40
    f = lm.randint(0, 5, (50,), dtype=lm.float32)
    assert f.dtype == lm.float32 and set(f.numpy().tolist()) <= {0.0, 1.0, 2.0, 3.0, 4.0}


def test_random_like_factories_keep_shape_and_dtype():
    base = lm.zeros(3, 2, dtype=lm.float64)
    for t in (lm.rand_like(base), lm.randn_like(base)):
        assert t.shape == (3, 2) and t.dtype == lm.float64
    r = lm.randint_like(lm.zeros(4, dtype=lm.int64), 5)
    assert r.shape == (4,) and r.dtype == lm.int64 and r.numpy().max() < 5
    r = lm.randint_like(lm.zeros(4, dtype=lm.int64), 5, 7)
    assert set(r.numpy().tolist()) <= {5, 6}


# ---------------------------------------------------------------- dtypes and conversions
CONVERSIONS = [
    ("float", lambda t: t.float()), ("double", lambda t: t.double()), ("long", lambda t: t.long()),
    ("int", lambda t: t.int() if isinstance(t, lm.Tensor) else t.long()), ("bool", lambda t: t.bool()),
    ("to_f64", lambda t: t.to(lm.float64 if isinstance(t, lm.Tensor) else torch.float64)),
    ("to_kw_int64", lambda t: t.to(dtype=lm.int64 if isinstance(t, lm.Tensor) else torch.int64)),
    ("to_cpu_f64", lambda t: t.to("cpu", lm.float64 if isinstance(t, lm.Tensor) else torch.float64)),
    ("to_other", lambda t: t.to((lm if isinstance(t, lm.Tensor) else torch).zeros(1, dtype=(
        lm if isinstance(t, lm.Tensor) else torch).int64))),
    ("type_as", lambda t: t.type_as((lm if isinstance(t, lm.Tensor) else torch).ones(1, dtype=(
        lm if isinstance(t, lm.Tensor) else torch).float64))),
]
CONVERSION_SOURCES = {
    "float32": lambda m: m.tensor([-1.7, 0.0, 0.4, 2.5, 3.0]),
    "float64": lambda m: m.tensor(np.array([-1.7, 0.0, 0.4, 2.5, 1e10])),
    "int64": lambda m: m.tensor([-3, 0, 1, 2, 2**40]),
    "bool": lambda m: m.tensor([True, False, True, True, False]),
}


@needs_torch
@pytest.mark.parametrize("conv,fn", CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
@pytest.mark.parametrize("source", CONVERSION_SOURCES)
def test_conversions_match_torch(conv, fn, source):
    assert_same(fn(CONVERSION_SOURCES[source](lm)), fn(CONVERSION_SOURCES[source](torch)))


def test_to_the_same_dtype_returns_the_tensor_itself():
    t = lm.ones(2)
    assert t.to(lm.float32) is t and t.float() is t and t.to("cpu") is t and t.cpu() is t
    assert t.double() is not t


def test_dtype_objects():
    assert repr(lm.float32) == "lamina.float32" and str(lm.int64) == "lamina.int64"
    assert lm.float is lm.float32 and lm.double is lm.float64 and lm.long is lm.int64
    assert lm.float32.is_floating_point and not lm.int64.is_floating_point
    assert lm.float64.itemsize == 8 and lm.bool.itemsize == 1
    assert lm.ones(2).is_floating_point() and lm.ones(2).element_size() == 4


def test_dtype_conversion_gradient_matches_torch():
    def fn(m, x):
        return (x.double() * 3).float() * x.to(m.float64).to(m.float32)
    check_against_torch(fn, [arange_f32(2, 3)])


def test_integer_conversion_has_no_gradient():
    x = lm.tensor([1.5, 2.5], requires_grad=True)
    i = x.long()
    assert i.dtype == lm.int64 and not i.requires_grad and i.grad_fn is None


# ---------------------------------------------------------------- views
def _shares(view, base):
    """A view shares base's storage: a write through the view shows in base, and back."""
    with lm.no_grad():
        flat_before = base.detach().clone()
        view.detach().fill_(123)
        seen = (base.detach().numpy() == 123).any() or view.numel() == 0
        base.detach().copy_(flat_before)
        base.detach().fill_(-7)
        seen_back = (view.detach().numpy() == -7).all() if view.numel() else True
        base.detach().copy_(flat_before)
    return seen and seen_back


VIEWS = [
    ("view", lambda m, x: x.view(4, 6)),
    ("view_tuple", lambda m, x: x.view((3, 8))),
    ("view_minus_one", lambda m, x: x.view(-1, 4)),
    ("view_flat", lambda m, x: x.view(-1)),
    ("view_as", lambda m, x: x.view_as(m.zeros(6, 4))),
    ("reshape", lambda m, x: x.reshape(2, 12)),
    ("reshape_fn", lambda m, x: m.reshape(x, (4, -1))),
    ("reshape_as", lambda m, x: x.reshape_as(m.zeros(24))),
    ("flatten", lambda m, x: x.flatten()),
    ("flatten_dims", lambda m, x: x.flatten(1)),
    ("flatten_fn", lambda m, x: m.flatten(x, 0, 1)),
    ("unsqueeze", lambda m, x: x.unsqueeze(1)),
    ("unsqueeze_last", lambda m, x: x.unsqueeze(-1)),
    ("unsqueeze_fn", lambda m, x: m.unsqueeze(x, 0)),
    ("squeeze", lambda m, x: x.unsqueeze(1).unsqueeze(0).squeeze()),
    ("squeeze_dim", lambda m, x: x.unsqueeze(2).squeeze(2)),
    ("squeeze_dim_not_one", lambda m, x: x.squeeze(0)),
    ("squeeze_fn", lambda m, x: m.squeeze(x.unsqueeze(0), 0)),
    ("transpose", lambda m, x: x.transpose(0, 2)),
    ("transpose_negative", lambda m, x: x.transpose(-1, -2)),
    ("transpose_fn", lambda m, x: m.transpose(x, 1, 0)),
    ("permute", lambda m, x: x.permute(2, 0, 1)),
    ("permute_tuple", lambda m, x: x.permute((1, 2, 0))),
    ("permute_fn", lambda m, x: m.permute(x, (2, 1, 0))),
    ("T", lambda m, x: x[1].T),
    ("mT", lambda m, x: x.mT),
    ("t", lambda m, x: x[0].t()),
    ("t_fn", lambda m, x: m.t(x[1])),
    ("t_1d", lambda m, x: x[0, 0].t()),
    ("expand", lambda m, x: x[:, :1].expand(2, 3, 4)),
    ("expand_new_dims", lambda m, x: x[0, 0].expand(3, 2, 4)),
    ("expand_minus_one", lambda m, x: x[:, :1].expand(-1, 5, -1)),
    ("expand_as", lambda m, x: x[:1].expand_as(x)),
    ("narrow", lambda m, x: x.narrow(2, 1, 2)),
    ("narrow_fn", lambda m, x: m.narrow(x, 1, 1, 2)),
    ("narrow_negative_start", lambda m, x: x.narrow(-1, -2, 2)),
    ("select", lambda m, x: x.select(1, 2)),
    ("select_negative", lambda m, x: x.select(-1, -1)),
    ("select_fn", lambda m, x: m.select(x, 0, 1)),
    ("chain", lambda m, x: x.transpose(0, 1)[1:, ::2].unsqueeze(0).select(3, 1)),
]


@pytest.mark.parametrize("name,fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_match_torch_forward_and_gradient(name, fn):
    check_against_torch(fn, [arange_f32(2, 3, 4)])


@pytest.mark.parametrize("name,fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_share_storage(name, fn):
    x = lm.tensor(arange_f32(2, 3, 4))
    v = fn(lm, x)
    assert _shares(v, x)


@needs_torch
@pytest.mark.parametrize("name,fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_strides_and_offsets_match_torch(name, fn):
    lx, tx = lm.tensor(arange_f32(2, 3, 4)), torch.tensor(arange_f32(2, 3, 4))
    lv, tv = fn(lm, lx), fn(torch, tx)
    assert tuple(lv.shape) == tuple(tv.shape)
    assert lv.is_contiguous() == tv.is_contiguous()
    assert lv.storage_offset() == tv.storage_offset()
    if lv.numel() > 1:
        assert lv.stride() == tv.stride() or name.startswith(("squeeze", "unsqueeze", "expand")), (lv.stride(), tv.stride())


def test_view_data_ptr_points_into_the_base():
    x = lm.tensor(arange_f32(3, 4))
    assert x.view(12).data_ptr() == x.data_ptr()
    assert x[1].data_ptr() == x.data_ptr() + 4 * 4
    assert x[:, 2].data_ptr() == x.data_ptr() + 2 * 4
    assert x.t().data_ptr() == x.data_ptr()


def test_view_of_a_non_viewable_tensor_raises_and_reshape_copies():
    x = lm.tensor(arange_f32(3, 4)).t()
    with pytest.raises(RuntimeError, match=r"\[view\]"):
        x.view(12)
    r = x.reshape(12)
    np.testing.assert_array_equal(r.numpy(), arange_f32(3, 4).T.reshape(12))
    assert r.data_ptr() != x.data_ptr()
    # viewable non-contiguous cases: splitting a dim, a transposed tensor's size-1 dims
    y = lm.tensor(arange_f32(4, 6))[:, ::2]
    assert y.view(2, 2, 3).data_ptr() == y.data_ptr()


def test_reshape_of_a_non_viewable_tensor_gradient_matches_torch():
    check_against_torch(lambda m, x: x.t().reshape(-1) * m.arange(12).float(), [arange_f32(3, 4)])
    check_against_torch(lambda m, x: x[:, ::2].flatten(), [arange_f32(3, 4)])


def test_views_of_zero_d_and_empty_tensors_match_torch():
    check_against_torch(lambda m, x: x.reshape(1, 1).squeeze().unsqueeze(0).expand(3), [np.array(2.0, np.float32)])
    check_against_torch(lambda m, x: x.view(3, 2, 0).transpose(0, 2).reshape(2, 0), [np.zeros((2, 0, 3), np.float32)])
    check_against_torch(lambda m, x: x.flatten(), [np.array(2.0, np.float32)])


def test_expand_writes_are_visible_through_every_broadcast_position():
    x = lm.tensor([[1.0], [2.0]])
    e = x.expand(2, 3)
    assert e.stride() == (1, 0)
    x.fill_(5)
    np.testing.assert_array_equal(e.numpy(), np.full((2, 3), 5.0))


# ---------------------------------------------------------------- indexing
INDEXES = [
    ("int", lambda x: x[1]),
    ("negative_int", lambda x: x[-1]),
    ("two_ints", lambda x: x[1, -2]),
    ("three_ints", lambda x: x[0, 1, 2]),
    ("slice", lambda x: x[:, 1:3]),
    ("slice_step", lambda x: x[::2]),
    ("slice_step_inner", lambda x: x[:, :, 1::2]),
    ("slice_negative_bounds", lambda x: x[:, -2:]),
    ("slice_out_of_range", lambda x: x[:, 1:100]),
    ("slice_empty", lambda x: x[:, 3:1]),
    ("ellipsis", lambda x: x[..., 1]),
    ("ellipsis_middle", lambda x: x[1, ..., 2]),
    ("newaxis", lambda x: x[..., None]),
    ("newaxis_front", lambda x: x[None]),
    ("newaxis_middle", lambda x: x[:, None, 1]),
    ("int_tensor", lambda x: x[(lm if isinstance(x, lm.Tensor) else torch).tensor([1, 0, 1])]),
    ("int_tensor_2d", lambda x: x[:, (lm if isinstance(x, lm.Tensor) else torch).tensor([[0, 1], [2, 0]])]),
    ("int_tensor_negative", lambda x: x[..., (lm if isinstance(x, lm.Tensor) else torch).tensor([-1, 0])]),
    ("list", lambda x: x[[1, 0]]),
    ("list_with_slice", lambda x: x[:, [2, 1]]),
    ("bool_mask", lambda x: x[x > 0]),
    ("bool_mask_leading", lambda x: x[(lm if isinstance(x, lm.Tensor) else torch).tensor([False, True])]),
    ("bool_mask_2d", lambda x: x[(x.sum(2) if isinstance(x, lm.Tensor) else x.sum(2)) > 0]),
    ("zero_d_int_tensor", lambda x: x[(lm if isinstance(x, lm.Tensor) else torch).tensor(1)]),
    ("int_then_slice", lambda x: x[1][:, 1:]),
    ("tuple_of_slices", lambda x: x[0:1, 1:, :-1]),
]


@pytest.mark.parametrize("name,fn", INDEXES, ids=[i[0] for i in INDEXES])
def test_indexing_matches_torch_forward_and_gradient(name, fn):
    check_against_torch(lambda m, x: fn(x), [arange_f32(2, 3, 4)])


@pytest.mark.parametrize("name,fn", INDEXES[:15], ids=[i[0] for i in INDEXES[:15]])
def test_basic_indexing_returns_views(name, fn):
    x = lm.tensor(arange_f32(2, 3, 4))
    assert _shares(fn(x), x)


def test_advanced_indexing_returns_copies():
    x = lm.tensor(arange_f32(2, 3))
    y = x[[1, 0]]
    y.fill_(0)
    assert (x.numpy() != 0).any() and x[0, 0].item() == -3.5


def test_indexing_integer_and_bool_tensors():
    x = lm.tensor([[1, 2, 3], [4, 5, 6]])
    assert x[1].tolist() == [4, 5, 6] and x[:, 1].tolist() == [2, 5] and x[x > 3].tolist() == [4, 5, 6]
    assert x[1].dtype == lm.int64 and x[x > 3].dtype == lm.int64
    b = lm.tensor([True, False, True])
    assert b[1:].tolist() == [False, True] and b[b].tolist() == [True, True]


SETITEMS = [
    ("int_number", lambda m, x: x.__setitem__(0, 1.0)),
    ("negative_int", lambda m, x: x.__setitem__(-1, 2)),
    ("slice_tensor", lambda m, x: x.__setitem__((slice(None), 1), m.tensor([7.0, 8.0, 9.0, 10.0]))),
    ("broadcast_row", lambda m, x: x.__setitem__(slice(None), m.tensor([1.0, 2.0, 3.0, 4.0]))),
    ("step_slice", lambda m, x: x.__setitem__((slice(None), slice(None), slice(None, None, 2)), -1.0)),
    ("ellipsis", lambda m, x: x.__setitem__((Ellipsis, 0), m.zeros(2, 3))),
    ("two_ints", lambda m, x: x.__setitem__((1, 2), 5.5)),
    ("mask_number", lambda m, x: x.__setitem__(x > 5, 0.0)),
    ("mask_leading", lambda m, x: x.__setitem__(m.tensor([True, False]), -2.0)),
    ("mask_tensor_0d", lambda m, x: x.__setitem__(x < 0, m.tensor(9.0))),
    ("int_value_into_float", lambda m, x: x.__setitem__(0, m.tensor([1, 2, 3, 4]))),
    ("float64_value", lambda m, x: x.__setitem__(1, m.tensor(np.full((3, 4), 0.25)))),
    ("numpy_scalar", lambda m, x: x.__setitem__((0, 0), np.float64(3.25))),
    ("zero_d_index", lambda m, x: x.__setitem__(m.tensor(1), 4.0)),
    ("everything", lambda m, x: x.__setitem__(Ellipsis, 1.0)),
]


@needs_torch
@pytest.mark.parametrize("name,fn", SETITEMS, ids=[s[0] for s in SETITEMS])
def test_setitem_matches_torch(name, fn):
    lx, tx = lm.tensor(arange_f32(2, 3, 4)), torch.tensor(arange_f32(2, 3, 4))
    ptr = lx.data_ptr()
    fn(lm, lx)
    fn(torch, tx)
    assert lx.data_ptr() == ptr
    assert_same(lx, tx)


@needs_torch
def test_setitem_into_int_and_bool_tensors_matches_torch():
    for m in (lm, torch):
        i = m.tensor([1, 2, 3])
        i[0] = 2.7  # truncated toward zero
        i[i > 2] = 0
        b = m.tensor([True, False])
        b[1] = 1
        if m is lm:
            got = (i, b)
    assert_same(got[0], i)
    assert_same(got[1], b)


def test_setitem_through_a_view_writes_the_base():
    x = lm.zeros(3, 4)
    v = x.t()
    v[1] = 1.0
    v[:, 2] = lm.tensor([5.0, 6.0, 7.0, 8.0])
    np.testing.assert_array_equal(x.numpy()[:2, 1], [1.0, 1.0])
    np.testing.assert_array_equal(x.numpy()[2], [5.0, 6.0, 7.0, 8.0])


# ---------------------------------------------------------------- NumPy interop
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_from_numpy_shares_memory_both_ways(dtype):
    arr = np.zeros((2, 3), dtype)
    t = lm.from_numpy(arr)
    assert t.shape == (2, 3) and str(t.dtype) == "lamina." + {np.float32: "float32", np.float64: "float64",
                                                              np.int64: "int64", np.bool_: "bool"}[dtype]
    arr[0, 1] = 1
    assert t[0, 1].item() == 1
    t[1, 2] = 1
    assert arr[1, 2] == 1
    assert t.data_ptr() == arr.ctypes.data


def test_from_numpy_keeps_strides_of_a_non_contiguous_array():
    arr = np.arange(12.0).reshape(3, 4)
    t = lm.from_numpy(arr[:, ::2])
    assert t.stride() == (4, 2) and not t.is_contiguous()
    arr[2, 2] = -1
    assert t[2, 1].item() == -1


def test_from_numpy_outlives_the_array_name():
    t = lm.from_numpy(np.arange(4.0))
    import gc
    gc.collect()
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("make", [lambda: lm.ones(2, 3), lambda: lm.ones(2, 3).t(), lambda: lm.arange(10)[::3],
                                  lambda: lm.ones(2, 3, dtype=lm.bool), lambda: lm.tensor(2.5)])
def test_numpy_shares_memory_both_ways(make):
    t = make()
    arr = t.numpy()
    assert arr.shape == tuple(t.shape) and arr.dtype.name == str(t.dtype).split(".")[1]
    np.testing.assert_array_equal(arr.strides, [s * t.element_size() for s in t.stride()])
    with lm.no_grad():
        t.fill_(0)
    assert not arr.any()
    arr[...] = 1
    assert t.numpy().all()


def test_numpy_outlives_the_tensor():
    arr = lm.arange(5).numpy()
    import gc
    gc.collect()
    assert arr.tolist() == [0, 1, 2, 3, 4]


def test_numpy_on_tensor_that_requires_grad_raises():
    x = lm.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\[numpy\].*detach"):
        x.numpy()
    with pytest.raises(RuntimeError, match=r"\[numpy\]"):
        (x * 2).numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]
    np.testing.assert_array_equal(np.asarray(x), [1.0, 1.0])  # __array__ detaches, like torch


# ---------------------------------------------------------------- Python protocols
@needs_torch
@pytest.mark.parametrize("data", [2.5, 3, True, [4.0], [[7]], np.float64(1.25)], ids=str)
def test_item_matches_torch(data):
    got, want = lm.tensor(data).item(), torch.tensor(data).item()
    assert got == want and type(got) is type(want)


def test_item_of_many_elements_raises():
    with pytest.raises((ValueError, RuntimeError), match=r"\[item\]"):
        lm.ones(2).item()


@needs_torch
@pytest.mark.parametrize("data", [2.5, [1, 2], [[1.5, 2.0], [3.0, 4.0]], [True, False], [], [[], []]], ids=str)
def test_tolist_matches_torch(data):
    got, want = lm.tensor(data).tolist(), torch.tensor(data).tolist()
    assert got == want and type(got) is type(want)


def test_tolist_of_a_view():
    assert lm.tensor([[1, 2], [3, 4]]).t().tolist() == [[1, 3], [2, 4]]


def test_len_iteration_and_bool():
    x = lm.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3 and rows[2].tolist() == [5.0, 6.0]
    assert [v.item() for v in x[0]] == [1.0, 2.0]
    with pytest.raises(TypeError):
        len(lm.tensor(1.0))
    with pytest.raises(TypeError):
        iter(lm.tensor(1.0))
    assert bool(lm.tensor([1.0])) and not bool(lm.tensor(0)) and bool(lm.tensor(True))
    with pytest.raises((ValueError, RuntimeError)):
        bool(lm.ones(2))
    assert float(lm.tensor([2.5])) == 2.5 and int(lm.tensor(3.9)) == 3
    assert [10, 20, 30][lm.tensor(1)] == 20
    with pytest.raises(TypeError):
        [1, 2][lm.tensor(1.0)]


def test_shape_size_dim_numel():
    x = lm.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.dim() == x.ndim == 3 and x.numel() == 24 and lm.numel(x) == 24
    assert lm.is_tensor(x) and not lm.is_tensor(np.zeros(1))
    assert x.stride() == (12, 4, 1) and x.stride(0) == 12 and x.device == lm.device("cpu")


# ---------------------------------------------------------------- repr
REPRS = [
    ("floats", lambda m: m.tensor([1.0, 2.0])),
    ("decimals", lambda m: m.tensor([1.5, -2.25, 3.0])),
    ("ints", lambda m: m.tensor([1, -20, 300])),
    ("bools", lambda m: m.tensor([True, False])),
    ("scalar_float", lambda m: m.tensor(3.5)),
    ("scalar_int", lambda m: m.tensor(7)),
    ("matrix", lambda m: m.tensor([[1.0, 2.5], [-3.0, 4.0]])),
    ("float64", lambda m: m.tensor([1.0, 2.0], dtype=m.float64)),
    ("requires_grad", lambda m: m.tensor([1.0, 2.0], requires_grad=True)),
    ("grad_fn", lambda m: m.tensor([1.0, 2.0], requires_grad=True) * 2),
    ("float64_grad_fn", lambda m: m.tensor([1.5], dtype=m.float64, requires_grad=True).exp()),
    ("empty", lambda m: m.zeros(0)),
    ("empty_2d", lambda m: m.zeros(0, 3)),
    ("large_values", lambda m: m.tensor([1e10, 1.0])),
    ("small_values", lambda m: m.tensor([1e-5, 1.0])),
    ("inf_nan", lambda m: m.tensor([float("inf"), float("nan"), 1.0])),
    ("int_matrix", lambda m: m.tensor([[1, 2], [30, 4]])),
    ("int_valued_sci", lambda m: m.tensor([1.0, 2000.0])),
    ("zeros_float", lambda m: m.zeros(3)),
    ("negative_zero_and_huge", lambda m: m.tensor([-0.0, 1e20])),
    ("wraps_long_rows", lambda m: m.arange(40.0)),
    ("wraps_long_int_rows", lambda m: m.arange(100).view(4, 25)),
    ("summarized", lambda m: m.arange(3000.0).reshape(30, 100) / 7),
    ("three_d", lambda m: m.arange(12.0).view(2, 3, 2) - 5.5),
    ("empty_int", lambda m: m.zeros(0, dtype=m.int64)),
    ("long_suffixes", lambda m: m.ones(20, dtype=m.float64, requires_grad=True) * 3),
]


@needs_torch
@pytest.mark.parametrize("name,make", REPRS, ids=[r[0] for r in REPRS])
def test_repr_matches_torch(name, make):
    assert repr(make(lm)) == repr(make(torch)).replace("torch", "lamina")
    assert str(make(lm)) == str(make(torch)).replace("torch", "lamina")


def test_repr_key_parts():
    r = repr(lm.tensor([1.0, 2.0], dtype=lm.float64, requires_grad=True) + 1)
    assert r.startswith("tensor([2., 3.]") and "dtype=lamina.float64" in r and "grad_fn=<AddBackward0>" in r


# ---------------------------------------------------------------- contiguous, clone, detach
def test_contiguous_returns_self_or_a_copy():
    x = lm.tensor(arange_f32(3, 4))
    assert x.contiguous() is x or x.contiguous().data_ptr() == x.data_ptr()
    t = x.t()
    c = t.contiguous()
    assert c.is_contiguous() and not t.is_contiguous() and c.data_ptr() != t.data_ptr()
    np.testing.assert_array_equal(c.numpy(), arange_f32(3, 4).T)
    check_against_torch(lambda m, a: a.t().contiguous() * m.arange(12).float().view(4, 3), [arange_f32(3, 4)])


def test_clone_copies_and_keeps_history():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.data_ptr() != x.data_ptr() and c.requires_grad and c.grad_fn.name() == "CloneBackward0"
    check_against_torch(lambda m, a: (a.t().clone() * 2).clone(), [arange_f32(2, 3)])
    check_against_torch(lambda m, a: m.clone(a[:, 1:]), [arange_f32(2, 3)])
    y = lm.tensor([1.0, 2.0])
    z = y.clone()
    z.fill_(0)
    assert y.tolist() == [1.0, 2.0]


def test_detach_shares_storage_and_drops_history():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf and d.data_ptr() == y.data_ptr()
    d[0] = 10.0
    assert y.detach()[0].item() == 10.0
    assert x.data.data_ptr() == x.data_ptr() and not x.data.requires_grad
    v = x.detach().t()
    assert v.data_ptr() == x.data_ptr()


def test_detached_inplace_change_is_seen_by_backward_check():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.detach().zero_()  # same storage: the saved output changed
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


@needs_torch
@pytest.mark.parametrize("mask,value", [
    ([[True, False, True], [False, True, False]], [10.0, 20.0, 30.0]),
    ([[True, False, True], [False, True, False]], 5.0),
    ([True, False], [[7.0, 8.0, 9.0]]),
    ([False, True], [1.0, 2.0, 3.0]),
    ([True, True], [[1.0], [2.0]]),
    ([False, False], 1.0),
], ids=str)
def test_setitem_with_a_mask_matches_torch(mask, value):
    results = []
    for m in (lm, torch):
        x = m.arange(6.0).view(2, 3)
        x[m.tensor(mask)] = m.tensor(value) if isinstance(value, list) else value
        results.append(x)
    assert_same(*results)


def test_mask_index_must_cover_leading_dims():
    x = lm.ones(2, 3)
    with pytest.raises(IndexError, match=r"\[index\]"):
        x[lm.tensor([True])]
    with pytest.raises(IndexError, match=r"\[index_put_\]"):
        x[lm.tensor([True, False, True])] = 0.0
    np.testing.assert_array_equal(x.numpy(), np.ones((2, 3)))


def test_copy_and_setitem_from_an_overlapping_view_read_before_writing():
    x = lm.arange(4.0).view(2, 2)
    x.copy_(x.t())
    np.testing.assert_array_equal(x.numpy(), [[0.0, 2.0], [1.0, 3.0]])
    y = lm.arange(5.0)
    y[1:] = y[:-1]
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0, 1.0, 2.0, 3.0])
    z = lm.arange(4.0).view(2, 2)
    z += z.t()
    np.testing.assert_array_equal(z.numpy(), [[0.0, 3.0], [3.0, 6.0]])
    w = lm.arange(5.0)
    w[:-1].mul_(w[1:])
    np.testing.assert_array_equal(w.numpy(), [0.0, 2.0, 6.0, 12.0, 4.0])

"""Pooling, interpolation and padding: max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool1d/2d,
adaptive_max_pool2d, interpolate (nearest, linear, bilinear), pad, and their modules; ReLU then
MaxPool2d in nn.Sequential (one fused op).

A randomised sweep (200 seeded configurations per pooling op: odd sizes, strides larger than the
kernel, dilation, padding, ceil_mode, batch 1, unbatched input) compares the forward result, the
max-pool indices and the input gradient with PyTorch in float32; gradcheck covers each op in
float64; bad inputs raise clear errors.
"""
import numpy as np
import pytest

import lamina as lm
from lamina import _C
from lamina.nn import _functional_conv as LF
from lamina.nn import pooling as P
from lamina.nn import upsampling as U
from helpers import check_against_torch, gradcheck, torch_or_skip

SWEEP = 200


def F(m):
    """torch.nn.functional for torch, lamina's functional pooling for lamina."""
    return LF if m is lm else m.nn.functional


def batch_dims(r):
    """(N, C), (C,) (unbatched) or (1, C)."""
    u = r.random()
    return [int(r.integers(1, 4))] if u < 0.1 else [1 if u < 0.3 else int(r.integers(2, 4)), int(r.integers(1, 4))]


def has_empty_window(size, k, stride, padding, dilation):
    """Whether some max-pooling window (ceil_mode included) reads padding only."""
    out = (size + 2 * padding - dilation * (k - 1) - 1 + stride - 1) // stride + 1
    return any(all(not 0 <= o * stride - padding + j * dilation < size for j in range(k)) for o in range(out))


def pool_config(seed, spatial, is_max):
    """A random valid max or average pooling configuration: (input, kwargs)."""
    r = np.random.default_rng(seed)
    k = [int(v) for v in r.integers(1, 5, spatial)]
    default_stride = r.random() < 0.2
    stride = list(k) if default_stride else [int(v) for v in r.integers(1, 6, spatial)]  # often > kernel
    dilation = [int(v) for v in r.integers(1, 3, spatial)] if is_max else [1] * spatial
    eff = [d * (kk - 1) + 1 for d, kk in zip(dilation, k)]
    padding = [int(r.integers(0, kk // 2 + 1)) for kk in k]
    sizes = [max(1, e - 2 * p + int(r.integers(0, 7))) for e, p in zip(eff, padding)]
    if is_max:  # no window wholly in the padding (PyTorch indexes outside the plane there)
        for i in range(spatial):
            while has_empty_window(sizes[i], k[i], stride[i], padding[i], dilation[i]):
                sizes[i] += 1
    kw = {"kernel_size": tuple(k), "stride": None if default_stride else tuple(stride),
          "padding": tuple(padding), "ceil_mode": bool(r.random() < 0.5)}
    if is_max:
        kw["dilation"] = tuple(dilation)
    else:
        kw["count_include_pad"] = bool(r.random() < 0.5)
        if spatial == 2 and r.random() < 0.2:
            kw["divisor_override"] = int(r.integers(1, 5))
    x = r.standard_normal(batch_dims(r) + sizes).astype(np.float32)
    return x, kw


def check_max_pool(name, seed, spatial):
    x, kw = pool_config(seed, spatial, True)
    out, indices = check_against_torch(lambda m, t: getattr(F(m), name)(t, return_indices=True, **kw), [x])
    th = torch_or_skip()
    ref = getattr(th.nn.functional, name)(th.tensor(x), return_indices=True, **kw)[1]
    np.testing.assert_array_equal(indices.numpy(), ref.numpy())


@pytest.mark.parametrize("seed", range(SWEEP))
def test_max_pool2d_matches_torch_sweep(seed):
    check_max_pool("max_pool2d", seed, 2)


@pytest.mark.parametrize("seed", range(SWEEP))
def test_max_pool1d_matches_torch_sweep(seed):
    check_max_pool("max_pool1d", 1000 + seed, 1)


@pytest.mark.parametrize("seed", range(SWEEP))
def test_avg_pool2d_matches_torch_sweep(seed):
    x, kw = pool_config(2000 + seed, 2, False)
    check_against_torch(lambda m, t: F(m).avg_pool2d(t, **kw), [x])


@pytest.mark.parametrize("seed", range(SWEEP))
def test_avg_pool1d_matches_torch_sweep(seed):
    x, kw = pool_config(3000 + seed, 1, False)
    check_against_torch(lambda m, t: F(m).avg_pool1d(t, **kw), [x])


def adaptive_config(seed, spatial):
    r = np.random.default_rng(seed)
    sizes = [int(v) for v in r.integers(1, 12, spatial)]
    out = tuple(int(r.integers(1, s + 4)) for s in sizes)  # smaller or larger than the input
    x = r.standard_normal(batch_dims(r) + sizes).astype(np.float32)
    if spatial == 2 and r.random() < 0.15:
        out = (None, out[1])
    return x, out[0] if spatial == 1 else out


@pytest.mark.parametrize("seed", range(SWEEP))
def test_adaptive_avg_pool2d_matches_torch_sweep(seed):
    x, out = adaptive_config(4000 + seed, 2)
    check_against_torch(lambda m, t: F(m).adaptive_avg_pool2d(t, out), [x])


@pytest.mark.parametrize("seed", range(SWEEP))
def test_adaptive_avg_pool1d_matches_torch_sweep(seed):
    x, out = adaptive_config(5000 + seed, 1)
    check_against_torch(lambda m, t: F(m).adaptive_avg_pool1d(t, out), [x])


@pytest.mark.parametrize("seed", range(SWEEP))
def test_adaptive_max_pool2d_matches_torch_sweep(seed):
    x, out = adaptive_config(6000 + seed, 2)
    _, indices = check_against_torch(lambda m, t: F(m).adaptive_max_pool2d(t, out, return_indices=True), [x])
    th = torch_or_skip()
    ref = th.nn.functional.adaptive_max_pool2d(th.tensor(x), out, return_indices=True)[1]
    np.testing.assert_array_equal(indices.numpy(), ref.numpy())


def interpolate_config(seed):
    r = np.random.default_rng(seed)
    spatial = int(r.integers(1, 3))
    mode = str(r.choice(["nearest", "linear" if spatial == 1 else "bilinear"]))
    sizes = [int(v) for v in r.integers(1, 9, spatial)]
    x = r.standard_normal([int(r.integers(1, 3)), int(r.integers(1, 3))] + sizes).astype(np.float32)
    kw = {"mode": mode}
    if r.random() < 0.5:
        kw["size"] = tuple(int(v) for v in r.integers(1, 13, spatial))
    else:
        kw["scale_factor"] = tuple(float(np.round(r.uniform(0.5, 3.0), 2)) for _ in range(spatial))
        kw["recompute_scale_factor"] = bool(r.random() < 0.3)
    if mode != "nearest":
        kw["align_corners"] = bool(r.random() < 0.5)
    return x, kw


@pytest.mark.parametrize("seed", range(SWEEP))
def test_interpolate_matches_torch_sweep(seed):
    x, kw = interpolate_config(7000 + seed)
    if "scale_factor" in kw and any(np.floor(s * f) < 1 for s, f in zip(x.shape[2:], kw["scale_factor"])):
        pytest.skip("output size 0")
    out_sizes = kw.get("size") or [int(np.floor(s * f)) for s, f in zip(x.shape[2:], kw["scale_factor"])]
    # PyTorch's 1-d nearest backward maps out == in and out == 2 in as its 2-d kernel does, but
    # its forward does not (a gradient that is not the forward's adjoint): compare the forward there.
    torch_backward_differs = (x.ndim == 3 and kw["mode"] == "nearest" and "scale_factor" in kw
                              and not kw["recompute_scale_factor"] and out_sizes[0] in (x.shape[2], 2 * x.shape[2]))
    check_against_torch(lambda m, t: F(m).interpolate(t, **kw), [x], grad=not torch_backward_differs)


@pytest.mark.parametrize("seed", range(SWEEP))
def test_pad_matches_torch_sweep(seed):
    r = np.random.default_rng(8000 + seed)
    mode = str(r.choice(["constant", "reflect", "replicate", "circular"]))
    spatial = int(r.integers(1, 3))
    sizes = [int(v) for v in r.integers(2, 7, spatial)]
    x = r.standard_normal([int(r.integers(1, 3)), 2] + sizes).astype(np.float32)
    pad = []
    for s in reversed(sizes):  # last dim first
        low = -((s - 1) // 2) if mode == "constant" else 0  # crop, leaving at least one element
        high = s - 1 if mode == "reflect" else s
        pad += [int(r.integers(low, high + 1)), int(r.integers(low, high + 1))]
    kw = {"mode": mode, "value": float(r.standard_normal())} if mode == "constant" else {"mode": mode}
    check_against_torch(lambda m, t: F(m).pad(t, pad, **kw), [x])


# --- gradcheck (float64) ---

def distinct(*shape):
    """float64 values spaced at least 0.1 apart (no ties, so max pooling has one argmax)."""
    r = np.random.default_rng(0)
    return r.permutation(np.arange(np.prod(shape))).reshape(shape).astype(np.float64) / 10


GRADCHECK_CASES = [
    (lambda x: LF.max_pool2d(x, 3, 2, 1, dilation=(1, 2), ceil_mode=True), (2, 2, 6, 7)),
    (lambda x: LF.max_pool1d(x, 2, 3, 1), (2, 3, 7)),
    (lambda x: LF.max_pool2d(x, 2), (2, 2, 5, 7)),  # the 2x2 kernels; odd H and W: a row and column in no window
    (lambda x: LF.adaptive_max_pool2d(x, (3, 2)), (1, 2, 6, 4)),  # halving: the 2x2 kernels too
    (lambda x: LF.avg_pool2d(x, (3, 2), 2, (1, 1), ceil_mode=True, count_include_pad=False), (2, 2, 5, 6)),
    (lambda x: LF.avg_pool2d(x, 3, 1, 1, divisor_override=4), (1, 2, 4, 5)),
    (lambda x: LF.avg_pool1d(x, 3, 2, 1), (2, 2, 7)),
    (lambda x: LF.adaptive_avg_pool2d(x, (3, 4)), (2, 2, 5, 7)),
    (lambda x: LF.adaptive_avg_pool1d(x, 4), (2, 2, 7)),
    (lambda x: LF.adaptive_max_pool2d(x, (2, 3)), (2, 2, 5, 7)),
    (lambda x: LF.interpolate(x, size=(5, 7), mode="bilinear"), (1, 2, 3, 4)),
    (lambda x: LF.interpolate(x, scale_factor=2.5, mode="bilinear", align_corners=True), (1, 2, 3, 2)),
    (lambda x: LF.interpolate(x, size=9, mode="linear"), (2, 2, 4)),
    (lambda x: LF.interpolate(x, scale_factor=(1.5, 0.7), mode="nearest"), (1, 2, 4, 5)),
    (lambda x: LF.interpolate(x, scale_factor=1.2, mode="nearest"), (1, 2, 4)),  # where torch's 1-d backward differs
    (lambda x: LF.pad(x, (1, 2, 2, 0), mode="reflect"), (1, 2, 3, 4)),
    (lambda x: LF.pad(x, (2, -1, 1, 3), value=0.5), (1, 2, 3, 4)),
    (lambda x: LF.pad(x, (3, 1), mode="circular"), (2, 2, 4)),
]


@pytest.mark.parametrize("fn, shape", GRADCHECK_CASES)
def test_pool_gradcheck(fn, shape):
    gradcheck(fn, [distinct(*shape)])


def test_max_pool2d_saves_indices_and_records_one_node():
    x = lm.tensor(distinct(1, 1, 4, 4), requires_grad=True)
    out, indices = LF.max_pool2d(x, 2, return_indices=True)
    assert out.grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert indices.dtype == lm.int64 and indices.grad_fn is None
    out.sum().backward()
    expected = np.zeros(16)
    expected[indices.numpy().reshape(-1)] = 1
    np.testing.assert_array_equal(x.grad.numpy().reshape(-1), expected)


def test_max_pool2d_propagates_nan_like_torch():
    torch = torch_or_skip()
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]], dtype=np.float32)
    out, idx = LF.max_pool2d(lm.tensor(x), 2, return_indices=True)
    ref, ref_idx = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    assert np.isnan(out.numpy()).all() and idx.numpy().item() == ref_idx.numpy().item()



@pytest.mark.parametrize("shape", [(2, 3, 28, 28), (1, 2, 5, 7), (3, 2, 7, 70), (2, 2, 66, 33), (1, 1, 2, 2),
                                   (2, 3, 9, 64), (1, 1, 3, 31)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d_2x2_stride_2_matches_torch_with_ties_and_nan(shape, dtype):
    """The 2x2 stride-2 kernel: rows shorter than, equal to and longer than a 16-output block
    (with a partial block), odd H and W, ties (zeros as after a ReLU, rounded values) and NaN
    give PyTorch's values, indices and input gradient."""
    th = torch_or_skip()
    x = np.maximum(np.random.default_rng(7).standard_normal(shape), 0).astype(dtype)
    x[..., ::3] = np.round(x[..., ::3])
    x.flat[::17] = np.nan
    out, idx = LF.max_pool2d(lm.tensor(x), 2, return_indices=True)
    ref, ref_idx = th.nn.functional.max_pool2d(th.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())
    finite = np.nan_to_num(x, nan=5.0)
    check_against_torch(lambda m, t: F(m).max_pool2d(t, 2), [finite.astype(np.float32)])
    # the gradient reaches the window's NaN (or first maximum) as in PyTorch, and 0 everywhere else
    g = np.random.default_rng(8).standard_normal(ref.shape).astype(dtype)
    xl, xt = lm.tensor(x, requires_grad=True), th.tensor(x, requires_grad=True)
    LF.max_pool2d(xl, 2).backward(lm.tensor(g))
    th.nn.functional.max_pool2d(xt, 2).backward(th.tensor(g))
    np.testing.assert_array_equal(xl.grad.numpy(), xt.grad.numpy())


# --- ReLU then MaxPool2d in Sequential: one relu_max_pool2d ---

@pytest.mark.parametrize("shape", [(2, 3, 28, 28), (1, 2, 5, 7), (3, 2, 9, 64)])
@pytest.mark.parametrize("pool, fused", [
    (dict(kernel_size=2), True),
    (dict(kernel_size=(2, 2), stride=2, ceil_mode=True), None),  # fused unless H or W is odd (partial windows)
    (dict(kernel_size=3, stride=2, padding=1), False),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sequential_relu_max_pool_matches_torch(shape, pool, fused, dtype):
    """Values and input gradients equal PyTorch's ReLU then MaxPool2d exactly: negative windows,
    ties at 0 (as after a ReLU), NaN; the fused node where the windows are 2x2 at stride 2."""
    th = torch_or_skip()
    r = np.random.default_rng(3)
    x = r.standard_normal(shape).astype(dtype)
    x[..., ::3] = np.round(x[..., ::3])
    x.flat[::23] = np.nan
    g = r.standard_normal(th.nn.MaxPool2d(**pool)(th.zeros(shape)).shape).astype(dtype)
    xl, xt = lm.tensor(x, requires_grad=True), th.tensor(x, requires_grad=True)
    out = lm.nn.Sequential(lm.nn.ReLU(), lm.nn.MaxPool2d(**pool))(xl)
    ref = th.nn.Sequential(th.nn.ReLU(), th.nn.MaxPool2d(**pool))(xt)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    out.backward(lm.tensor(g))
    ref.backward(th.tensor(g))
    np.testing.assert_array_equal(xl.grad.numpy(), xt.grad.numpy())
    if fused is None:
        fused = shape[2] % 2 == 0 and shape[3] % 2 == 0
    assert out.grad_fn.name() == ("ReluMaxPool2DBackward0" if fused else "MaxPool2DWithIndicesBackward0")


def test_sequential_keeps_relu_and_pool_apart_where_their_outputs_are_seen():
    """A hook on either module, or return_indices, runs the two modules as written."""
    x = lm.randn(2, 3, 8, 8)
    relu, pool = lm.nn.ReLU(), lm.nn.MaxPool2d(2)
    seen = []
    handle = relu.register_forward_hook(lambda m, args, out: seen.append(out))
    out = lm.nn.Sequential(relu, pool)(x.requires_grad_())
    assert len(seen) == 1 and out.grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    handle.remove()
    handle = pool.register_forward_pre_hook(lambda m, args: seen.append(args))
    assert lm.nn.Sequential(relu, pool)(x).grad_fn.name() == "MaxPool2DWithIndicesBackward0" and len(seen) == 2
    handle.remove()
    values, indices = lm.nn.Sequential(relu, lm.nn.MaxPool2d(2, return_indices=True))(x)
    assert indices.dtype == lm.int64 and values.grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert lm.nn.Sequential(relu, pool)(x).grad_fn.name() == "ReluMaxPool2DBackward0"


def test_relu_max_pool2d_gradcheck():
    gradcheck(lambda x: _C.relu_max_pool2d(x, 2), [distinct(2, 2, 5, 7) - 3.5])


def test_relu_max_pool2d_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\[relu_max_pool2d\] kernel size \(after dilation\) \(5, 5\) is larger"):
        _C.relu_max_pool2d(lm.zeros(1, 2, 4, 4), 5)


# --- modules ---

@pytest.mark.parametrize("cls, args, kw, shape", [
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 7, 8)),
    ("MaxPool1d", (2,), dict(dilation=2), (2, 3, 9)),
    ("AvgPool2d", ((3, 2),), dict(stride=(2, 1), padding=1, count_include_pad=False), (2, 3, 7, 8)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1), (2, 3, 9)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 8)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool2d", (2,), {}, (2, 3, 7, 8)),
])
def test_pool_modules_match_torch(cls, args, kw, shape):
    torch = torch_or_skip()
    th, mod = getattr(torch.nn, cls)(*args, **kw), getattr(P, cls)(*args, **kw)
    assert repr(mod) == repr(th)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    check_against_torch(lambda m, t: (mod if m is lm else th)(t), [x])


def test_max_pool_modules_return_indices():
    x = lm.randn(2, 3, 6, 6)
    out, indices = P.MaxPool2d(2, return_indices=True)(x)
    assert tuple(out.shape) == tuple(indices.shape) == (2, 3, 3, 3)
    out, indices = P.AdaptiveMaxPool2d((2, 3), return_indices=True)(x)
    assert tuple(indices.shape) == (2, 3, 2, 3)


@pytest.mark.parametrize("cls, args, kw, shape", [
    ("Upsample", (), dict(scale_factor=2), (1, 2, 3, 4)),
    ("Upsample", (), dict(size=(5, 7), mode="bilinear", align_corners=True), (1, 2, 3, 4)),
    ("Upsample", (), dict(scale_factor=1.5, mode="linear"), (1, 2, 5)),
    ("ZeroPad2d", (1,), {}, (1, 2, 3, 4)),
    ("ZeroPad2d", ((1, 0, 2, -1),), {}, (2, 3, 4)),
    ("ZeroPad1d", ((2, 1),), {}, (2, 3, 4)),
    ("ConstantPad2d", (2, 3.5), {}, (1, 2, 3, 4)),
    ("ConstantPad1d", ((1, 2), -1.0), {}, (2, 4)),
    ("ReflectionPad2d", ((1, 2, 2, 0),), {}, (1, 2, 3, 4)),
    ("ReflectionPad1d", (2,), {}, (2, 3, 4)),
    ("ReplicationPad2d", (2,), {}, (1, 2, 3, 4)),
    ("ReplicationPad1d", ((3, 1),), {}, (2, 3, 4)),
    ("CircularPad2d", (1,), {}, (1, 2, 3, 4)),
    ("CircularPad1d", ((2, 1),), {}, (2, 3, 4)),
])
def test_upsampling_and_padding_modules_match_torch(cls, args, kw, shape):
    torch = torch_or_skip()
    th, mod = getattr(torch.nn, cls)(*args, **kw), getattr(U, cls)(*args, **kw)
    assert repr(mod) == repr(th)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    check_against_torch(lambda m, t: (mod if m is lm else th)(t), [x])


# --- bad inputs ---

def t(*shape):
    return lm.zeros(*shape)


BAD_INPUTS = [
    (lambda: LF.max_pool2d(t(1, 2, 4, 4), 0), ValueError, r"\[max_pool2d\] kernel_size must be positive, got 0"),
    (lambda: LF.max_pool2d(t(1, 2, 4, 4), 2, stride=-1), ValueError, "stride must be positive, got -1"),
    (lambda: LF.max_pool2d(t(1, 2, 4, 4), 2, padding=-1), ValueError, "padding must be non-negative"),
    (lambda: LF.max_pool2d(t(1, 2, 4, 4), 2, dilation=0), ValueError, "dilation must be positive"),
    (lambda: LF.max_pool2d(t(1, 2, 4, 4), 2, padding=2), ValueError, "padding should be at most half"),
    (lambda: LF.max_pool2d(t(1, 2, 4, 4), 5), ValueError,
     r"\[max_pool2d\] kernel size \(after dilation\) \(5, 5\) is larger than the padded input \(4, 4\)"),
    (lambda: LF.max_pool2d(t(2, 4, 4, 4, 4), 2), ValueError, r"input must be 3-d \(C, H, W\) or 4-d \(N, C, H, W\)"),
    (lambda: LF.max_pool2d(t(1, 2, 0, 4), 1), ValueError, "non-empty spatial dims"),
    (lambda: LF.max_pool2d(t(1, 2, 4, 4), (2, 2, 2)), ValueError, "kernel_size must have 2 values, got 3"),
    (lambda: LF.max_pool1d(t(1, 2, 4), 5), ValueError, r"\[max_pool1d\] kernel size .* \(5,\)"),
    (lambda: LF.max_pool2d(lm.zeros(1, 2, 4, 4, dtype=lm.int64), 2), TypeError, "float32 or float64"),
    (lambda: LF.avg_pool2d(t(1, 2, 4, 4), 3, padding=2), ValueError, "padding should be at most half of the kernel"),
    (lambda: LF.avg_pool2d(t(1, 2, 4, 4), 2, divisor_override=0), ValueError, "divisor_override must be non-zero"),
    (lambda: LF.avg_pool1d(t(2, 3), 4), ValueError, r"\[avg_pool1d\] kernel size \(4,\) is larger"),
    (lambda: LF.adaptive_avg_pool2d(t(1, 2, 4, 4), (0, 2)), ValueError, "output_size must be positive"),
    (lambda: LF.adaptive_max_pool2d(t(4, 4), 2), ValueError, r"\[adaptive_max_pool2d\] input must be 3-d"),
    (lambda: LF.interpolate(t(1, 2, 4, 4), size=(2, 2), scale_factor=2), ValueError, "only one of size or scale_factor"),
    (lambda: LF.interpolate(t(1, 2, 4, 4)), ValueError, "either size or scale_factor"),
    (lambda: LF.interpolate(t(1, 2, 4, 4), size=2, mode="bicubic"), ValueError, "mode must be 'nearest', 'linear'"),
    (lambda: LF.interpolate(t(1, 2, 4), size=2, mode="bilinear"), ValueError, "mode 'bilinear' expects 4-d input"),
    (lambda: LF.interpolate(t(1, 2, 4, 4), size=2, align_corners=True), ValueError, "align_corners option"),
    (lambda: LF.interpolate(t(1, 2, 4, 4), scale_factor=0.1), ValueError, "output size must be positive"),
    (lambda: LF.interpolate(t(2, 4), size=2), ValueError, r"input must be 3-d \(N, C, L\) or 4-d"),
    (lambda: LF.pad(t(1, 2, 3, 3), (3, 0), mode="reflect"), ValueError, "must be smaller than its size 3"),
    (lambda: LF.pad(t(1, 2, 3, 3), (1, 1, 1)), ValueError, "pad must have 2 values"),
    (lambda: LF.pad(t(1, 2, 3, 3), (1, 1), mode="mirror"), ValueError, "mode must be 'constant'"),
    (lambda: LF.pad(t(1, 2, 3, 3), (-2, -2)), ValueError, "leaves a negative size"),
    (lambda: LF.pad(t(1, 2, 3, 3), (1, 1), mode="reflect", value=1.0), ValueError, "doesn't take in value"),
]


@pytest.mark.parametrize("call, error, message", BAD_INPUTS)
def test_pool_rejects_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()

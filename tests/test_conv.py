"""Convolutions: conv1d, conv2d, conv_transpose1d, conv_transpose2d and their modules.

A randomised sweep (200 seeded configurations per op: odd sizes, strides larger than the
kernel, dilation, groups including depthwise, 'same'/'valid' padding, batch 1, unbatched input)
compares the forward result and every gradient with PyTorch in float32; gradcheck covers each
kernel path (im2col + GEMM, 1x1, depthwise, batch chunks, transposed) in float64; bad inputs
raise clear errors. Float32 tolerance: atol 5e-5, since the GEMM sums in another order than
PyTorch's kernels.
"""
import math

import numpy as np
import pytest

import lamina as lm
from lamina.nn import _functional_conv as LF
from lamina.nn import conv as C
from helpers import assert_same_on_one_and_two_threads, check_against_torch, gradcheck, torch_or_skip

ATOL, RTOL = 5e-5, 1e-4
SWEEP = 200
# PyTorch warns that its own padding='same' with even kernels copies the input; not our concern.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


def F(m):
    """torch.nn.functional for torch, lamina's functional convolutions for lamina."""
    return LF if m is lm else m.nn.functional


def randn(r, *shape, dtype=np.float32):
    return r.standard_normal(shape).astype(dtype)


def conv_config(seed, spatial, transposed):
    """A random valid configuration: (input, weight, bias or None, kwargs)."""
    r = np.random.default_rng(seed)
    groups = int(r.choice([1, 1, 2, 3]))
    cg = 1 if r.random() < 0.25 else int(r.integers(1, 4))  # one channel per group: depthwise
    ocg = int(r.integers(1, 4))
    k = [int(v) for v in r.integers(1, 5, spatial)]
    stride = [int(v) for v in r.integers(1, 4, spatial)]
    dilation = [int(v) for v in r.integers(1, 3, spatial)]
    kw = {"stride": tuple(stride), "dilation": tuple(dilation), "groups": groups}
    if transposed:
        padding = [int(r.integers(0, 3)) for _ in range(spatial)]
        kw["output_padding"] = tuple(int(r.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        sizes = [int(r.integers(1, 7)) for _ in range(spatial)]
        for i in range(spatial):  # keep the output size positive
            eff = dilation[i] * (k[i] - 1) + 1
            while (sizes[i] - 1) * stride[i] - 2 * padding[i] + eff + kw["output_padding"][i] <= 0:
                sizes[i] += 1
        kw["padding"] = tuple(padding)
        weight_shape = (groups * cg, ocg, *k)
    else:
        choice = r.random()
        if choice < 0.15:
            kw["padding"], kw["stride"], pads = "same", (1,) * spatial, [0] * spatial
            pads = [d * (kk - 1) for d, kk in zip(dilation, k)]
        elif choice < 0.25:
            kw["padding"], pads = "valid", [0] * spatial
        else:
            pads = [2 * int(r.integers(0, 3)) for _ in range(spatial)]
            kw["padding"] = tuple(p // 2 for p in pads)
        sizes = [max(1, dilation[i] * (k[i] - 1) + 1 - pads[i] + int(r.integers(0, 6))) for i in range(spatial)]
        weight_shape = (groups * ocg, cg, *k)
    in_channels = groups * cg
    batch = [] if r.random() < 0.1 else [int(r.choice([1, 1, 2, 3]))]
    x = randn(r, *batch, in_channels, *sizes)
    w = randn(r, *weight_shape) * np.float32(0.5)
    out_channels = groups * ocg
    b = randn(r, out_channels) if r.random() < 0.7 else None
    return x, w, b, kw


def run_conv_case(name, seed, spatial, transposed):
    x, w, b, kw = conv_config(seed, spatial, transposed)
    inputs = [x, w] if b is None else [x, w, b]
    check_against_torch(lambda m, *t: getattr(F(m), name)(*t, **kw), inputs, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("seed", range(SWEEP))
def test_conv2d_matches_torch_sweep(seed):
    run_conv_case("conv2d", seed, 2, False)


@pytest.mark.parametrize("seed", range(SWEEP))
def test_conv1d_matches_torch_sweep(seed):
    run_conv_case("conv1d", 1000 + seed, 1, False)


@pytest.mark.parametrize("seed", range(SWEEP))
def test_conv_transpose2d_matches_torch_sweep(seed):
    run_conv_case("conv_transpose2d", 2000 + seed, 2, True)


@pytest.mark.parametrize("seed", range(SWEEP))
def test_conv_transpose1d_matches_torch_sweep(seed):
    run_conv_case("conv_transpose1d", 3000 + seed, 1, True)


@pytest.mark.parametrize("n, size", [(19, 8), (13, 10), (5, 3)])
def test_conv2d_matches_torch_across_batch_chunks(n, size):
    # 8x8 outputs run 8 images per GEMM (chunks 8, 8, 3); 10x10 ones 6 (chunks 6, 6, 1)
    r = np.random.default_rng(n)
    x, w, b = randn(r, n, 3, size + 2, size + 2), randn(r, 4, 3, 3, 3), randn(r, 4)
    check_against_torch(lambda m, *t: F(m).conv2d(*t), [x, w, b], atol=ATOL, rtol=RTOL)
    # the transposed weight gradient reaches ~85 from sums of ~1000 products: float32 rounding alone
    # differs by ~6e-5 between sgemm kernels (OpenBLAS's Haswell and SkylakeX ones)
    check_against_torch(lambda m, *t: F(m).conv_transpose2d(*t, stride=2), [x, randn(r, 3, 4, 3, 3), b],
                        atol=2e-4, rtol=RTOL)


# Winograd F(4x4, 3x3): 3x3, stride 1, no dilation or groups, >= 8 channels on both sides; the
# weight gradient always, the forward and input gradient from C OC >= 6 (C + OC) (below it the
# implicit GEMM runs them). Outputs smaller than a tile, not a multiple of 4, padding 0 / 1 / 2 /
# 'same', a batch whose tiles fill more than one block, and transposed convolutions (whose forward
# is the input gradient's path). The small-channel rows run the implicit GEMM forward and input
# gradient. 14x14 (as in the MNIST net): 12 of every 16 tiles on the border.
@pytest.mark.parametrize("n, c, oc, h, w, padding", [
    (2, 8, 9, 6, 7, 1), (1, 9, 8, 3, 3, 0), (3, 8, 8, 5, 4, 2), (2, 12, 10, 10, 11, "same"), (4, 8, 8, 33, 35, 1),
    (2, 32, 32, 9, 11, 1), (3, 32, 33, 7, 6, 2), (14, 32, 32, 18, 22, 0), (5, 32, 16, 14, 14, 1), (3, 16, 32, 14, 14, 1),
    (2, 40, 48, 9, 11, 1), (3, 48, 40, 7, 6, 2), (4, 64, 32, 14, 14, "same"), (2, 40, 40, 33, 35, 0),
])
def test_conv2d_winograd_matches_torch(n, c, oc, h, w, padding):
    r = np.random.default_rng(c * h + w)
    scale = np.float32(0.5 if max(c, oc) < 32 else 0.15)  # outputs, input gradients of order 1-10 (atol 5e-5)
    x, wt, b = randn(r, n, c, h, w), randn(r, oc, c, 3, 3) * scale, randn(r, oc)
    wt_t = randn(r, c, oc, 3, 3) * scale
    # output, input and bias gradients (the weight a constant of the function)
    check_against_torch(lambda m, t, bias: F(m).conv2d(t, m.tensor(wt), bias, padding=padding), [x, b],
                        atol=ATOL, rtol=RTOL)
    check_winograd_weight_gradient(lambda m, t, weight: F(m).conv2d(t, weight, None, padding=padding), x, wt)
    if padding != "same":
        check_against_torch(lambda m, t, bias: F(m).conv_transpose2d(t, m.tensor(wt_t), bias, padding=padding),
                            [x, b], atol=ATOL, rtol=RTOL)
        check_winograd_weight_gradient(lambda m, t, weight: F(m).conv_transpose2d(t, weight, None, padding=padding),
                                       x, wt_t)


def conv2d_output_and_gradients(x, wt, g):
    """A run for assert_same_on_one_and_two_threads: conv2d(x, wt, padding=1) backward from g; the
    output and the input and weight gradients."""
    def run():
        t, weight = lm.tensor(x, requires_grad=True), lm.tensor(wt, requires_grad=True)
        out = lm.nn.functional.conv2d(t, weight, None, padding=1)
        out.backward(lm.tensor(g))
        return out.detach().numpy(), t.grad.numpy(), weight.grad.numpy()
    return run


def test_winograd_blocks_on_separate_threads_match_one_thread_and_torch():
    # 12 x 8 x 8 tiles of 40 -> 40 channels fill 24 blocks: at 2 threads each thread runs whole
    # blocks, the same arithmetic as one thread running them all; the weight gradient sums its
    # blocks in 4 fixed groups, then the groups in order.
    r = np.random.default_rng(7)
    x, wt = randn(r, 12, 40, 30, 30), randn(r, 40, 40, 3, 3) * np.float32(0.08)
    g = randn(r, 12, 40, 30, 30)
    assert_same_on_one_and_two_threads(conv2d_output_and_gradients(x, wt, g))
    check_against_torch(lambda m, t: F(m).conv2d(t, m.tensor(wt), None, padding=1), [x], atol=ATOL, rtol=RTOL)


# The implicit GEMM (stride 1, no groups): the forward (output channels in tiles of 8, positions in
# tiles of 32, the positions past each row's end computed and dropped), the input gradient (>= 8
# input channels) and the weight gradient (C KH KW >= 64): kernel sizes, dilation, asymmetric
# padding and padding beyond the kernel (the input gradient's padding is then negative), rows
# shorter and longer than a vector; conv1d and the transposed convolutions run the same kernels.
@pytest.mark.parametrize("n, c, oc, h, w, k, kwargs", [
    (3, 9, 7, 14, 14, (3, 3), dict(padding=1)),                        # 3x3, < 8 output channels: no Winograd
    (2, 9, 13, 11, 37, (3, 2), dict(padding=(2, 0))),
    (2, 8, 6, 10, 9, (4, 3), dict(padding="same", dilation=(1, 2))),  # top 1, bottom 2, sides 2
    (1, 12, 7, 6, 5, (3, 3), dict(padding=3)),
    (2, 3, 5, 9, 8, (5, 5), dict(padding=2)),                         # 3 channels: im2col gradients
    (4, 6, 16, 14, 14, (5, 5), {}),                                   # LeNet-5's second layer
])
def test_conv2d_implicit_gemm_matches_torch(n, c, oc, h, w, k, kwargs):
    r = np.random.default_rng(n * c + h)
    scale = np.float32(1 / math.sqrt(c * k[0] * k[1]))
    x, wt, b = randn(r, n, c, h, w), randn(r, oc, c, *k) * scale, randn(r, oc)
    check_against_torch(lambda m, *t: F(m).conv2d(*t, **kwargs), [x, wt, b], atol=ATOL, rtol=RTOL)
    if "padding" not in kwargs or not isinstance(kwargs["padding"], str):
        wt_t = randn(r, c, oc, *k) * scale
        check_against_torch(lambda m, *t: F(m).conv_transpose2d(*t, **kwargs), [x, wt_t, b], atol=ATOL, rtol=RTOL)
    x1 = x[:, :, 0]  # conv1d over the rows
    check_against_torch(lambda m, *t: F(m).conv1d(*t, padding=1), [x1, wt[..., 0, :], b], atol=ATOL, rtol=RTOL)


def test_winograd_in_float64_matches_torch():
    # every gradient of the Winograd paths against PyTorch's in float64, 40 channels (finite
    # differences over its 14,400 weights would take a minute; GRADCHECK_CASES has smaller ones)
    r = np.random.default_rng(11)
    x, wt, b = (randn(r, 2, 40, 6, 7, dtype=np.float64), randn(r, 40, 40, 3, 3, dtype=np.float64),
                randn(r, 40, dtype=np.float64))
    for conv in ("conv2d", "conv_transpose2d"):
        check_against_torch(lambda m, *t: getattr(F(m), conv)(*t, padding=1), [x, wt, b], atol=1e-10, rtol=1e-10)


def test_implicit_gemm_on_two_threads_matches_one_thread():
    # tasks are (image, tile of output channels) and, for the weight gradient, fixed groups of
    # images summed in order: the same arithmetic at any thread count (7 output channels: no
    # Winograd, whose weight gradient would take 3x3 layers of >= 8)
    r = np.random.default_rng(3)
    x, wt, g = randn(r, 9, 9, 14, 14), randn(r, 7, 9, 3, 3), randn(r, 9, 7, 14, 14)
    assert_same_on_one_and_two_threads(conv2d_output_and_gradients(x, wt, g))


# The bias gradient is summed per im2col chunk before the chunk's GEMMs, else by a pass of its own;
# each path, with every set of needed gradients, in float32 and float64 (the planes' sums are added
# in double in image order on every path, so the fused and separate sums agree exactly).
BIAS_PATHS = [
    (4, 9, 7, 14, 14, {}),                      # implicit GEMM gradients
    (3, 1, 16, 28, 28, {}),                     # im2col weight gradient, one image per chunk (MNIST conv 1)
    (19, 3, 4, 8, 8, {}),                       # im2col, chunks of 8 images
    (2, 40, 40, 9, 11, dict(winograd=True)),    # Winograd
    (3, 6, 6, 7, 5, dict(groups=6)),            # depthwise
    (2, 6, 8, 7, 5, dict(groups=2, stride=2)),  # grouped, strided im2col
    (2, 6, 8, 7, 5, dict(padding=0, kernel=1)),  # pointwise
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, c, oc, h, w, kwargs", BIAS_PATHS)
def test_conv2d_bias_gradient_matches_torch_on_every_path(n, c, oc, h, w, kwargs, dtype):
    kwargs = dict(kwargs)
    k = kwargs.pop("kernel", 3)
    # Winograd's float32 weight gradient has its own check (check_winograd_weight_gradient)
    weight_vs_torch = not (kwargs.pop("winograd", False) and dtype == np.float32)
    kwargs.setdefault("padding", 1)
    r = np.random.default_rng(n * c + oc)
    scale = 1 / math.sqrt(c // kwargs.get("groups", 1) * k * k)
    x = randn(r, n, c, h, w, dtype=dtype)
    wt = (randn(r, oc, c // kwargs.get("groups", 1), k, k, dtype=dtype) * scale).astype(dtype)
    b = randn(r, oc, dtype=dtype)
    atol, rtol = (ATOL, RTOL) if dtype == np.float32 else (1e-10, 1e-10)
    conv = lambda m, *t: F(m).conv2d(*t, **kwargs)
    check_against_torch(lambda m, bias: conv(m, m.tensor(x), m.tensor(wt), bias), [b], atol=atol, rtol=rtol)
    check_against_torch(lambda m, t, bias: conv(m, t, m.tensor(wt), bias), [x, b], atol=atol, rtol=rtol)
    if weight_vs_torch:
        check_against_torch(lambda m, weight, bias: conv(m, m.tensor(x), weight, bias), [wt, b], atol=atol, rtol=rtol)
        check_against_torch(conv, [x, wt, b], atol=atol, rtol=rtol)
    # bias alone (a pass of its own) and with the other gradients (fused where a pass reads dout)
    g = lm.tensor(randn(r, *conv(lm, lm.tensor(x), lm.tensor(wt), lm.tensor(b)).shape, dtype=dtype))
    grads = []
    for needs in ((False, False), (True, False), (False, True), (True, True)):
        t, weight = lm.tensor(x, requires_grad=needs[0]), lm.tensor(wt, requires_grad=needs[1])
        bias = lm.tensor(b, requires_grad=True)
        conv(lm, t, weight, bias).backward(g)
        grads.append(bias.grad.numpy())
    for other in grads[1:]:
        np.testing.assert_array_equal(other, grads[0])


@pytest.mark.parametrize("n, c, oc, h, w", [(9, 16, 20, 14, 14), (9, 1, 16, 28, 28)])
def test_conv2d_bias_gradient_on_two_threads_matches_one_thread(n, c, oc, h, w):
    r = np.random.default_rng(5)
    x, wt, b, g = randn(r, n, c, h, w), randn(r, oc, c, 3, 3), randn(r, oc), randn(r, n, oc, h, w)

    def run():
        weight, bias = lm.tensor(wt, requires_grad=True), lm.tensor(b, requires_grad=True)
        lm.nn.functional.conv2d(lm.tensor(x), weight, bias, padding=1).backward(lm.tensor(g))
        return weight.grad.numpy(), bias.grad.numpy()
    assert_same_on_one_and_two_threads(run)


def check_winograd_weight_gradient(fn, x, wt):
    """The Winograd weight gradient sums transformed tiles whose entries are up to ~100x the
    inputs, which then cancel in G^T dU G: its float32 error is 1-3x PyTorch's own (measured against
    float64: 64 x 32 -> 32 at 32x32, max error 7e-3 vs PyTorch's 5e-3 for |dW| up to 1.2e3), larger
    than the elementwise tolerance allows for the small entries of a large gradient. So it is
    checked against PyTorch in float64 with a tolerance relative to the gradient's largest entry."""
    th = torch_or_skip()
    g = np.random.default_rng(1).standard_normal(fn(th, th.tensor(x), th.tensor(wt)).shape)
    w_lm = lm.tensor(wt, requires_grad=True)
    fn(lm, lm.tensor(x), w_lm).backward(lm.tensor(g.astype(np.float32)))
    w_th = th.tensor(wt.astype(np.float64), requires_grad=True)
    fn(th, th.tensor(x.astype(np.float64)), w_th).backward(th.tensor(g))
    ref = w_th.grad.numpy()
    np.testing.assert_allclose(w_lm.grad.numpy(), ref, rtol=0, atol=2e-5 * np.abs(ref).max())
    w64 = lm.tensor(wt.astype(np.float64), requires_grad=True)  # float64: the same math, exactly
    fn(lm, lm.tensor(x.astype(np.float64)), w64).backward(lm.tensor(g))
    np.testing.assert_allclose(w64.grad.numpy(), ref, rtol=0, atol=1e-11 * np.abs(ref).max())


def test_conv2d_pointwise_and_depthwise_match_torch():
    r = np.random.default_rng(7)
    x = randn(r, 3, 6, 7, 5)
    check_against_torch(lambda m, *t: F(m).conv2d(*t), [x, randn(r, 4, 6, 1, 1), randn(r, 4)], atol=ATOL, rtol=RTOL)
    check_against_torch(lambda m, *t: F(m).conv2d(*t, groups=2), [x, randn(r, 4, 3, 1, 1)], atol=ATOL, rtol=RTOL)
    check_against_torch(lambda m, *t: F(m).conv2d(*t, padding=1, groups=6), [x, randn(r, 12, 1, 3, 3), randn(r, 12)],
                        atol=ATOL, rtol=RTOL)


# --- gradcheck (float64): one case per kernel path ---

GRADCHECK_CASES = [
    ("conv2d", (2, 4, 5, 6), (6, 2, 3, 2), dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)),
    ("conv2d", (1, 3, 4, 4), (2, 3, 1, 1), {}),                                   # 1x1: GEMM on the input
    ("conv2d", (2, 3, 5, 5), (6, 1, 3, 3), dict(padding=2, stride=2, groups=3)),  # depthwise: direct loops
    ("conv2d", (2, 2, 5, 4), (3, 2, 2, 3), dict(padding="same")),                 # asymmetric padding
    ("conv2d", (3, 5, 5), (2, 3, 3, 3), dict(padding=1)),                         # unbatched
    ("conv2d", (2, 8, 5, 6), (8, 8, 3, 3), dict(padding=1)),                      # implicit GEMM (all three)
    ("conv_transpose2d", (1, 8, 3, 5), (8, 9, 3, 3), {}),                         # implicit GEMM, transposed
    ("conv2d", (1, 12, 5, 6), (12, 12, 3, 3), dict(padding=1)),                   # Winograd forward, input gradient
    ("conv2d", (1, 32, 4, 5), (32, 32, 3, 3), dict(padding=1)),                   # Winograd weight gradient
    ("conv1d", (2, 4, 7), (4, 2, 3), dict(stride=2, padding=2, dilation=2, groups=2)),
    ("conv_transpose2d", (2, 4, 3, 3), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ("conv_transpose2d", (1, 2, 3, 2), (2, 2, 2, 2), dict(stride=(1, 3), dilation=2, output_padding=(1, 0))),
    ("conv_transpose1d", (2, 3, 4), (3, 2, 3), dict(stride=3, padding=1, output_padding=2)),
]


@pytest.mark.parametrize("name, x_shape, w_shape, kw", GRADCHECK_CASES)
def test_conv_gradcheck(name, x_shape, w_shape, kw):
    r = np.random.default_rng(0)
    out_channels = w_shape[0] if not name.startswith("conv_transpose") else w_shape[1] * kw.get("groups", 1)
    x, w, b = randn(r, *x_shape, dtype=np.float64), randn(r, *w_shape, dtype=np.float64), randn(r, out_channels, dtype=np.float64)
    gradcheck(lambda *t: getattr(LF, name)(*t, **kw), [x, w, b])


def test_conv2d_records_one_node():
    x = lm.randn(2, 3, 6, 6, requires_grad=True)
    w = lm.randn(4, 3, 3, 3, requires_grad=True)
    b = lm.randn(4, requires_grad=True)
    out = LF.conv2d(x, w, b, padding=1)
    assert out.grad_fn.name() == "ConvolutionBackward0"
    assert [f.name() for f, _ in out.grad_fn.next_functions] == ["AccumulateGrad"] * 3


def test_conv2d_without_grad_needs_no_node_and_skips_unneeded_gradients():
    r = np.random.default_rng(1)
    x = lm.tensor(randn(r, 2, 3, 6, 6))
    w = lm.tensor(randn(r, 4, 3, 3, 3), requires_grad=True)
    out = LF.conv2d(x, w)
    out.sum().backward()
    assert x.grad is None and w.grad is not None
    with lm.no_grad():
        assert LF.conv2d(x, w).grad_fn is None


def test_conv2d_weight_gradient_accumulates():
    r = np.random.default_rng(2)
    x = lm.tensor(randn(r, 2, 3, 6, 6))
    w = lm.tensor(randn(r, 4, 3, 3, 3), requires_grad=True)
    LF.conv2d(x, w).sum().backward()
    first = w.grad.numpy().copy()
    LF.conv2d(x, w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first, rtol=1e-6)


def test_conv2d_accepts_non_contiguous_input():
    torch = torch_or_skip()
    r = np.random.default_rng(3)
    x, w = randn(r, 2, 7, 7, 3), randn(r, 4, 3, 3, 3)
    out = LF.conv2d(lm.tensor(x).permute(0, 3, 1, 2), lm.tensor(w))
    ref = torch.nn.functional.conv2d(torch.tensor(x).permute(0, 3, 1, 2), torch.tensor(w))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=ATOL, rtol=RTOL)


# --- modules ---

@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same", "valid"])
def test_conv2d_module_matches_torch_with_padding_modes(padding_mode, padding):
    torch = torch_or_skip()
    r = np.random.default_rng(4)
    kw = dict(kernel_size=(3, 4), padding=padding, padding_mode=padding_mode, groups=2)
    th = torch.nn.Conv2d(4, 6, **kw)
    lm_mod = C.Conv2d(4, 6, **kw)
    lm_mod.load_state_dict({k: lm.tensor(v.detach().numpy()) for k, v in th.state_dict().items()})
    x = randn(r, 2, 4, 7, 8)
    check_against_torch(lambda m, t: (lm_mod if m is lm else th)(t), [x], atol=ATOL, rtol=RTOL)
    assert repr(lm_mod) == repr(th)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv1d_module_matches_torch_with_padding_modes(padding_mode):
    torch = torch_or_skip()
    r = np.random.default_rng(5)
    th = torch.nn.Conv1d(3, 4, 3, stride=2, padding=2, dilation=2, padding_mode=padding_mode)
    lm_mod = C.Conv1d(3, 4, 3, stride=2, padding=2, dilation=2, padding_mode=padding_mode)
    lm_mod.load_state_dict({k: lm.tensor(v.detach().numpy()) for k, v in th.state_dict().items()})
    check_against_torch(lambda m, t: (lm_mod if m is lm else th)(t), [randn(r, 2, 3, 9)], atol=ATOL, rtol=RTOL)
    assert repr(lm_mod) == repr(th)


@pytest.mark.parametrize("cls, args, kw", [
    ("Conv1d", (4, 6, 3), dict(groups=2)),
    ("Conv2d", (3, 8, (3, 5)), dict(stride=2, bias=False)),
    ("ConvTranspose1d", (4, 6, 3), dict(groups=2, output_padding=1, stride=2)),
    ("ConvTranspose2d", (3, 8, 3), dict(stride=2, padding=1, dilation=2)),
])
def test_conv_modules_have_torch_parameters_and_init(cls, args, kw):
    torch = torch_or_skip()
    th, mod = getattr(torch.nn, cls)(*args, **kw), getattr(C, cls)(*args, **kw)
    assert repr(mod) == repr(th)
    lm_state, th_state = mod.state_dict(), th.state_dict()
    assert list(lm_state) == list(th_state)
    for k in th_state:
        assert tuple(lm_state[k].shape) == tuple(th_state[k].shape)
    fan_in = mod.weight.shape[1] * math.prod(mod.kernel_size)
    bound = 1 / math.sqrt(fan_in)
    for p in mod.parameters():
        values = p.detach().numpy()
        assert np.abs(values).max() <= bound and values.std() > bound / 4  # U(-bound, bound)
    lm.manual_seed(3)
    a = getattr(C, cls)(*args, **kw).weight.detach().numpy()
    lm.manual_seed(3)
    np.testing.assert_array_equal(a, getattr(C, cls)(*args, **kw).weight.detach().numpy())


def test_conv_transpose2d_module_output_size_matches_torch():
    torch = torch_or_skip()
    r = np.random.default_rng(6)
    th = torch.nn.ConvTranspose2d(3, 2, 3, stride=3, padding=1)
    mod = C.ConvTranspose2d(3, 2, 3, stride=3, padding=1)
    mod.load_state_dict({k: lm.tensor(v.detach().numpy()) for k, v in th.state_dict().items()})
    x = randn(r, 2, 3, 4, 5)
    for size in [(10, 13), (12, 14), (2, 2, 11, 15)]:
        check_against_torch(lambda m, t: (mod if m is lm else th)(t, output_size=size), [x], atol=ATOL, rtol=RTOL)
    with pytest.raises(ValueError, match="requested an output size"):
        mod(lm.tensor(x), output_size=(13, 13))


def test_conv2d_module_trains_like_torch_for_a_few_steps():
    torch = torch_or_skip()
    r = np.random.default_rng(8)
    th = torch.nn.Conv2d(3, 4, 3, padding=1)
    mod = C.Conv2d(3, 4, 3, padding=1)
    mod.load_state_dict({k: lm.tensor(v.detach().numpy()) for k, v in th.state_dict().items()})
    x, target = randn(r, 4, 3, 6, 6), randn(r, 4, 4, 6, 6)
    for _ in range(5):
        lm_loss = ((mod(lm.tensor(x)) - lm.tensor(target)) ** 2).mean()
        th_loss = ((th(torch.tensor(x)) - torch.tensor(target)) ** 2).mean()
        np.testing.assert_allclose(lm_loss.item(), th_loss.item(), rtol=1e-5)
        mod.zero_grad()
        th.zero_grad()
        lm_loss.backward()
        th_loss.backward()
        with lm.no_grad():
            for p in mod.parameters():
                p.copy_(p - p.grad * 0.1)
        with torch.no_grad():
            for p in th.parameters():
                p -= p.grad * 0.1


# --- bad inputs ---

def t(*shape):
    return lm.zeros(*shape)


BAD_INPUTS = [
    (lambda: LF.conv2d(t(8, 4, 32, 32), t(6, 3, 3, 3)), ValueError,
     r"\[conv2d\] input must be \(N, C, H, W\) with C == 3, got \(8, 4, 32, 32\)"),
    (lambda: LF.conv2d(t(4, 32, 32), t(6, 3, 3, 3)), ValueError, r"input must be \(C, H, W\) with C == 3"),
    (lambda: LF.conv2d(t(1, 3, 4, 4), t(6, 3, 5, 5)), ValueError,
     r"\[conv2d\] kernel size \(after dilation\) \(5, 5\) is larger than the padded input \(4, 4\)"),
    (lambda: LF.conv2d(t(1, 3, 4, 4), t(6, 3, 3, 3), dilation=2), ValueError, r"\(5, 5\) is larger than the padded"),
    (lambda: LF.conv1d(t(1, 3, 4), t(6, 3, 7), padding=1), ValueError, r"\[conv1d\] kernel size .* \(7,\) .* \(6,\)"),
    (lambda: LF.conv2d(t(1, 3, 8, 8), t(6, 3, 3, 3), stride=0), ValueError, r"\[conv2d\] stride must be positive"),
    (lambda: LF.conv2d(t(1, 3, 8, 8), t(6, 3, 3, 3), stride=(1, -1)), ValueError, "stride must be positive, got -1"),
    (lambda: LF.conv2d(t(1, 3, 8, 8), t(6, 3, 3, 3), padding=-1), ValueError, "padding must be non-negative"),
    (lambda: LF.conv2d(t(1, 3, 8, 8), t(6, 3, 3, 3), dilation=0), ValueError, "dilation must be positive"),
    (lambda: LF.conv2d(t(1, 4, 8, 8), t(6, 2, 3, 3), groups=0), ValueError, "groups must be positive"),
    (lambda: LF.conv2d(t(1, 4, 8, 8), t(5, 1, 3, 3), groups=4), ValueError, "groups=4 must divide out_channels=5"),
    (lambda: LF.conv2d(t(1, 6, 8, 8), t(6, 2, 3, 3), groups=2), ValueError, "with C == 4, got"),
    (lambda: LF.conv2d(t(1, 3, 8, 8), t(6, 3, 0, 3)), ValueError, "weight must have no empty dims"),
    (lambda: LF.conv2d(t(1, 3, 8, 8), t(6, 3, 3)), ValueError, r"weight must be 4-d"),
    (lambda: LF.conv2d(t(3, 8), t(6, 3, 3, 3)), ValueError, r"input must be 3-d \(C, H, W\) or 4-d \(N, C, H, W\)"),
    (lambda: LF.conv2d(t(1, 3, 8, 8), t(6, 3, 3, 3), t(5)), ValueError, r"bias must have shape \(6,\)"),
    (lambda: LF.conv2d(t(1, 3, 8, 8), lm.zeros(6, 3, 3, 3, dtype=lm.float64)), TypeError, "weight must have the input's dtype"),
    (lambda: LF.conv2d(lm.zeros(1, 3, 8, 8, dtype=lm.int64), t(6, 3, 3, 3)), TypeError, "float32 or float64"),
    (lambda: LF.conv2d(t(1, 3, 8, 8), t(6, 3, 3, 3), stride=2, padding="same"), ValueError,
     "padding='same' is not supported for strided convolutions"),
    (lambda: LF.conv2d(t(1, 3, 8, 8), t(6, 3, 3, 3), padding="full"), ValueError, "padding must be 'valid', 'same'"),
    (lambda: LF.conv2d(t(1, 3, 8, 8), t(6, 3, 3, 3), stride=(1, 1, 1)), ValueError, "stride must have 2 values, got 3"),
    (lambda: LF.conv2d(t(1, 3, 8, 8), t(6, 3, 3, 3), stride="a"), TypeError, "stride must be an int or a tuple"),
    (lambda: LF.conv2d(None, t(6, 3, 3, 3)), TypeError, "incompatible function arguments"),
    (lambda: LF.conv_transpose2d(t(1, 3, 8, 8), t(4, 2, 3, 3)), ValueError,
     r"\[conv_transpose2d\] input must be \(N, C, H, W\) with C == 4"),
    (lambda: LF.conv_transpose2d(t(1, 4, 8, 8), t(4, 2, 3, 3), groups=3), ValueError, "groups=3 must divide in_channels=4"),
    (lambda: LF.conv_transpose2d(t(1, 4, 8, 8), t(4, 2, 3, 3), stride=2, output_padding=2), ValueError,
     "output_padding must be smaller than either stride or dilation"),
    (lambda: LF.conv_transpose2d(t(1, 4, 1, 1), t(4, 2, 1, 1), padding=1), ValueError, "output size .* is not positive"),
    (lambda: C.Conv2d(4, 6, 3, groups=3), ValueError, "in_channels must be divisible by groups"),
    (lambda: C.Conv2d(3, 6, 3, padding_mode="mirror"), ValueError, "padding_mode must be one of"),
    (lambda: C.Conv2d(3, 6, 3, stride=2, padding="same"), ValueError, "not supported for strided convolutions"),
    (lambda: C.ConvTranspose2d(3, 6, 3, padding_mode="reflect"), ValueError, 'Only "zeros" padding mode'),
]


@pytest.mark.parametrize("call, error, message", BAD_INPUTS)
def test_conv_rejects_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()

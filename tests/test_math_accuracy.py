"""Accuracy of the vectorised float32 exp and tanh (ops/math.h vexp, vtanh) and of the activations
built on them (gelu, elu / selu, softplus, mish; hardtanh's special values) against float64
references over dense ranges, their special values, randn's Box-Muller against a float64 replay of
the same generator words, and the host allocator's cache and the chunked sum that the performance
work added. (vlog and vsincos_2pi on their own: tests/cpp/test_random.cpp.)"""
import math

import numpy as np
import pytest

import lamina as lm


def max_ulp_error(op, reference, lo, hi, n=1_000_001):
    """Largest |op(x) - reference(x)| in float32 ulps of the reference, over n points in [lo, hi],
    for finite nonzero float32 references; and the count of other points where op differs."""
    x = np.linspace(lo, hi, n, dtype=np.float32)
    got = op(lm.from_numpy(x)).numpy().astype(np.float64)
    with np.errstate(over="ignore"):
        ref = reference(x.astype(np.float64))
        ref32 = ref.astype(np.float32)
    finite = np.isfinite(ref32) & (ref32 != 0)
    ulps = np.abs(got[finite] - ref[finite]) / np.spacing(np.abs(ref32[finite])).astype(np.float64)
    mismatches = int(np.sum(got[~finite] != ref32[~finite].astype(np.float64)))
    return ulps.max(), mismatches


def test_exp_float32_within_one_ulp_over_whole_range_including_subnormals():
    err, mismatches = max_ulp_error(lm.exp, np.exp, -110.0, 90.0)
    assert err <= 1.01 and mismatches == 0


def test_tanh_float32_within_two_ulp_near_zero_and_in_saturation():
    for lo, hi in ((-0.7, 0.7), (-12.0, 12.0)):
        err, mismatches = max_ulp_error(lm.tanh, np.tanh, lo, hi)
        assert err <= 2.0 and mismatches == 0


def test_sigmoid_float32_within_three_ulp():
    err, mismatches = max_ulp_error(lm.sigmoid, lambda v: 1 / (1 + np.exp(-v)), -100.0, 30.0)
    assert err <= 3.0 and mismatches == 0


def test_sigmoid_and_tanh_float32_accurate_across_their_clamps():
    """vsigmoid clamps -x to [-20, 104] (sigmoid rounds to 1 from x = 17.4) and vtanh 2|x| to 40
    (tanh rounds to 1 from |x| = 9.01): past the clamps the results are still float32's roundings."""
    err, mismatches = max_ulp_error(lm.sigmoid, lambda v: 1 / (1 + np.exp(-v)), -110.0, 110.0)
    assert err <= 3.0 and mismatches == 0
    err, mismatches = max_ulp_error(lm.tanh, np.tanh, -100.0, 100.0)
    assert err <= 2.0 and mismatches == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_at_extreme_inputs_is_finite_and_correctly_rounded(dtype):
    """sigmoid and its gradient at +-88..+-110, +-inf, NaN and zeros: no NaN from inf/inf where exp(-x)
    overflows, 0 and 1 at the infinities, and within 3 ulp of float64 down into the subnormals (where
    torch's float32 sigmoid returns 0)."""
    x = np.array([np.inf, -np.inf, 0.0, -0.0, 17, -17, 87, -87, 88, -88, 89, -89, 100, -100, 104, -104, 110,
                  -110, 1e-30, -1e-30], dtype)
    xt = lm.tensor(x, requires_grad=True)
    y = lm.sigmoid(xt)
    y.sum().backward()
    got, grad = y.detach().numpy(), xt.grad.numpy()
    assert np.all(np.isfinite(got)) and np.all(np.isfinite(grad))
    assert got[0] == 1 and got[1] == 0 and grad[0] == 0 and grad[1] == 0
    ref = 1 / (1 + np.exp(-x.astype(np.float64)))  # float64 exact enough for float32; for float64, libm's own
    spacing = np.spacing(np.abs(ref.astype(dtype))).astype(np.float64)
    assert np.all(np.abs(got - ref) <= 3 * spacing), np.abs(got - ref) / spacing
    assert np.isnan(lm.sigmoid(lm.tensor(np.array([np.nan], dtype))).numpy()[0])


def test_exp_and_tanh_special_values_match_numpy():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 89.0, -103.9, -104.5, 1e-30], np.float32)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(lm.exp(lm.from_numpy(x)).numpy(), np.exp(x))
    got = lm.tanh(lm.from_numpy(x)).numpy()
    np.testing.assert_array_equal(got, np.tanh(x))
    assert np.signbit(got[4])  # tanh(-0) = -0


def test_float64_exp_and_tanh_are_exact_to_libm():
    x = np.linspace(-50, 50, 10001)
    np.testing.assert_allclose(lm.exp(lm.from_numpy(x)).numpy(), np.exp(x), rtol=1e-15)
    np.testing.assert_allclose(lm.tanh(lm.from_numpy(x)).numpy(), np.tanh(x), rtol=1e-15, atol=1e-300)


def test_full_sum_is_identical_at_one_and_two_threads():
    x = lm.from_numpy(np.random.default_rng(0).standard_normal(1_000_003).astype(np.float32))
    threads = lm.get_num_threads()
    try:
        lm.set_num_threads(1)
        one = x.sum().item()
        lm.set_num_threads(2)
        two = x.sum().item()
    finally:
        lm.set_num_threads(threads)
    assert one == two
    assert one == pytest.approx(float(np.sum(x.numpy().astype(np.float64))), rel=1e-6)


def test_host_blocks_from_2_mib_start_on_a_huge_page_and_smaller_ones_on_64_bytes():
    # (numpy() shares the tensor's memory, so its address is the block's)
    for numel, alignment in [(1 << 20, 2 << 20), (3 << 18, 2 << 20), (1000, 64), (40000, 64)]:
        data = lm.zeros(numel).numpy()
        assert data.__array_interface__["data"][0] % alignment == 0, numel
        assert not data.any()


def test_host_allocator_reuses_a_freed_large_block_and_empties_its_cache():
    from lamina import _C
    _C._host_empty_cache()
    before = _C._host_allocator_stats()
    t = lm.empty(1 << 20)  # 4 MiB: a cached size class
    del t
    assert _C._host_allocator_stats()["cached_bytes"] >= 4 << 20
    t = lm.empty(1 << 20)
    after = _C._host_allocator_stats()
    assert after["hits"] == before["hits"] + 1
    del t
    _C._host_empty_cache()
    assert _C._host_allocator_stats()["cached_bytes"] == 0



MASK64 = (1 << 64) - 1


def xoshiro_words(state):
    """The outputs of xoshiro256** (core/random.cpp) from a lamina.get_rng_state(), one by one."""
    s0, s1, s2, s3 = state
    while True:
        x = s1 * 5 & MASK64
        yield ((x << 7 | x >> 57) & MASK64) * 9 & MASK64
        t = s1 << 17 & MASK64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45 | s3 >> 19) & MASK64


def randn_reference(state, n, dtype):
    """randn(n) computed in float64 from the same generator words as ops/cpu/factory.cpp: float32
    takes u1 = (k + 1/2) 2^-31 (in float32) from a word's top 31 bits and u2 from 31 low bits,
    float64 two words of 53 bits; a chunk of up to 512 samples holds its pairs' cosines, then their
    sines. Returns the samples and each one's Box-Muller radius r."""
    words = xoshiro_words(state)
    out, radius = np.empty(n), np.empty(n)
    for start in range(0, n, 512):
        length = min(512, n - start)
        half = length // 2
        m = length - half
        if dtype == lm.float32:
            w = np.array([next(words) for _ in range(m)], dtype=np.uint64)
            u1 = (w >> np.uint64(33)).astype(np.float32) * np.float32(2.0**-31) + np.float32(2.0**-32)
            u2 = ((w & np.uint64(0xFFFFFFFF)) >> np.uint64(1)).astype(np.float32) * np.float32(2.0**-31)
        else:
            w = np.array([next(words) for _ in range(2 * m)], dtype=np.uint64)
            u1 = (w[0::2] >> np.uint64(11)).astype(np.float64) * 2.0**-53 + 2.0**-54
            u2 = (w[1::2] >> np.uint64(11)).astype(np.float64) * 2.0**-53
        r = np.sqrt(-2 * np.log(u1.astype(np.float64)))
        # t = 2 pi u2 = q pi/2 + x with 4 u2 - q exact, so that float64's rounding of 2 pi u2 (up
        # to 4 ulp) stays out of the reference; then turned by q quarter turns.
        q = np.rint(4 * u2.astype(np.float64))
        x = (4 * u2.astype(np.float64) - q) * (np.pi / 2)
        s, c, quarter = np.sin(x), np.cos(x), q.astype(np.int64) % 4
        cos_t, sin_t = np.choose(quarter, [c, -s, -c, s]), np.choose(quarter, [s, c, -s, -c])
        out[start:start + length] = np.concatenate([r * cos_t, (r * sin_t)[:half]])
        radius[start:start + length] = np.concatenate([r, r[:half]])
    return out, radius


@pytest.mark.parametrize("dtype", [lm.float32, lm.float64])
def test_randn_matches_box_muller_in_float64_on_the_same_generator_words(dtype):
    """Every length's layout (0, 1, odd tails, chunk edges at 512) and the vectorised vlog and
    vsincos_2pi: within 2 eps r of the float64 reference (eps the dtype's machine epsilon; r the
    sample's radius, as errors in sin and cos are errors in the angle; 1.3 and 1.6 measured)."""
    eps = np.finfo(np.float32 if dtype == lm.float32 else np.float64).eps
    lm.manual_seed(2024)
    worst = 0.0
    for n in (0, 1, 2, 3, 7, 511, 512, 513, 1024, 1537, 4099):
        state = lm.get_rng_state()
        got = lm.randn(n, dtype=dtype).numpy().astype(np.float64)
        ref, radius = randn_reference(state, n, dtype)
        if n:
            worst = max(worst, float(np.max(np.abs(got - ref) / (radius * eps))))
    assert worst <= 2.0, worst


@pytest.mark.parametrize("dtype", [lm.float32, lm.float64])
def test_rand_and_dropout_masks_take_the_generator_words_in_order(dtype):
    """rand: u = (top 24 bits) 2^-24 in float32, (top 53 bits) 2^-53 in float64, one word per value;
    dropout: the mask is 0 where u < p and 1 / (1 - p) elsewhere, chunk edges (256) included."""
    f32 = dtype == lm.float32

    def next_uniforms(n):  # the next n uniforms of the generator, in float64
        words = xoshiro_words(lm.get_rng_state())
        w = np.array([next(words) for _ in range(n)], dtype=np.uint64)
        return (w >> np.uint64(40)).astype(np.float64) * 2.0**-24 if f32 else (w >> np.uint64(11)) * 2.0**-53

    lm.manual_seed(77)
    for n in (1, 255, 256, 257, 1000):
        u = next_uniforms(n)
        np.testing.assert_array_equal(lm.rand(n, dtype=dtype).numpy(), u.astype(np.float32 if f32 else np.float64))
        u = next_uniforms(n)
        mask = lm.nn.functional.dropout(lm.ones(n, dtype=dtype), 0.3, True).numpy()
        np.testing.assert_array_equal(mask, np.where(u < 0.3, 0, mask.dtype.type(1 / (1 - 0.3))))


@pytest.mark.parametrize("dtype, largest", [(lm.float32, math.sqrt(64 * math.log(2))),
                                            (lm.float64, math.sqrt(108 * math.log(2)))])
def test_randn_reaches_its_largest_radius_beyond_pytorchs(dtype, largest):
    """A generator state whose next word is 0 gives u1 its least value, 2^-32 (float32) or 2^-54
    (float64): the pair (r cos t, r sin t) has r = sqrt(-2 log u1) = 6.66 or 8.65, beyond the 5.77
    of PyTorch's 24-bit u1. The state's s1 solves rotl(5 s1, 7) 9 = 0 (so s1 = 0)."""
    saved = lm.get_rng_state()
    try:
        lm.set_rng_state([1, 0, 2, 3])
        pair = lm.randn(2, dtype=dtype).numpy().astype(np.float64)
    finally:
        lm.set_rng_state(saved)
    assert math.hypot(*pair) == pytest.approx(largest, rel=1e-6) and largest > 5.77


def _gelu_references(x):
    """GELU x Phi(x) and its derivative Phi(x) + x phi(x) in float64 (math.erfc: no cancellation in
    the lower tail), and the magnitude |Phi| + |x phi| that bounds the derivative's rounding."""
    xd = x.astype(np.float64)
    cdf = 0.5 * np.frompyfunc(math.erfc, 1, 1)(-xd / math.sqrt(2)).astype(np.float64)
    dens = xd * np.exp(-0.5 * xd * xd) / math.sqrt(2 * math.pi)
    return xd * cdf, cdf + dens, cdf + np.abs(dens)


def _ulps(got, ref, scale=None):
    scale = np.abs(ref) if scale is None else scale
    spacing = np.maximum(np.spacing(scale.astype(np.float32)).astype(np.float64), 2.0 ** -149)
    return np.abs(got - ref) / spacing


def test_gelu_float32_within_a_few_ulp_forward_and_backward():
    """Exact GELU (math.h GeluExact: Phi(-|x|) = exp(-x^2/2) normal_mills(|x|), x^2 split
    by an fma) against float64 over [-14.5, 10] and near 0 (log-spaced): forward within 4.5 ulp
    for x > -6 (torch's float32 GELU is off by up to 1e-7 absolute there and returns 0 below), 6 ulp
    down to -13 (normal results), 20 ulp of the subnormal spacing below; backward within 3.5 ulp of
    |Phi| + |x phi| (its zero near x = -0.75 is a cancellation) for x > -10, 8 ulp below."""
    x = np.concatenate([np.linspace(-14.5, 10, 1_000_001, dtype=np.float32),
                        np.logspace(-30, 0, 100_001, dtype=np.float32),
                        -np.logspace(-30, 0, 100_001, dtype=np.float32)])
    xt = lm.tensor(x, requires_grad=True)
    y = lm.nn.functional.gelu(xt)
    y.backward(lm.ones(len(x)))
    fwd, grad, grad_scale = _gelu_references(x)
    e_fwd = _ulps(y.detach().numpy().astype(np.float64), fwd)
    e_grad = _ulps(xt.grad.numpy().astype(np.float64), grad, grad_scale)
    assert e_fwd[x > -6].max() <= 4.5 and e_fwd[x > -13].max() <= 6 and e_fwd.max() <= 20
    assert e_grad[x > -10].max() <= 3.5 and e_grad.max() <= 8, (e_grad[x > -10].max(), e_grad.max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_at_extreme_inputs_matches_float64(dtype):
    """+-1e4, +-88..+-100, +-20, zeros, subnormals, +-inf and NaN: forward within 4 ulp of the float64
    reference (0 and -0 exactly where it rounds to zero, -0 kept), gradient within 4 ulp; inf gives
    inf and -inf NaN (-inf * 0, as libm's erf in float64); NaN propagates."""
    tiny = np.finfo(np.float32).smallest_subnormal
    x = np.array([1e4, -1e4, 88, -88, 100, -100, 20, -20, 0.0, -0.0, tiny, -tiny, 1e-40, -1e-40, 1e-30, -1e-30,
                  5.5, -5.5, 12, -12], dtype)
    xt = lm.tensor(x, requires_grad=True)
    y = lm.nn.functional.gelu(xt)
    y.backward(lm.ones(len(x), dtype=lm.float32 if dtype == np.float32 else lm.float64))
    got, grad = y.detach().numpy().astype(np.float64), xt.grad.numpy().astype(np.float64)
    fwd, dref, dscale = _gelu_references(x)
    if dtype == np.float32:
        assert _ulps(got, fwd).max() <= 4 and _ulps(grad, dref, dscale).max() <= 4
    else:
        np.testing.assert_allclose(got, fwd, rtol=1e-13, atol=0)
        np.testing.assert_allclose(grad, dref, rtol=1e-13, atol=1e-300)
    assert np.array_equal(np.signbit(got), np.signbit(fwd))
    special = lm.nn.functional.gelu(lm.tensor(np.array([np.inf, -np.inf, np.nan], dtype))).numpy()
    assert special[0] == np.inf and np.isnan(special[1]) and np.isnan(special[2])


@pytest.mark.parametrize("fn,alpha,scale", [("elu", 1.0, 1.0), ("elu", 0.3, 1.0),
                                            ("selu", 1.6732632423543772, 1.0507009873554805)])
def test_elu_and_selu_float32_within_two_ulp_including_near_zero(fn, alpha, scale):
    """ELU / SELU (math.h vexpm1_neg: a Taylor polynomial above -0.35, no cancellation near 0) against
    float64 scale (x > 0 ? x : alpha expm1(x)) over [-100, 5] and log-spaced negative x down to
    -1e-30; gradient scale alpha e^x below 0. Within 2.5 ulp where the compiler fuses multiply-adds
    (native builds); a portable build without FMA rounds them twice and reaches 2.54 (alpha 0.3)."""
    x = np.concatenate([np.linspace(-100, 5, 1_000_001, dtype=np.float32), -np.logspace(-30, 0, 100_001, dtype=np.float32)])
    xt = lm.tensor(x, requires_grad=True)
    y = lm.nn.functional.elu(xt, alpha) if fn == "elu" else lm.nn.functional.selu(xt)
    y.backward(lm.ones(len(x)))
    xd = x.astype(np.float64)
    fwd = np.where(xd > 0, scale * xd, scale * alpha * np.expm1(np.minimum(xd, 0)))
    grad = np.where(xd > 0, scale, scale * alpha * np.exp(np.minimum(xd, 0)))
    assert _ulps(y.detach().numpy().astype(np.float64), fwd).max() <= 2.75
    assert _ulps(xt.grad.numpy().astype(np.float64), grad).max() <= 2.75


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elu_selu_hardtanh_at_extreme_inputs_match_torch(dtype):
    """+-1e4, +-88..+-100, +-inf, NaN, zeros and subnormals: values and gradients as torch's (NaN
    propagates, -0 kept), within 2 ulp."""
    th = pytest.importorskip("torch")
    tiny = np.finfo(np.float32).smallest_subnormal
    x = np.array([1e4, -1e4, 88, -88, 89, -89, 100, -100, np.inf, -np.inf, np.nan, 0.0, -0.0, tiny, -tiny,
                  1e-40, -1e-40, 1e-7, -1e-7, 0.5, -0.5, 1.0, -1.0], dtype)
    for name, kwargs in (("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}), ("hardtanh", {}),
                         ("hardtanh", {"min_val": -0.5, "max_val": 2.0})):
        xl, xt = lm.tensor(x, requires_grad=True), th.tensor(x, requires_grad=True)
        out, ref = getattr(lm.nn.functional, name)(xl, **kwargs), getattr(th.nn.functional, name)(xt, **kwargs)
        out.backward(lm.tensor(np.ones_like(x)))
        ref.backward(th.ones_like(xt))
        # The gradient at NaN: torch gives scale (elu, selu) and 0 (hardtanh) in float32, but NaN for
        # elu / selu in its float64 vector loop (scale in its scalar tail); lamina gives scale and 0.
        nan_at = np.isnan(x)
        assert np.all(xl.grad.numpy()[nan_at] == (0 if name == "hardtanh" else (1.0507009873554805 if name == "selu" else 1)))
        for got, want in ((out.detach().numpy(), ref.detach().numpy()), (xl.grad.numpy()[~nan_at], xt.grad.numpy()[~nan_at])):
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            np.testing.assert_array_equal(np.signbit(got[~np.isnan(got)]), np.signbit(want[~np.isnan(want)]))
            np.testing.assert_allclose(got, want, rtol=2 * np.finfo(dtype).eps, atol=0, err_msg=name)


def _softplus_mish_references(xd, beta=1.0, threshold=20.0):
    bx = xd * beta
    with np.errstate(invalid="ignore", over="ignore"):
        sp = np.where(bx > threshold, xd, np.logaddexp(0, bx) / beta)
        sp_grad = np.where(bx > threshold, 1.0, 1 / (1 + np.exp(-bx)))
        t = np.tanh(np.logaddexp(0, xd))
        s = 1 / (1 + np.exp(-xd))
        mish, mish_grad, mish_scale = xd * t, t + xd * s * (1 - t * t), np.abs(t) + np.abs(xd * s * (1 - t * t))
    return sp, sp_grad, mish, mish_grad, mish_scale


def test_softplus_and_mish_float32_within_a_few_ulp():
    """softplus (math.h vsoftplus: max(y, 0) + log1p(e^-|y|), log1p by vlog with Goldberg's correction)
    within 3 ulp, forward and backward, beta 1 and 2; mish (tanh(softplus(x)) = n / (n + 2), n = e^x (e^x + 2))
    within 4.5 ulp forward and 5.5 ulp of |tsp| + |x sigmoid (1 - tsp^2)| backward, for x > -80 (below,
    e^x is subnormal in float32: 64 ulp of the subnormal spacing)."""
    x = np.concatenate([np.linspace(-100, 40, 1_000_001, dtype=np.float32), -np.logspace(-30, 0, 100_001, dtype=np.float32),
                        np.logspace(-30, 0, 100_001, dtype=np.float32)])
    xd = x.astype(np.float64)
    for beta in (1.0, 2.0):
        xt = lm.tensor(x, requires_grad=True)
        y = lm.nn.functional.softplus(xt, beta=beta)
        y.backward(lm.ones(len(x)))
        sp, sp_grad = _softplus_mish_references(xd, beta)[:2]
        assert _ulps(y.detach().numpy().astype(np.float64), sp).max() <= 3
        assert _ulps(xt.grad.numpy().astype(np.float64), sp_grad).max() <= 3
    xt = lm.tensor(x, requires_grad=True)
    y = lm.nn.functional.mish(xt)
    y.backward(lm.ones(len(x)))
    _, _, mish, mish_grad, mish_scale = _softplus_mish_references(xd)
    e_fwd = _ulps(y.detach().numpy().astype(np.float64), mish)
    e_grad = _ulps(xt.grad.numpy().astype(np.float64), mish_grad, mish_scale)
    assert e_fwd[x > -80].max() <= 4.5 and e_grad[x > -80].max() <= 5.5
    assert e_fwd.max() <= 64 and e_grad.max() <= 64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_and_mish_at_extreme_inputs(dtype):
    """+-1e4, +-88..+-100, +-inf, NaN, zeros and subnormals: against float64 references (within 4 ulp,
    or 64 subnormal spacings where float32's e^x is subnormal), -0 kept; the infinities as torch (mish:
    inf -> inf, -inf -> NaN, gradient NaN at both; softplus: inf, 0, gradients 1 and 0); NaN propagates."""
    th = pytest.importorskip("torch")
    tiny = np.finfo(np.float32).smallest_subnormal
    x = np.array([1e4, -1e4, 88, -88, 89, -89, 100, -100, 20, -20, 21, 0.0, -0.0, tiny, -tiny, 1e-40, -1e-40, 1e-7,
                  -1e-7, 0.5, -0.5], dtype)
    sp, sp_grad, mish, mish_grad, _ = _softplus_mish_references(x.astype(np.float64))
    atol = 64 * 2.0 ** -149 if dtype == np.float32 else 0
    rtol = 4 * np.finfo(dtype).eps
    for name, ref, dref in (("softplus", sp, sp_grad), ("mish", mish, mish_grad)):
        xt = lm.tensor(x, requires_grad=True)
        y = getattr(lm.nn.functional, name)(xt)
        y.backward(lm.tensor(np.ones_like(x)))
        got = y.detach().numpy().astype(np.float64)
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, err_msg=name)
        np.testing.assert_allclose(xt.grad.numpy(), dref, rtol=rtol, atol=atol, err_msg=name)
        assert np.array_equal(np.signbit(got), np.signbit(ref)), name
        special = np.array([np.inf, -np.inf, np.nan] + [0.0] * 17, dtype)  # 20 elements: torch's vector loop
        sl, st = lm.tensor(special, requires_grad=True), th.tensor(special, requires_grad=True)
        yl, yt = getattr(lm.nn.functional, name)(sl), getattr(th.nn.functional, name)(st)
        yl.backward(lm.tensor(np.ones_like(special)))
        yt.backward(th.ones_like(st))
        np.testing.assert_array_equal(yl.detach().numpy()[:3], yt.detach().numpy()[:3], err_msg=name)
        np.testing.assert_array_equal(sl.grad.numpy()[:3], st.grad.numpy()[:3], err_msg=name)


def test_gelu_tanh_float32_matches_its_formula_in_float64():
    """GELU's tanh form (vtanh, vectorised) against 0.5 x (1 + tanh(u)) in float64 over [-20, 20]: within
    2 ulp of 0.5 |x| (1 + |tanh u|) forward and 5 ulp of the gradient's term magnitudes (1 - tanh^2 u
    cancels near saturation, as in float32 torch); inf gives inf, -inf and NaN NaN."""
    x = np.linspace(-20, 20, 1_000_001, dtype=np.float32)
    xt = lm.tensor(x, requires_grad=True)
    y = lm.nn.functional.gelu(xt, approximate="tanh")
    y.backward(lm.ones(len(x)))
    xd = x.astype(np.float64)
    k = math.sqrt(2 / math.pi)
    t = np.tanh(k * (xd + 0.044715 * xd ** 3))
    du = k * (1 + 3 * 0.044715 * xd * xd)
    fwd, fwd_scale = 0.5 * xd * (1 + t), 0.5 * np.abs(xd) * (1 + np.abs(t))
    grad, grad_scale = 0.5 * (1 + t) + 0.5 * xd * (1 - t * t) * du, 0.5 * (1 + np.abs(t)) + np.abs(0.5 * xd * (1 - t * t) * du)
    assert _ulps(y.detach().numpy().astype(np.float64), fwd, fwd_scale).max() <= 2
    assert _ulps(xt.grad.numpy().astype(np.float64), grad, grad_scale).max() <= 5
    special = lm.nn.functional.gelu(lm.tensor(np.float32([np.inf, -np.inf, np.nan])), approximate="tanh").numpy()
    assert special[0] == np.inf and np.isnan(special[1]) and np.isnan(special[2])

"""Accuracy of the vectorised float32 exp and tanh (ops/math.h vexp, vtanh) against float64
references over dense ranges, their special values, and the host allocator's cache and the
chunked sum that the performance work added."""
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

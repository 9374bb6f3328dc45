"""Package-level behaviour: threads, the seeded generator, OpenBLAS loading, versions."""
import subprocess
import sys

import numpy as np
import pytest

import lamina as lm


def test_set_num_threads_round_trips_and_validates():
    before = lm.get_num_threads()
    try:
        lm.set_num_threads(1)
        assert lm.get_num_threads() == 1
        a = lm.randn(64, 64)
        np.testing.assert_allclose((a @ a).numpy(), a.numpy() @ a.numpy(), rtol=1e-4, atol=1e-4)
    finally:
        lm.set_num_threads(before)
    with pytest.raises(ValueError, match=r"\[set_num_threads\]"):
        lm.set_num_threads(0)


def test_same_seed_gives_same_numbers_and_state_restores():
    lm.manual_seed(123)
    first = (lm.rand(5).tolist(), lm.randn(3).tolist(), lm.randint(0, 10, (4,)).tolist())
    lm.manual_seed(123)
    assert (lm.rand(5).tolist(), lm.randn(3).tolist(), lm.randint(0, 10, (4,)).tolist()) == first
    state = lm.get_rng_state()
    x = lm.rand(3).tolist()
    lm.set_rng_state(state)
    assert lm.rand(3).tolist() == x
    assert lm.initial_seed() == 123


def test_seeded_numbers_are_the_same_in_a_fresh_process():
    code = "import lamina as lm; lm.manual_seed(7); print(lm.randn(4).tolist())"
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] == runs[1] and runs[0].strip()


def test_random_numbers_do_not_depend_on_thread_count():
    before = lm.get_num_threads()
    try:
        lm.set_num_threads(1)
        lm.manual_seed(5)
        one = lm.randn(10000).numpy().copy()
        lm.set_num_threads(2)
        lm.manual_seed(5)
        np.testing.assert_array_equal(lm.randn(10000).numpy(), one)
    finally:
        lm.set_num_threads(before)


def test_extension_links_openblas_from_the_wheel():
    import lamina._C as C
    out = subprocess.run(["ldd", C.__file__], capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if "scipy_openblas" in l)
    assert "not found" not in line, line

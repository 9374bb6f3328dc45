"""The CUDA device type: without a GPU (or without a CUDA build) it is known and fails with a
clear RuntimeError; with a GPU, tensors move to the device and back unchanged."""
import numpy as np
import pytest

import lamina as lm

has_gpu = lm.cuda.is_available()


def test_cuda_device_parses_and_prints():
    d = lm.device("cuda:1")
    assert (d.type, d.index, str(d)) == ("cuda", 1, "cuda:1")
    assert lm.device("cpu").index is None
    assert lm.device("cuda") == "cuda:0"


@pytest.mark.parametrize("bad", ["gpu", "cuda:", "cuda:x", "cpu:0", ""])
def test_bad_device_strings_raise_value_error(bad):
    with pytest.raises(ValueError, match=r"\[device\]"):
        lm.device(bad)


@pytest.mark.skipif(has_gpu, reason="checks the behaviour without a usable GPU")
def test_cuda_tensor_without_gpu_raises_runtime_error():
    assert lm.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="CUDA|cuda"):
        lm.zeros(2, 3, device="cuda")
    with pytest.raises(RuntimeError, match="CUDA|cuda"):
        lm.ones(2).cuda()
    x = lm.ones(2)
    assert x.tolist() == [1.0, 1.0]  # the failed call left the tensor intact


@pytest.mark.skipif(not has_gpu, reason="no CUDA device")
def test_cuda_round_trip_keeps_values():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    g = lm.tensor(a).cuda()
    assert g.device == "cuda:0" and g.is_cuda
    np.testing.assert_array_equal(g.cpu().numpy(), a)
    z = lm.zeros(5, device="cuda")
    np.testing.assert_array_equal(z.cpu().numpy(), np.zeros(5, np.float32))


@pytest.mark.skipif(not has_gpu, reason="no CUDA device")
def test_op_without_cuda_kernel_names_itself():
    g = lm.ones(3).cuda()
    with pytest.raises(RuntimeError, match=r"\[exp\] is not implemented for CUDA"):
        g.exp()

"""CUDA status: whether Lamina was built with CUDA and a device can be used."""
from lamina import _C


def is_available():
    """True when Lamina was built with CUDA and a CUDA device is present."""
    return _C.cuda_is_available()


def device_count():
    """The number of CUDA devices (0 in a build without CUDA)."""
    return _C.cuda_device_count()


def is_built():
    """True when this Lamina was compiled with its CUDA backend."""
    return _C.built_with_cuda

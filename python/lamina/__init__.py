"""Lamina: define and train neural networks with PyTorch's API; the math runs in C++.

The package re-exports the private compiled module ``lamina._C`` (tensors, ops, autograd) and
adds the pieces that are structure rather than math: factories with PyTorch's signatures,
Tensor's Python-side methods (repr, to, item, tolist), grad-mode context managers.
"""
import os as _os

# Lamina's one thread pool is OpenMP's (OpenBLAS is kept single-threaded). libgomp's idle workers
# spin 300,000 times after each parallel region before they sleep, holding a core that the
# user's other work could use; 10,000 spins (~10 us) keep the next region's start fast
# (bench/thread_pools.py). It must be set before libgomp loads.
_os.environ.setdefault("GOMP_SPINCOUNT", "10000")

# OpenBLAS comes from the scipy-openblas32 wheel. The installed extension finds it through its
# rpath; importing the wheel's package first also loads it for editable installs.
import scipy_openblas32 as _scipy_openblas32  # noqa: E402,F401

from lamina import _C  # noqa: E402
from lamina._C import (  # noqa: F401
    Tensor, device, dtype, from_numpy, set_num_threads, get_num_threads, manual_seed, initial_seed,
    get_rng_state, set_rng_state,
    clone, flatten, squeeze, unsqueeze, transpose, permute, t, narrow, select, reshape,
    add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, where,
    neg, exp, log, sqrt, abs, relu, sigmoid, tanh, clamp, clip,
    sum, mean, var, std, max, min, argmax, argmin,
    mm, bmm, matmul, addmm, softmax, log_softmax,
    cat, concat, stack, split, chunk, index_select, gather, masked_select, nonzero,
)
from lamina import _tensor  # noqa: F401  (adds Tensor's Python-side methods)
from lamina._creation import (  # noqa: F401
    tensor, as_tensor, empty, zeros, ones, full, arange, linspace, eye, rand, randn, randint,
    empty_like, zeros_like, ones_like, full_like, rand_like, randn_like, randint_like,
)
from lamina.autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled  # noqa: F401
from lamina import autograd, cuda, return_types  # noqa: F401
from lamina import nn, optim, data, utils, training  # noqa: F401
from lamina.serialization import save, load  # noqa: F401

float32 = float = dtype.float32
float64 = double = dtype.float64
int64 = long = dtype.int64
bool = dtype.bool  # noqa: A001  (PyTorch's name)

__version__ = "0.1.0"


def is_tensor(obj):
    """True if obj is a lamina Tensor."""
    return isinstance(obj, Tensor)


def numel(input):
    """The number of elements of input."""
    return input.numel()

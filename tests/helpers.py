"""Test helpers: finite-difference gradcheck (float64) and a side-by-side run of the same
function in Lamina and PyTorch that compares the forward result and every input gradient.

    gradcheck(lambda x, y: (x * y).sum(), [x64, y64])
    check_against_torch(lambda m, a, b: m.matmul(a, b), [a_np, b_np])
    assert_same_on_one_and_two_threads(run)   # run() returns arrays; bit-identical at 1 and 2 threads

PyTorch is a test-only dependency: `torch_or_skip()` skips a test, with the reason, where it is
absent.
"""
import numpy as np
import pytest

import lamina as lm


def torch_or_skip():
    """The torch module, or a pytest skip saying why the test cannot run."""
    return pytest.importorskip("torch", reason="PyTorch (test extra: pip install '.[test]') is not installed")


def _scalar_output(out, weights):
    """The scalar sum(out * weights) whose gradient gradcheck compares (weights fixed, random)."""
    return (out * weights).sum()


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Checks the analytic gradient of fn at float64 `inputs` (NumPy arrays or lamina tensors)
    against central finite differences, for every input that is floating point.

    fn takes lamina tensors and returns a tensor; the gradient checked is that of
    sum(fn(inputs) * w) for a fixed random w, so every output element takes part.
    """
    arrays = [np.array(x.detach().numpy() if isinstance(x, lm.Tensor) else x, dtype=None) for x in inputs]
    diff = [a.dtype.kind == "f" for a in arrays]
    arrays = [a.astype(np.float64) if d else a for a, d in zip(arrays, diff)]
    tensors = [lm.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    out = fn(*tensors)
    rng = np.random.default_rng(seed)
    weights = lm.tensor(rng.standard_normal(tuple(out.shape)))
    _scalar_output(out, weights).backward()

    for i, (a, d) in enumerate(zip(arrays, diff)):
        if not d:
            continue
        analytic = tensors[i].grad.numpy() if tensors[i].grad is not None else np.zeros_like(a)
        numeric = np.zeros_like(a)
        flat = a.reshape(-1)
        for k in range(flat.size):
            old = flat[k]
            values = []
            for delta in (eps, -eps):
                flat[k] = old + delta
                args = [lm.tensor(x) for x in arrays]
                with lm.no_grad():
                    values.append(_scalar_output(fn(*args), weights).item())
            flat[k] = old
            numeric.reshape(-1)[k] = (values[0] - values[1]) / (2 * eps)
        np.testing.assert_allclose(analytic, numeric, atol=atol, rtol=rtol,
                                   err_msg=f"gradient of input {i} differs from finite differences")


def check_against_torch(fn, inputs, atol=1e-5, rtol=1e-4, grad=True, seed=0):
    """Runs fn(module, *tensors) with module = lamina and module = torch on the same inputs
    (NumPy arrays: float ones require grad when `grad`), and compares the outputs and, after
    backward of sum(out * w) for a fixed random w, the gradient of every float input.

    fn may return a tensor or a tuple/list of tensors; only floating outputs get gradients.
    Returns the lamina outputs.
    """
    torch = torch_or_skip()
    arrays = [np.asarray(x) for x in inputs]
    diff = [grad and a.dtype.kind == "f" for a in arrays]
    lm_in = [lm.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    th_in = [torch.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    lm_out, th_out = fn(lm, *lm_in), fn(torch, *th_in)
    single = not isinstance(lm_out, (tuple, list))
    lm_outs = [lm_out] if single else list(lm_out)
    th_outs = [th_out] if single else list(th_out)
    assert len(lm_outs) == len(th_outs)
    rng = np.random.default_rng(seed)
    lm_loss, th_loss = None, None
    for k, (lo, to) in enumerate(zip(lm_outs, th_outs)):
        assert tuple(lo.shape) == tuple(to.shape), f"output {k}: shape {tuple(lo.shape)} != torch {tuple(to.shape)}"
        np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), atol=atol, rtol=rtol,
                                   err_msg=f"output {k} differs from torch")
        if lo.requires_grad and to.requires_grad:
            w = rng.standard_normal(tuple(lo.shape)).astype(to.detach().numpy().dtype)
            lm_term, th_term = (lo * lm.tensor(w)).sum(), (to * torch.tensor(w)).sum()
            lm_loss = lm_term if lm_loss is None else lm_loss + lm_term
            th_loss = th_term if th_loss is None else th_loss + th_term
    if lm_loss is not None:
        lm_loss.backward()
        th_loss.backward()
        for i, (lt, tt) in enumerate(zip(lm_in, th_in)):
            if not diff[i]:
                continue
            lg = lt.grad.numpy() if lt.grad is not None else np.zeros(lt.shape, dtype=arrays[i].dtype)
            tg = tt.grad.numpy() if tt.grad is not None else np.zeros(tt.shape, dtype=arrays[i].dtype)
            np.testing.assert_allclose(lg, tg, atol=atol, rtol=rtol, err_msg=f"gradient of input {i} differs from torch")
    return lm_out


def assert_same_on_one_and_two_threads(run):
    """Calls run() (returning a tuple of arrays) at 1 and at 2 threads, then restores the thread
    count, and asserts that both calls gave bit-identical arrays."""
    before = lm.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            lm.set_num_threads(threads)
            results.append(run())
    finally:
        lm.set_num_threads(before)
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)

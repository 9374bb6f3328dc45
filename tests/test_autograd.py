"""Autograd graph semantics, as PyTorch defines them: .grad accumulation, retain_graph, errors of
backward on the wrong tensors, grad mode (no_grad / enable_grad / set_grad_enabled as context
managers and decorators, nested, thread-local), detach, requires_grad_, is_leaf, grad_fn names,
retain_grad, shared subgraphs, deep graphs, and that graphs are freed after backward."""
import gc
import threading

import numpy as np
import pytest

import lamina as lm
from helpers import check_against_torch, torch_or_skip

RNG = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- .grad accumulation
def test_grad_accumulates_across_backward_calls():
    x = lm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0, 9.0])


def test_grad_accumulates_in_place_into_the_existing_grad_tensor():
    x = lm.ones(3, requires_grad=True)
    (x * 2.0).sum().backward()
    g = x.grad
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(g.numpy(), [4.0, 4.0, 4.0])  # g and x.grad are one tensor, as in torch


def test_grad_none_resets_accumulation():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    (x * 5.0).sum().backward()
    x.grad = None
    assert x.grad is None
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_grad_can_be_assigned_and_is_then_accumulated_into():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    x.grad = lm.tensor([10.0, 20.0])
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [12.0, 22.0])
    with pytest.raises(ValueError, match=r"\[grad\].*shape"):
        x.grad = lm.zeros(3)
    with pytest.raises(TypeError, match=r"\[grad\].*dtype"):
        x.grad = lm.zeros(2, dtype=lm.float64)


def test_first_grad_does_not_alias_the_output_gradient():
    # x.grad must not share storage with a gradient tensor that backward hands elsewhere
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = lm.tensor([3.0, 4.0], requires_grad=True)
    g = lm.tensor([1.0, 1.0])
    (x + y).backward(g)
    x.grad.add_(lm.tensor([100.0, 100.0]))
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(g.numpy(), [1.0, 1.0])


def test_leaves_added_together_get_grads_that_do_not_alias():
    # add's backward hands one gradient tensor to both inputs; each leaf must own its .grad
    a = lm.tensor([1.0, 2.0], requires_grad=True)
    b = lm.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    (a * 2.0).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 3.0])
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


# ------------------------------------------- backward nodes that write into the gradient they get
# A node may write its input's gradient over the gradient it received when nothing else can see
# that tensor (can_reuse_grad). Each case below hands it a gradient that something else does see.
DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_backward_in_place_keeps_the_retained_grad_of_its_output(dtype):
    def fn(m, x, w):
        y = (x * 2.0).relu()
        y.retain_grad()
        ((y * w).sum()).backward()
        return y.grad, x.grad

    a, w = randn(2, 3, 5, dtype=dtype), randn(2, 3, 5, dtype=dtype)
    torch = torch_or_skip()
    lm_res = fn(lm, lm.tensor(a, requires_grad=True), lm.tensor(w))
    th_res = fn(torch, torch.tensor(a, requires_grad=True), torch.tensor(w))
    for lo, to in zip(lm_res, th_res):
        np.testing.assert_allclose(lo.numpy(), to.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_backward_in_place_with_a_retained_grad_on_its_input(dtype):
    torch = torch_or_skip()
    a, w = randn(4, 6, dtype=dtype), randn(4, 6, dtype=dtype)
    res = []
    for m in (lm, torch):
        x = m.tensor(a, requires_grad=True)
        h = x * 3.0
        h.retain_grad()
        (h.relu().sigmoid() * m.tensor(w)).sum().backward()
        res.append((h.grad.numpy(), x.grad.numpy()))
    for lo, to in zip(*res):
        np.testing.assert_allclose(lo, to, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("expr", [
    lambda m, x, y: x.relu() + (-x).relu(),          # one gradient tensor reaches two ReLU nodes
    lambda m, x, y: x.relu() + y,                    # ... a ReLU node and a leaf's accumulator
    lambda m, x, y: y + x.relu(),                    # the same, visited in the other order
    lambda m, x, y: x.relu() - y.tanh(),             # ... and a node whose gradient is -g
    lambda m, x, y: (x * 2.0).relu() * (x * 2.0).relu(),
    lambda m, x, y: (x * 2.0).relu().exp() + (x * 2.0).relu(),  # x used twice
    lambda m, x, y: (x.relu() + y).sigmoid(),
    lambda m, x, y: x.relu() + y.reshape(12).relu().reshape(3, 4),  # a view of a gradient in flight
    lambda m, x, y: y.reshape(12).relu().reshape(3, 4) + x.relu(),
    # the parametrised activations write in place the same way
    lambda m, x, y: m.nn.functional.gelu(x) + m.nn.functional.silu(x),
    lambda m, x, y: m.nn.functional.elu(x.relu() + y) + y,
    lambda m, x, y: m.nn.functional.leaky_relu(y.reshape(12), 0.1).reshape(3, 4) * m.nn.functional.mish(x),
])
def test_unary_backward_in_place_with_a_gradient_seen_by_others_matches_torch(dtype, expr):
    check_against_torch(expr, [randn(3, 4, dtype=dtype), randn(3, 4, dtype=dtype)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("expr", [
    lambda m, x: x.relu().reshape(4, 3),             # gradient arrives as a view of another tensor
    lambda m, x: x.relu().t(),                       # ... a transposed (non-contiguous) view
    lambda m, x: x.relu()[1:],                       # ... part of a zero-filled buffer
    lambda m, x: x.relu().sum(1),                    # ... an expanded (stride 0) tensor
    lambda m, x: x.relu().sum(),
    lambda m, x: x.relu().unsqueeze(0).expand(2, 3, 4),
    lambda m, x: m.nn.functional.softplus(x).t(),
    lambda m, x: m.nn.functional.gelu(x).sum(1),
])
def test_unary_backward_in_place_with_view_gradients_matches_torch(dtype, expr):
    check_against_torch(expr, [randn(3, 4, dtype=dtype)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_backward_leaves_the_callers_gradient_and_its_views_unchanged(dtype):
    x = lm.tensor(randn(2, 6, dtype=dtype), requires_grad=True)
    base = lm.tensor(randn(12, dtype=dtype))
    g = base.reshape(2, 6)  # a view: the caller still holds its storage through base
    before = base.numpy().copy()
    x.relu().tanh().relu().backward(g)
    np.testing.assert_array_equal(base.numpy(), before)
    x.relu().backward(g)  # the root's own node gets the caller's gradient
    np.testing.assert_array_equal(base.numpy(), before)


def test_unary_backward_in_place_twice_through_a_retained_graph():
    x = lm.tensor(randn(5), requires_grad=True)
    y = (x * 2.0).relu().exp()
    loss = (y * 3.0).sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()  # the saved outputs were not overwritten by the first pass
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)


def test_unary_backward_in_place_with_create_graph_is_rejected():
    x = lm.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="create_graph"):
        x.relu().sum().backward(create_graph=True)


# ---------------------------------------------------------------- retain_graph
def test_second_backward_without_retain_graph_raises():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()  # mul saves its inputs
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * first, rtol=1e-6)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_second_backward_through_a_graph_that_saved_nothing_works():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1.0).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_backward_after_in_place_change_of_a_saved_tensor_raises():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2.0
    y = (a * a).sum()
    with lm.no_grad():
        a.add_(1.0)
    with pytest.raises(RuntimeError, match="in-place|inplace"):
        y.backward()


# ---------------------------------------------------------------- backward errors and gradient=
def test_backward_of_a_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        lm.ones(3).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        lm.autograd.backward(lm.ones(()))
    with lm.no_grad():
        y = (lm.ones(2, requires_grad=True) * 2.0).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_non_scalar_backward_needs_a_gradient():
    x = lm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    y.backward(lm.tensor([1.0, 0.5, -1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, -6.0])


def test_gradient_argument_matches_torch():
    torch = torch_or_skip()
    a, g = randn(2, 3), randn(2, 3)
    x, tx = lm.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (x.exp() * 2.0).backward(gradient=lm.tensor(g))
    (tx.exp() * 2.0).backward(gradient=torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def test_gradient_of_the_wrong_shape_raises():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"\[backward\].*shape"):
        (x * 2.0).backward(lm.ones(3))


def test_backward_on_a_leaf_and_on_a_one_element_tensor():
    x = lm.tensor([3.0], requires_grad=True)
    x.backward()
    assert x.grad.tolist() == [1.0]
    y = lm.tensor([[2.0]], requires_grad=True)
    (y * 3.0).backward()
    assert y.grad.tolist() == [[3.0]]


def test_create_graph_is_rejected():
    x = lm.tensor(1.0, requires_grad=True)
    with pytest.raises(NotImplementedError):
        (x * x).backward(create_graph=True)


def test_autograd_backward_with_several_roots():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    a, b = (x * x).sum(), (x * 3.0).sum()
    lm.autograd.backward([a, b])
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])


# ---------------------------------------------------------------- requires_grad, leaves, detach
def test_int_and_bool_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        lm.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        lm.tensor([True]).requires_grad = True
    with pytest.raises(RuntimeError, match="floating point"):
        lm.tensor([1, 2], requires_grad=True)
    lm.tensor([1, 2]).requires_grad_(False)  # turning it off is fine


def test_requires_grad_and_is_leaf():
    x = lm.zeros(2)
    assert not x.requires_grad and x.is_leaf and x.grad_fn is None
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2.0
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    z = lm.zeros(2) * 2.0
    assert not z.requires_grad and z.is_leaf
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    x.requires_grad_(False)
    assert not x.requires_grad


def test_detach_shares_storage_and_cuts_history():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d.add_(1.0)  # shares storage with y
    assert y.tolist() == [3.0, 5.0]
    out = (d * x).sum()
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 5.0])  # d is a constant
    assert x.detach().is_leaf and not x.detach().requires_grad


def test_grad_fn_names_and_next_functions_match_torch():
    torch = torch_or_skip()
    calls = [lambda m, x: x * 2, lambda m, x: x + 1, lambda m, x: x / 2, lambda m, x: -x, lambda m, x: x.exp(),
             lambda m, x: x.sum(), lambda m, x: x.mean(0), lambda m, x: m.mm(x, x.t()), lambda m, x: m.softmax(x, 1),
             lambda m, x: m.cat([x, x]), lambda m, x: x.max(), lambda m, x: x.index_select(0, m.tensor([0]))]
    a = randn(2, 3)
    for call in calls:
        lx, tx = lm.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        assert call(lm, lx).grad_fn.name() == call(torch, tx).grad_fn.name()
    x = lm.tensor(a, requires_grad=True)
    (fn, nr), = x.sum().grad_fn.next_functions
    assert fn.name() == "AccumulateGrad" and nr == 0
    fns = (x * lm.ones(3)).grad_fn.next_functions
    assert fns[0][0].name() == "AccumulateGrad" and fns[1][0] is None


# ---------------------------------------------------------------- retain_grad, shared subgraphs
def test_retain_grad_keeps_the_grad_of_a_non_leaf():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    y.retain_grad()
    z = x * 5.0  # not retained
    (y * y + z).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 12.0])
    assert z.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [23.0, 41.0])


def test_retain_grad_accumulates_and_matches_torch():
    torch = torch_or_skip()
    a = randn(3)
    grads = []
    for m in (lm, torch):
        x = m.tensor(a, requires_grad=True)
        y = x.exp()
        y.retain_grad()
        out = (y * y).sum() + y.sum()
        out.backward(retain_graph=True)
        out.backward()
        grads.append(y.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_retain_grad_on_a_leaf_is_a_no_op_and_needs_requires_grad():
    x = lm.tensor([1.0], requires_grad=True)
    x.retain_grad()
    (x * 2.0).sum().backward()
    assert x.grad.tolist() == [2.0]
    with pytest.raises(RuntimeError, match="requires_grad"):
        lm.zeros(2).retain_grad()


def test_diamond_graph_accumulates_both_paths():
    check_against_torch(lambda m, x: (x.exp() + x * x) * x.sum(), [randn(3)])
    x = lm.tensor(2.0, requires_grad=True)
    a = x * 3.0
    b, c = a * a, a.exp()  # a is used twice, x reaches the output through both
    (b + c).backward()
    np.testing.assert_allclose(x.grad.item(), 3 * (2 * 6.0 + np.exp(6.0)), rtol=1e-6)


def test_the_same_tensor_used_many_times_in_one_op():
    check_against_torch(lambda m, x: m.cat([x, x, x]) * m.stack([x, x, x]).reshape(-1), [randn(4)])


def test_deep_chain_backward_and_free_do_not_recurse():
    x = lm.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10000):
        y = y * 1.0001 + 0.0
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001 ** 10000, rtol=1e-3)
    del y  # releasing the 20000-node graph must not overflow the stack
    z = x
    for _ in range(200000):
        z = z + 1.0
    del z


def test_deep_chain_in_a_thread():
    # threads have smaller stacks than the main thread on some systems
    errors = []

    def run():
        try:
            x = lm.tensor(1.0, requires_grad=True)
            y = x
            for _ in range(20000):
                y = y * 1.0
            y.backward()
            errors.append(x.grad.item() != 1.0)
        except Exception as e:  # pragma: no cover
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert errors == [False]


def test_a_branch_that_does_not_need_grad_is_skipped():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    c = lm.tensor([3.0, 4.0])
    (x * c + c.exp()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    assert c.grad is None


def test_unused_output_of_a_multi_output_op():
    check_against_torch(lambda m, x: x.split(2)[1] * 2, [randn(5)])
    check_against_torch(lambda m, x: x.max(0).values, [randn(3, 2)])


# ---------------------------------------------------------------- grad mode
def test_no_grad_context_manager_and_nesting():
    x = lm.ones(2, requires_grad=True)
    assert lm.is_grad_enabled()
    with lm.no_grad():
        assert not lm.is_grad_enabled()
        y = x * 2.0
        with lm.enable_grad():
            assert lm.is_grad_enabled()
            z = x * 2.0
            with lm.no_grad():
                assert not (x * 2.0).requires_grad
            assert lm.is_grad_enabled()
        assert not lm.is_grad_enabled()
    assert lm.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with lm.no_grad():
            raise ValueError("boom")
    assert lm.is_grad_enabled()


def test_grad_mode_decorators():
    @lm.no_grad()
    def f():
        return lm.is_grad_enabled()

    @lm.no_grad
    def g():
        return lm.is_grad_enabled()

    @lm.enable_grad()
    def h():
        return lm.is_grad_enabled()

    @lm.set_grad_enabled(False)
    def k():
        return lm.is_grad_enabled()

    assert lm.is_grad_enabled()  # decorating changes nothing outside
    assert f() is False and g() is False and k() is False
    assert lm.is_grad_enabled()
    with lm.no_grad():
        assert h() is True
        assert not lm.is_grad_enabled()
    assert f.__name__ == "f" and g.__name__ == "g"


def test_set_grad_enabled_as_function_and_context_manager():
    try:
        lm.set_grad_enabled(False)
        assert not lm.is_grad_enabled()
        lm.set_grad_enabled(True)
        assert lm.is_grad_enabled()
        with lm.set_grad_enabled(False):
            assert not lm.is_grad_enabled()
            with lm.set_grad_enabled(True):
                assert lm.is_grad_enabled()
            assert not lm.is_grad_enabled()
        assert lm.is_grad_enabled()
    finally:
        lm.set_grad_enabled(True)


def test_grad_mode_is_thread_local():
    seen = {}

    def worker():
        seen["enabled"] = lm.is_grad_enabled()
        x = lm.ones(2, requires_grad=True)
        seen["records"] = (x * 2.0).requires_grad

    with lm.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert not lm.is_grad_enabled()
    assert seen == {"enabled": True, "records": True}

    def disabler():
        lm.set_grad_enabled(False)
        seen["inner"] = lm.is_grad_enabled()

    t = threading.Thread(target=disabler)
    t.start()
    t.join()
    assert seen["inner"] is False and lm.is_grad_enabled()


def test_backward_on_several_threads_through_a_shared_leaf_loses_no_update():
    w = lm.zeros(100000, requires_grad=True)

    def run():
        for _ in range(25):
            (w * 2.0).sum().backward()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(w.grad.numpy(), np.full(100000, 200.0, dtype=np.float32))


def test_in_place_op_on_a_leaf_that_requires_grad_raises_unless_no_grad():
    x = lm.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.add_(1.0)
    with lm.no_grad():
        x.add_(1.0)
    assert x.tolist() == [2.0, 2.0] and x.requires_grad


# ---------------------------------------------------------------- memory
def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
def test_graphs_and_saved_tensors_are_freed_after_backward():
    w = lm.randn(1024, requires_grad=True)

    def step():
        x = lm.randn(256, 1024)  # 1 MB; the graph saves several tensors of this size
        h = lm.softmax(x * w, 1)
        loss = (h * h).sum() + h.max() + lm.cat([h, h]).var() + (x @ w).sum()
        loss.backward()
        w.grad = None

    for _ in range(3):
        step()
    gc.collect()
    before = _rss_bytes()
    for _ in range(25):  # a leak of the graph would add > 140 MB
        step()
    gc.collect()
    assert _rss_bytes() - before < 25 * 2**20


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
def test_a_graph_kept_alive_only_by_its_output_is_freed_with_it():
    w = lm.randn(256, 1024, requires_grad=True)
    for _ in range(5):
        y = (w * 2.0).exp().sum()
        del y
    gc.collect()
    before = _rss_bytes()
    for _ in range(40):  # no backward: the graph (saving 1 MB each) must go with y
        y = (w * 2.0).exp().sum()
        del y
    gc.collect()
    assert _rss_bytes() - before < 15 * 2**20

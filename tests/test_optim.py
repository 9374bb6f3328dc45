"""Optimizers: trajectories over 12 steps equal to torch.optim's for every option combination (same
initial parameters, the same fixed sequence of random gradients), parameter groups with different
learning rates, parameters without gradients, state_dict layout and round trip, zero_grad, the
constructors' validation errors, and the fused step ops' argument checks."""
import itertools

import numpy as np
import pytest

import lamina as lm
import lamina.optim as optim
from helpers import torch_or_skip

STEPS = 12
SHAPES = [(3, 4), (5,), (2, 1, 3)]


def gradient_sequence(seed=0, steps=STEPS, shapes=SHAPES):
    r = np.random.default_rng(seed)
    return [[r.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(steps)]


def initial_params(seed=1, shapes=SHAPES):
    r = np.random.default_rng(seed)
    return [r.standard_normal(s).astype(np.float32) for s in shapes]


def run_lamina(make, groups_of, grads, params0, start=None):
    params = [lm.tensor(p.copy(), requires_grad=True) for p in params0]
    opt = make(optim, groups_of(params))
    if start is not None:
        start(opt)
    trajectory = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else lm.tensor(g)
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory, opt, params


def run_torch(make, groups_of, grads, params0):
    torch = torch_or_skip()
    params = [torch.tensor(p.copy(), requires_grad=True) for p in params0]
    opt = make(torch.optim, groups_of(params))
    trajectory = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else torch.tensor(g)
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory, opt


def assert_same_trajectory(make, groups_of=lambda ps: ps, grads=None, atol=1e-6, rtol=1e-5):
    grads = gradient_sequence() if grads is None else grads
    params0 = initial_params()
    got, lopt, _ = run_lamina(make, groups_of, grads, params0)
    want, topt = run_torch(make, groups_of, grads, params0)
    for step, (g, w) in enumerate(zip(got, want)):
        for k, (a, b) in enumerate(zip(g, w)):
            np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, err_msg=f"step {step + 1}, param {k}")
    # the same state in the same layout
    lsd, tsd = lopt.state_dict(), topt.state_dict()
    assert [sorted(g) for g in lsd["param_groups"]] == [sorted(g) for g in tsd["param_groups"]]
    assert sorted(lsd["state"]) == sorted(tsd["state"])
    for i in tsd["state"]:
        assert sorted(lsd["state"][i]) == sorted(tsd["state"][i])
        for key, value in tsd["state"][i].items():
            np.testing.assert_allclose(lsd["state"][i][key].numpy(), value.numpy(), atol=atol, rtol=rtol,
                                       err_msg=f"state {i} {key}")


def combos(**options):
    keys = list(options)
    return [dict(zip(keys, values)) for values in itertools.product(*(options[k] for k in keys))]


# --- trajectories against torch -----------------------------------------------------------------

SGD_CASES = [c for c in combos(momentum=[0.0, 0.9], dampening=[0.0, 0.3], nesterov=[False, True],
                               weight_decay=[0.0, 0.05], maximize=[False, True])
             if not (c["nesterov"] and (c["momentum"] == 0 or c["dampening"] != 0))]


@pytest.mark.parametrize("kw", SGD_CASES, ids=str)
def test_sgd_trajectory_matches_torch(kw):
    assert_same_trajectory(lambda o, ps: o.SGD(ps, lr=0.05, **kw))


ADAM_CASES = combos(amsgrad=[False, True], weight_decay=[0.0, 0.1], maximize=[False, True])


@pytest.mark.parametrize("kw", ADAM_CASES, ids=str)
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_and_adamw_trajectories_match_torch(name, kw):
    assert_same_trajectory(lambda o, ps: getattr(o, name)(ps, lr=0.01, betas=(0.8, 0.99), **kw))


def test_adam_with_decoupled_weight_decay_flag_matches_adamw():
    assert_same_trajectory(lambda o, ps: o.Adam(ps, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True))


RMSPROP_CASES = combos(momentum=[0.0, 0.5], centered=[False, True], weight_decay=[0.0, 0.1], maximize=[False, True])


@pytest.mark.parametrize("kw", RMSPROP_CASES, ids=str)
def test_rmsprop_trajectory_matches_torch(kw):
    assert_same_trajectory(lambda o, ps: o.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-6, **kw))


ADAGRAD_CASES = combos(lr_decay=[0.0, 0.1], weight_decay=[0.0, 0.1], initial_accumulator_value=[0.0, 0.5],
                       maximize=[False, True])


@pytest.mark.parametrize("kw", ADAGRAD_CASES, ids=str)
def test_adagrad_trajectory_matches_torch(kw):
    assert_same_trajectory(lambda o, ps: o.Adagrad(ps, lr=0.1, eps=1e-8, **kw))


ADADELTA_CASES = combos(rho=[0.9, 0.5], weight_decay=[0.0, 0.1], maximize=[False, True])


@pytest.mark.parametrize("kw", ADADELTA_CASES, ids=str)
def test_adadelta_trajectory_matches_torch(kw):
    assert_same_trajectory(lambda o, ps: o.Adadelta(ps, lr=0.5, eps=1e-5, **kw))


ALL = [
    lambda o, ps: o.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    lambda o, ps: o.Adam(ps, lr=0.01, amsgrad=True),
    lambda o, ps: o.AdamW(ps, lr=0.01),
    lambda o, ps: o.RMSprop(ps, lr=0.01, momentum=0.3, centered=True),
    lambda o, ps: o.Adagrad(ps, lr=0.1, lr_decay=0.05),
    lambda o, ps: o.Adadelta(ps, lr=0.5),
]
ALL_IDS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"]


@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_param_groups_with_different_lr_match_torch(make):
    def groups(ps):
        return [{"params": [ps[0]]}, {"params": ps[1:], "lr": 0.002, "weight_decay": 0.01}]
    assert_same_trajectory(make, groups)


@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_parameters_without_gradient_are_skipped_like_torch(make):
    grads = gradient_sequence()
    for step, g in enumerate(grads):
        if step % 3 == 1:
            g[1] = None          # param 1 misses some steps: its own step count
        g[2] = None if step < 4 else g[2]   # param 2 has no state until step 5
    assert_same_trajectory(make, grads=grads)


def test_float64_parameters_match_torch():
    torch = torch_or_skip()
    params0 = [p.astype(np.float64) for p in initial_params()]
    grads = [[g.astype(np.float64) for g in step] for step in gradient_sequence()]
    lp = [lm.tensor(p.copy(), requires_grad=True) for p in params0]
    tp = [torch.tensor(p.copy(), requires_grad=True) for p in params0]
    lopt, topt = optim.Adam(lp, lr=0.01, amsgrad=True), torch.optim.Adam(tp, lr=0.01, amsgrad=True)
    for step in grads:
        for a, b, g in zip(lp, tp, step):
            a.grad, b.grad = lm.tensor(g), torch.tensor(g)
        lopt.step()
        topt.step()
    for a, b in zip(lp, tp):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_step_takes_closure_and_returns_its_loss_like_torch():
    p = lm.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.detach().numpy(), [0.8, -1.6], rtol=1e-6)


# --- state_dict ---------------------------------------------------------------------------------

def clone_state_dict(sd):
    def copy(v):
        if isinstance(v, lm.Tensor):
            return v.detach().clone()
        if isinstance(v, dict):
            return {k: copy(x) for k, x in v.items()}
        if isinstance(v, list):
            return [copy(x) for x in v]
        return v
    return copy(sd)


@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_state_dict_round_trip_continues_like_uninterrupted_run(make):
    grads, params0 = gradient_sequence(), initial_params()
    groups = lambda ps: [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.003}]  # noqa: E731
    uninterrupted, _, _ = run_lamina(make, groups, grads, params0)

    first, opt, params = run_lamina(make, groups, grads[:5], params0)
    saved = clone_state_dict(opt.state_dict())
    resumed_params0 = [p.detach().numpy().copy() for p in params]
    rest, opt2, _ = run_lamina(make, groups, grads[5:], resumed_params0, start=lambda o: o.load_state_dict(saved))
    for step, (a, b) in enumerate(zip(first + rest, uninterrupted)):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y, err_msg=f"step {step + 1}")
    assert opt2.param_groups[1]["lr"] == 0.003


def test_state_dict_loads_into_torch_layout_and_back():
    torch = torch_or_skip()
    grads, params0 = gradient_sequence(), initial_params()
    _, lopt, _ = run_lamina(lambda o, ps: o.Adam(ps, lr=0.01), lambda ps: ps, grads[:3], params0)
    sd = lopt.state_dict()
    tparams = [torch.tensor(p, requires_grad=True) for p in params0]
    topt = torch.optim.Adam(tparams, lr=0.01)
    topt.load_state_dict({"state": {i: {k: torch.tensor(v.numpy()) for k, v in s.items()} for i, s in sd["state"].items()},
                          "param_groups": sd["param_groups"]})
    assert float(topt.state[tparams[0]]["step"]) == 3.0


def test_load_state_dict_rejects_mismatched_groups_like_torch():
    ps = [lm.zeros(2, requires_grad=True), lm.zeros(3, requires_grad=True)]
    opt = optim.SGD(ps, lr=0.1)
    other = optim.SGD([{"params": ps[:1]}, {"params": ps[1:]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(other.state_dict())
    small = optim.SGD(ps[:1], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(small.state_dict())


def test_adagrad_state_exists_before_the_first_step_like_torch():
    opt = optim.Adagrad([lm.zeros(2, requires_grad=True)], initial_accumulator_value=0.25)
    state = opt.state_dict()["state"][0]
    assert state["step"].item() == 0.0 and state["sum"].tolist() == [0.25, 0.25]


# --- zero_grad, groups, validation ---------------------------------------------------------------

def test_zero_grad_sets_to_none_or_zeros():
    p = lm.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_add_param_group_fills_defaults_and_rejects_overlap():
    a, b = lm.zeros(2, requires_grad=True), lm.zeros(2, requires_grad=True)
    opt = optim.Adam([a], lr=0.01)
    opt.add_param_group({"params": b, "lr": 0.1})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {lm.zeros(1, requires_grad=True)}})


def test_named_parameters_are_accepted_and_kept_in_state_dict():
    a = lm.zeros(2, requires_grad=True)
    opt = optim.SGD([("weight", a)], lr=0.1)
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight"]


@pytest.mark.parametrize("make,message", [
    (lambda ps: optim.SGD(ps, lr=-1.0), "Invalid learning rate"),
    (lambda ps: optim.SGD(ps, momentum=-0.1), "Invalid momentum value"),
    (lambda ps: optim.SGD(ps, weight_decay=-1), "Invalid weight_decay value"),
    (lambda ps: optim.SGD(ps, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (lambda ps: optim.Adam(ps, lr=-1.0), "Invalid learning rate"),
    (lambda ps: optim.Adam(ps, eps=-1.0), "Invalid epsilon value"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
    (lambda ps: optim.AdamW(ps, betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    (lambda ps: optim.Adam(ps, weight_decay=-1.0), "Invalid weight_decay value"),
    (lambda ps: optim.RMSprop(ps, alpha=-1.0), "Invalid alpha value"),
    (lambda ps: optim.RMSprop(ps, momentum=-1.0), "Invalid momentum value"),
    (lambda ps: optim.Adagrad(ps, lr_decay=-1.0), "Invalid lr_decay value"),
    (lambda ps: optim.Adagrad(ps, initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value"),
    (lambda ps: optim.Adadelta(ps, rho=1.5), "Invalid rho value"),
    (lambda ps: optim.Adadelta(ps, eps=-1.0), "Invalid epsilon value"),
    (lambda ps: optim.SGD([], lr=0.1), "empty parameter list"),
])
def test_constructor_validation_raises_value_error_like_torch(make, message):
    with pytest.raises(ValueError, match=message):
        make([lm.zeros(2, requires_grad=True)])


def test_constructor_rejects_a_tensor_and_non_leaf_params():
    p = lm.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([1.0], lr=0.1)


def test_fused_step_ops_check_their_lists():
    p, g = lm.zeros(3), lm.ones(3)
    kw = dict(lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
              decoupled_weight_decay=False)
    with pytest.raises(ValueError, match=r"\[adam_step_\] expected one entry of grads"):
        lm._C.adam_step_([p], [], [lm.zeros(3)], [lm.zeros(3)], [], [lm.tensor(0.0)], **kw)
    with pytest.raises(ValueError, match=r"\[adam_step_\] exp_avgs\[0\] must have the shape"):
        lm._C.adam_step_([p], [g], [lm.zeros(4)], [lm.zeros(3)], [], [lm.tensor(0.0)], **kw)
    with pytest.raises(TypeError, match=r"\[adam_step_\] grads\[0\] must have the dtype"):
        lm._C.adam_step_([p], [g.double()], [lm.zeros(3)], [lm.zeros(3)], [], [lm.tensor(0.0)], **kw)
    with pytest.raises(ValueError, match=r"\[adam_step_\] params\[0\] must be contiguous"):
        q = lm.zeros(3, 2)
        lm._C.adam_step_([q.t()], [lm.ones(2, 3)], [lm.zeros(2, 3)], [lm.zeros(2, 3)], [], [lm.tensor(0.0)], **kw)
    assert p.tolist() == [0.0, 0.0, 0.0]  # nothing was written by the failed calls


def test_fused_step_bumps_versions_so_saved_tensors_notice():
    p = lm.tensor([1.0, 2.0], requires_grad=True)
    y = (p * p).sum()          # saves p for backward
    p.grad = lm.ones(2)
    optim.SGD([p], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()

"""Learning-rate schedulers beside PyTorch: the lr sequence of every scheduler over 40 steps
equals torch's (two param groups, typical options), through step(), step(epoch) (closed
forms), state_dict round trips, OneCycleLR's momentum cycling, and bad arguments.

The lamina schedulers run on a stand-in optimizer (any object with param_groups works) and on
lamina.optim.SGD when it exists.
"""
import math

import pytest

from lamina.optim import lr_scheduler as lrs

torch = pytest.importorskip("torch", reason="PyTorch (test extra) is not installed")
STEPS = 40


class FakeOptimizer:
    """The part of an optimizer that schedulers use."""

    def __init__(self, lrs_=(0.1, 0.05), momentum=0.9, betas=None):
        self.defaults = {"lr": lrs_[0], "momentum": momentum} if betas is None else {"lr": lrs_[0], "betas": betas}
        self.param_groups = []
        for lr in lrs_:
            group = {"lr": lr, "params": []}
            group.update({"momentum": momentum} if betas is None else {"betas": betas})
            self.param_groups.append(group)

    def step(self):
        pass


def torch_optimizer(lrs_=(0.1, 0.05), betas=None):
    params = [[torch.nn.Parameter(torch.zeros(1))] for _ in lrs_]
    groups = [{"params": p, "lr": lr} for p, lr in zip(params, lrs_)]
    if betas is not None:
        return torch.optim.Adam(groups, betas=betas)
    return torch.optim.SGD(groups, momentum=0.9)


def run(make, opt, steps=STEPS, metrics=None):
    """lrs after construction and after each step, and the groups' momentum/betas."""
    sched = make(opt)
    seq = [list(sched.get_last_lr())]
    moms = [[g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        seq.append(list(sched.get_last_lr()))
        assert seq[-1] == [g["lr"] for g in opt.param_groups]
        moms.append([g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups])
    return seq, moms


def assert_same_sequence(make_lamina, make_torch, betas=None, metrics=None, steps=STEPS):
    lam, lam_m = run(make_lamina, FakeOptimizer(betas=betas), steps, metrics)
    ref, ref_m = run(make_torch, torch_optimizer(betas=betas), steps, metrics)
    assert len(lam) == steps + 1
    for i, (a, b) in enumerate(zip(lam, ref)):
        assert a == b, f"step {i}: {a} != {b}"
    for i, (a, b) in enumerate(zip(lam_m, ref_m)):
        assert a == pytest.approx(b, rel=1e-12), f"momentum at step {i}: {a} != {b}"
    return lam


T = torch.optim.lr_scheduler
CASES = {
    "StepLR": (lambda o: lrs.StepLR(o, step_size=7, gamma=0.5), lambda o: T.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": (lambda o: lrs.MultiStepLR(o, [5, 12, 12, 30], gamma=0.3),
                    lambda o: T.MultiStepLR(o, [5, 12, 12, 30], gamma=0.3)),
    "ExponentialLR": (lambda o: lrs.ExponentialLR(o, gamma=0.93), lambda o: T.ExponentialLR(o, gamma=0.93)),
    "CosineAnnealingLR": (lambda o: lrs.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
                          lambda o: T.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
    "CosineAnnealingLR_default": (lambda o: lrs.CosineAnnealingLR(o, T_max=25),
                                  lambda o: T.CosineAnnealingLR(o, T_max=25)),
    "LinearLR": (lambda o: lrs.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=12),
                 lambda o: T.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=12)),
    "LinearLR_default": (lambda o: lrs.LinearLR(o), lambda o: T.LinearLR(o)),
    "LambdaLR": (lambda o: lrs.LambdaLR(o, lambda e: 0.95 ** e + 0.01 * (e % 3)),
                 lambda o: T.LambdaLR(o, lambda e: 0.95 ** e + 0.01 * (e % 3))),
    "LambdaLR_per_group": (lambda o: lrs.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: math.sqrt(e + 1)]),
                           lambda o: T.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: math.sqrt(e + 1)])),
    "OneCycleLR_cos": (lambda o: lrs.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS),
                       lambda o: T.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS)),
    "OneCycleLR_linear_three_phase": (
        lambda o: lrs.OneCycleLR(o, max_lr=0.8, epochs=4, steps_per_epoch=10, pct_start=0.25,
                                 anneal_strategy="linear", three_phase=True, div_factor=10.0),
        lambda o: T.OneCycleLR(o, max_lr=0.8, epochs=4, steps_per_epoch=10, pct_start=0.25,
                               anneal_strategy="linear", three_phase=True, div_factor=10.0)),
    "SequentialLR": (
        lambda o: lrs.SequentialLR(o, [lrs.LinearLR(o, start_factor=0.1, total_iters=5),
                                       lrs.ExponentialLR(o, gamma=0.9), lrs.StepLR(o, 4, 0.5)], milestones=[5, 20]),
        lambda o: T.SequentialLR(o, [T.LinearLR(o, start_factor=0.1, total_iters=5),
                                     T.ExponentialLR(o, gamma=0.9), T.StepLR(o, 4, 0.5)], milestones=[5, 20])),
    "SequentialLR_warmup_cosine": (
        lambda o: lrs.SequentialLR(o, [lrs.LinearLR(o, start_factor=0.01, total_iters=8),
                                       lrs.CosineAnnealingLR(o, T_max=32)], milestones=[8]),
        lambda o: T.SequentialLR(o, [T.LinearLR(o, start_factor=0.01, total_iters=8),
                                     T.CosineAnnealingLR(o, T_max=32)], milestones=[8])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_lr_sequence_matches_torch(name):
    make_lamina, make_torch = CASES[name]
    assert_same_sequence(make_lamina, make_torch)


def test_cosine_annealing_follows_the_cosine_past_t_max_like_torch():
    seq = assert_same_sequence(lambda o: lrs.CosineAnnealingLR(o, T_max=6, eta_min=0.01),
                               lambda o: T.CosineAnnealingLR(o, T_max=6, eta_min=0.01))
    assert seq[6][0] == pytest.approx(0.01) and seq[12][0] == pytest.approx(0.1)


def test_one_cycle_cycles_adam_beta1_like_torch():
    assert_same_sequence(lambda o: lrs.OneCycleLR(o, max_lr=0.01, total_steps=STEPS, base_momentum=0.8),
                         lambda o: T.OneCycleLR(o, max_lr=0.01, total_steps=STEPS, base_momentum=0.8),
                         betas=(0.9, 0.99))


@pytest.mark.parametrize("kwargs", [dict(), dict(mode="max", threshold_mode="abs", threshold=0.05, patience=2),
                                    dict(factor=0.5, patience=1, cooldown=2, min_lr=[0.02, 0.001])])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = [1.0 / (i + 1) if i < 8 else 0.12 + 0.01 * math.sin(i) for i in range(STEPS)]
    if kwargs.get("mode") == "max":
        metrics = [-m for m in metrics]
    seq = assert_same_sequence(lambda o: lrs.ReduceLROnPlateau(o, **kwargs),
                               lambda o: T.ReduceLROnPlateau(o, **kwargs), metrics=metrics)
    assert seq[-1][0] < seq[0][0]  # it did reduce


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR"])
def test_step_with_epoch_uses_the_closed_form_like_torch(name):
    make_lamina, make_torch = CASES[name]
    lam_opt, ref_opt = FakeOptimizer(), torch_optimizer()
    lam, ref = make_lamina(lam_opt), make_torch(ref_opt)
    with pytest.warns(UserWarning):
        for epoch in [3, 9, 15, 4, 27, 12]:
            lam.step(epoch)
            ref.step(epoch)
            assert lam.get_last_lr() == pytest.approx(ref.get_last_lr(), rel=1e-12)


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "OneCycleLR_cos", "SequentialLR", "LambdaLR"])
def test_state_dict_round_trip_resumes_the_sequence(name):
    make_lamina, _ = CASES[name]
    full, _ = run(make_lamina, FakeOptimizer(), STEPS)
    opt = FakeOptimizer()
    sched = make_lamina(opt)
    for _ in range(15):
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state
    groups = [dict(g) for g in opt.param_groups]
    opt2 = FakeOptimizer()
    sched2 = make_lamina(opt2)
    opt2.param_groups = groups
    sched2.optimizer = opt2
    if name == "SequentialLR":
        for s in sched2._schedulers:
            s.optimizer = opt2
    sched2.load_state_dict(state)
    assert sched2.get_last_lr() == full[15]
    for i in range(16, STEPS + 1):
        sched2.step()
        assert sched2.get_last_lr() == pytest.approx(full[i], rel=1e-12)


def test_reduce_lr_on_plateau_state_dict_round_trip():
    opt = FakeOptimizer()
    sched = lrs.ReduceLROnPlateau(opt, patience=1)
    for m in [1.0, 1.0, 1.0]:
        sched.step(m)
    state = sched.state_dict()
    sched2 = lrs.ReduceLROnPlateau(FakeOptimizer(), patience=5)
    sched2.load_state_dict(state)
    assert sched2.patience == 1 and sched2.best == 1.0 and sched2.get_last_lr() == sched.get_last_lr()


def test_schedulers_drive_lamina_sgd():
    optim = pytest.importorskip("lamina.optim")
    if not hasattr(optim, "SGD"):
        pytest.skip("lamina.optim.SGD is not written yet")
    import lamina as lm
    from lamina.nn.parameter import Parameter
    opt = optim.SGD([Parameter(lm.zeros(2))], lr=0.1, momentum=0.9)
    ref = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1, momentum=0.9)
    lam_s, ref_s = lrs.OneCycleLR(opt, max_lr=1.0, total_steps=20), T.OneCycleLR(ref, max_lr=1.0, total_steps=20)
    for _ in range(20):
        opt.step()
        ref.step()
        lam_s.step()
        ref_s.step()
        assert lam_s.get_last_lr() == pytest.approx(ref_s.get_last_lr(), rel=1e-12)
        assert opt.param_groups[0]["momentum"] == pytest.approx(ref.param_groups[0]["momentum"], rel=1e-12)


def test_bad_arguments_raise_like_torch():
    opt = FakeOptimizer()
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        lrs.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lrs.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode foo is unknown"):
        lrs.ReduceLROnPlateau(opt, mode="foo")
    with pytest.raises(ValueError, match="either total_steps OR"):
        lrs.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        lrs.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        lrs.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="number of milestone points"):
        lrs.SequentialLR(opt, [lrs.StepLR(opt, 2), lrs.StepLR(opt, 3)], milestones=[])
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lrs.StepLR(object(), 2)
    with pytest.raises(KeyError, match="initial_lr"):
        lrs.StepLR(FakeOptimizer(), 2, last_epoch=3)
    sched = lrs.OneCycleLR(FakeOptimizer(), max_lr=0.1, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()

"""Losses: finite-difference gradients (float64), parity with torch.nn.functional for every option
(float32, forward and gradients of input and of float targets and elementwise weights), the
stability of cross-entropy at logits of +-1e4, the modules, and bad inputs."""
import warnings

import numpy as np
import pytest

import lamina as lm
from lamina.nn import _functional_loss as LF
from lamina.nn import loss as L
from helpers import check_against_torch, gradcheck, torch_or_skip

REDUCTIONS = ["none", "mean", "sum"]


def rng(seed=0):
    return np.random.default_rng(seed)


def F_of(m):
    """The functional namespace of module m: lamina's losses or torch.nn.functional."""
    return LF if m is lm else __import__("torch").nn.functional


def f32(*shape, seed=0, low=None, high=None):
    r = rng(seed)
    a = r.standard_normal(shape) if low is None else r.uniform(low, high, shape)
    return a.astype(np.float32)


# --- elementwise losses -----------------------------------------------------------------------

POINTWISE = [  # (name, extra kwargs)
    ("mse_loss", {}), ("l1_loss", {}),
    ("smooth_l1_loss", {"beta": 1.0}), ("smooth_l1_loss", {"beta": 0.3}), ("smooth_l1_loss", {"beta": 0.0}),
    ("huber_loss", {"delta": 1.0}), ("huber_loss", {"delta": 0.4}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", POINTWISE)
def test_pointwise_loss_matches_torch(name, kw, reduction):
    x, t = f32(4, 5, seed=1), f32(4, 5, seed=2)
    check_against_torch(lambda m, a, b: getattr(F_of(m), name)(a, b, reduction=reduction, **kw), [x, t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_pointwise_loss_matches_torch_including_weight_gradient(name, reduction):
    x, t, w = f32(3, 4, seed=1), f32(3, 4, seed=2), f32(3, 4, seed=3, low=0.2, high=2.0)
    check_against_torch(lambda m, a, b, c: getattr(F_of(m), name)(a, b, reduction=reduction, weight=c), [x, t, w])


def test_pointwise_loss_broadcasts_target_with_torch_warning():
    x, t = f32(3, 4, seed=1), f32(4, seed=2)
    with pytest.warns(UserWarning, match="different to the input size"):
        check_against_torch(lambda m, a, b: F_of(m).mse_loss(a, b), [x, t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_matches_torch(reduction, weighted):
    x, t = f32(4, 3, seed=1, low=0.05, high=0.95), f32(4, 3, seed=2, low=0.0, high=1.0)
    w = f32(3, seed=3, low=0.5, high=2.0)
    check_against_torch(lambda m, a, b: F_of(m).binary_cross_entropy(
        a, b, weight=m.tensor(w) if weighted else None, reduction=reduction), [x, t])


def test_binary_cross_entropy_clamps_log_at_minus_100_like_torch():
    x = np.array([0.0, 1.0, 0.5, 1.0], dtype=np.float32)
    t = np.array([1.0, 0.0, 0.5, 1.0], dtype=np.float32)
    out = check_against_torch(lambda m, a, b: F_of(m).binary_cross_entropy(a, b, reduction="none"), [x, t], grad=False)
    np.testing.assert_allclose(out.numpy()[:2], [100.0, 100.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted,pos_weighted", [(False, False), (True, False), (False, True), (True, True)])
def test_binary_cross_entropy_with_logits_matches_torch(reduction, weighted, pos_weighted):
    x, t = f32(4, 3, seed=1) * 3, f32(4, 3, seed=2, low=0.0, high=1.0)
    w, pw = f32(3, seed=3, low=0.5, high=2.0), f32(3, seed=4, low=0.5, high=3.0)
    check_against_torch(lambda m, a, b: F_of(m).binary_cross_entropy_with_logits(
        a, b, weight=m.tensor(w) if weighted else None, reduction=reduction,
        pos_weight=m.tensor(pw) if pos_weighted else None), [x, t])


def test_binary_cross_entropy_with_logits_is_finite_at_large_logits():
    x = np.array([-1e4, 1e4, -80.0, 80.0], dtype=np.float32)
    t = np.array([1.0, 0.0, 0.3, 0.7], dtype=np.float32)
    out = check_against_torch(lambda m, a, b: F_of(m).binary_cross_entropy_with_logits(a, b, reduction="none"), [x, t])
    assert np.isfinite(out.detach().numpy()).all()


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    x = np.log(f32(3, 4, seed=1, low=0.1, high=1.0))
    t = f32(3, 4, seed=2, low=0.1, high=1.0)
    if log_target:
        t = np.log(t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_against_torch(lambda m, a, b: F_of(m).kl_div(a, b, reduction=reduction, log_target=log_target), [x, t])


def test_kl_div_mean_warns_like_torch():
    x = lm.tensor(np.log(f32(2, 3, low=0.1, high=1.0)))
    with pytest.warns(UserWarning, match="batchmean"):
        LF.kl_div(x, lm.tensor(f32(2, 3, low=0.1, high=1.0)))


# --- class losses ------------------------------------------------------------------------------

def class_targets(shape, C, seed=0, ignore=None):
    y = rng(seed).integers(0, C, shape).astype(np.int64)
    if ignore is not None:
        y.reshape(-1)[::3] = ignore
    return y


SHAPES = [((6, 5), (6,)), ((3, 4, 2, 3), (3, 2, 3)), ((5,), ())]  # input, target; C = input.shape[1] or [0]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("in_shape,t_shape", SHAPES)
def test_cross_entropy_with_class_indices_matches_torch(in_shape, t_shape, label_smoothing, ignore_index, weighted,
                                                        reduction):
    C = in_shape[1] if len(in_shape) > 1 else in_shape[0]
    x = f32(*in_shape, seed=1) * 2
    y = class_targets(t_shape, C, seed=2, ignore=ignore_index if ignore_index >= 0 and t_shape else None)
    w = f32(C, seed=3, low=0.3, high=2.0)
    check_against_torch(lambda m, a: F_of(m).cross_entropy(
        a, m.tensor(y), weight=m.tensor(w) if weighted else None, ignore_index=ignore_index, reduction=reduction,
        label_smoothing=label_smoothing), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("in_shape", [(4, 5), (2, 3, 2, 2), (4,)])
def test_cross_entropy_with_class_probabilities_matches_torch(in_shape, label_smoothing, weighted, reduction):
    C = in_shape[1] if len(in_shape) > 1 else in_shape[0]
    x = f32(*in_shape, seed=1) * 2
    p = np.exp(f32(*in_shape, seed=2))
    p = (p / p.sum(axis=1 if len(in_shape) > 1 else 0, keepdims=True)).astype(np.float32)
    w = f32(C, seed=3, low=0.3, high=2.0)
    check_against_torch(lambda m, a, b: F_of(m).cross_entropy(
        a, b, weight=m.tensor(w) if weighted else None, reduction=reduction, label_smoothing=label_smoothing), [x, p])


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_stays_finite_at_logits_of_1e4(label_smoothing):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4]], dtype=np.float32)
    y = np.array([1, 2, 0], dtype=np.int64)
    for reduction in REDUCTIONS:
        out = check_against_torch(lambda m, a: F_of(m).cross_entropy(
            a, m.tensor(y), reduction=reduction, label_smoothing=label_smoothing), [x])
        assert np.isfinite(out.detach().numpy()).all()
    xl = lm.tensor(x, requires_grad=True)
    LF.cross_entropy(xl, lm.tensor(y), label_smoothing=label_smoothing).backward()
    assert np.isfinite(xl.grad.numpy()).all()


def test_cross_entropy_mean_with_every_target_ignored_is_nan_like_torch():
    x = f32(3, 4)
    y = np.full(3, -100, dtype=np.int64)
    out = check_against_torch(lambda m, a: F_of(m).cross_entropy(a, m.tensor(y)), [x], grad=False, atol=0)
    assert np.isnan(out.item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("in_shape,t_shape", SHAPES)
def test_nll_loss_matches_torch(in_shape, t_shape, ignore_index, weighted, reduction):
    C = in_shape[1] if len(in_shape) > 1 else in_shape[0]
    x = f32(*in_shape, seed=1)
    y = class_targets(t_shape, C, seed=2, ignore=ignore_index if ignore_index >= 0 and t_shape else None)
    w = f32(C, seed=3, low=0.3, high=2.0)
    check_against_torch(lambda m, a: F_of(m).nll_loss(
        a, m.tensor(y), weight=m.tensor(w) if weighted else None, ignore_index=ignore_index, reduction=reduction), [x])


# --- gradcheck (float64) ----------------------------------------------------------------------

def f64(*shape, seed=0, low=None, high=None):
    return f32(*shape, seed=seed, low=low, high=high).astype(np.float64)


@pytest.mark.parametrize("name,kw", POINTWISE[:4] + POINTWISE[5:])
def test_pointwise_loss_gradcheck(name, kw):
    x, t = f64(3, 4, seed=1), f64(3, 4, seed=2)
    gradcheck(lambda a, b: getattr(LF, name)(a, b, reduction="none", **kw), [x, t])
    gradcheck(lambda a, b: getattr(LF, name)(a, b, reduction="sum", **kw), [x, t])


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_pointwise_loss_gradcheck_with_weight(name):
    x, t, w = f64(2, 3, seed=1), f64(2, 3, seed=2), f64(2, 3, seed=3, low=0.2, high=2.0)
    gradcheck(lambda a, b, c: getattr(LF, name)(a, b, weight=c), [x, t, w])


def test_binary_cross_entropy_gradcheck():
    x, t = f64(3, 4, seed=1, low=0.1, high=0.9), f64(3, 4, seed=2, low=0.0, high=1.0)
    w = lm.tensor(f64(4, seed=3, low=0.5, high=2.0))
    gradcheck(lambda a, b: LF.binary_cross_entropy(a, b, weight=w), [x, t])


def test_binary_cross_entropy_with_logits_gradcheck():
    x, t = f64(3, 4, seed=1) * 3, f64(3, 4, seed=2, low=0.0, high=1.0)
    w, pw = lm.tensor(f64(4, seed=3, low=0.5, high=2.0)), lm.tensor(f64(4, seed=4, low=0.5, high=3.0))
    gradcheck(lambda a, b: LF.binary_cross_entropy_with_logits(a, b, weight=w, pos_weight=pw, reduction="none"), [x, t])


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_gradcheck(log_target):
    x, t = np.log(f64(3, 4, seed=1, low=0.1, high=1.0)), f64(3, 4, seed=2, low=0.1, high=1.0)
    gradcheck(lambda a, b: LF.kl_div(a, b, reduction="batchmean", log_target=log_target), [x, np.log(t) if log_target else t])


@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
def test_cross_entropy_gradcheck(label_smoothing):
    x = f64(2, 4, 3, seed=1)
    y = lm.tensor(np.array([[0, 3, 1], [2, -100, 3]], dtype=np.int64))
    w = lm.tensor(f64(4, seed=3, low=0.5, high=2.0))
    gradcheck(lambda a: LF.cross_entropy(a, y, weight=w, label_smoothing=label_smoothing), [x])
    gradcheck(lambda a: LF.cross_entropy(a, y, reduction="none", label_smoothing=label_smoothing), [x])


def test_cross_entropy_with_probabilities_gradcheck_input_and_target():
    x, p = f64(3, 4, seed=1), f64(3, 4, seed=2, low=0.0, high=1.0)
    w = lm.tensor(f64(4, seed=3, low=0.5, high=2.0))
    gradcheck(lambda a, b: LF.cross_entropy(a, b, weight=w, label_smoothing=0.1, reduction="none"), [x, p])


def test_nll_loss_gradcheck():
    x = f64(4, 3, seed=1)
    y = lm.tensor(np.array([0, 2, 1, 2], dtype=np.int64))
    gradcheck(lambda a: LF.nll_loss(a, y, weight=lm.tensor(f64(3, low=0.5, high=2.0))), [x])


# --- modules ----------------------------------------------------------------------------------

def test_loss_modules_match_torch_modules():
    torch = torch_or_skip()
    x, t = f32(4, 3, seed=1), f32(4, 3, seed=2, low=0.0, high=1.0)
    y = np.array([0, 2, 1, 2], dtype=np.int64)
    w = f32(3, seed=3, low=0.5, high=2.0)
    cases = [
        ("L1Loss", {}, x, t), ("MSELoss", {"reduction": "sum"}, x, t), ("SmoothL1Loss", {"beta": 0.5}, x, t),
        ("HuberLoss", {"delta": 0.5}, x, t), ("BCELoss", {}, 1 / (1 + np.exp(-x)), t),
        ("BCEWithLogitsLoss", {"pos_weight": w}, x, t), ("KLDivLoss", {"reduction": "batchmean"}, x, t),
        ("CrossEntropyLoss", {"weight": w, "label_smoothing": 0.1, "ignore_index": 1}, x, y),
        ("NLLLoss", {"weight": w}, x, y),
    ]
    for name, kw, a, b in cases:
        lkw = {k: lm.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        lmod, tmod = getattr(L, name)(**lkw), getattr(torch.nn, name)(**tkw)
        got = lmod(lm.tensor(a.astype(np.float32)), lm.tensor(b)).detach().numpy()
        want = tmod(torch.tensor(a.astype(np.float32)), torch.tensor(b)).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)
        assert sorted(lmod.state_dict()) == sorted(tmod.state_dict()), name
        assert lmod.reduction == tmod.reduction


def test_loss_module_legacy_size_average_and_reduce_map_to_reduction():
    with pytest.warns(UserWarning):
        assert L.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning):
        assert L.CrossEntropyLoss(reduce=False).reduction == "none"


# --- bad inputs -------------------------------------------------------------------------------

def test_cross_entropy_target_out_of_range_raises_index_error_naming_op_and_value():
    x = lm.randn(3, 4)
    with pytest.raises(IndexError, match=r"\[cross_entropy\].*7"):
        LF.cross_entropy(x, lm.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match=r"\[cross_entropy\].*-3"):
        LF.cross_entropy(x, lm.tensor([0, -3, 1]))
    with pytest.raises(IndexError, match=r"\[nll_loss\].*4"):
        LF.nll_loss(x, lm.tensor([0, 4, 1]))


def test_class_losses_reject_bad_shapes_and_dtypes():
    x = lm.randn(3, 4)
    with pytest.raises(TypeError, match=r"\[cross_entropy\].*int64"):
        LF.cross_entropy(x, lm.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"\[cross_entropy\].*float"):
        LF.cross_entropy(x, lm.zeros(3, 4, dtype=lm.int64))
    with pytest.raises(ValueError, match=r"\[cross_entropy\].*\(3,\)"):
        LF.cross_entropy(x, lm.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"\[cross_entropy\] weight"):
        LF.cross_entropy(x, lm.tensor([0, 1, 2]), weight=lm.ones(3))
    with pytest.raises(ValueError, match=r"\[cross_entropy\] label_smoothing"):
        LF.cross_entropy(x, lm.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"\[cross_entropy\] ignore_index"):
        LF.cross_entropy(x, lm.softmax(x, 1), ignore_index=1)
    with pytest.raises(ValueError, match=r"\[nll_loss\] input"):
        LF.nll_loss(lm.tensor(1.0), lm.tensor(0))
    with pytest.raises(TypeError, match=r"\[nll_loss\] input"):
        LF.nll_loss(lm.zeros(3, 4, dtype=lm.int64), lm.tensor([0, 1, 2]))


def test_elementwise_losses_reject_bad_shapes_values_and_dtypes():
    x = lm.rand(2, 3)
    with pytest.raises(ValueError, match=r"\[mse_loss\]"), pytest.warns(UserWarning):
        LF.mse_loss(x, lm.rand(4, 3))
    with pytest.raises(ValueError, match=r"\[binary_cross_entropy\] target"):
        LF.binary_cross_entropy(x, lm.rand(3))
    with pytest.raises(ValueError, match=r"\[binary_cross_entropy_with_logits\] target"):
        LF.binary_cross_entropy_with_logits(x, lm.rand(2, 1))
    with pytest.raises(ValueError, match=r"between 0 and 1"):
        LF.binary_cross_entropy(x + 1.5, lm.rand(2, 3))
    with pytest.raises(ValueError, match=r"between 0 and 1"):
        LF.binary_cross_entropy(x, lm.rand(2, 3) + 1.5)
    with pytest.raises(ValueError, match=r"\[mse_loss\] weight"):
        LF.mse_loss(x, lm.rand(2, 3), weight=lm.rand(3))
    with pytest.raises(ValueError, match=r"\[binary_cross_entropy_with_logits\] pos_weight"):
        LF.binary_cross_entropy_with_logits(x, lm.rand(2, 3), pos_weight=lm.rand(4))
    with pytest.raises(TypeError, match=r"\[l1_loss\] target"):
        LF.l1_loss(x, lm.rand(2, 3, dtype=lm.float64))
    with pytest.raises(TypeError, match=r"\[l1_loss\] input"):
        LF.l1_loss(lm.zeros(2, dtype=lm.int64), lm.zeros(2, dtype=lm.int64))
    with pytest.raises(ValueError, match=r"reduction"):
        LF.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match=r"reduction"):
        LF.mse_loss(x, x, reduction="batchmean")
    with pytest.raises(ValueError, match=r"\[smooth_l1_loss\] beta"):
        LF.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match=r"\[huber_loss\] delta"):
        LF.huber_loss(x, x, delta=0.0)
    with pytest.raises(TypeError):
        LF.mse_loss(x, None)

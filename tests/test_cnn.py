"""CNN pieces that combine several ops: BatchNorm2d and Dropout2d beside PyTorch, and LeNet-style
and CIFAR-style networks trained for 10 steps beside PyTorch with copied weights, whose losses
must agree step by step."""
import numpy as np
import pytest

import lamina as lm
from helpers import check_against_torch, gradcheck, torch_or_skip


def test_batch_norm2d_training_and_eval_match_torch():
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    bn, ref = lm.nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 5, 6)).astype(np.float32) * 2 + 1
        np.testing.assert_allclose(bn(lm.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), ref.running_var.numpy(), rtol=1e-5)
    bn.eval(), ref.eval()
    np.testing.assert_allclose(bn(lm.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(), atol=1e-5)
    assert list(bn.state_dict()) == list(ref.state_dict())


def test_batch_norm2d_gradients_match_torch_and_finite_differences():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((3, 2, 4, 4)), rng.standard_normal(2), rng.standard_normal(2)
    check_against_torch(lambda m, x, w, b: m.nn.functional.batch_norm(x, None, None, w, b, True),
                        [x.astype(np.float32), w.astype(np.float32), b.astype(np.float32)], atol=1e-4)
    gradcheck(lambda x, w, b: lm.nn.functional.batch_norm(x, None, None, w, b, True), [x, w, b])


def test_batch_norm2d_rejects_non_4d_input():
    with pytest.raises(ValueError, match="4D"):
        lm.nn.BatchNorm2d(3)(lm.zeros(2, 3))


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    lm.manual_seed(0)
    x = lm.ones(8, 16, 3, 3, requires_grad=True)
    y = lm.nn.Dropout2d(0.5)(x)
    per_channel = y.detach().numpy().reshape(8, 16, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(axis=2) == per_channel.max(axis=2)).all()  # a channel is all kept or all dropped
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # the same mask drives backward
    model = lm.nn.Dropout2d(0.5)
    model.eval()
    assert model(x) is x


def _lenet(nn):
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84),
                         nn.ReLU(), nn.Linear(84, 10))


def _cifar_cnn(nn):
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*block(3, 8), *block(8, 8), nn.MaxPool2d(2), *block(8, 16), *block(16, 16),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))


@pytest.mark.parametrize("name, build, shape, make_opt", [
    ("lenet", _lenet, (8, 1, 28, 28), lambda m, p: m.optim.SGD(p, lr=0.05, momentum=0.9)),
    ("cifar", _cifar_cnn, (8, 3, 16, 16), lambda m, p: m.optim.Adam(p, lr=1e-2)),
])
def test_cnn_training_matches_torch_step_by_step(name, build, shape, make_opt):
    torch = torch_or_skip()
    lm.manual_seed(0)
    model, ref = build(lm.nn), build(torch.nn)
    with torch.no_grad():
        for (n, p), (tn, tp) in zip(model.named_parameters(), ref.named_parameters()):
            assert n == tn
            tp.copy_(torch.from_numpy(p.detach().numpy().copy()))
    opt, ref_opt = make_opt(lm, model.parameters()), make_opt(torch, ref.parameters())
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, 10, shape[0])
    for step in range(10):
        loss = lm.nn.functional.cross_entropy(model(lm.tensor(x)), lm.tensor(y))
        ref_loss = torch.nn.functional.cross_entropy(ref(torch.tensor(x)), torch.tensor(y))
        assert abs(loss.item() - ref_loss.item()) < 1e-4 * max(1.0, abs(ref_loss.item())), \
            f"{name} step {step}: {loss.item()} vs {ref_loss.item()}"
        for o in (opt, ref_opt):
            o.zero_grad()
        loss.backward()
        ref_loss.backward()
        opt.step()
        ref_opt.step()

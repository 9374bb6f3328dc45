"""End to end: a small MLP trained beside PyTorch with copied weights gives the same losses step
by step, and an MLP trained on scikit-learn's bundled digits reaches 97% test accuracy."""
import numpy as np
import pytest

import lamina as lm
from helpers import torch_or_skip


def _mlp(nn, sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _copy_weights(dst_torch, src_lamina):
    import torch
    with torch.no_grad():
        for (name, p), (tname, tp) in zip(src_lamina.named_parameters(), dst_torch.named_parameters()):
            assert name == tname
            tp.copy_(torch.from_numpy(p.detach().numpy().copy()))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_mlp_training_matches_torch_step_by_step(optimizer):
    torch = torch_or_skip()
    lm.manual_seed(0)
    model = _mlp(lm.nn, [20, 32, 16, 5])
    ref = _mlp(torch.nn, [20, 32, 16, 5])
    _copy_weights(ref, model)
    make = {"sgd": lambda m, p: m.optim.SGD(p, lr=0.1, momentum=0.9),
            "adam": lambda m, p: m.optim.Adam(p, lr=1e-2)}[optimizer]
    opt, ref_opt = make(lm, model.parameters()), make(torch, ref.parameters())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 20)).astype(np.float32)
    y = rng.integers(0, 5, 64)
    for step in range(20):
        loss = lm.nn.functional.cross_entropy(model(lm.tensor(x)), lm.tensor(y))
        ref_loss = torch.nn.functional.cross_entropy(ref(torch.tensor(x)), torch.tensor(y))
        assert abs(loss.item() - ref_loss.item()) < 1e-4, f"step {step}: {loss.item()} vs {ref_loss.item()}"
        opt.zero_grad()
        ref_opt.zero_grad()
        loss.backward()
        ref_loss.backward()
        opt.step()
        ref_opt.step()


def test_mlp_learns_digits_to_97_percent():
    datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn (test extra) is not installed")
    digits = datasets.load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    split = int(0.8 * len(x))
    lm.manual_seed(0)
    model = _mlp(lm.nn, [64, 128, 10])
    opt = lm.optim.Adam(model.parameters(), lr=3e-3)
    loader = lm.data.DataLoader(lm.data.TensorDataset(lm.tensor(x[:split]), lm.tensor(y[:split])),
                                batch_size=32, shuffle=True)
    for _ in range(30):
        for xb, yb in loader:
            loss = lm.nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with lm.no_grad():
        pred = model(lm.tensor(x[split:])).argmax(1).numpy()
    accuracy = (pred == y[split:]).mean()
    assert accuracy >= 0.97, accuracy

"""Module.compile / fit / evaluate / predict: a real dataset reaches a stated accuracy; every input
form gives the same run; epoch values are exact; modes are restored; progress output per verbose
level; History.plot writes a PNG; checkpoints resume bit for bit."""
import io
import os
import sys

import numpy as np
import pytest

import lamina
import lamina as lm
from lamina import nn
from lamina.data import DataLoader, TensorDataset
from lamina.training import ModelCheckpoint, load_checkpoint, save_checkpoint


def _digits():
    """scikit-learn's 1,797 digits, pixels scaled to [0, 1], in a fixed random order (the file's
    last fifth comes from other writers and is harder: a held-out split of it would measure that)."""
    datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn (test extra) is not installed")
    d = datasets.load_digits()
    order = np.random.RandomState(0).permutation(len(d.target))
    return (d.data[order] / 16.0).astype(np.float32), d.target[order].astype(np.int64)


def _mlp(seed=0, dropout=0.0):
    lm.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 10))


def test_fit_on_digits_reaches_95_percent_validation_accuracy():
    x, y = _digits()
    model = _mlp()
    model.compile(optimizer=lm.optim.Adam(model.parameters(), lr=3e-3), loss="cross_entropy",
                  metrics=["accuracy", "f1"])
    history = model.fit(x, y, batch_size=32, epochs=20, validation_split=0.2, verbose=0)
    assert history.epoch == list(range(20))
    assert set(history.history) == {"loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1", "lr"}
    assert history.history["val_accuracy"][-1] >= 0.95  # measured 0.975 (1,437 training digits, 360 held out)
    assert history.history["loss"][-1] < history.history["loss"][0] / 5
    result = model.evaluate(x[-360:], y[-360:], verbose=0)
    assert result["accuracy"] == pytest.approx(history.history["val_accuracy"][-1])
    assert result["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-6)


def test_every_input_form_gives_the_same_run():
    x, y = _digits()
    x, y = x[:256], y[:256]
    xt, yt = lm.from_numpy(x), lm.from_numpy(y)
    forms = {
        "numpy": dict(x=x, y=y, batch_size=32),
        "tensors": dict(x=xt, y=yt, batch_size=32),
        "dataset": dict(x=TensorDataset(xt, yt), batch_size=32),
        "dataloader": dict(x=DataLoader(TensorDataset(xt, yt), batch_size=32, shuffle=True)),
    }
    losses = {}
    for name, kwargs in forms.items():
        model = _mlp()
        lm.manual_seed(1)
        history = model.fit(epochs=2, verbose=0, loss="cross_entropy", optimizer="sgd", **kwargs)
        losses[name] = history.history["loss"]
    assert losses["numpy"] == losses["tensors"] == losses["dataset"] == losses["dataloader"]


def test_epoch_loss_is_the_exact_sample_mean_not_a_mean_of_batch_means():
    x, y = _digits()
    x, y = x[:100], y[:100]  # batches of 32, 32, 32 and 4
    model = _mlp()
    history = model.fit(x, y, batch_size=32, epochs=1, shuffle=False, loss="cross_entropy", optimizer="sgd", verbose=0)
    steps = history.steps["loss"]
    assert len(steps) == 4
    expected = (32 * (steps[0] + steps[1] + steps[2]) + 4 * steps[3]) / 100
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-12)
    assert history.history["loss"][0] != pytest.approx(sum(steps) / 4, rel=1e-6)


def test_validation_split_holds_out_the_last_samples_before_shuffling():
    x, y = _digits()
    x, y = x[:100], y[:100]
    model = _mlp()
    history = model.fit(x, y, epochs=1, validation_split=0.3, loss="cross_entropy", optimizer="sgd", verbose=0,
                        metrics=["accuracy"])
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[70:], y[70:], verbose=0)["loss"])
    with pytest.raises(ValueError, match="not both"):
        model.fit(x, y, validation_split=0.3, validation_data=(x, y), loss="mse", optimizer="sgd")


def test_predict_and_evaluate_run_in_eval_mode_and_restore_modes():
    x, _ = _digits()
    model = _mlp(dropout=0.5)
    model[2].train(True)
    model[0].eval()  # a mixed state that must come back as it was
    out = model.predict(x[:50], batch_size=16)
    assert tuple(out.shape) == (50, 10)
    with lm.no_grad():
        model.eval()
        expected = model(lm.from_numpy(x[:50])).numpy()
    model.train()
    model[0].eval()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)  # dropout was off
    assert [m.training for m in model.modules()] == [True, False, True, True, True]
    model.evaluate(x[:50], np.zeros(50, dtype=np.int64), loss="cross_entropy", verbose=0)
    model.fit(x[:50], np.zeros(50, dtype=np.int64), loss="cross_entropy", optimizer="sgd", verbose=0)
    assert [m.training for m in model.modules()] == [True, False, True, True, True]


def test_compile_names_objects_and_errors():
    model = _mlp()
    model.compile(optimizer="rmsprop", loss="mse")
    config = model.__dict__["_compile_config"]
    assert isinstance(config["optimizer"], lm.optim.RMSprop) and isinstance(config["loss"], nn.MSELoss)
    assert "_compile_config" not in dict(model.named_modules()) and list(model.state_dict()) == [
        "0.weight", "0.bias", "3.weight", "3.bias"]
    with pytest.raises(ValueError, match="unknown optimizer"):
        model.compile(optimizer="adamm")
    with pytest.raises(ValueError, match="unknown loss"):
        model.compile(loss="crossentropy")
    with pytest.raises(ValueError, match="no loss"):
        _mlp().fit(np.zeros((4, 64), np.float32), np.zeros(4, np.int64), optimizer="sgd")
    with pytest.raises(ValueError, match="no optimizer"):
        _mlp().fit(np.zeros((4, 64), np.float32), np.zeros(4, np.int64), loss="cross_entropy")
    with pytest.raises(ValueError, match="4 samples but y has 3"):
        _mlp().fit(np.zeros((4, 64), np.float32), np.zeros(3, np.int64), loss="cross_entropy", optimizer="sgd")


def test_regression_with_mae_metric_and_a_loss_function():
    rs = np.random.RandomState(0)
    x = rs.randn(256, 3).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32) + 0.3).astype(np.float32)
    lm.manual_seed(0)
    model = nn.Linear(3, 1)
    history = model.fit(x, y, batch_size=32, epochs=40, loss=lambda out, target: ((out - target) ** 2).mean(),
                        optimizer=lm.optim.SGD(model.parameters(), lr=0.1), metrics=["mae"], verbose=0)
    assert history.history["mae"][-1] < 1e-3
    np.testing.assert_allclose(model.weight.detach().numpy(), [[1.0, -2.0, 0.5]], atol=1e-3)


class _FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_plain_lines_bar_and_silence(monkeypatch, capsys):
    x, y = _digits()
    x, y = x[:64], y[:64]
    model = _mlp()
    model.compile(optimizer="sgd", loss="cross_entropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, verbose=1)  # pytest's captured stdout is not a terminal: one line per epoch
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2 - ") and "samples/s - loss: " in lines[1]
    assert "accuracy: " in lines[1]

    terminal = _FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    model.fit(x, y, epochs=1, batch_size=16, validation_data=(x, y), verbose=1)
    bar = terminal.getvalue()
    assert "Epoch 1/1" in bar and "64/64" in bar and "samples/s" in bar and "val_accuracy" in bar


def test_history_plot_writes_a_png_drawn_by_matplotlib(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib (plot extra) is not installed")
    x, y = _digits()
    model = _mlp()
    history = model.fit(x[:200], y[:200], epochs=3, validation_split=0.25, loss="cross_entropy", optimizer="adam",
                        metrics=["accuracy"], verbose=0)
    path = tmp_path / "curves.png"
    assert history.plot(str(path)) == str(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert b"Software" in data and b"Matplotlib" in data  # the tEXt chunk Agg writes
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1000, 400)  # two panels (loss, accuracy) of 5 x 4 inches at 100 dpi


def test_history_plot_without_matplotlib_names_the_extra(monkeypatch, tmp_path):
    history = lamina.training.History()
    history.history = {"loss": [1.0]}
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install lamina\[plot\]"):
        history.plot(str(tmp_path / "x.png"))


def _resumable_run(tmp_path, epochs, seed, resume_from=None, checkpoint=True):
    """A model with dropout, shuffling, Adam and a StepLR schedule: everything that must be
    carried across a restart (weights, moments, lr, RNG, history)."""
    x, y = _digits()
    x, y = x[:300], y[:300]
    model = _mlp(seed=seed, dropout=0.3)
    optimizer = lm.optim.Adam(model.parameters(), lr=0.01)
    schedule = lamina.training.LearningRateScheduler(lm.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7))
    callbacks = [schedule, lamina.training.EarlyStopping(monitor="val_loss", patience=10)]
    if checkpoint:
        callbacks.append(ModelCheckpoint(str(tmp_path / "ck-{epoch}.safetensors")))
    history = model.fit(x, y, batch_size=32, epochs=epochs, validation_split=0.2, loss="cross_entropy",
                        optimizer=optimizer, metrics=["accuracy"], callbacks=callbacks, verbose=0,
                        resume_from=resume_from)
    return model, history


def test_resume_from_checkpoint_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    full_model, full = _resumable_run(tmp_path / "full", epochs=4, seed=0, checkpoint=False)
    os.makedirs(tmp_path / "a")
    _resumable_run(tmp_path / "a", epochs=2, seed=0)
    lm.manual_seed(12345)  # a different generator state and a different init before resuming
    resumed_model, resumed = _resumable_run(tmp_path / "a", epochs=4, seed=7,
                                            resume_from=str(tmp_path / "a" / "ck-2.safetensors"))
    assert resumed.epoch == [0, 1, 2, 3]
    assert resumed.history == full.history  # losses, accuracies, val values and lrs: exactly equal
    assert resumed.steps == full.steps
    for (key, a), (_, b) in zip(full_model.state_dict().items(), resumed_model.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=key)


def test_save_and_load_checkpoint_restore_optimizer_scheduler_rng_and_extra(tmp_path):
    model = _mlp()
    optimizer = lm.optim.Adam(model.parameters(), lr=0.1)
    scheduler = lm.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    model(lm.randn(4, 64)).sum().backward()
    optimizer.step()
    scheduler.step()
    path = str(tmp_path / "ck.safetensors")
    save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=3, extra={"note": "hi"})
    expected_draw = lm.rand(5).numpy()

    other = _mlp(seed=3)
    other_optimizer = lm.optim.Adam(other.parameters(), lr=0.1)
    other_scheduler = lm.optim.lr_scheduler.StepLR(other_optimizer, step_size=1, gamma=0.5)
    state = load_checkpoint(path, model=other, optimizer=other_optimizer, scheduler=other_scheduler)
    np.testing.assert_array_equal(lm.rand(5).numpy(), expected_draw)
    assert state["epoch"] == 3 and state["extra"] == {"note": "hi"}
    assert other_optimizer.param_groups[0]["lr"] == pytest.approx(0.05) and other_scheduler.last_epoch == 1
    np.testing.assert_array_equal(other_optimizer.state_dict()["state"][0]["exp_avg"].numpy(),
                                  optimizer.state_dict()["state"][0]["exp_avg"].numpy())
    np.testing.assert_array_equal(other[0].weight.detach().numpy(), model[0].weight.detach().numpy())

    lm.save(model.state_dict(), str(tmp_path / "weights.safetensors"))
    with pytest.raises(ValueError, match="not a lamina training checkpoint"):
        load_checkpoint(str(tmp_path / "weights.safetensors"), model=other)

"""Callbacks through fit: EarlyStopping stops at the right epoch and restores the best weights,
ModelCheckpoint writes only on improvement, ReduceLROnPlateau and LearningRateScheduler change
the lr as specified, CSVLogger's rows, TerminateOnNaN. Monitored values are scripted by a
callback placed before the one under test, so every expected epoch is known exactly."""
import csv
import math
import os

import numpy as np
import pytest

import lamina
import lamina as lm
from lamina import nn
from lamina.training import callbacks as C


def _data(n=64, seed=0):
    rs = np.random.RandomState(seed)
    x = rs.randn(n, 4).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def _model(seed=0):
    lm.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    model.compile(optimizer=lm.optim.SGD(model.parameters(), lr=0.1), loss="cross_entropy", metrics=["accuracy"])
    return model


class Script(C.Callback):
    """Overwrites logs[key] with values[epoch] and keeps a copy of the weights of each epoch."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values, self.weights = key, values, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append({k: v.numpy().copy() for k, v in self.model.state_dict().items()})


def _weights(model):
    return {k: v.numpy() for k, v in model.state_dict().items()}


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    x, y = _data()
    script = Script("val_loss", [1.0, 0.8, 0.9, 0.85, 0.81, 0.5, 0.4, 0.3])  # best at epoch 1
    stop = C.EarlyStopping(monitor="val_loss", patience=3)
    history = _model().fit(x, y, epochs=8, verbose=0, callbacks=[script, stop])
    assert stop.stopped_epoch == 4 and stop.best_epoch == 1 and stop.best == 0.8
    assert history.epoch == [0, 1, 2, 3, 4]


def test_early_stopping_min_delta_and_max_mode():
    x, y = _data()
    # improvements smaller than min_delta=0.05 don't count: best stays at epoch 0
    script = Script("val_accuracy", [0.50, 0.53, 0.54, 0.70])
    stop = C.EarlyStopping(monitor="val_accuracy", min_delta=0.05, patience=2)
    assert stop.mode == "max"
    history = _model().fit(x, y, epochs=4, verbose=0, callbacks=[script, stop])
    assert stop.stopped_epoch == 2 and len(history.epoch) == 3


def test_early_stopping_restores_best_weights():
    x, y = _data()
    script = Script("val_loss", [1.0, 0.5, 0.7, 0.9, 1.1])
    stop = C.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    model = _model()
    model.fit(x, y, epochs=5, verbose=0, callbacks=[script, stop])
    assert stop.stopped_epoch == 3
    best = script.weights[1]
    assert not np.array_equal(script.weights[3]["0.weight"], best["0.weight"])  # training did move them
    for key, value in _weights(model).items():
        np.testing.assert_array_equal(value, best[key])


def test_model_checkpoint_save_best_only_writes_only_on_improvement(tmp_path):
    x, y = _data()
    script = Script("val_loss", [0.9, 0.7, 0.8, 0.6, 0.65])
    checkpoint = C.ModelCheckpoint(str(tmp_path / "model-{epoch}.safetensors"), monitor="val_loss",
                                   save_best_only=True, save_weights_only=True)
    model = _model()
    model.fit(x, y, epochs=5, verbose=0, callbacks=[script, checkpoint])
    assert sorted(os.listdir(tmp_path)) == ["model-1.safetensors", "model-2.safetensors", "model-4.safetensors"]
    saved = lm.load(str(tmp_path / "model-4.safetensors"))
    for key, value in script.weights[3].items():
        np.testing.assert_array_equal(saved[key].numpy(), value)
    assert checkpoint.last_saved == str(tmp_path / "model-4.safetensors") and checkpoint.best == 0.6


def test_model_checkpoint_formats_logs_and_writes_full_checkpoints(tmp_path):
    x, y = _data()
    checkpoint = C.ModelCheckpoint(str(tmp_path / "ck-{epoch:02d}-{loss:.2f}.safetensors"))
    model = _model()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[checkpoint])
    name = f"ck-02-{history.history['loss'][1]:.2f}.safetensors"
    assert sorted(os.listdir(tmp_path))[-1] == name and len(os.listdir(tmp_path)) == 2  # no temporary files left
    state = lamina.training.load_checkpoint(str(tmp_path / name), restore_rng=False)
    assert state["epoch"] == 2 and set(state["optimizer"]) == {"state", "param_groups"}
    np.testing.assert_array_equal(state["model"]["2.bias"].numpy(), model[2].bias.detach().numpy())


def test_reduce_lr_on_plateau_reduces_after_patience():
    x, y = _data()
    script = Script("val_loss", [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95])
    reduce = C.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=0.03)
    history = _model().fit(x, y, epochs=8, verbose=0, callbacks=[script, reduce])
    # no improvement after epoch 1: more than 2 bad epochs at epoch 4 (0.1 -> 0.05), again at 7
    # (-> 0.03, the floor); history['lr'] is the lr each epoch trained with
    assert history.history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05])
    assert reduce.scheduler.optimizer.param_groups[0]["lr"] == pytest.approx(0.03)


def test_learning_rate_scheduler_wraps_lr_scheduler_and_functions():
    x, y = _data()
    model = _model()
    optimizer = lm.optim.SGD(model.parameters(), lr=0.1)
    step = lm.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)
    history = model.fit(x, y, epochs=5, verbose=0, optimizer=optimizer, callbacks=[C.LearningRateScheduler(step)])
    assert history.history["lr"] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])

    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[C.LearningRateScheduler(lambda epoch: 0.2 / (epoch + 1))])
    assert history.history["lr"] == pytest.approx([0.2, 0.1, 0.2 / 3])
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[C.LearningRateScheduler(lambda epoch, lr: lr * 0.5)])
    assert history.history["lr"] == pytest.approx([0.5 * 0.2 / 3, 0.25 * 0.2 / 3, 0.125 * 0.2 / 3])


def test_learning_rate_scheduler_per_batch_interval():
    x, y = _data(n=64)
    model = _model()
    optimizer = lm.optim.SGD(model.parameters(), lr=1.0)
    decay = lm.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, optimizer=optimizer,
              callbacks=[C.LearningRateScheduler(decay, interval="batch")])
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5 ** 8)  # 4 batches x 2 epochs


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    history = _model().fit(x, y, epochs=3, verbose=0, validation_split=0.25, callbacks=[C.CSVLogger(str(path))])
    rows = list(csv.DictReader(open(path)))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(history.history["val_loss"])
    _model().fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[C.CSVLogger(str(path), append=True)])
    assert len(list(csv.DictReader(open(path)))) == 4  # appended, one header


def test_terminate_on_nan_stops_at_the_bad_batch(capsys):
    x, y = _data(n=64)
    calls = []

    def loss(out, target):
        calls.append(1)
        value = nn.functional.cross_entropy(out, target)
        return value * float("nan") if len(calls) == 3 else value

    history = _model().fit(x, y, batch_size=16, epochs=3, verbose=0, loss=loss, callbacks=[C.TerminateOnNaN()])
    assert len(calls) == 3 and len(history.steps["loss"]) == 3 and math.isnan(history.steps["loss"][2])
    assert "invalid loss" in capsys.readouterr().out


def test_hooks_are_called_in_order_with_logs():
    x, y = _data(n=32)
    events = []
    recorder = C.LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(f"epoch_begin {epoch}"),
        on_batch_end=lambda batch, logs: events.append(f"batch_end {batch} {logs['size']}"),
        on_epoch_end=lambda epoch, logs: events.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"))
    _model().fit(x, y, batch_size=20, epochs=2, verbose=0, callbacks=[recorder])
    keys = "['accuracy', 'loss', 'lr']"
    assert events == ["train_begin", "epoch_begin 0", "batch_end 0 20", "batch_end 1 12", f"epoch_end 0 {keys}",
                      "epoch_begin 1", "batch_end 0 20", "batch_end 1 12", f"epoch_end 1 {keys}", "train_end"]


def test_missing_monitor_warns():
    x, y = _data()
    with pytest.warns(RuntimeWarning, match="val_loss"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[C.EarlyStopping()])

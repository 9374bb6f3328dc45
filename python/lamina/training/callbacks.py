"""Callbacks: objects whose hooks fit calls at the start and end of training, of each epoch and
of each batch, with a ``logs`` dict, as in Keras.

Epoch logs hold the epoch's training values ('loss', each metric), the validation values
('val_loss', 'val_' + metric) and 'lr' (group 0's learning rate during the epoch). Batch logs
hold 'batch', 'size', 'batch_loss' (this batch's loss) and the running epoch values of 'loss' and
the metrics. A callback sees fit's model (``self.model``), optimizer (``self.optimizer``) and
settings (``self.params``: epochs, steps, samples, batch_size, verbose, callbacks); setting
``self.model.stop_training = True`` ends training after the current batch. state_dict() and
load_state_dict() carry a callback's state through checkpoints, so that a resumed run goes on
exactly as an uninterrupted one.
"""
import csv
import inspect
import math
import os
import warnings

from lamina.optim import lr_scheduler as _lr_scheduler

__all__ = ["Callback", "CallbackList", "EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau",
           "LearningRateScheduler", "CSVLogger", "TerminateOnNaN", "LambdaCallback"]


class Callback:
    """Base class; override the hooks you need. Each receives a logs dict (never None)."""

    def __init__(self):
        self.model = None
        self.optimizer = None
        self.params = {}

    def set_model(self, model, optimizer=None):
        self.model = model
        self.optimizer = optimizer

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def state_dict(self):
        """What a checkpoint keeps of this callback (tensors, numbers, strings, containers)."""
        return {}

    def load_state_dict(self, state):
        pass


class LambdaCallback(Callback):
    """A callback from functions: LambdaCallback(on_epoch_end=lambda epoch, logs: ...)."""

    def __init__(self, on_train_begin=None, on_train_end=None, on_epoch_begin=None, on_epoch_end=None,
                 on_batch_begin=None, on_batch_end=None):
        super().__init__()
        for name, fn in (("on_train_begin", on_train_begin), ("on_train_end", on_train_end),
                         ("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_batch_begin", on_batch_begin), ("on_batch_end", on_batch_end)):
            if fn is not None:
                setattr(self, name, fn)


class CallbackList:
    """Calls each hook on every callback, in order."""

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)

    def set_model(self, model, optimizer):
        for cb in self.callbacks:
            cb.set_model(model, optimizer)

    def set_params(self, params):
        for cb in self.callbacks:
            cb.set_params(params)

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs):
        self._call("on_epoch_end", epoch, logs)

    def on_batch_begin(self, batch, logs):
        self._call("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs):
        self._call("on_batch_end", batch, logs)


def _resolve_mode(mode, monitor):
    """'min' or 'max'; 'auto' is 'max' for accuracies, F1, precision and recall, else 'min'."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    return "max" if any(word in monitor for word in ("acc", "f1", "precision", "recall", "auc")) else "min"


def _monitored(callback, logs, monitor, epoch):
    """logs[monitor] as a float, or None with a warning naming the available keys."""
    if monitor not in logs:
        warnings.warn(f"{type(callback).__name__}: '{monitor}' is not in the epoch {epoch + 1} logs (available: "
                      f"{', '.join(logs)}); pass validation data for 'val_' keys", RuntimeWarning, stacklevel=3)
        return None
    return float(logs[monitor])


def _snapshot(model):
    """A copy of the model's state_dict (detached clones)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class EarlyStopping(Callback):
    """Stops training when `monitor` has stopped improving.

    An epoch improves when current < best - min_delta (mode 'min') or current > best + min_delta
    ('max'); training stops at the end of the first epoch (from start_from_epoch on) after which
    `patience` consecutive epochs brought no improvement, i.e. the stopping epoch is
    best_epoch + patience (0-based, Keras's rule; with patience=0 the first non-improving epoch).
    baseline: the value to beat (epochs that don't beat it count as not improving).
    restore_best_weights: when stopping, load the weights of the best epoch.
    After training, ``stopped_epoch`` is the 0-based epoch that stopped (0 if none did) and
    ``best_epoch`` the best one.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.mode = _resolve_mode(mode, monitor)
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_weights = None

    def _improves(self, value, reference):
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(self, logs, self.monitor, epoch)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = _snapshot(self.model)  # the first epoch is the best so far
        self.wait += 1
        if self._improves(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = _snapshot(self.model)
            if self.baseline is None or self._improves(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose:
                    print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
                self.model.load_state_dict(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")

    def state_dict(self):
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self.best,
                "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.__dict__.update(state)


class ModelCheckpoint(Callback):
    """Saves the model at the end of every epoch, or only when `monitor` improves.

    filepath may hold format fields filled from the epoch (1-based) and the logs:
    "ckpt-{epoch:02d}-{val_loss:.3f}.safetensors". save_best_only: save only when the monitored
    value beats the best so far (strictly: < for mode 'min', > for 'max'). save_weights_only:
    write the model's state_dict alone (lamina.save); otherwise a full training checkpoint
    (lamina.training.save_checkpoint: model, optimizer, epoch, lamina's RNG state and every
    callback's state, the History included) from which fit(..., resume_from=path) continues
    exactly. Writes are atomic (lamina.save writes a temporary file and renames it).
    ``last_saved`` is the path of the last file written (None before any).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto"):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = _resolve_mode(mode, monitor)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.last_saved = None

    def on_epoch_end(self, epoch, logs=None):
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = _monitored(self, logs, self.monitor, epoch)
            if current is None:
                return
            improved = current < self.best if self.mode == "min" else current > self.best
            if not improved:
                if self.verbose:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        elif self.verbose:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            from lamina.serialization import save
            save(self.model.state_dict(), path)
        else:
            from lamina.training.checkpoint import save_checkpoint
            save_checkpoint(path, model=self.model, optimizer=self.optimizer, epoch=epoch + 1,
                            callbacks=self.params.get("callbacks"))
        self.last_saved = path

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = state["best"]


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` when `monitor` has not improved for more than
    `patience` epochs, through lamina.optim.lr_scheduler.ReduceLROnPlateau (PyTorch's counting;
    improvement: current < best - min_delta in mode 'min', current > best + min_delta in 'max';
    after a reduction, `cooldown` epochs are not counted; the lr never goes below min_lr).
    scheduler: an existing lr_scheduler.ReduceLROnPlateau to step instead of building one from
    these arguments at the start of training.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, scheduler=None):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, got {factor}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = _resolve_mode(mode, monitor)
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.scheduler = scheduler
        self._owns_scheduler = scheduler is None

    def on_train_begin(self, logs=None):
        if self._owns_scheduler:
            self.scheduler = _lr_scheduler.ReduceLROnPlateau(
                self.optimizer, mode=self.mode, factor=self.factor, patience=self.patience, threshold=self.min_delta,
                threshold_mode="abs", cooldown=self.cooldown, min_lr=self.min_lr)

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(self, logs, self.monitor, epoch)
        if current is None:
            return
        old = [group["lr"] for group in self.scheduler.optimizer.param_groups]
        self.scheduler.step(current)
        new = [group["lr"] for group in self.scheduler.optimizer.param_groups]
        if self.verbose and new != old:
            print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new[0]:.4g}.")

    def state_dict(self):
        return {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state):
        self.scheduler.load_state_dict(state["scheduler"])


class LearningRateScheduler(Callback):
    """Sets the learning rate during training from a schedule:
    - an lr_scheduler instance (StepLR, CosineAnnealingLR, OneCycleLR, ...): its step() is called
      after every epoch (interval='epoch', PyTorch's convention) or after every batch
      (interval='batch', for OneCycleLR and other per-step schedules);
    - a function schedule(epoch) -> lr or schedule(epoch, lr) -> lr (Keras's form): called at
      the start of every epoch (0-based) and written into every parameter group.
    """

    def __init__(self, schedule, verbose=0, interval="epoch"):
        super().__init__()
        if interval not in ("epoch", "batch"):
            raise ValueError(f"interval must be 'epoch' or 'batch', got {interval!r}")
        self.schedule = schedule
        self.verbose = verbose
        self.interval = interval
        self._is_scheduler = hasattr(schedule, "step") and hasattr(schedule, "optimizer")
        if not self._is_scheduler and not callable(schedule):
            raise TypeError("schedule must be an lr_scheduler or a function of the epoch")
        if not self._is_scheduler:
            try:
                self._takes_lr = len(inspect.signature(schedule).parameters) >= 2
            except (TypeError, ValueError):
                self._takes_lr = False

    def on_epoch_begin(self, epoch, logs=None):
        if self._is_scheduler:
            return
        groups = self.optimizer.param_groups
        lr = self.schedule(epoch, groups[0]["lr"]) if self._takes_lr else self.schedule(epoch)
        for group in groups:
            group["lr"] = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(lr):.4g}.")

    def on_batch_end(self, batch, logs=None):
        if self._is_scheduler and self.interval == "batch":
            self.schedule.step()

    def on_epoch_end(self, epoch, logs=None):
        if self._is_scheduler and self.interval == "epoch":
            self.schedule.step()
            if self.verbose:
                print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                      f"{self.schedule.get_last_lr()[0]:.4g}.")

    def state_dict(self):
        return {"scheduler": self.schedule.state_dict()} if self._is_scheduler else {}

    def load_state_dict(self, state):
        if self._is_scheduler and "scheduler" in state:
            self.schedule.load_state_dict(state["scheduler"])


class CSVLogger(Callback):
    """Writes one row per epoch to filename: 'epoch' (0-based) and the epoch logs, columns in
    sorted key order, flushed after each row. append=True keeps an existing file's rows (and its
    header)."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = append
        self._file = self._writer = self._keys = None

    def on_train_begin(self, logs=None):
        has_rows = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer, self._keys, self._write_header = None, None, not has_rows

    def on_epoch_end(self, epoch, logs=None):
        if self._writer is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self._keys, delimiter=self.separator)
            if self._write_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self._keys}})
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = self._writer = None


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = logs.get("batch_loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training")
            self.model.stop_training = True

"""Module.compile / fit / evaluate / predict: the training loop of PyTorch's tutorials, written
once. Per batch: optimizer.zero_grad(); out = model(*inputs); loss = loss_fn(out, target);
loss.backward(); optimizer.step(). Inputs may be tensors, NumPy arrays, a Dataset or a
DataLoader; a batch (x, y) or (x1, ..., xk, y) calls model(x) or model(x1, ..., xk).

Epoch values are exact over the epoch's samples: the loss is sum_b loss_b * n_b / sum_b n_b (the
per-sample mean for mean-reduced losses), metrics accumulate counts (see metrics.py). Shuffling
draws from lamina's generator, which checkpoints save, so a resumed run repeats an uninterrupted
one bit for bit.
"""
import contextlib
import copy

import numpy as np

from lamina import _C
from lamina import nn as _nn
from lamina import optim as _optim
from lamina.autograd import no_grad
from lamina.data import DataLoader, Dataset, Subset, TensorDataset
from lamina.training import metrics as _metrics
from lamina.training.callbacks import Callback, CallbackList
from lamina.training.checkpoint import load_checkpoint
from lamina.training.history import History
from lamina.training.progress import ProgbarLogger, ProgressBar, progress_mode

__all__ = ["compile", "fit", "evaluate", "predict"]

_LOSSES = {
    "cross_entropy": _nn.CrossEntropyLoss, "categorical_crossentropy": _nn.CrossEntropyLoss,
    "sparse_categorical_crossentropy": _nn.CrossEntropyLoss, "nll": _nn.NLLLoss, "nll_loss": _nn.NLLLoss,
    "mse": _nn.MSELoss, "mean_squared_error": _nn.MSELoss, "l1": _nn.L1Loss, "mae": _nn.L1Loss,
    "mean_absolute_error": _nn.L1Loss, "smooth_l1": _nn.SmoothL1Loss, "huber": _nn.HuberLoss,
    "bce": _nn.BCELoss, "binary_crossentropy": _nn.BCELoss, "bce_with_logits": _nn.BCEWithLogitsLoss,
    "kl_div": _nn.KLDivLoss,
}
# name -> (class, default lr): PyTorch's defaults, except SGD's 0.01 (Keras's; PyTorch has none)
_OPTIMIZERS = {
    "sgd": (_optim.SGD, 0.01), "adam": (_optim.Adam, 1e-3), "adamw": (_optim.AdamW, 1e-3),
    "rmsprop": (_optim.RMSprop, 1e-2), "adagrad": (_optim.Adagrad, 1e-2), "adadelta": (_optim.Adadelta, 1.0),
}


def _resolve_loss(loss):
    """A loss function from a name (see _LOSSES), a loss Module or class, or a function
    loss(y_pred, y_true) -> scalar tensor."""
    if isinstance(loss, str):
        if loss not in _LOSSES:
            raise ValueError(f"unknown loss {loss!r}; known names: {', '.join(sorted(_LOSSES))}")
        return _LOSSES[loss]()
    if isinstance(loss, type) and issubclass(loss, _nn.Module):
        return loss()
    if callable(loss):
        return loss
    raise TypeError(f"loss must be a name, a loss module or a function, got {type(loss).__name__}")


def _resolve_optimizer(optimizer, model):
    """An optimizer from a name (see _OPTIMIZERS), an Optimizer instance, or an optimizer class
    (built over model.parameters() with its default arguments)."""
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in _OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; known names: {', '.join(sorted(_OPTIMIZERS))}")
        cls, lr = _OPTIMIZERS[key]
        return cls(model.parameters(), lr=lr)
    if isinstance(optimizer, type):
        return optimizer(model.parameters())
    if hasattr(optimizer, "step") and hasattr(optimizer, "param_groups"):
        return optimizer
    raise TypeError(f"optimizer must be a name, an Optimizer or an Optimizer class, got {type(optimizer).__name__}")


def compile(self, optimizer="adam", loss=None, metrics=None):
    """Sets the optimizer, loss and metrics that fit/evaluate use by default (Keras's compile).

    optimizer: 'adam', 'adamw', 'sgd' (lr 0.01), 'rmsprop', 'adagrad', 'adadelta', an Optimizer
    instance, or a class. loss: 'cross_entropy', 'nll', 'mse', 'l1'/'mae', 'smooth_l1', 'huber',
    'bce', 'bce_with_logits', 'kl_div', a loss module or a function. metrics: a list of names
    ('accuracy', 'top_5_accuracy', 'precision', 'recall', 'f1', 'mae', 'mse', ...), Metric
    objects or functions. Returns the model.
    """
    self.__dict__["_compile_config"] = {
        "optimizer": _resolve_optimizer(optimizer, self) if optimizer is not None else None,
        "loss": _resolve_loss(loss) if loss is not None else None,
        "metrics": list(metrics or []),
    }
    return self


def _config(model, optimizer, loss, metrics, remember):
    """(optimizer, loss_fn, [Metric]) from the arguments, falling back on compile's; with
    remember (fit), the arguments given replace compile's for later calls."""
    config = model.__dict__.setdefault("_compile_config", {"optimizer": None, "loss": None, "metrics": []})
    given = {"optimizer": _resolve_optimizer(optimizer, model) if optimizer is not None else None,
             "loss": _resolve_loss(loss) if loss is not None else None,
             "metrics": list(metrics) if metrics is not None else None}
    if remember:
        config.update({key: value for key, value in given.items() if value is not None})
    optimizer, loss_fn, metric_specs = (config[key] if given[key] is None else given[key]
                                        for key in ("optimizer", "loss", "metrics"))
    if loss_fn is None:
        raise ValueError("no loss: pass loss= (e.g. loss='cross_entropy') or call model.compile(loss=...) first")
    if remember and optimizer is None:
        raise ValueError("no optimizer: pass optimizer= (e.g. optimizer='adam') or call model.compile(optimizer=...) "
                         "first")
    fresh = [_metrics.get(m) for m in metric_specs]
    for m in fresh:
        m.reset()
    names = [m.name for m in fresh]
    if len(set(names)) != len(names) or "loss" in names:
        raise ValueError(f"metric names must be distinct and not 'loss', got {names}")
    return optimizer, loss_fn, fresh


# ---------------------------------------------------------------- data
def _as_tensor(a, name):
    """A lamina tensor from a tensor, NumPy array or nested list: floating data as float32,
    integers and booleans as int64 (class labels)."""
    if isinstance(a, _C.Tensor):
        return a
    arr = np.asarray(a)
    if arr.dtype.kind == "f":
        arr = arr.astype(np.float32, copy=False)
    elif arr.dtype.kind in "iub":
        arr = arr.astype(np.int64, copy=False)
    else:
        raise TypeError(f"{name} must be a tensor or a numeric NumPy array, got dtype {arr.dtype}")
    return _C.from_numpy(np.ascontiguousarray(arr))


def _is_dataset(x):
    return isinstance(x, Dataset) or (hasattr(x, "__getitem__") and hasattr(x, "__len__")
                                      and not isinstance(x, (np.ndarray, list, tuple, _C.Tensor)))


def _as_dataset(x, y, name):
    """A Dataset from (x, y) arrays/tensors, a Dataset, or None (for a DataLoader)."""
    if _is_dataset(x):
        if y is not None:
            raise ValueError(f"{name}: y must be None when x is a Dataset (its samples hold the targets)")
        return x
    if x is None:
        raise ValueError(f"{name}: no data given")
    tensors = [_as_tensor(x, "x")] + ([_as_tensor(y, "y")] if y is not None else [])
    if len(tensors) == 2 and tensors[0].shape[0] != tensors[1].shape[0]:
        raise ValueError(f"{name}: x has {tensors[0].shape[0]} samples but y has {tensors[1].shape[0]}")
    return TensorDataset(*tensors)


def _loader(x, y, batch_size, shuffle, name):
    if isinstance(x, DataLoader):
        if y is not None:
            raise ValueError(f"{name}: y must be None when x is a DataLoader")
        return x
    return DataLoader(_as_dataset(x, y, name), batch_size=batch_size, shuffle=shuffle)


def _split(x, y, validation_split):
    """(train, validation) datasets: the last validation_split fraction of the samples, taken
    before any shuffling (Keras's rule)."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split}")
    if isinstance(x, DataLoader):
        raise ValueError("validation_split needs tensors, arrays or a Dataset, not a DataLoader; pass "
                         "validation_data instead")
    dataset = _as_dataset(x, y, "fit")
    n = len(dataset)
    split_at = int(n * (1.0 - validation_split))
    if split_at in (0, n):
        raise ValueError(f"validation_split={validation_split} of {n} samples leaves an empty training or "
                         "validation set")
    if type(dataset) is TensorDataset:  # keeps the DataLoader's one-index-op-per-batch path
        return (TensorDataset(*(t[:split_at] for t in dataset.tensors)),
                TensorDataset(*(t[split_at:] for t in dataset.tensors)))
    return Subset(dataset, range(split_at)), Subset(dataset, range(split_at, n))


def _num_samples(loader):
    dataset = getattr(loader, "dataset", None)
    if dataset is None or not hasattr(dataset, "__len__") or getattr(loader, "batch_sampler", None) is not None:
        return None
    n = len(loader.sampler) if getattr(loader, "sampler", None) is not None else len(dataset)
    return n - n % loader.batch_size if loader.drop_last else n


def _device(model):
    for p in model.parameters():
        return p.device
    return None


def _to(t, device):
    if isinstance(t, _C.Tensor) and device is not None and str(t.device) != str(device):
        return t.to(device)
    return t


def _split_batch(batch, device):
    """(inputs tuple, target or None) of a batch: (x, y) -> ((x,), y); (x1, ..., xk, y) ->
    ((x1, ..., xk), y); (x,) or a tensor -> ((x,), None)."""
    if isinstance(batch, _C.Tensor):
        return (_to(batch, device),), None
    if isinstance(batch, (list, tuple)):
        if len(batch) == 1:
            return (_to(batch[0], device),), None
        return tuple(_to(b, device) for b in batch[:-1]), _to(batch[-1], device)
    raise TypeError(f"a batch must be a tensor or a tuple/list (x, y), got {type(batch).__name__}")


def _batch_size(inputs):
    first = inputs[0]
    return first.shape[0] if isinstance(first, _C.Tensor) else len(first)


@contextlib.contextmanager
def _eval_mode(model):
    """Eval mode and no_grad inside; every submodule's previous training flag restored after."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad():
            yield
    finally:
        for m, mode in modes:
            m.training = mode


def _logs(loss_mean, metric_list, prefix=""):
    logs = {prefix + "loss": loss_mean.compute()}
    for m in metric_list:
        logs[prefix + m.name] = float(m.compute())
    return logs


def _run_eval(model, loader, loss_fn, metric_list, progress=None):
    """Loss and metrics over loader in eval mode, as a logs dict."""
    device = _device(model)
    loss_mean = _metrics.Mean()
    for m in metric_list:
        m.reset()
    with _eval_mode(model):
        for batch in loader:
            inputs, target = _split_batch(batch, device)
            if target is None:
                raise ValueError("evaluation batches must hold targets: (x, y)")
            out = model(*inputs)
            n = _batch_size(inputs)
            loss_mean.update(loss_fn(out, target).item(), n)
            for m in metric_list:
                m.update(out, target)
            if progress is not None:
                progress.update(n, _logs(loss_mean, metric_list))
    return _logs(loss_mean, metric_list)


# ---------------------------------------------------------------- fit
def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
        validation_data=None, shuffle=True, initial_epoch=0, validation_batch_size=None, loss=None,
        optimizer=None, metrics=None, resume_from=None):
    """Trains the model for epochs - initial_epoch epochs and returns a History.

    x, y: tensors or NumPy arrays of samples (floating x as float32, integer y as int64), or x a
    Dataset of (input, target) samples or a DataLoader (then y is None, and batch_size/shuffle
    are the loader's). validation_split: the fraction of (x, y) held out, from the end, before
    shuffling. validation_data: (x_val, y_val), a Dataset or a DataLoader, evaluated after each
    epoch ('val_' keys). shuffle: a new order each epoch from lamina's generator.
    loss, optimizer, metrics: as in compile(); those given replace compile's settings, for this
    and later calls (evaluate included). callbacks: Callback objects
    (History and the progress display are added). verbose: 0 silent, 1 a progress bar per epoch
    (a plain line when stdout is not a terminal), 2 a line per epoch.
    epochs is the index of the last epoch, as in Keras: training runs epochs initial_epoch ..
    epochs - 1. resume_from: a checkpoint written by ModelCheckpoint or save_checkpoint (with
    the same callbacks); its model, optimizer, callbacks (History included) and RNG state are
    restored and training continues from its epoch, as if it had never stopped.
    Every submodule's training flag is restored at the end.
    """
    optimizer, loss_fn, metric_list = _config(self, optimizer, loss, metrics, remember=True)
    if validation_split and validation_data is not None:
        raise ValueError("pass validation_split or validation_data, not both")
    if validation_split:
        train_set, val_set = _split(x, y, validation_split)
        train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=shuffle)
        val_loader = DataLoader(val_set, batch_size=validation_batch_size or batch_size)
    else:
        train_loader = _loader(x, y, batch_size, shuffle, "fit")
        val_loader = None
        if validation_data is not None:
            if isinstance(validation_data, (tuple, list)):
                if len(validation_data) != 2:
                    raise ValueError("validation_data must be (x_val, y_val), a Dataset or a DataLoader")
                val_loader = _loader(validation_data[0], validation_data[1], validation_batch_size or batch_size,
                                     False, "validation_data")
            else:
                val_loader = _loader(validation_data, None, validation_batch_size or batch_size, False,
                                     "validation_data")
    val_metrics = [copy.deepcopy(m) for m in metric_list]
    for cb in callbacks or []:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback objects, got {type(cb).__name__}")
    history = History()
    callback_list = CallbackList([history, ProgbarLogger(verbose)] + list(callbacks or []))
    callback_list.set_model(self, optimizer)
    callback_list.set_params({"epochs": epochs, "steps": len(train_loader), "samples": _num_samples(train_loader),
                              "batch_size": batch_size, "verbose": verbose, "callbacks": callback_list.callbacks})
    device = _device(self)
    modes = [(m, m.training) for m in self.modules()]
    self.stop_training = False
    callback_list.on_train_begin({})
    if resume_from is not None:
        initial_epoch = load_checkpoint(resume_from, model=self, optimizer=optimizer,
                                        callbacks=callback_list.callbacks)["epoch"]
    epoch_logs = {}
    try:
        for epoch in range(initial_epoch, epochs):
            self.train()
            callback_list.on_epoch_begin(epoch, {})
            lr = optimizer.param_groups[0]["lr"]
            loss_mean = _metrics.Mean()
            for m in metric_list:
                m.reset()
            for step, batch in enumerate(train_loader):
                inputs, target = _split_batch(batch, device)
                if target is None:
                    raise ValueError("training batches must hold targets: (x, y)")
                n = _batch_size(inputs)
                callback_list.on_batch_begin(step, {"batch": step, "size": n})
                optimizer.zero_grad()
                out = self(*inputs)
                loss_value = loss_fn(out, target)
                loss_value.backward()
                optimizer.step()
                batch_loss = loss_value.item()
                loss_mean.update(batch_loss, n)
                out = out.detach()
                for m in metric_list:
                    m.update(out, target)
                batch_logs = {"batch": step, "size": n, "batch_loss": batch_loss, **_logs(loss_mean, metric_list)}
                callback_list.on_batch_end(step, batch_logs)
                if self.stop_training:
                    break
            epoch_logs = _logs(loss_mean, metric_list)
            if val_loader is not None:
                val_logs = _run_eval(self, val_loader, loss_fn, val_metrics)
                epoch_logs.update({"val_" + key: value for key, value in val_logs.items()})
            epoch_logs["lr"] = lr
            callback_list.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
    finally:
        for m, mode in modes:
            m.training = mode
    callback_list.on_train_end(epoch_logs)
    return history


def evaluate(self, x=None, y=None, batch_size=32, verbose=1, loss=None, metrics=None):
    """The loss and metrics over (x, y), a Dataset or a DataLoader, in eval mode under no_grad
    (every submodule's previous training flag is restored), as a dict {'loss': ..., name: ...};
    loss and metrics default to compile()'s. verbose: 1 a progress bar (or a line when stdout
    is not a terminal), 2 a line, 0 nothing."""
    _, loss_fn, metric_list = _config(self, None, loss, metrics, remember=False)
    loader = _loader(x, y, batch_size, False, "evaluate")
    mode = progress_mode(verbose)
    progress = ProgressBar(mode, "Evaluate", _num_samples(loader)) if mode else None
    logs = _run_eval(self, loader, loss_fn, metric_list, progress)
    if progress is not None:
        progress.finish(logs)
    return logs


def predict(self, x, batch_size=32, verbose=0):
    """The model's outputs for x (a tensor, NumPy array, Dataset or DataLoader; of a batch
    (x, y) only x is used), concatenated over batches along dim 0, in eval mode under no_grad
    (every submodule's previous training flag is restored). A model returning a tuple gives a
    tuple of concatenated tensors."""
    loader = x if isinstance(x, DataLoader) else DataLoader(
        x if _is_dataset(x) else TensorDataset(_as_tensor(x, "x")), batch_size=batch_size)
    device = _device(self)
    mode = progress_mode(verbose)
    progress = ProgressBar(mode, "Predict", _num_samples(loader)) if mode else None
    outputs = []
    with _eval_mode(self):
        for batch in loader:
            inputs, _ = _split_batch(batch, device)
            out = self(*inputs)
            outputs.append(out)
            if progress is not None:
                progress.update(_batch_size(inputs), {})
    if progress is not None:
        progress.finish({})
    if not outputs:
        raise ValueError("predict: no samples")
    if isinstance(outputs[0], (tuple, list)):
        return tuple(_C.cat(list(parts), 0) for parts in zip(*outputs))
    return _C.cat(outputs, 0)

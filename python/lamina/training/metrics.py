"""Metrics for classification and regression, streaming over batches.

A Metric accumulates sufficient statistics with update(y_pred, y_true) (counts, sums, a
confusion matrix) and compute() turns them into the value over every sample seen since reset(),
so an epoch's value is exact, not an average of batch averages. Every update is vectorised NumPy
over the batch (argmax, comparisons, bincount), never a Python loop over samples. The function
forms (accuracy, f1_score, ...) run one update on one batch.

Conventions: y_pred is (N, C) scores (logits or probabilities) or (N,) class indices / binary
scores; y_true is (N,) class indices or (N, C) one-hot / probabilities. Both may be lamina tensors
or NumPy arrays.
"""
import copy
import inspect

import numpy as np

from lamina import _C

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "Accuracy", "TopKAccuracy", "ConfusionMatrix", "Precision",
           "Recall", "F1Score", "MeanAbsoluteError", "MeanSquaredError", "accuracy", "top_k_accuracy",
           "confusion_matrix", "precision", "recall", "f1_score", "mean_absolute_error", "mean_squared_error",
           "get"]


def _numpy(x):
    """A NumPy view (or copy for non-CPU tensors) of a tensor, array or number, detached."""
    if isinstance(x, _C.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _class_indices(y, threshold):
    """Class indices (N,) from (N, C) scores or one-hot rows (argmax; C == 1 is binary and uses
    threshold), (N,) float binary scores (score > threshold) or (N,) integer indices."""
    y = _numpy(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2:
        return np.argmax(y, axis=1)
    if y.ndim != 1:
        raise ValueError(f"[metrics] expected (N,) class indices or (N, C) scores, got shape {y.shape}")
    if y.dtype.kind == "f" and threshold is not None:
        return (y > threshold).astype(np.int64)
    return y.astype(np.int64, copy=False)


def _check_batch(y_pred, y_true, name):
    if y_pred.shape[0] != y_true.shape[0]:
        raise ValueError(f"[{name}] y_pred has {y_pred.shape[0]} samples but y_true has {y_true.shape[0]}")


class Metric:
    """Base class: update(y_pred, y_true) adds a batch, compute() returns the value over all
    batches since the last reset(), reset() clears the state. ``name`` is the key in logs."""

    name = "metric"

    def __init__(self, name=None):
        if name is not None:
            self.name = name
        self.reset()

    def reset(self):
        raise NotImplementedError

    def update(self, y_pred, y_true):
        raise NotImplementedError

    def compute(self):
        raise NotImplementedError

    def __call__(self, y_pred, y_true):
        """The metric on this batch alone; the accumulated state is left untouched."""
        fresh = copy.deepcopy(self)
        fresh.reset()
        fresh.update(y_pred, y_true)
        return fresh.compute()

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class Mean(Metric):
    """The weighted mean sum(w_i v_i) / sum(w_i) of the values given to update(value, weight);
    fit uses it for the loss, with the batch size as weight (exact for mean-reduced losses)."""

    name = "mean"

    def reset(self):
        self.total, self.weight = 0.0, 0.0

    def update(self, value, weight=1.0):
        self.total += float(value) * weight
        self.weight += weight

    def compute(self):
        return self.total / self.weight if self.weight else float("nan")


class MeanMetricWrapper(Metric):
    """A function fn(y_pred, y_true) -> batch value, averaged over samples: each batch's value is
    weighted by its number of samples."""

    def __init__(self, fn, name=None):
        self.fn = fn
        super().__init__(name or getattr(fn, "__name__", "metric"))

    def reset(self):
        self.mean = Mean()

    def update(self, y_pred, y_true):
        self.mean.update(float(self.fn(y_pred, y_true)), _numpy(y_true).shape[0])

    def compute(self):
        return self.mean.compute()


class Accuracy(Metric):
    """accuracy = (1/N) sum_i [pred_i == true_i], where pred_i = argmax_c y_pred[i, c] for
    (N, C) scores, [y_pred_i > threshold] for (N,) or (N, 1) float binary scores (threshold 0.5
    for probabilities; use 0.0 for logits) and y_pred_i itself for integer indices; y_true is
    indices or one-hot rows (argmax)."""

    name = "accuracy"

    def __init__(self, threshold=0.5, name=None):
        self.threshold = threshold
        super().__init__(name)

    def reset(self):
        self.correct, self.count = 0, 0

    def update(self, y_pred, y_true):
        pred, true = _class_indices(y_pred, self.threshold), _class_indices(y_true, self.threshold)
        _check_batch(pred, true, self.name)
        self.correct += int(np.count_nonzero(pred == true))
        self.count += pred.shape[0]

    def compute(self):
        return self.correct / self.count if self.count else float("nan")


class TopKAccuracy(Metric):
    """top-k accuracy = (1/N) sum_i [rank_i < k], rank_i = #{c : y_pred[i, c] > y_pred[i, true_i]}:
    the true class is among the k highest scores (ties count in the sample's favour).
    y_pred is (N, C) scores; y_true indices or one-hot."""

    def __init__(self, k=5, name=None):
        self.k = k
        super().__init__(name or f"top_{k}_accuracy")

    def reset(self):
        self.correct, self.count = 0, 0

    def update(self, y_pred, y_true):
        scores, true = _numpy(y_pred), _class_indices(y_true, None)
        if scores.ndim != 2:
            raise ValueError(f"[{self.name}] y_pred must be (N, C) scores, got shape {scores.shape}")
        _check_batch(scores, true, self.name)
        true_score = np.take_along_axis(scores, true[:, None], axis=1)
        rank = np.count_nonzero(scores > true_score, axis=1)
        self.correct += int(np.count_nonzero(rank < self.k))
        self.count += scores.shape[0]

    def compute(self):
        return self.correct / self.count if self.count else float("nan")


class ConfusionMatrix(Metric):
    """M[t, p] = number of samples of true class t predicted as class p (rows: true, columns:
    predicted, as scikit-learn). num_classes fixes C; None grows it to the largest class seen.
    Built with one bincount of C * true + pred per batch."""

    name = "confusion_matrix"

    def __init__(self, num_classes=None, threshold=0.5, name=None):
        self.num_classes = num_classes
        self.threshold = threshold
        super().__init__(name)

    def reset(self):
        n = self.num_classes or 0
        self.matrix = np.zeros((n, n), dtype=np.int64)

    def update(self, y_pred, y_true):
        scores = _numpy(y_pred)
        pred, true = _class_indices(scores, self.threshold), _class_indices(y_true, self.threshold)
        _check_batch(pred, true, self.name)
        if pred.size and min(pred.min(), true.min()) < 0:
            raise ValueError(f"[{self.name}] class indices must be >= 0")
        seen = max(int(pred.max(initial=-1)), int(true.max(initial=-1))) + 1
        if scores.ndim == 2 and scores.shape[1] > 1:
            seen = max(seen, scores.shape[1])
        n = self.matrix.shape[0]
        if seen > n:
            if self.num_classes is not None:
                raise ValueError(f"[{self.name}] got class index {seen - 1} but num_classes={self.num_classes}")
            grown = np.zeros((seen, seen), dtype=np.int64)
            grown[:n, :n] = self.matrix
            self.matrix, n = grown, seen
        self.matrix += np.bincount(n * true + pred, minlength=n * n).reshape(n, n)

    def compute(self):
        return self.matrix.copy()


class _ConfusionMetric(Metric):
    """Base of Precision, Recall and F1Score: per-class counts from a streaming confusion matrix,
    TP_c = M[c, c], FP_c = sum_t M[t, c] - TP_c, FN_c = sum_p M[c, p] - TP_c.
    average='macro': the unweighted mean of the per-class values over the classes that occur in
    y_true or y_pred; 'micro': the value of the summed counts; None: the per-class array.
    A 0/0 ratio counts as 0 (scikit-learn's zero_division=0)."""

    def __init__(self, num_classes=None, average="macro", threshold=0.5, name=None):
        if average not in ("macro", "micro", None):
            raise ValueError(f"average must be 'macro', 'micro' or None, got {average!r}")
        self.average = average
        self.confusion = ConfusionMatrix(num_classes, threshold)
        super().__init__(name or (self.name if average in ("macro", None) else f"{self.name}_{average}"))

    def reset(self):
        self.confusion.reset()

    def update(self, y_pred, y_true):
        self.confusion.update(y_pred, y_true)

    def _value(self, tp, fp, fn):
        raise NotImplementedError

    def compute(self):
        m = self.confusion.matrix
        tp = np.diag(m).astype(np.float64)
        fp, fn = m.sum(axis=0) - tp, m.sum(axis=1) - tp
        if self.average == "micro":
            return float(self._value(tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True))[0])
        per_class = self._value(tp, fp, fn)
        if self.average is None:
            return per_class
        present = (m.sum(axis=0) + m.sum(axis=1)) > 0
        return float(per_class[present].mean()) if present.any() else float("nan")


def _ratio(num, den):
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


class Precision(_ConfusionMetric):
    """precision_c = TP_c / (TP_c + FP_c), averaged as described in _ConfusionMetric."""

    name = "precision"

    def _value(self, tp, fp, fn):
        return _ratio(tp, tp + fp)


class Recall(_ConfusionMetric):
    """recall_c = TP_c / (TP_c + FN_c), averaged as described in _ConfusionMetric."""

    name = "recall"

    def _value(self, tp, fp, fn):
        return _ratio(tp, tp + fn)


class F1Score(_ConfusionMetric):
    """F1_c = 2 TP_c / (2 TP_c + FP_c + FN_c) (the harmonic mean of precision and recall);
    macro averages F1_c, micro uses the summed counts (= accuracy for single-label data)."""

    name = "f1"

    def _value(self, tp, fp, fn):
        return _ratio(2 * tp, 2 * tp + fp + fn)


class _ErrorMetric(Metric):
    """Mean over every element of y_pred - y_true (same number of elements)."""

    def reset(self):
        self.total, self.count = 0.0, 0

    def update(self, y_pred, y_true):
        pred, true = _numpy(y_pred).astype(np.float64), _numpy(y_true).astype(np.float64)
        if pred.size != true.size:
            raise ValueError(f"[{self.name}] y_pred has {pred.size} elements but y_true has {true.size}")
        self.total += float(self._error(pred.reshape(-1) - true.reshape(-1)).sum())
        self.count += pred.size

    def compute(self):
        return self.total / self.count if self.count else float("nan")


class MeanAbsoluteError(_ErrorMetric):
    """MAE = (1/n) sum |y_pred - y_true| over all n elements."""

    name = "mae"
    _error = staticmethod(np.abs)


class MeanSquaredError(_ErrorMetric):
    """MSE = (1/n) sum (y_pred - y_true)^2 over all n elements."""

    name = "mse"
    _error = staticmethod(np.square)


def _functional(metric_class, doc):
    def fn(y_pred, y_true, **kwargs):
        return metric_class(**kwargs)(y_pred, y_true)
    fn.__doc__ = f"{doc} on one batch: {metric_class.__name__}(**kwargs)(y_pred, y_true). " + metric_class.__doc__
    return fn


accuracy = _functional(Accuracy, "Accuracy")
top_k_accuracy = _functional(TopKAccuracy, "Top-k accuracy (k=5)")
confusion_matrix = _functional(ConfusionMatrix, "The confusion matrix")
precision = _functional(Precision, "Precision (average='macro')")
recall = _functional(Recall, "Recall (average='macro')")
f1_score = _functional(F1Score, "F1 score (average='macro')")
mean_absolute_error = _functional(MeanAbsoluteError, "Mean absolute error")
mean_squared_error = _functional(MeanSquaredError, "Mean squared error")
for _fn, _name in ((accuracy, "accuracy"), (top_k_accuracy, "top_k_accuracy"), (confusion_matrix, "confusion_matrix"),
                   (precision, "precision"), (recall, "recall"), (f1_score, "f1_score"),
                   (mean_absolute_error, "mean_absolute_error"), (mean_squared_error, "mean_squared_error")):
    _fn.__name__ = _fn.__qualname__ = _name

_BY_NAME = {
    "accuracy": Accuracy, "acc": Accuracy,
    "top_5_accuracy": lambda: TopKAccuracy(5), "top5": lambda: TopKAccuracy(5),
    "precision": Precision, "recall": Recall, "f1": F1Score, "f1_score": F1Score,
    "precision_micro": lambda: Precision(average="micro"), "recall_micro": lambda: Recall(average="micro"),
    "f1_micro": lambda: F1Score(average="micro"),
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
}


def get(metric):
    """A fresh Metric from a name ('accuracy', 'top_5_accuracy', 'precision', 'recall', 'f1',
    'precision_micro', 'recall_micro', 'f1_micro', 'mae', 'mse'), a Metric instance (used as is)
    or class, or a function fn(y_pred, y_true) -> batch value (sample-weighted mean)."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        if metric not in _BY_NAME:
            raise ValueError(f"unknown metric {metric!r}; known names: {', '.join(sorted(_BY_NAME))}")
        return _BY_NAME[metric]()
    if inspect.isclass(metric) and issubclass(metric, Metric):
        return metric()
    if callable(metric):
        return MeanMetricWrapper(metric)
    raise TypeError(f"a metric must be a name, a Metric or a function, got {type(metric).__name__}")

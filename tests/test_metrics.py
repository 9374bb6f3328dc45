"""lamina.training.metrics: values against scikit-learn and hand counts, streaming over batches
equal to one pass over all samples, every input layout (indices, one-hot, logits, binary)."""
import numpy as np
import pytest

import lamina as lm
from lamina.training import metrics as M

sklearn_metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn (test extra) is not installed")


def _scores(n=200, c=5, seed=0):
    rs = np.random.RandomState(seed)
    logits = rs.randn(n, c).astype(np.float32)
    labels = rs.randint(0, c, n)
    return logits, labels


def test_accuracy_from_logits_probabilities_indices_and_one_hot():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [4.0, 0.0, 1.0]], dtype=np.float32)
    labels = np.array([0, 1, 1, 2])  # right, right, wrong, wrong
    assert M.accuracy(logits, labels) == 0.5
    assert M.accuracy(lm.from_numpy(logits), lm.from_numpy(labels)) == 0.5
    assert M.accuracy(lm.from_numpy(logits).softmax(1), labels) == 0.5
    assert M.accuracy(np.array([0, 1, 2, 0]), labels) == 0.5
    assert M.accuracy(logits, np.eye(3)[labels]) == 0.5


def test_binary_accuracy_thresholds_probabilities_and_logits():
    probs = np.array([0.9, 0.2, 0.6, 0.4], dtype=np.float32)
    labels = np.array([1, 0, 0, 0])
    assert M.accuracy(probs, labels) == 0.75
    assert M.accuracy(probs[:, None], labels[:, None].astype(np.float32)) == 0.75
    assert M.accuracy(np.array([2.0, -1.0, 0.5, -0.1], dtype=np.float32), labels, threshold=0.0) == 0.75


def test_top_k_accuracy_counts_true_class_among_k_highest():
    scores = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]], dtype=np.float32)
    labels = np.array([2, 1, 0])  # ranks 1, 1, 2
    assert M.top_k_accuracy(scores, labels, k=1) == 0.0
    assert M.top_k_accuracy(scores, labels, k=2) == pytest.approx(2 / 3)
    assert M.top_k_accuracy(scores, labels, k=3) == 1.0
    logits, y = _scores()
    assert M.top_k_accuracy(logits, y, k=3) == pytest.approx(sklearn_metrics.top_k_accuracy_score(y, logits, k=3))


@pytest.mark.parametrize("average", ["macro", "micro"])
def test_precision_recall_f1_match_sklearn(average):
    logits, y = _scores()
    pred = logits.argmax(1)
    assert M.precision(logits, y, average=average) == pytest.approx(
        sklearn_metrics.precision_score(y, pred, average=average, zero_division=0))
    assert M.recall(logits, y, average=average) == pytest.approx(
        sklearn_metrics.recall_score(y, pred, average=average, zero_division=0))
    assert M.f1_score(logits, y, average=average) == pytest.approx(
        sklearn_metrics.f1_score(y, pred, average=average, zero_division=0))


def test_per_class_values_and_zero_division():
    # class 2 is never predicted: its precision is 0/0 -> 0
    pred = np.array([0, 0, 1, 1, 0])
    true = np.array([0, 1, 1, 2, 2])
    np.testing.assert_allclose(M.precision(pred, true, average=None), [1 / 3, 1 / 2, 0.0])
    np.testing.assert_allclose(M.recall(pred, true, average=None), [1.0, 1 / 2, 0.0])
    np.testing.assert_allclose(M.f1_score(pred, true, average=None), [2 / (3 + 1), 0.5, 0.0])


def test_confusion_matrix_matches_sklearn_and_grows():
    logits, y = _scores(c=4)
    np.testing.assert_array_equal(M.confusion_matrix(logits, y), sklearn_metrics.confusion_matrix(y, logits.argmax(1)))
    cm = M.ConfusionMatrix()
    cm.update(np.array([0, 1]), np.array([0, 1]))
    cm.update(np.array([3]), np.array([2]))
    np.testing.assert_array_equal(cm.compute(), [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    with pytest.raises(ValueError, match="num_classes=2"):
        M.ConfusionMatrix(num_classes=2).update(np.array([2]), np.array([0]))


def test_mae_and_mse_over_all_elements():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    true = np.array([[1.5, 2.0], [1.0, 4.0]])
    assert M.mean_absolute_error(pred, true) == pytest.approx((0.5 + 0 + 2 + 0) / 4)
    assert M.mean_squared_error(lm.tensor(pred), lm.tensor(true)) == pytest.approx((0.25 + 0 + 4 + 0) / 4)


@pytest.mark.parametrize("metric", [M.Accuracy(), M.TopKAccuracy(2), M.Precision(), M.Recall(average="micro"),
                                    M.F1Score(), M.MeanSquaredError()])
def test_streaming_over_uneven_batches_equals_one_pass(metric):
    logits, y = _scores(n=203)
    target = np.eye(5, dtype=np.float32)[y] if isinstance(metric, M.MeanSquaredError) else y
    metric.reset()
    for start in range(0, 203, 37):  # batches of 37 and a last one of 18: not an average of batch averages
        metric.update(logits[start:start + 37], target[start:start + 37])
    streamed = metric.compute()
    assert streamed == pytest.approx(metric(logits, target))


def test_call_leaves_accumulated_state_untouched():
    metric = M.F1Score()
    metric.update(np.array([0, 1, 1]), np.array([0, 1, 0]))
    before = metric.compute()
    metric(np.array([2, 2]), np.array([0, 1]))
    assert metric.compute() == before


def test_get_by_name_instance_class_and_function():
    assert isinstance(M.get("accuracy"), M.Accuracy)
    assert M.get("f1_micro").name == "f1_micro"
    assert M.get("top_5_accuracy").k == 5
    acc = M.Accuracy()
    assert M.get(acc) is acc
    assert isinstance(M.get(M.Recall), M.Recall)

    def batch_max(y_pred, y_true):
        return float(np.max(y_pred))
    wrapped = M.get(batch_max)
    assert wrapped.name == "batch_max"
    wrapped.update(np.ones(2), np.ones(2))
    wrapped.update(np.full(6, 3.0), np.ones(6))
    assert wrapped.compute() == pytest.approx((1 * 2 + 3 * 6) / 8)
    with pytest.raises(ValueError, match="unknown metric"):
        M.get("accuracyy")


def test_mismatched_batches_raise():
    with pytest.raises(ValueError, match="samples"):
        M.accuracy(np.zeros((3, 2)), np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match=r"\(N, C\) scores"):
        M.top_k_accuracy(np.zeros(3), np.zeros(3, dtype=np.int64))

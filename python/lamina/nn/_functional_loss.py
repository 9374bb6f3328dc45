"""Loss functions with PyTorch's signatures (torch.nn.functional.<name>). Each is one call into
the fused C++ loss (lamina._C); this layer only keeps PyTorch's calling conventions: the legacy
``size_average``/``reduce`` arguments, its warnings, and kl_div's ``'batchmean'``.

Shapes: input and target (*) for the elementwise losses (broadcast together with a warning where
PyTorch does); cross_entropy/nll_loss input (N, C), (N, C, d1, ...) or (C,), target (N), (N, d1, ...)
or () of int64 class indices (or, for cross_entropy, float class probabilities of the input's shape).
'none' keeps the per-element losses; 'mean' and 'sum' return a 0-d tensor.
"""
import warnings

from lamina import Tensor, _C

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]


def _legacy_reduction(size_average, reduce):
    """PyTorch's mapping of the deprecated size_average/reduce flags to a reduction string."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else ("sum" if reduce else "none")
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
                  stacklevel=3)
    return reduction


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    return reduction


def _warn_if_broadcast(input, target):
    if isinstance(input, Tensor) and isinstance(target, Tensor) and tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({tuple(target.shape)}) that is different to the input size "
                      f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error: l = w (input - target)^2; 'mean' divides by sum(w) (by the element count
    when weight is None)."""
    _warn_if_broadcast(input, target)
    return _C.mse_loss(input, target, _reduction(size_average, reduce, reduction), weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error: l = w |input - target|; 'mean' divides by sum(w) (by the element count
    when weight is None)."""
    _warn_if_broadcast(input, target)
    return _C.l1_loss(input, target, _reduction(size_average, reduce, reduction), weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """z = |input - target|: l = 0.5 z^2 / beta if z < beta, else z - 0.5 beta (beta=0: L1)."""
    _warn_if_broadcast(input, target)
    return _C.smooth_l1_loss(input, target, _reduction(size_average, reduce, reduction), beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """z = |input - target|: l = w 0.5 z^2 if z < delta, else w delta (z - 0.5 delta); 'mean'
    divides by the element count."""
    _warn_if_broadcast(input, target)
    return _C.huber_loss(input, target, reduction, delta, weight)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Log-softmax over the class dim (1; 0 for unbatched (C,) input) and negative log-likelihood,
    fused. Class indices y: l = -(1 - ls) w_y logp_y - (ls / C) sum_c w_c logp_c, 0 where
    y == ignore_index, and 'mean' divides by the sum of w_y over non-ignored targets. Class
    probabilities t: l = -sum_c w_c ((1 - ls) t_c + ls / C) logp_c, 'mean' divides by N d1 ... dk."""
    return _C.cross_entropy(input, target, weight, ignore_index, _reduction(size_average, reduce, reduction),
                            label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of log-probabilities input: l = -w_y input[y] (0 where y ==
    ignore_index); 'mean' divides by the sum of w_y over non-ignored targets."""
    return _C.nll_loss(input, target, weight, ignore_index, _reduction(size_average, reduce, reduction))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """l = -w (t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1], each log clamped at -100;
    weight broadcasts to the input's shape."""
    return _C.binary_cross_entropy(input, target, weight, _reduction(size_average, reduce, reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid and binary cross-entropy, fused and stable for any logit x:
    l = -w (p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))), p = pos_weight (broadcast over the input)."""
    return _C.binary_cross_entropy_with_logits(input, target, weight, _reduction(size_average, reduce, reduction),
                                               pos_weight)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence with input holding log-probabilities: l = t (log t - input)
    (log_target: exp(t) (t - input)). 'batchmean' divides the sum by input.size(0), which is the
    mathematical KL divergence; 'mean' divides by the element count."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    return _C.kl_div(input, target, reduction, log_target)

// Losses: validate, broadcast where PyTorch does, make contiguous, run one fused forward kernel,
// record one node whose backward is one kernel. Reductions: 'none' keeps the per-element (or
// per-position) losses; 'mean' and 'sum' give a 0-d tensor (the kernels sum in double).
// Which inputs get gradients follows PyTorch: input and float targets always; the elementwise
// losses' weight too; class weights, class-index targets and pos_weight never.
#include <cmath>

#include "ops/cpu/loss.h"
#include "ops/dispatch.h"

namespace lamina {

namespace {

template <typename T> T* ptr_or_null(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::None: return "none";
    case Reduction::Mean: return "mean";
    case Reduction::Sum: return "sum";
    case Reduction::BatchMean: return "batchmean";
  }
  return "?";
}

void check_reduction(const char* op, Reduction r, bool batchmean_allowed) {
  LAMINA_CHECK(r != Reduction::BatchMean || batchmean_allowed, ValueError, "[", op,
               "] reduction must be 'none', 'mean' or 'sum', got '", reduction_name(r), "'");
}

Tensor scalar_of(double value, Dtype dtype) {
  Tensor out = Tensor::empty({}, dtype);
  dispatch_float(dtype, "loss", [&](auto tag) {
    using T = typename decltype(tag)::type;
    out.data<T>()[0] = T(value);
  });
  return out;
}

void check_same_dtype(const char* op, const Tensor& input, const Tensor& t, const char* arg) {
  LAMINA_CHECK(t.dtype() == input.dtype(), TypeError, "[", op, "] ", arg, " must have the input's dtype ",
               dtype_name(input.dtype()), ", got ", dtype_name(t.dtype()));
}

// Whether a tensor of shape s can be expanded to `target` (NumPy broadcasting, one way).
bool broadcasts_to(const Shape& s, const Shape& target) {
  if (s.size() > target.size()) return false;
  for (size_t i = 1; i <= s.size(); ++i)
    if (s[s.size() - i] != target[target.size() - i] && s[s.size() - i] != 1) return false;
  return true;
}

// t viewed with `shape` (broadcast), then contiguous; t itself when it already has it.
Tensor expanded(const Tensor& t, const Shape& shape) {
  return t.defined() ? contiguous(t.shape() == shape ? t : expand(t, shape)) : t;
}

// --- elementwise losses ---

struct PointwiseLossBackward : Node {
  PointwiseLoss kind;
  double param;
  Reduction reduction;
  double scale, mean_loss;  // g = dout * scale; mean_loss: see cpu::pointwise_loss_backward
  bool has_weight;
  PointwiseLossBackward(PointwiseLoss k, double p, Reduction r, double s, double m, bool w)
      : kind(k), param(p), reduction(r), scale(s), mean_loss(m), has_weight(w) {}
  const char* name() const override {
    switch (kind) {
      case PointwiseLoss::Mse: return "MseLossBackward0";
      case PointwiseLoss::L1: return "L1LossBackward0";
      case PointwiseLoss::SmoothL1: return "SmoothL1LossBackward0";
      case PointwiseLoss::Huber: return "HuberLossBackward0";
      case PointwiseLoss::Bce: return "BinaryCrossEntropyBackward0";
      case PointwiseLoss::BceWithLogits: return "BinaryCrossEntropyWithLogitsBackward0";
      case PointwiseLoss::KlDiv:
      case PointwiseLoss::KlDivLogTarget: return "KlDivBackward0";
    }
    return "LossBackward0";
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    std::vector<Tensor> out(next_edges.size());
    if (!grads[0].defined()) return out;
    Tensor g = contiguous(grads[0]), inp = saved(0), tgt = saved(1), w = saved(2), pw = saved(3);
    for (size_t i = 0; i < out.size(); ++i)
      if (needs_input_grad(i)) out[i] = Tensor::empty(inp.shape(), inp.dtype());
    dispatch_float(inp.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::pointwise_loss_backward<T>(ptr_or_null<T>(out[0]), ptr_or_null<T>(out[1]),
                                      has_weight ? ptr_or_null<T>(out[2]) : nullptr, g.data<T>(),
                                      reduction == Reduction::None ? 1 : 0, scale, mean_loss, inp.data<T>(),
                                      tgt.data<T>(), ptr_or_null<T>(w), ptr_or_null<T>(pw), inp.numel(), kind, param);
    });
    return out;
  }
};

// How a loss lines up its arguments with the input (PyTorch's rules differ per loss).
struct PointwiseShapes {
  bool broadcast_target;      // input and target broadcast together (else: equal shapes)
  bool weight_like_input;     // weight must have the input's shape (else: broadcast to it)
  bool mean_over_weight;      // 'mean' divides by sum(weight) (else: by the element count)
};

Tensor pointwise_loss(const char* op, PointwiseLoss kind, double param, const Tensor& input, const Tensor& target,
                      const Tensor& weight, const Tensor& pos_weight, Reduction reduction, PointwiseShapes rules) {
  check_defined(op, input, "input");
  check_defined(op, target, "target");
  check_floating(op, input, "input");
  check_same_dtype(op, input, target, "target");
  require_cpu(op, input);
  require_cpu(op, target);
  check_reduction(op, reduction, kind == PointwiseLoss::KlDiv || kind == PointwiseLoss::KlDivLogTarget);
  Shape shape = input.shape();
  if (rules.broadcast_target) {
    shape = broadcast_shapes(input.shape(), target.shape(), op);
  } else {
    LAMINA_CHECK(target.shape() == input.shape(), ValueError, "[", op, "] target must have the input's shape ",
                 shape_str(input.shape()), ", got ", shape_str(target.shape()));
  }
  for (const Tensor* w : {&weight, &pos_weight}) {
    if (!w->defined()) continue;
    const char* arg = w == &weight ? "weight" : "pos_weight";
    check_same_dtype(op, input, *w, arg);
    require_cpu(op, *w);
    bool ok = rules.weight_like_input && w == &weight ? w->shape() == input.shape()
                                                      : broadcasts_to(w->shape(), shape);
    LAMINA_CHECK(ok, ValueError, "[", op, "] ", arg, " must ",
                 rules.weight_like_input && w == &weight ? "have the input's shape " : "broadcast to the shape ",
                 shape_str(rules.weight_like_input && w == &weight ? input.shape() : shape), ", got ",
                 shape_str(w->shape()));
  }
  Tensor x = expanded(input, shape), t = expanded(target, shape), w = expanded(weight, shape);
  Tensor pw = pos_weight.defined() ? expanded(detach(pos_weight), shape) : pos_weight;
  int64_t n = x.numel();

  if (kind == PointwiseLoss::Bce) {  // PyTorch's range checks, before the kernel
    dispatch_float(x.dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T *xs = x.data<T>(), *ts = t.data<T>();
      for (int64_t i = 0; i < n; ++i) {
        LAMINA_CHECK(xs[i] >= T(0) && xs[i] <= T(1), ValueError, "[", op,
                     "] all elements of input should be between 0 and 1, got ", xs[i]);
        LAMINA_CHECK(ts[i] >= T(0) && ts[i] <= T(1), ValueError, "[", op,
                     "] all elements of target should be between 0 and 1, got ", ts[i]);
      }
    });
  }

  bool none = reduction == Reduction::None;
  Tensor out = Tensor::empty(none ? shape : Shape{}, x.dtype());
  double sums[2] = {0, 0};
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::pointwise_loss<T>(none ? out.data<T>() : nullptr, sums, x.data<T>(), t.data<T>(), ptr_or_null<T>(w),
                           ptr_or_null<T>(pw), n, kind, param);
  });
  double denom = 1, mean_loss = 0;
  bool over_weight = rules.mean_over_weight && w.defined();
  if (reduction == Reduction::Mean) denom = over_weight ? sums[1] : double(n);
  if (reduction == Reduction::BatchMean) denom = input.dim() == 0 ? 1.0 : double(input.shape()[0]);
  if (!none) {
    out = scalar_of(sums[0] / denom, x.dtype());
    if (reduction == Reduction::Mean && over_weight) mean_loss = sums[0] / denom;
  }

  if (any_requires_grad({&x, &t, &w})) {
    auto node = weight.defined() ? make_node<PointwiseLossBackward>({&x, &t, &w}, kind, param, reduction, 1.0 / denom,
                                                                    mean_loss, true)
                                 : make_node<PointwiseLossBackward>({&x, &t}, kind, param, reduction, 1.0 / denom,
                                                                    mean_loss, false);
    node->save({x, t, w, pw});
    set_history(out, std::move(node));
  }
  return out;
}

// --- class losses: input (N, C, d1, ...) or (C), viewed as (N, C, S) ---

struct ClassLayout {
  int64_t N = 1, C = 1, S = 1;
  Shape loss_shape;  // the shape of the per-position losses: (N, d1, ...), or () unbatched
};

ClassLayout class_layout(const char* op, const Tensor& input) {
  LAMINA_CHECK(input.dim() >= 1, ValueError, "[", op, "] input must be (C), (N, C) or (N, C, d1, ...), got shape ",
               shape_str(input.shape()));
  ClassLayout l;
  if (input.dim() == 1) {
    l.C = input.shape()[0];
    return l;
  }
  l.N = input.shape()[0];
  l.C = input.shape()[1];
  l.loss_shape = {l.N};
  for (int64_t d = 2; d < input.dim(); ++d) {
    l.S *= input.shape()[d];
    l.loss_shape.push_back(input.shape()[d]);
  }
  return l;
}

Tensor class_weight(const char* op, const Tensor& weight, const Tensor& input, int64_t C) {
  if (!weight.defined()) return weight;
  check_same_dtype(op, input, weight, "weight");
  require_cpu(op, weight);
  LAMINA_CHECK(weight.dim() == 1 && weight.shape()[0] == C, ValueError, "[", op,
               "] weight must be a 1-d tensor of C = ", C, " class weights, got shape ", shape_str(weight.shape()));
  return contiguous(detach(weight));
}

// Class-index target: int64 of the layout's loss shape, each value in [0, C) or ignore_index.
Tensor class_target(const char* op, const Tensor& target, const ClassLayout& l, int64_t ignore_index) {
  LAMINA_CHECK(target.dtype() == Dtype::Int64, TypeError, "[", op,
               "] target of class indices must be an int64 tensor, got ", dtype_name(target.dtype()));
  require_cpu(op, target);
  LAMINA_CHECK(target.shape() == l.loss_shape, ValueError, "[", op, "] target must have shape ",
               shape_str(l.loss_shape), " for input of ", l.C, " classes, got ", shape_str(target.shape()));
  Tensor t = contiguous(target);
  const int64_t* ys = t.data<int64_t>();
  for (int64_t k = 0; k < t.numel(); ++k)
    LAMINA_CHECK(ys[k] == ignore_index || (ys[k] >= 0 && ys[k] < l.C), IndexError, "[", op, "] target ", ys[k],
                 " is out of bounds for ", l.C, " classes");
  return t;
}

// Finishes a class loss: the per-position losses, or their sum / denom as a 0-d tensor.
Tensor reduced(Reduction r, const Tensor& losses, double sum, double denom, Dtype dtype) {
  return r == Reduction::None ? losses : scalar_of(sum / denom, dtype);
}

struct CrossEntropyBackward : Node {
  ClassLayout l;
  int64_t ignore_index;
  double label_smoothing, scale;
  bool probs, none;
  CrossEntropyBackward(ClassLayout lay, int64_t ii, double ls, double s, bool p, bool n)
      : l(std::move(lay)), ignore_index(ii), label_smoothing(ls), scale(s), probs(p), none(n) {}
  const char* name() const override { return "CrossEntropyLossBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    std::vector<Tensor> out(next_edges.size());
    if (!grads[0].defined()) return out;
    Tensor g = contiguous(grads[0]), x = saved(0), tgt = saved(1), w = saved(2), lse = saved(3);
    Tensor dx = needs_input_grad(0) ? Tensor::empty(x.shape(), x.dtype()) : Tensor();
    Tensor dt = probs && needs_input_grad(1) ? Tensor::empty(x.shape(), x.dtype()) : Tensor();
    dispatch_float(x.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (probs) {
        cpu::cross_entropy_probs_backward<T>(ptr_or_null<T>(dx), ptr_or_null<T>(dt), g.data<T>(), none ? 1 : 0, scale,
                                             x.data<T>(), lse.data<double>(), tgt.data<T>(), ptr_or_null<T>(w), l.N,
                                             l.C, l.S, label_smoothing);
      } else if (dx.defined()) {
        cpu::cross_entropy_backward<T>(dx.data<T>(), g.data<T>(), none ? 1 : 0, scale, x.data<T>(),
                                       lse.data<double>(), tgt.data<int64_t>(), ptr_or_null<T>(w), l.N, l.C, l.S,
                                       ignore_index, label_smoothing);
      }
    });
    out[0] = dx;
    if (out.size() > 1) out[1] = dt;
    return out;
  }
};

struct NllLossBackward : Node {
  ClassLayout l;
  int64_t ignore_index;
  double scale;
  bool none;
  NllLossBackward(ClassLayout lay, int64_t ii, double s, bool n) : l(std::move(lay)), ignore_index(ii), scale(s), none(n) {}
  const char* name() const override { return "NllLossBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    if (!grads[0].defined()) return {Tensor()};
    Tensor g = contiguous(grads[0]), tgt = saved(0), w = saved(1);
    Shape shape = {l.C};  // the input's shape: the loss shape with C inserted at dim 1
    if (!l.loss_shape.empty()) {
      shape = l.loss_shape;
      shape.insert(shape.begin() + 1, l.C);
    }
    Tensor dx = Tensor::empty(shape, g.dtype());
    dispatch_float(g.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::nll_loss_backward<T>(dx.data<T>(), g.data<T>(), none ? 1 : 0, scale, tgt.data<int64_t>(), ptr_or_null<T>(w),
                                l.N, l.C, l.S, ignore_index);
    });
    return {dx};
  }
};

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction, const Tensor& weight) {
  return pointwise_loss("mse_loss", PointwiseLoss::Mse, 0, input, target, weight, {}, reduction, {true, true, true});
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, const Tensor& weight) {
  return pointwise_loss("l1_loss", PointwiseLoss::L1, 0, input, target, weight, {}, reduction, {true, true, true});
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  LAMINA_CHECK(beta >= 0, ValueError, "[smooth_l1_loss] beta must be >= 0, got ", beta);
  // beta == 0 is exactly the L1 loss (and avoids 0 / 0 in the quadratic branch), as in PyTorch.
  return pointwise_loss("smooth_l1_loss", beta == 0 ? PointwiseLoss::L1 : PointwiseLoss::SmoothL1, beta, input, target,
                        {}, {}, reduction, {true, true, false});
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta, const Tensor& weight) {
  LAMINA_CHECK(delta > 0, ValueError, "[huber_loss] delta must be > 0, got ", delta);
  return pointwise_loss("huber_loss", PointwiseLoss::Huber, delta, input, target, weight, {}, reduction,
                        {true, true, false});
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction) {
  return pointwise_loss("binary_cross_entropy", PointwiseLoss::Bce, 0, input, target, weight, {}, reduction,
                        {false, false, false});
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        Reduction reduction, const Tensor& pos_weight) {
  return pointwise_loss("binary_cross_entropy_with_logits", PointwiseLoss::BceWithLogits, 0, input, target, weight,
                        pos_weight, reduction, {false, false, false});
}

Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target) {
  return pointwise_loss("kl_div", log_target ? PointwiseLoss::KlDivLogTarget : PointwiseLoss::KlDiv, 0, input, target,
                        {}, {}, reduction, {true, false, false});
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                     Reduction reduction, double label_smoothing) {
  const char* op = "cross_entropy";
  check_defined(op, input, "input");
  check_defined(op, target, "target");
  check_floating(op, input, "input");
  require_cpu(op, input);
  check_reduction(op, reduction, false);
  LAMINA_CHECK(label_smoothing >= 0 && label_smoothing <= 1, ValueError, "[", op,
               "] label_smoothing must be between 0.0 and 1.0, got ", label_smoothing);
  ClassLayout l = class_layout(op, input);
  Tensor w = class_weight(op, weight, input, l.C);
  Tensor x = contiguous(input);
  bool none = reduction == Reduction::None;
  // A target of the input's shape holds class probabilities (PyTorch's rule); else class indices.
  bool probs = target.shape() == input.shape();
  Tensor t, losses = Tensor::empty(none ? l.loss_shape : Shape{}, x.dtype());
  Tensor lse = Tensor::empty(l.loss_shape, Dtype::Float64);
  double sums[2] = {0, 0}, denom = 1;
  if (probs) {
    LAMINA_CHECK(is_floating(target.dtype()), TypeError, "[", op, "] target of class probabilities (the input's shape ",
                 shape_str(input.shape()), ") must be a float tensor, got ", dtype_name(target.dtype()));
    check_same_dtype(op, input, target, "target");
    require_cpu(op, target);
    LAMINA_CHECK(ignore_index < 0, ValueError, "[", op,
                 "] ignore_index is not supported for a target of class probabilities, got ", ignore_index);
    t = contiguous(target);
    dispatch_float(x.dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::cross_entropy_probs<T>(none ? losses.data<T>() : nullptr, lse.data<double>(), sums, x.data<T>(), t.data<T>(),
                                  ptr_or_null<T>(w), l.N, l.C, l.S, label_smoothing);
    });
    if (reduction == Reduction::Mean) denom = double(l.N * l.S);
  } else {
    t = class_target(op, target, l, ignore_index);
    dispatch_float(x.dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::cross_entropy<T>(none ? losses.data<T>() : nullptr, lse.data<double>(), sums, x.data<T>(),
                            t.data<int64_t>(), ptr_or_null<T>(w), l.N, l.C, l.S, ignore_index, label_smoothing);
    });
    if (reduction == Reduction::Mean) denom = sums[1];  // sum of the weights of non-ignored targets
  }
  Tensor out = reduced(reduction, losses, sums[0], denom, x.dtype());
  bool target_grad = probs && any_requires_grad({&t});
  if (any_requires_grad({&x}) || target_grad) {
    auto node = probs ? make_node<CrossEntropyBackward>({&x, &t}, l, ignore_index, label_smoothing, 1.0 / denom, true, none)
                      : make_node<CrossEntropyBackward>({&x}, l, ignore_index, label_smoothing, 1.0 / denom, false, none);
    node->save({x, t, w, lse});
    set_history(out, std::move(node));
  }
  return out;
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                Reduction reduction) {
  const char* op = "nll_loss";
  check_defined(op, input, "input");
  check_defined(op, target, "target");
  check_floating(op, input, "input");
  require_cpu(op, input);
  check_reduction(op, reduction, false);
  ClassLayout l = class_layout(op, input);
  Tensor w = class_weight(op, weight, input, l.C);
  Tensor t = class_target(op, target, l, ignore_index);
  Tensor x = contiguous(input);
  bool none = reduction == Reduction::None;
  Tensor losses = Tensor::empty(none ? l.loss_shape : Shape{}, x.dtype());
  double sums[2] = {0, 0};
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::nll_loss<T>(none ? losses.data<T>() : nullptr, sums, x.data<T>(), t.data<int64_t>(), ptr_or_null<T>(w), l.N,
                     l.C, l.S, ignore_index);
  });
  double denom = reduction == Reduction::Mean ? sums[1] : 1.0;
  Tensor out = reduced(reduction, losses, sums[0], denom, x.dtype());
  if (any_requires_grad({&x})) {
    auto node = make_node<NllLossBackward>({&x}, l, ignore_index, 1.0 / denom, none);
    node->save({t, w});
    set_history(out, std::move(node));
  }
  return out;
}

}  // namespace lamina

// Reductions. A reduction over a set of dims views the input as (outer, R, inner): directly when
// the dims are adjacent, otherwise after permuting the kept dims first (then inner == 1).
// Backward: sum/mean expand the gradient back; var/std have their own kernel; max/min send the
// gradient to the chosen element (by index along a dim, or split evenly among ties overall).
#include <algorithm>

#include "ops/dispatch.h"

namespace lamina {

namespace {

struct ReductionPlan {
  Tensor input;                    // contiguous, laid out as (outer, R, inner)
  int64_t outer = 1, R = 1, inner = 1;
  Shape out_shape, keep_shape;     // result shape without / with the reduced dims kept as 1
  std::vector<int64_t> inverse;    // permutation from input's dims back to x's (empty: none)
};

ReductionPlan plan_reduction(const Tensor& x, std::vector<int64_t> dims, bool keepdim, const char* op) {
  GradModeGuard no_grad(false);
  ReductionPlan p;
  const int64_t nd = x.dim();
  std::vector<bool> reduced(size_t(std::max<int64_t>(nd, 1)), dims.empty());
  for (int64_t& d : dims) {
    d = wrap_dim(d, nd, op);
    LAMINA_CHECK(!reduced[d] || dims.empty(), ValueError, "[", op, "] dim ", d, " appears multiple times in the list of dims");
    reduced[d] = true;
  }
  std::vector<int64_t> kept_dims, reduced_dims;
  for (int64_t d = 0; d < nd; ++d) {
    (reduced[d] ? reduced_dims : kept_dims).push_back(d);
    p.keep_shape.push_back(reduced[d] ? 1 : x.shape()[d]);
    if (!reduced[d] || keepdim) p.out_shape.push_back(reduced[d] ? 1 : x.shape()[d]);
  }
  p.input = contiguous(x);
  bool adjacent = reduced_dims.empty() || reduced_dims.back() - reduced_dims.front() + 1 == int64_t(reduced_dims.size());
  if (!adjacent) {
    std::vector<int64_t> order = kept_dims;
    order.insert(order.end(), reduced_dims.begin(), reduced_dims.end());
    p.input = contiguous(permute(p.input, order));
    p.inverse.resize(order.size());
    for (size_t i = 0; i < order.size(); ++i) p.inverse[order[i]] = int64_t(i);
    for (int64_t d : kept_dims) p.outer *= x.shape()[d];
    for (int64_t d : reduced_dims) p.R *= x.shape()[d];
    return p;
  }
  int64_t first = reduced_dims.empty() ? nd : reduced_dims.front();
  for (int64_t d = 0; d < nd; ++d) {
    if (d < first) p.outer *= x.shape()[d];
    else if (reduced[d]) p.R *= x.shape()[d];
    else p.inner *= x.shape()[d];
  }
  return p;
}

// The gradient of a reduction, laid back over x's shape (a broadcast view, no copy).
Tensor expand_back(const Tensor& g, const Shape& keep_shape, const Shape& x_shape) {
  return expand(reshape(g, keep_shape), x_shape);
}

// PyTorch's names: SumBackward0 / MeanBackward0 over all dims, SumBackward1 / MeanBackward1 over dim.
struct SumBackward : Node {
  Shape x_shape, keep_shape;
  double scale;  // 1 for sum, 1/R for mean
  const char* node_name;
  SumBackward(Shape xs, Shape ks, double s, const char* n)
      : x_shape(std::move(xs)), keep_shape(std::move(ks)), scale(s), node_name(n) {}
  const char* name() const override { return node_name; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor dx = expand_back(grads[0], keep_shape, x_shape);
    return {scale == 1 ? dx : binary(BinaryOp::Mul, dx, Scalar{scale, false})};
  }
};

Tensor sum_impl(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim, bool is_mean) {
  const char* op = is_mean ? "mean" : "sum";
  check_defined(op, x, "input");
  require_cpu(op, x);
  if (is_mean)
    LAMINA_CHECK(is_floating(x.dtype()), TypeError, "[mean] input must be a float32 or float64 tensor, got ",
                 dtype_name(x.dtype()), "; convert it with .float()");
  Tensor xs = x.dtype() == Dtype::Bool ? to(x, Dtype::Int64) : x;
  ReductionPlan p = plan_reduction(xs, dims, keepdim, op);
  Tensor out = Tensor::empty(p.out_shape, xs.dtype());
  dispatch_numeric(xs.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::sum<T>(out.data<T>(), p.input.data<T>(), p.outer, p.R, p.inner);
  });
  double scale = 1;
  if (is_mean) {
    scale = 1.0 / double(p.R);  // R == 0 gives nan, as PyTorch
    cpu::binary(BinaryOp::Mul, out, out, scalar_tensor({scale, false}, out.dtype()));
  }
  if (any_requires_grad({&xs})) {
    const char* name = is_mean ? (dims.empty() ? "MeanBackward0" : "MeanBackward1")
                               : (dims.empty() ? "SumBackward0" : "SumBackward1");
    set_history(out, make_node<SumBackward>({&xs}, xs.shape(), p.keep_shape, scale, name));
  }
  return out;
}

// dx = kernel(g, x, result) in the plan's layout, then permuted back to x's dims.
struct VarBackward : Node {
  int64_t outer, R, inner;
  double correction;
  bool take_sqrt;
  std::vector<int64_t> inverse;
  VarBackward(const ReductionPlan& p, double c, bool s)
      : outer(p.outer), R(p.R), inner(p.inner), correction(c), take_sqrt(s), inverse(p.inverse) {}
  const char* name() const override { return take_sqrt ? "StdBackward0" : "VarBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor g = contiguous(grads[0]), input = saved(0), result = saved(1);
    Tensor dx = Tensor::empty(input.shape(), input.dtype());
    dispatch_float(input.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::var_backward<T>(dx.data<T>(), g.data<T>(), input.data<T>(), result.data<T>(), outer, R, inner,
                           correction, take_sqrt);
    });
    return {inverse.empty() ? dx : permute(dx, inverse)};
  }
};

Tensor var_impl(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim, bool take_sqrt) {
  const char* op = take_sqrt ? "std" : "var";
  check_defined(op, x, "input");
  check_floating(op, x, "input");
  require_cpu(op, x);
  ReductionPlan p = plan_reduction(x, dims, keepdim, op);
  Tensor out = Tensor::empty(p.out_shape, x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::var<T>(out.data<T>(), p.input.data<T>(), p.outer, p.R, p.inner, correction, take_sqrt);
  });
  if (any_requires_grad({&x})) {
    auto node = make_node<VarBackward>({&x}, p, correction, take_sqrt);
    node->save({p.input, out});
    set_history(out, std::move(node));
  }
  return out;
}

// max()/min() over everything: the gradient is split evenly among the elements equal to the result
// (among the NaNs when the result is NaN, as PyTorch).
struct ExtremeAllBackward : Node {
  bool is_max;
  explicit ExtremeAllBackward(bool m) : is_max(m) {}
  const char* name() const override { return is_max ? "MaxBackward1" : "MinBackward1"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor x = saved(0), result = saved(1);
    bool result_is_nan = *compare(CompareOp::Ne, result, result).data<bool>();
    Tensor mask = to(result_is_nan ? compare(CompareOp::Ne, x, x) : compare(CompareOp::Eq, x, result), x.dtype());
    return {mul(mask, div(grads[0], sum(mask)))};
  }
};

Tensor extreme_all(const Tensor& x, bool is_max) {
  const char* op = is_max ? "max" : "min";
  check_defined(op, x, "input");
  require_cpu(op, x);
  LAMINA_CHECK(x.numel() > 0, ValueError, "[", op, "] the input is empty; specify a dim for an empty tensor");
  Tensor xc = contiguous(x);
  Tensor out = Tensor::empty({}, x.dtype());
  dispatch_all(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::extreme<T>(out.data<T>(), nullptr, xc.data<T>(), 1, xc.numel(), 1, is_max);
  });
  if (any_requires_grad({&x})) {
    auto node = make_node<ExtremeAllBackward>({&x}, is_max);
    node->save({x, out});
    set_history(out, std::move(node));
  }
  return out;
}

// dx = zeros(x.shape); dx[..., indices, ...] += g  along dim
struct ExtremeDimBackward : Node {
  Shape x_shape;
  int64_t dim;
  bool keepdim, is_max;
  ExtremeDimBackward(Shape s, int64_t d, bool k, bool m) : x_shape(std::move(s)), dim(d), keepdim(k), is_max(m) {}
  const char* name() const override { return is_max ? "MaxBackward0" : "MinBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor indices = saved(0), g = grads[0];
    if (!keepdim && !x_shape.empty()) {
      indices = unsqueeze(indices, dim);
      g = unsqueeze(g, dim);
    }
    Tensor dx = zeros(x_shape, g.dtype());
    if (x_shape.empty()) return {reshape(g, x_shape)};
    cpu::scatter_add(dx, dim, contiguous(indices), contiguous(g));
    return {dx};
  }
};

// op names the caller in errors (max, min, argmax, argmin); values are computed when want_values.
std::pair<Tensor, Tensor> extreme_dim(const char* op, const Tensor& x, int64_t dim, bool keepdim, bool is_max,
                                      bool want_values) {
  check_defined(op, x, "input");
  require_cpu(op, x);
  int64_t d = wrap_dim(dim, x.dim(), op);
  Shape out_shape = x.shape();
  if (x.dim() > 0) {
    LAMINA_CHECK(x.shape()[d] > 0, IndexError, "[", op, "] cannot reduce over dim ", d, " of size 0");
    if (keepdim) out_shape[d] = 1;
    else out_shape.erase(out_shape.begin() + d);
  }
  Tensor xc = contiguous(x);
  DimSplit s = split_at_dim(xc.shape(), x.dim() > 0 ? d : 0);
  if (x.dim() == 0) s = {1, 1, 1};
  Tensor values = want_values ? Tensor::empty(out_shape, x.dtype()) : Tensor();
  Tensor indices = Tensor::empty(out_shape, Dtype::Int64);
  dispatch_all(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::extreme<T>(want_values ? values.data<T>() : nullptr, indices.data<int64_t>(), xc.data<T>(), s.outer, s.size,
                    s.inner, is_max);
  });
  if (want_values && any_requires_grad({&x})) {
    auto node = make_node<ExtremeDimBackward>({&x}, x.shape(), d, keepdim, is_max);
    node->save({indices});
    set_history(values, std::move(node));
  }
  return {values, indices};
}

// argmax/argmin; without dim, the index into the flattened input.
Tensor arg_extreme(const Tensor& x, std::optional<int64_t> dim, bool keepdim, bool is_max) {
  const char* op = is_max ? "argmax" : "argmin";
  if (dim) return extreme_dim(op, x, *dim, keepdim, is_max, false).second;
  check_defined(op, x, "input");
  LAMINA_CHECK(x.numel() > 0, ValueError, "[", op, "] the input is empty; specify a dim for an empty tensor");
  Tensor idx = extreme_dim(op, reshape(detach(x), {-1}), 0, false, is_max, false).second;
  return keepdim ? reshape(idx, Shape(size_t(x.dim()), 1)) : idx;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) { return sum_impl(x, dims, keepdim, false); }
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) { return sum_impl(x, dims, keepdim, true); }
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  return var_impl(x, dims, correction, keepdim, false);
}
Tensor std(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  return var_impl(x, dims, correction, keepdim, true);
}
Tensor max(const Tensor& x) { return extreme_all(x, true); }
Tensor min(const Tensor& x) { return extreme_all(x, false); }
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_dim("max", x, dim, keepdim, true, true);
}
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_dim("min", x, dim, keepdim, false, true);
}

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) { return arg_extreme(x, dim, keepdim, true); }
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) { return arg_extreme(x, dim, keepdim, false); }

}  // namespace lamina

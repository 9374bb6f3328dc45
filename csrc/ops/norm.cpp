// Normalization layers, each one node with fused kernels (ops/cpu/norm.cpp):
//   batch_norm  (N, C, *): statistics per channel; training updates the running statistics in
//               place; saves mean and rstd (C,)
//   group_norm  (N, C, *): statistics per sample and group of C / G channels; saves (N, G)
//   layer_norm  (*, normalized_shape): statistics per row of D = prod(normalized_shape), the
//               group-norm kernels with G = 1; saves (M,)
// weight and bias are optional (undefined tensors); their gradients come back only when needed.
#include "ops/cpu/layers.h"
#include "ops/dispatch.h"

namespace lamina {

namespace {

template <typename T> T* data_or_null(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

// An optional per-channel tensor (weight, bias, running stats) of `shape` and input's dtype.
void check_param(const char* op, const Tensor& input, const Tensor& p, const char* arg, const Shape& shape,
                 const char* what) {
  if (!p.defined()) return;
  check_same_device(op, input, p);
  LAMINA_CHECK(p.dtype() == input.dtype(), TypeError, "[", op, "] ", arg, " must have the input's dtype ",
               dtype_name(input.dtype()), ", got ", dtype_name(p.dtype()));
  LAMINA_CHECK(p.shape() == shape, ValueError, "[", op, "] ", arg, " must have shape ", shape_str(shape), " (", what,
               ") for input of shape ", shape_str(input.shape()), ", got ", shape_str(p.shape()));
}

void check_input(const char* op, const Tensor& input) {
  check_defined(op, input, "input");
  require_cpu(op, input);
  check_floating(op, input, "input");
}

// dinput, dweight, dbias from the saved input, weight and statistics; one kernel call.
struct BatchNormBackward : Node {
  int64_t N, C, L;
  bool training;
  BatchNormBackward(int64_t n, int64_t c, int64_t l, bool t) : N(n), C(c), L(l), training(t) {}
  const char* name() const override { return "NativeBatchNormBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    std::vector<Tensor> out(3);
    if (!grads[0].defined()) return out;
    Tensor g = contiguous(grads[0]), x = saved(0), mean = saved(1), rstd = saved(2), w = saved(3);
    if (needs_input_grad(0)) out[0] = Tensor::empty(x.shape(), x.dtype());
    if (needs_input_grad(1)) out[1] = zeros({C}, x.dtype());
    if (needs_input_grad(2)) out[2] = zeros({C}, x.dtype());
    dispatch_float(x.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::batch_norm_backward<T>(data_or_null<T>(out[0]), data_or_null<T>(out[1]), data_or_null<T>(out[2]), g.data<T>(),
                                  x.data<T>(), mean.data<T>(), rstd.data<T>(), data_or_null<T>(w), N, C, L, training);
    });
    return out;
  }
};

// Shared by group_norm and layer_norm (the G = 1, HW = 1 case).
struct GroupNormBackward : Node {
  int64_t N, C, HW, G;
  Shape param_shape;  // of weight and bias: (C,), or normalized_shape for layer_norm
  bool layer;
  GroupNormBackward(int64_t n, int64_t c, int64_t hw, int64_t g, Shape ps, bool l)
      : N(n), C(c), HW(hw), G(g), param_shape(std::move(ps)), layer(l) {}
  const char* name() const override { return layer ? "NativeLayerNormBackward0" : "NativeGroupNormBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    std::vector<Tensor> out(3);
    if (!grads[0].defined()) return out;
    Tensor g = contiguous(grads[0]), x = saved(0), mean = saved(1), rstd = saved(2), w = saved(3);
    if (needs_input_grad(0)) out[0] = Tensor::empty(x.shape(), x.dtype());
    if (needs_input_grad(1)) out[1] = zeros(param_shape, x.dtype());
    if (needs_input_grad(2)) out[2] = zeros(param_shape, x.dtype());
    dispatch_float(x.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::group_norm_backward<T>(data_or_null<T>(out[0]), data_or_null<T>(out[1]), data_or_null<T>(out[2]), g.data<T>(),
                                  x.data<T>(), mean.data<T>(), rstd.data<T>(), data_or_null<T>(w), N, C, HW, G);
    });
    return out;
  }
};

// Runs the group-norm kernels on input viewed as (N, C, HW) and records the node.
Tensor group_norm_impl(const Tensor& input, const Tensor& weight, const Tensor& bias, int64_t N, int64_t C, int64_t HW,
                       int64_t G, double eps, const Shape& param_shape, bool layer) {
  const char* op = layer ? "layer_norm" : "group_norm";
  Tensor x = contiguous(detach(input));
  Tensor w = weight.defined() ? contiguous(detach(weight)) : Tensor(), b = bias.defined() ? contiguous(detach(bias)) : Tensor();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  Tensor mean = Tensor::empty({N * G}, x.dtype()), rstd = Tensor::empty({N * G}, x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::group_norm_forward<T>(out.data<T>(), mean.data<T>(), rstd.data<T>(), x.data<T>(), data_or_null<T>(w),
                               data_or_null<T>(b), N, C, HW, G, eps);
  });
  if (any_requires_grad({&input, &weight, &bias})) {
    auto node = make_node<GroupNormBackward>({&input, &weight, &bias}, N, C, HW, G, param_shape, layer);
    node->save({x, mean, rstd, w});
    set_history(out, std::move(node));
  }
  return out;
}

}  // namespace

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  check_input(op, input);
  LAMINA_CHECK(input.dim() >= 2, ValueError, "[batch_norm] input must be (N, C) or (N, C, *), got shape ",
               shape_str(input.shape()));
  const int64_t N = input.shape()[0], C = input.shape()[1];
  const int64_t L = checked_numel(Shape(input.shape().begin() + 2, input.shape().end()), op);
  const Shape channels{C};
  check_param(op, input, weight, "weight", channels, "C = input.shape[1]");
  check_param(op, input, bias, "bias", channels, "C = input.shape[1]");
  check_param(op, input, running_mean, "running_mean", channels, "C = input.shape[1]");
  check_param(op, input, running_var, "running_var", channels, "C = input.shape[1]");
  LAMINA_CHECK(running_mean.defined() == running_var.defined(), ValueError,
               "[batch_norm] running_mean and running_var must be given together");
  LAMINA_CHECK(training || running_mean.defined(), ValueError,
               "[batch_norm] running_mean and running_var are needed in evaluation mode (training=False)");
  LAMINA_CHECK(!training || N * L > 1, ValueError, "[batch_norm] expected more than 1 value per channel when training, got ",
               "input of shape ", shape_str(input.shape()));
  if (training && running_mean.defined()) {
    check_inplace(op, running_mean);
    check_inplace(op, running_var);
  }

  Tensor x = contiguous(detach(input));
  Tensor w = weight.defined() ? contiguous(detach(weight)) : Tensor(), b = bias.defined() ? contiguous(detach(bias)) : Tensor();
  Tensor mean = Tensor::empty(channels, x.dtype()), rstd = Tensor::empty(channels, x.dtype());
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (training) {
      // The running statistics are updated in place (through contiguous copies if need be).
      Tensor rm = running_mean.defined() ? contiguous(detach(running_mean)) : Tensor();
      Tensor rv = running_var.defined() ? contiguous(detach(running_var)) : Tensor();
      cpu::batch_norm_stats<T>(mean.data<T>(), rstd.data<T>(), data_or_null<T>(rm), data_or_null<T>(rv), x.data<T>(), N,
                               C, L, eps, momentum);
      if (running_mean.defined()) {
        if (!rm.same(running_mean)) cpu::copy_(running_mean, rm);
        if (!rv.same(running_var)) cpu::copy_(running_var, rv);
        running_mean.bump_version();
        running_var.bump_version();
      }
    } else {
      Tensor rm = contiguous(detach(running_mean)), rv = contiguous(detach(running_var));
      cpu::batch_norm_eval_stats<T>(mean.data<T>(), rstd.data<T>(), rm.data<T>(), rv.data<T>(), C, eps);
    }
    cpu::batch_norm_forward<T>(out.data<T>(), x.data<T>(), mean.data<T>(), rstd.data<T>(), data_or_null<T>(w),
                               data_or_null<T>(b), N, C, L);
  });
  if (any_requires_grad({&input, &weight, &bias})) {
    auto node = make_node<BatchNormBackward>({&input, &weight, &bias}, N, C, L, training);
    node->save({x, mean, rstd, w});
    set_history(out, std::move(node));
  }
  return out;
}

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "layer_norm";
  check_input(op, input);
  const int64_t k = int64_t(normalized_shape.size());
  LAMINA_CHECK(k >= 1, ValueError, "[layer_norm] normalized_shape must have at least one dim, got ()");
  bool matches = input.dim() >= k && Shape(input.shape().end() - k, input.shape().end()) == normalized_shape;
  LAMINA_CHECK(matches, ValueError, "[layer_norm] normalized_shape=", shape_str(normalized_shape),
               " expects input of shape (*, ", shape_str(normalized_shape).substr(1), ", got input of shape ",
               shape_str(input.shape()));
  check_param(op, input, weight, "weight", normalized_shape, "normalized_shape");
  check_param(op, input, bias, "bias", normalized_shape, "normalized_shape");
  const int64_t D = checked_numel(normalized_shape, op);
  const int64_t M = checked_numel(Shape(input.shape().begin(), input.shape().end() - k), op);
  return group_norm_impl(input, weight, bias, M, D, 1, 1, eps, normalized_shape, true);
}

Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "group_norm";
  check_input(op, input);
  LAMINA_CHECK(input.dim() >= 2, ValueError, "[group_norm] input must be (N, C, *), got shape ", shape_str(input.shape()));
  const int64_t N = input.shape()[0], C = input.shape()[1];
  LAMINA_CHECK(num_groups > 0 && C % num_groups == 0, ValueError, "[group_norm] the number of channels C=", C,
               " must be divisible by num_groups=", num_groups, " (input of shape ", shape_str(input.shape()), ")");
  check_param(op, input, weight, "weight", {C}, "C = input.shape[1]");
  check_param(op, input, bias, "bias", {C}, "C = input.shape[1]");
  const int64_t HW = checked_numel(Shape(input.shape().begin() + 2, input.shape().end()), op);
  return group_norm_impl(input, weight, bias, N, C, HW, num_groups, eps, Shape{C}, false);
}

}  // namespace lamina

// Activations: relu, sigmoid and tanh are unary elementwise ops (math in ops/math.h); softmax
// and log_softmax run along one dim of (outer, D, inner) and save their output for backward.
// The parametrised activations (leaky_relu, elu, selu, gelu, silu, mish, hardtanh, softplus) are
// functors of ops/math.h run by cpu::activation, one node each saving the input; prelu has a
// per-channel weight and its own kernel pair.
#include <string>

#include "ops/cpu/layers.h"
#include "ops/dispatch.h"
#include "ops/math.h"

namespace lamina {

Tensor relu(const Tensor& x) { return unary(UnaryOp::Relu, x); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::Sigmoid, x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::Tanh, x); }

namespace {

struct SoftmaxBackward : Node {
  DimSplit split;
  bool log;
  SoftmaxBackward(DimSplit s, bool l) : split(s), log(l) {}
  const char* name() const override { return log ? "LogSoftmaxBackward0" : "SoftmaxBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor g = contiguous(grads[0]), out = saved(0);
    Tensor dx = Tensor::empty(out.shape(), out.dtype());
    dispatch_float(out.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::softmax_backward<T>(dx.data<T>(), g.data<T>(), out.data<T>(), split.outer, split.size, split.inner, log);
    });
    return {dx};
  }
};

Tensor softmax_impl(const Tensor& x, int64_t dim, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  check_defined(op, x, "input");
  check_floating(op, x, "input");
  require_cpu(op, x);
  int64_t d = wrap_dim(dim, x.dim(), op);
  Tensor xc = contiguous(x);
  DimSplit s = x.dim() == 0 ? DimSplit{} : split_at_dim(xc.shape(), d);
  Tensor out = Tensor::empty(xc.shape(), xc.dtype());
  dispatch_float(xc.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::softmax<T>(out.data<T>(), xc.data<T>(), s.outer, s.size, s.inner, log);
  });
  if (any_requires_grad({&x})) {
    auto node = make_node<SoftmaxBackward>({&x}, s, log);
    node->save({out});
    set_history(out, std::move(node));
  }
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, true); }

// --- parametrised activations: one node each, saving the input; math in ops/math.h ---

namespace {

template <typename Act> struct ActivationBackward : Node {
  Act act;
  const char* node_name;
  ActivationBackward(Act a, const char* n) : act(a), node_name(n) {}
  const char* name() const override { return node_name; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    if (!grads[0].defined()) return {Tensor()};
    Tensor x = saved(0);
    auto [g, dx] = elementwise_grad_buffers(std::move(grads[0]));  // dx may be g (written in place)
    dispatch_float(x.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::activation_backward<T>(dx.data<T>(), g.data<T>(), x.data<T>(), x.numel(), act);
    });
    return {dx};
  }
};

template <typename Act> Tensor activation_impl(const char* op, const char* node_name, const Tensor& x, Act act) {
  check_defined(op, x, "input");
  check_floating(op, x, "input");
  require_cpu(op, x);
  Tensor xc = contiguous(detach(x));
  Tensor out = Tensor::empty(xc.shape(), xc.dtype());
  dispatch_float(xc.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::activation<T>(out.data<T>(), xc.data<T>(), xc.numel(), act);
  });
  if (any_requires_grad({&x})) {
    auto node = make_node<ActivationBackward<Act>>({&x}, act, node_name);
    node->save({xc});
    set_history(out, std::move(node));
  }
  return out;
}

// Saves input and weight; dweight[c] += sum over x <= 0 of dout x.
struct PreluBackward : Node {
  int64_t outer, C, inner;
  PreluBackward(int64_t o, int64_t c, int64_t i) : outer(o), C(c), inner(i) {}
  const char* name() const override { return "PreluKernelBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    std::vector<Tensor> out(2);
    if (!grads[0].defined()) return out;
    Tensor g = contiguous(grads[0]), x = saved(0), w = saved(1);
    if (needs_input_grad(0)) out[0] = Tensor::empty(x.shape(), x.dtype());
    if (needs_input_grad(1)) out[1] = zeros(w.shape(), x.dtype());
    dispatch_float(x.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::prelu_backward<T>(out[0].defined() ? out[0].data<T>() : nullptr, out[1].defined() ? out[1].data<T>() : nullptr,
                             g.data<T>(), x.data<T>(), w.data<T>(), outer, C, inner);
    });
    return out;
  }
};

}  // namespace

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return activation_impl("leaky_relu", "LeakyReluBackward0", x, math::LeakyRelu{negative_slope});
}
Tensor elu(const Tensor& x, double alpha) { return activation_impl("elu", "EluBackward0", x, math::Elu{alpha, 1}); }
Tensor selu(const Tensor& x) {
  return activation_impl("selu", "EluBackward0", x, math::Elu{math::kSeluAlpha, math::kSeluScale});
}
Tensor gelu(const Tensor& x, const std::string& approximate) {
  LAMINA_CHECK(approximate == "none" || approximate == "tanh", ValueError,
               "[gelu] approximate must be 'none' or 'tanh', got '", approximate, "'");
  return activation_impl("gelu", "GeluBackward0", x, math::Gelu{approximate == "tanh"});
}
Tensor silu(const Tensor& x) { return activation_impl("silu", "SiluBackward0", x, math::Silu{}); }
Tensor mish(const Tensor& x) { return activation_impl("mish", "MishBackward0", x, math::Mish{}); }
Tensor hardtanh(const Tensor& x, double min_val, double max_val) {
  LAMINA_CHECK(min_val <= max_val, ValueError, "[hardtanh] min_val cannot be greater than max_val, got min_val=",
               min_val, ", max_val=", max_val);
  return activation_impl("hardtanh", "HardtanhBackward0", x, math::Hardtanh{min_val, max_val});
}
Tensor softplus(const Tensor& x, double beta, double threshold) {
  return activation_impl("softplus", "SoftplusBackward0", x, math::Softplus{beta, threshold});
}

Tensor prelu(const Tensor& x, const Tensor& weight) {
  const char* op = "prelu";
  check_defined(op, x, "input");
  check_defined(op, weight, "weight");
  check_floating(op, x, "input");
  require_cpu(op, x);
  check_same_device(op, x, weight);
  LAMINA_CHECK(weight.dtype() == x.dtype(), TypeError, "[prelu] weight must have the input's dtype ",
               dtype_name(x.dtype()), ", got ", dtype_name(weight.dtype()));
  const int64_t C = weight.numel(), channels = x.dim() >= 2 ? x.shape()[1] : 1;
  LAMINA_CHECK(weight.dim() <= 1 && (C == 1 || C == channels), ValueError,
               "[prelu] weight must have 1 element or one per channel (input.shape[1] = ", channels,
               "), got weight of shape ", shape_str(weight.shape()), " for input of shape ", shape_str(x.shape()));
  const int64_t outer = C == 1 ? 1 : x.shape()[0], inner = C == 1 ? x.numel() : x.numel() / std::max<int64_t>(outer * C, 1);
  Tensor xc = contiguous(detach(x)), w = contiguous(detach(weight));
  Tensor out = Tensor::empty(xc.shape(), xc.dtype());
  dispatch_float(xc.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::prelu<T>(out.data<T>(), xc.data<T>(), w.data<T>(), outer, C, inner);
  });
  if (any_requires_grad({&x, &weight})) {
    auto node = make_node<PreluBackward>({&x, &weight}, outer, C, inner);
    node->save({xc, w});
    set_history(out, std::move(node));
  }
  return out;
}

}  // namespace lamina

// Activations: relu, sigmoid and tanh are unary elementwise ops (math in ops/math.h); softmax
// and log_softmax run along one dim of (outer, D, inner) and save their output for backward.
#include "ops/dispatch.h"

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

}  // namespace lamina

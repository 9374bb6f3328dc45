// dropout(input, p, training): inverted dropout, one node. In training, each element is zeroed
// with probability p and the rest scaled by 1 / (1 - p); the mask (holding 0 or the scale) is
// drawn from the process generator and saved, and the backward is dinput = dout * mask.
// training=False returns input itself.
#include "core/random.h"
#include "ops/cpu/layers.h"
#include "ops/dispatch.h"

namespace lamina {

namespace {

struct DropoutBackward : Node {
  const char* name() const override { return "NativeDropoutBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    if (!grads[0].defined()) return {Tensor()};
    Tensor g = contiguous(grads[0]), mask = saved(0);
    Tensor dx = Tensor::empty(mask.shape(), mask.dtype());
    dispatch_float(mask.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::dropout_apply<T>(dx.data<T>(), g.data<T>(), mask.data<T>(), mask.numel());
    });
    return {dx};
  }
};

}  // namespace

Tensor dropout(const Tensor& input, double p, bool training) {
  const char* op = "dropout";
  check_defined(op, input, "input");
  LAMINA_CHECK(p >= 0 && p <= 1, ValueError, "[dropout] probability p must be between 0 and 1, got ", p);
  if (!training) return input;
  require_cpu(op, input);
  check_floating(op, input, "input");
  Tensor x = contiguous(detach(input));
  Tensor mask = Tensor::empty(x.shape(), x.dtype()), out = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (p == 1) cpu::fill_(mask, Scalar{0, false});  // everything dropped: no draws, no 1/0
    else cpu::dropout_mask<T>(mask.data<T>(), mask.numel(), p, default_generator());
    cpu::dropout_apply<T>(out.data<T>(), x.data<T>(), mask.data<T>(), x.numel());
  });
  if (any_requires_grad({&input})) {
    auto node = make_node<DropoutBackward>({&input});
    node->save({mask});
    set_history(out, std::move(node));
  }
  return out;
}

}  // namespace lamina

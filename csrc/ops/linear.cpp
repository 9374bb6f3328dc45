// linear(input, weight, bias): out (*, OC) = input (*, IC) @ weight^T (IC, OC) + bias (OC,), one
// node. Leading dims are folded into the GEMM's rows (a view when input is contiguous). The bias
// is copied into the output rows and the GEMM accumulates onto them (beta = 1).
// Backward: dinput = dout @ weight, dweight = dout^T @ input (both GEMMs), dbias = column sums.
#include <climits>

#include "ops/cpu/layers.h"
#include "ops/dispatch.h"

namespace lamina {

namespace {

// Saves the (N, IC) input when weight needs a gradient and the weight when input needs one.
struct LinearBackward : Node {
  Shape input_shape;
  int64_t N, IC, OC;  // input (N, IC) after folding the leading dims, weight (OC, IC)
  LinearBackward(Shape s, int64_t n, int64_t ic, int64_t oc) : input_shape(std::move(s)), N(n), IC(ic), OC(oc) {}
  const char* name() const override { return "LinearBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    std::vector<Tensor> out(next_edges.size());
    if (!grads[0].defined()) return out;
    Tensor g = contiguous(grads[0]);
    dispatch_float(g.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (needs_input_grad(0)) {  // dinput (N, IC) = dout (N, OC) @ weight (OC, IC)
        Tensor w = saved(1);
        Tensor dx = OC == 0 ? zeros(input_shape, g.dtype()) : Tensor::empty(input_shape, g.dtype());
        if (OC > 0 && N > 0 && IC > 0)
          cpu::gemm<T>(false, false, N, IC, OC, T(1), g.data<T>(), OC, w.data<T>(), IC, T(0), dx.data<T>(), IC);
        out[0] = dx;
      }
      if (needs_input_grad(1)) {  // dweight (OC, IC) = dout^T (OC, N) @ input (N, IC)
        Tensor x = saved(0);
        Tensor dw = N == 0 ? zeros({OC, IC}, g.dtype()) : Tensor::empty({OC, IC}, g.dtype());
        if (N > 0 && OC > 0 && IC > 0)
          cpu::gemm<T>(true, false, OC, IC, N, T(1), g.data<T>(), OC, x.data<T>(), IC, T(0), dw.data<T>(), IC);
        out[1] = dw;
      }
      if (out.size() == 3 && needs_input_grad(2)) {  // dbias (OC,) = sum_n dout[n, :]
        Tensor db = zeros({OC}, g.dtype());
        cpu::linear_bias_backward<T>(db.data<T>(), g.data<T>(), N, OC);
        out[2] = db;
      }
    });
    return out;
  }
};

}  // namespace

Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  const char* op = "linear";
  check_defined(op, input, "input");
  check_defined(op, weight, "weight");
  require_cpu(op, input);
  check_same_device(op, input, weight);
  check_floating(op, input, "input");
  LAMINA_CHECK(weight.dtype() == input.dtype(), TypeError, "[linear] weight must have the input's dtype ",
               dtype_name(input.dtype()), ", got ", dtype_name(weight.dtype()));
  LAMINA_CHECK(weight.dim() == 2, ValueError, "[linear] weight must be 2-d (out_features, in_features), got shape ",
               shape_str(weight.shape()));
  const int64_t OC = weight.shape()[0], IC = weight.shape()[1];
  LAMINA_CHECK(input.dim() >= 1 && input.shape().back() == IC, ValueError, "[linear] input (*, in_features) must have ",
               "in_features == ", IC, " to match weight of shape ", shape_str(weight.shape()), ", got input of shape ",
               shape_str(input.shape()));
  if (bias.defined()) {
    check_same_device(op, input, bias);
    LAMINA_CHECK(bias.dtype() == input.dtype(), TypeError, "[linear] bias must have the input's dtype ",
                 dtype_name(input.dtype()), ", got ", dtype_name(bias.dtype()));
    LAMINA_CHECK(bias.dim() == 1 && bias.shape()[0] == OC, ValueError, "[linear] bias must have shape (", OC,
                 ",) = (out_features,), got ", shape_str(bias.shape()));
  }
  Shape lead(input.shape().begin(), input.shape().end() - 1), out_shape = lead;
  out_shape.push_back(OC);
  const int64_t N = checked_numel(lead, op);
  LAMINA_CHECK(N < INT_MAX && OC < INT_MAX && IC < INT_MAX, ValueError,
               "[linear] matrix dimensions must be below 2^31 for BLAS, got N=", N, ", out=", OC, ", in=", IC);

  Tensor x = contiguous(detach(input)), w = contiguous(detach(weight));
  Tensor out = Tensor::empty(out_shape, input.dtype());
  dispatch_float(input.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* y = out.data<T>();
    if (bias.defined()) {
      Tensor b = contiguous(detach(bias));
      cpu::linear_bias_rows<T>(y, b.data<T>(), N, OC);
    }
    if (N == 0 || OC == 0) return;
    if (IC == 0) {  // an empty product: out = bias or 0
      if (!bias.defined()) cpu::fill_(out, Scalar{0, false});
      return;
    }
    cpu::gemm<T>(false, true, N, OC, IC, T(1), x.data<T>(), IC, w.data<T>(), IC, T(bias.defined() ? 1 : 0), y, OC);
  });

  bool needs = bias.defined() ? any_requires_grad({&input, &weight, &bias}) : any_requires_grad({&input, &weight});
  if (!needs) return out;
  auto node = bias.defined() ? make_node<LinearBackward>({&input, &weight, &bias}, input.shape(), N, IC, OC)
                             : make_node<LinearBackward>({&input, &weight}, input.shape(), N, IC, OC);
  node->save({node->needs_input_grad(1) ? x : Tensor(), node->needs_input_grad(0) ? w : Tensor()});
  set_history(out, std::move(node));
  return out;
}

}  // namespace lamina

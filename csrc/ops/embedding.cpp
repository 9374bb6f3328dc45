// embedding(input, weight, padding_idx): out (*, D) = weight (V, D)[input], one node. Indices are
// validated before any kernel runs. Forward is cpu::index_select over the rows of weight; the
// backward scatter-adds dout rows into a zero (V, D) gradient (repeated indices add up), and the
// row padding_idx gets no gradient.
#include "ops/cpu/layers.h"
#include "ops/dispatch.h"

namespace lamina {

namespace {

// Saves the flattened indices.
struct EmbeddingBackward : Node {
  int64_t V, D, padding_idx;
  EmbeddingBackward(int64_t v, int64_t d, int64_t pad) : V(v), D(d), padding_idx(pad) {}
  const char* name() const override { return "EmbeddingBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    if (!grads[0].defined()) return {Tensor(), Tensor()};
    Tensor g = contiguous(grads[0]), idx = saved(0);
    Tensor dw = zeros({V, D}, g.dtype());
    dispatch_float(g.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::embedding_backward<T>(dw.data<T>(), g.data<T>(), idx.data<int64_t>(), idx.numel(), D, padding_idx);
    });
    return {Tensor(), dw};
  }
};

}  // namespace

Tensor embedding(const Tensor& input, const Tensor& weight, std::optional<int64_t> padding_idx) {
  const char* op = "embedding";
  check_defined(op, input, "input");
  check_defined(op, weight, "weight");
  require_cpu(op, weight);
  check_same_device(op, input, weight);
  LAMINA_CHECK(input.dtype() == Dtype::Int64, TypeError, "[embedding] input (indices) must be an int64 tensor, got ",
               dtype_name(input.dtype()));
  check_floating(op, weight, "weight");
  LAMINA_CHECK(weight.dim() == 2, ValueError, "[embedding] weight must be 2-d (num_embeddings, embedding_dim), got shape ",
               shape_str(weight.shape()));
  const int64_t V = weight.shape()[0], D = weight.shape()[1];
  int64_t pad = -1;
  if (padding_idx) {
    LAMINA_CHECK(*padding_idx >= -V && *padding_idx < V, ValueError, "[embedding] padding_idx must be within [", -V, ", ",
                 V, ") for num_embeddings=", V, ", got ", *padding_idx);
    pad = *padding_idx < 0 ? *padding_idx + V : *padding_idx;
  }
  Tensor idx = contiguous(input);
  const int64_t* ix = idx.data<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i)
    LAMINA_CHECK(ix[i] >= 0 && ix[i] < V, IndexError, "[embedding] index ", ix[i],
                 " is out of range for num_embeddings=", V, " (valid indices: 0 to ", V - 1, ")");
  Shape out_shape = input.shape();
  out_shape.push_back(D);
  Tensor w = contiguous(detach(weight));
  Tensor out = Tensor::empty(out_shape, weight.dtype());
  dispatch_float(w.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::index_select<T>(out.data<T>(), w.data<T>(), ix, 1, V, idx.numel(), D);
  });
  if (any_requires_grad({&weight})) {
    auto node = make_node<EmbeddingBackward>({&input, &weight}, V, D, pad);
    node->save({idx});
    set_history(out, std::move(node));
  }
  return out;
}

}  // namespace lamina

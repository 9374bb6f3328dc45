#include "autograd/node.h"

#include "ops/ops.h"

namespace lamina {

Tensor SavedTensor::unpack(const char* node_name) const {
  LAMINA_CHECK(!released_, RuntimeError, "[backward] ", node_name,
               ": trying to backward through the graph a second time (or to read saved tensors "
               "after they were freed). Specify retain_graph=True on the first backward call if "
               "you need to backward through the graph again.");
  LAMINA_CHECK(!tensor_.defined() || tensor_.storage()->version() == version_, RuntimeError,
               "[backward] ", node_name,
               ": one of the tensors needed for gradient computation has been modified by an "
               "in-place operation (saved at version ", version_, ", now at version ",
               tensor_.storage()->version(), ")");
  return tensor_;
}

Node::~Node() {
  // Nodes that only this one keeps alive are moved to a worklist and freed there, after their
  // own edges were taken, so each destructor runs at constant depth.
  std::vector<std::shared_ptr<Node>> orphans;
  auto take_edges = [&orphans](std::vector<Edge>& edges) {
    for (Edge& e : edges)
      if (e.node && e.node.use_count() == 1) orphans.push_back(std::move(e.node));
    edges.clear();
  };
  take_edges(next_edges);
  while (!orphans.empty()) {
    std::shared_ptr<Node> node = std::move(orphans.back());
    orphans.pop_back();
    take_edges(node->next_edges);
  }  // node is freed here, with no edges left to recurse into
}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grads) {
  Tensor g = std::move(grads[0]);
  if (!g.defined()) return {};
  std::lock_guard<std::mutex> lock(mutex_);
  TensorImpl* leaf = leaf_.get();
  if (g.shape() != leaf->shape) g = sum_to(g, leaf->shape);
  if (!leaf->grad) {
    // Own the gradient: a tensor shared with another input's gradient must not alias it.
    leaf->grad = can_reuse_grad(g, g.dtype()) ? g.impl_ptr() : clone(g).impl_ptr();
  } else {
    binary_(BinaryOp::Add, Tensor(leaf->grad), g);  // in place, as PyTorch: x.grad keeps its identity
  }
  return {};
}

bool can_reuse_grad(const Tensor& grad, Dtype dtype) {
  return grad.defined() && grad.impl_ptr().use_count() == 1 && grad.storage().use_count() == 1 &&
         grad.dtype() == dtype && grad.is_contiguous();
}

std::pair<Tensor, Tensor> elementwise_grad_buffers(Tensor&& grad) {
  Tensor g = std::move(grad);
  if (!g.is_contiguous()) g = contiguous(g);
  Tensor dx = can_reuse_grad(g, g.dtype()) ? g : Tensor::empty(g.shape(), g.dtype());
  return {g, dx};
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  TensorImpl* impl = t.impl();
  if (impl->grad_fn) return {impl->grad_fn, impl->output_nr};
  static std::mutex accumulator_mutex;  // two threads must not make two accumulators for one leaf
  std::lock_guard<std::mutex> lock(accumulator_mutex);
  std::shared_ptr<Node> acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    impl->grad_accumulator = acc;
  }
  return {acc, 0};
}

void set_history(const Tensor& out, std::shared_ptr<Node> node, uint32_t output_nr) {
  out.impl()->requires_grad = true;
  out.impl()->grad_fn = std::move(node);
  out.impl()->output_nr = output_nr;
}

}  // namespace lamina

namespace lamina {

SavedTensor::SavedTensor(const Tensor& t) {
  if (!t.defined()) return;
  tensor_ = Tensor::view_of(t.storage(), t.shape(), t.strides(), t.offset(), t.dtype());
  version_ = t.storage()->version();
}

}  // namespace lamina

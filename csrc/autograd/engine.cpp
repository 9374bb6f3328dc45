// Engine: count, for each node reachable from the roots, how many edges lead into it; then run
// nodes whose count has dropped to zero (Kahn's algorithm), summing the gradients that reach
// each node's outputs before it runs. Runs with grad mode off (no higher-order gradients).
#include "autograd/engine.h"

#include <algorithm>
#include <unordered_map>

#include "autograd/node.h"
#include "ops/ops.h"

namespace lamina {

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph) {
  GradModeGuard no_grad(false);
  std::unordered_map<Node*, int> dependencies;
  std::unordered_map<Node*, std::vector<Tensor>> inputs;  // gradients of each node's outputs
  std::vector<std::shared_ptr<Node>> stack, ready;

  auto add_grad = [&](const Edge& e, Tensor g) {
    auto& buf = inputs[e.node.get()];
    if (buf.empty()) buf.resize(e.node->num_outputs);
    Tensor& slot = buf[e.input_nr];
    slot = slot.defined() ? add(slot, g) : std::move(g);
  };

  std::vector<Edge> root_edges;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    LAMINA_CHECK(r.requires_grad(), RuntimeError,
                 "[backward] element ", i, " of tensors does not require grad and does not have a grad_fn");
    Edge e = gradient_edge(r);
    root_edges.push_back(e);
    stack.push_back(e.node);
  }
  // Dependency counts over the reachable graph (iterative DFS).
  std::unordered_map<Node*, bool> seen;
  while (!stack.empty()) {
    std::shared_ptr<Node> node = std::move(stack.back());
    stack.pop_back();
    if (seen[node.get()]) continue;
    seen[node.get()] = true;
    for (const Edge& e : node->next_edges) {
      if (!e.node) continue;
      dependencies[e.node.get()] += 1;
      if (!seen[e.node.get()]) stack.push_back(e.node);
    }
  }
  for (size_t i = 0; i < root_edges.size(); ++i) add_grad(root_edges[i], grads[i]);
  for (const Edge& e : root_edges)
    if (dependencies[e.node.get()] == 0 && std::find(ready.begin(), ready.end(), e.node) == ready.end())
      ready.push_back(e.node);

  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    std::vector<Tensor> node_grads = std::move(inputs[node.get()]);
    inputs.erase(node.get());
    if (node_grads.empty()) node_grads.resize(node->num_outputs);
    for (const auto& [weak, output_nr] : node->retained_outputs) {
      std::shared_ptr<TensorImpl> t = weak.lock();
      const Tensor& g = node_grads[output_nr];
      if (!t || !g.defined()) continue;
      t->grad = (t->grad ? add(Tensor(t->grad), g) : clone(g)).impl_ptr();
    }
    std::vector<Tensor> input_grads = node->apply(std::move(node_grads));
    if (!retain_graph) node->release_saved();
    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.node) continue;
      if (i < input_grads.size() && input_grads[i].defined()) add_grad(e, std::move(input_grads[i]));
      if (--dependencies[e.node.get()] == 0) ready.push_back(e.node);
    }
  }
}

}  // namespace lamina

namespace lamina {

void backward(const Tensor& root, const Tensor& gradient, bool retain_graph) {
  LAMINA_CHECK(root.requires_grad(), RuntimeError,
               "[backward] element 0 of tensors does not require grad and does not have a grad_fn");
  Tensor g = gradient;
  if (!g.defined()) {
    LAMINA_CHECK(root.numel() == 1, RuntimeError, "[backward] grad can be implicitly created only for scalar outputs; "
                 "pass gradient= for an output of shape ", shape_str(root.shape()));
    g = ones(root.shape(), root.dtype(), root.device());
  } else {
    LAMINA_CHECK(g.shape() == root.shape(), ValueError, "[backward] gradient has shape ", shape_str(g.shape()),
                 " but the output has shape ", shape_str(root.shape()));
    g = to(detach(g), root.dtype());
  }
  run_backward({root}, {g}, retain_graph);
}

void retain_grad(const Tensor& x) {
  LAMINA_CHECK(x.requires_grad(), RuntimeError, "[retain_grad] can't retain_grad on a tensor that has requires_grad=False");
  if (x.is_leaf() || x.impl()->retains_grad) return;
  x.impl()->retains_grad = true;
  x.grad_fn()->retained_outputs.emplace_back(x.impl_ptr(), x.impl()->output_nr);
}

}  // namespace lamina

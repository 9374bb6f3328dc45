// Autograd graph. Each differentiable op records one Node on its output(s). A Node knows the
// edges to the nodes that produced its inputs (next_edges, one per input, null where the input
// needs no gradient) and the tensors it saved. apply() maps the gradients of its outputs to the
// gradients of its inputs (one per edge; an undefined Tensor means zero).
// Leaves that require grad get an AccumulateGrad node, which adds into their .grad.
#pragma once
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/tensor.h"

namespace lamina {

struct Edge {
  std::shared_ptr<Node> node;  // null: this input needs no gradient
  uint32_t input_nr = 0;       // which output of `node` the input was
};

// A tensor saved for backward, with the storage version it had when saved: backward refuses it
// after an in-place change, and after release (backward without retain_graph).
class SavedTensor {
 public:
  SavedTensor() = default;
  // Keeps an alias without autograd metadata: saving an op's own output must not make a cycle.
  explicit SavedTensor(const Tensor& t);
  Tensor unpack(const char* node_name) const;
  void release() { tensor_ = Tensor(); released_ = true; }

 private:
  Tensor tensor_;
  uint64_t version_ = 0;
  bool released_ = false;
};

class Node {
 public:
  // Releases the chain of nodes behind this one iteratively, not by recursive destruction, so
  // that freeing a graph thousands of ops deep cannot overflow the stack.
  virtual ~Node();
  virtual const char* name() const = 0;
  // grads: one per output of this node (undefined = zero). Returns one per next_edges entry.
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grads) = 0;

  void release_saved() {
    for (auto& s : saved_) s.release();
  }
  Tensor saved(size_t i) const { return saved_[i].unpack(name()); }
  void save(std::initializer_list<Tensor> tensors) {
    for (const Tensor& t : tensors) saved_.emplace_back(t);
  }
  // Whether input i needs a gradient (apply may skip the others).
  bool needs_input_grad(size_t i) const { return i < next_edges.size() && next_edges[i].node; }

  std::vector<Edge> next_edges;
  uint32_t num_outputs = 1;
  // Non-leaf outputs whose .grad the user asked to keep (Tensor.retain_grad): (tensor, output_nr).
  std::vector<std::pair<std::weak_ptr<TensorImpl>, uint32_t>> retained_outputs;

 private:
  std::vector<SavedTensor> saved_;
};

// Adds incoming gradients into a leaf's .grad. One per leaf at a time (gradient_edge), locked, so
// that backward passes on several threads through a shared leaf lose no update.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) { num_outputs = 1; }
  const char* name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;
  const std::shared_ptr<TensorImpl>& leaf() const { return leaf_; }

 private:
  std::shared_ptr<TensorImpl> leaf_;
  std::mutex mutex_;
};

// Whether a backward node may write into `grad`, one of the gradients its apply() received (call it
// on grads[i] itself, before copying the handle): a contiguous tensor of `dtype` that nothing
// else can see. Its TensorImpl and its Storage are each held once, which rules out the gradient
// the caller of backward() passed (detach shares its storage), one tensor that a node returned for
// two inputs, a leaf's .grad (AccumulateGrad adopts gradients), saved tensors and the tensors
// that a view shares memory with. A retained .grad is a copy, and gradients are never expanded
// views here (not contiguous).
bool can_reuse_grad(const Tensor& grad, Dtype dtype);
// For an elementwise backward (dx[i] from g[i] and saved values at i): takes the incoming gradient
// (made contiguous; a non-contiguous one is copied, and the copy is ours) and returns (g, dx), dx
// being g itself where can_reuse_grad allows, so that no second buffer of g's size is allocated,
// written and brought into cache; else a new tensor.
std::pair<Tensor, Tensor> elementwise_grad_buffers(Tensor&& grad);
// True when grad mode is on and any of the tensors requires grad.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
// The edge through which a gradient for t flows (its grad_fn, its accumulator, or none).
Edge gradient_edge(const Tensor& t);

// Builds a node of type N over `inputs` (their gradient edges become next_edges).
template <typename N, typename... Args>
std::shared_ptr<N> make_node(std::initializer_list<const Tensor*> inputs, Args&&... args) {
  auto node = std::make_shared<N>(std::forward<Args>(args)...);
  node->next_edges.reserve(inputs.size());
  for (const Tensor* t : inputs) node->next_edges.push_back(gradient_edge(*t));
  return node;
}

// Makes `out` (a fresh, non-leaf result) output number `output_nr` of `node`.
void set_history(const Tensor& out, std::shared_ptr<Node> node, uint32_t output_nr = 0);

}  // namespace lamina

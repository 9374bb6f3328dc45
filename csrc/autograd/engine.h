// The backward pass: from the roots, order the graph topologically and call each node once.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace lamina {

// Runs backward from `roots` with initial gradients `grads` (same shapes). Without retain_graph
// the nodes release their saved tensors as they go, so a second backward raises.
void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph);

}  // namespace lamina

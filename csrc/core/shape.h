// Shapes and strides (in elements): numel with overflow checks, contiguous strides, dim
// wrapping, broadcasting (NumPy rules) and printing "(2, 3)".
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lamina {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& shape);
// Product of sizes; throws ValueError naming op if a size is negative or the product overflows.
int64_t checked_numel(const Shape& shape, const char* op);
Shape contiguous_strides(const Shape& shape);
// Wraps a possibly negative dim into [0, ndim); IndexError naming op otherwise.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// The broadcast shape of a and b; ValueError naming op when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Strides that read a tensor of (shape, strides) as if it had shape `target` (0 on broadcast dims).
Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& target);

}  // namespace lamina

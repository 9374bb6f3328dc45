// Shape helpers (core/shape.h): numel with overflow checks, broadcasting, dim wrapping.
#include <cstdint>
#include <limits>

#include "check.h"
#include "core/shape.h"

using namespace lamina;

TEST(checked_numel_multiplies_sizes) {
  CHECK_EQ(checked_numel({2, 3, 4}, "test"), 24);
  CHECK_EQ(checked_numel({}, "test"), 1);  // a 0-d tensor has one element
  CHECK_EQ(checked_numel({5, 0, 7}, "test"), 0);
}

TEST(checked_numel_throws_value_error_on_overflow) {
  int64_t big = std::numeric_limits<int64_t>::max() / 2;
  CHECK_THROWS(checked_numel({big, 3}, "test"), ValueError);
  CHECK_THROWS(checked_numel({int64_t(1) << 32, int64_t(1) << 32}, "test"), ValueError);
  CHECK_THROWS(checked_numel({int64_t(1) << 49}, "test"), ValueError);  // above the 2^48 cap
}

TEST(checked_numel_throws_value_error_on_negative_size) {
  CHECK_THROWS(checked_numel({2, -1}, "test"), ValueError);
}

TEST(contiguous_strides_are_row_major) {
  CHECK(contiguous_strides({2, 3, 4}) == Shape({12, 4, 1}));
  CHECK(contiguous_strides({}) == Shape({}));
}

TEST(broadcast_shapes_follows_numpy_rules) {
  CHECK(broadcast_shapes({3, 1}, {1, 4}, "test") == Shape({3, 4}));
  CHECK(broadcast_shapes({2, 3, 4}, {4}, "test") == Shape({2, 3, 4}));
  CHECK(broadcast_shapes({}, {5, 1}, "test") == Shape({5, 1}));
  CHECK(broadcast_shapes({0, 1}, {1, 3}, "test") == Shape({0, 3}));
  CHECK_THROWS(broadcast_shapes({2, 3}, {4}, "test"), ValueError);
  CHECK_THROWS(broadcast_shapes({2}, {3}, "test"), ValueError);
}

TEST(broadcast_strides_are_zero_on_broadcast_dims) {
  // (3, 1) with strides (1, 1) read as (2, 3, 4): new leading dim and the size-1 dim get 0.
  CHECK(broadcast_strides({3, 1}, {1, 1}, {2, 3, 4}) == Shape({0, 1, 0}));
}

TEST(wrap_dim_accepts_negative_dims_and_rejects_out_of_range) {
  CHECK_EQ(wrap_dim(-1, 3, "test"), 2);
  CHECK_EQ(wrap_dim(-3, 3, "test"), 0);
  CHECK_EQ(wrap_dim(2, 3, "test"), 2);
  CHECK_EQ(wrap_dim(-1, 0, "test"), 0);  // a 0-d tensor accepts dim 0 and -1, as in PyTorch
  CHECK_THROWS(wrap_dim(3, 3, "test"), IndexError);
  CHECK_THROWS(wrap_dim(-4, 3, "test"), IndexError);
  CHECK_THROWS(wrap_dim(1, 0, "test"), IndexError);
}

TEST(shape_str_prints_like_python_tuples) {
  CHECK_EQ(shape_str({2, 3}), std::string("(2, 3)"));
  CHECK_EQ(shape_str({5}), std::string("(5,)"));
  CHECK_EQ(shape_str({}), std::string("()"));
}

// The autograd engine driven from C++: gradients of a small graph, accumulation into leaves,
// the error on a second backward without retain_graph, and the saved-tensor version check.
#include "autograd/node.h"
#include "check.h"
#include "ops/ops.h"

using namespace lamina;

namespace {

// A leaf that requires grad: x = [-1.5, -0.5, 0.5, 1.5] (float32).
Tensor leaf_x() {
  Tensor x = arange({-1.5, false}, {2.0, false}, {1.0, false}, Dtype::Float32);
  x.impl()->requires_grad = true;
  return x;
}

}  // namespace

TEST(backward_of_sum_of_squares_gives_two_x) {
  Tensor x = leaf_x();
  Tensor y = sum(mul(x, x));  // y = sum x_i^2, dy/dx = 2x
  CHECK(y.requires_grad());
  CHECK(!y.is_leaf());
  CHECK(y.grad_fn() != nullptr);
  CHECK_NEAR(y.data<float>()[0], 5.0, 1e-6);
  backward(y, Tensor(), false);
  Tensor g = x.grad();
  CHECK(g.defined());
  CHECK(g.shape() == x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) CHECK_NEAR(g.data<float>()[i], 2 * x.data<float>()[i], 1e-6);
}

TEST(backward_accumulates_into_leaf_grad) {
  Tensor x = leaf_x();
  backward(sum(mul(x, x)), Tensor(), false);
  backward(sum(x), Tensor(), false);  // a second graph adds 1 to each gradient
  for (int64_t i = 0; i < x.numel(); ++i) CHECK_NEAR(x.grad().data<float>()[i], 2 * x.data<float>()[i] + 1, 1e-6);
}

TEST(backward_through_matmul_and_broadcast) {
  // y = sum(relu(a @ b + bias)) with everything positive: da = 1 b^T, db = a^T 1, dbias = M.
  Tensor a = ones({2, 3}), b = full({3, 4}, {0.5, false}), bias = ones({4});
  for (Tensor* t : {&a, &b, &bias}) t->impl()->requires_grad = true;
  backward(sum(relu(add(mm(a, b), bias))), Tensor(), false);
  for (int64_t i = 0; i < 6; ++i) CHECK_NEAR(a.grad().data<float>()[i], 4 * 0.5, 1e-6);
  for (int64_t i = 0; i < 12; ++i) CHECK_NEAR(b.grad().data<float>()[i], 2.0, 1e-6);
  for (int64_t i = 0; i < 4; ++i) CHECK_NEAR(bias.grad().data<float>()[i], 2.0, 1e-6);
}

TEST(second_backward_without_retain_graph_throws_runtime_error) {
  Tensor x = leaf_x();
  Tensor y = sum(mul(x, x));
  backward(y, Tensor(), false);
  CHECK_THROWS(backward(y, Tensor(), false), RuntimeError);
}

TEST(second_backward_with_retain_graph_adds_again) {
  Tensor x = leaf_x();
  Tensor y = sum(mul(x, x));
  backward(y, Tensor(), true);
  backward(y, Tensor(), false);
  for (int64_t i = 0; i < x.numel(); ++i) CHECK_NEAR(x.grad().data<float>()[i], 4 * x.data<float>()[i], 1e-6);
}

TEST(inplace_change_of_a_saved_tensor_makes_backward_throw) {
  Tensor x = leaf_x();
  Tensor w = ones({4});
  Tensor y = sum(mul(x, w));  // mul saves w for dx = g * w
  binary_(BinaryOp::Add, w, ones({4}));
  CHECK_THROWS(backward(y, Tensor(), false), RuntimeError);
}

TEST(saved_tensor_unpack_checks_version_and_release) {
  Tensor t = ones({3});
  SavedTensor saved(t);
  CHECK(saved.unpack("Test").storage() == t.storage());
  t.bump_version();
  CHECK_THROWS(saved.unpack("Test"), RuntimeError);
  SavedTensor fresh(t);
  fresh.release();
  CHECK_THROWS(fresh.unpack("Test"), RuntimeError);
}

TEST(backward_of_a_tensor_without_grad_throws_runtime_error) {
  CHECK_THROWS(backward(sum(ones({3})), Tensor(), false), RuntimeError);
}

TEST(grad_mode_guard_stops_recording) {
  Tensor x = leaf_x();
  {
    GradModeGuard no_grad(false);
    Tensor y = mul(x, x);
    CHECK(!y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
  }
  CHECK(GradMode::is_enabled());
  CHECK(mul(x, x).requires_grad());
}

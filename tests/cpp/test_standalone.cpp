// The core used the way an engineer embedding it would: plain C++ against ops/ops.h, no Python
// interpreter in the process. Fits y = X w_true + 0.5 with SGD through autograd and checks that
// the loss falls and the weights approach w_true.
#include <fstream>
#include <string>

#include "autograd/grad_mode.h"
#include "check.h"
#include "ops/ops.h"

using namespace lamina;

TEST(process_has_no_python_interpreter) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  bool python = false;
  while (std::getline(maps, line)) python |= line.find("libpython") != std::string::npos;
  CHECK(!python);
}

TEST(linear_regression_trains_from_cpp) {
  // X (64, 3), w (3, 1), b (1,), y (64, 1)
  manual_seed(0);
  Tensor X = randn({64, 3});
  Tensor w_true = view(arange({1.0, false}, {4.0, false}, {1.0, false}, Dtype::Float32), {3, 1});  // [1, 2, 3]
  Tensor y = binary(BinaryOp::Add, mm(X, w_true), Scalar{0.5, false});
  Tensor w = zeros({3, 1}), b = zeros({1});
  w.impl()->requires_grad = true;
  b.impl()->requires_grad = true;

  auto loss_of = [&] {
    Tensor err = sub(add(mm(X, w), b), y);
    return mean(mul(err, err));  // MSE
  };
  double first = 0, last = 0;
  for (int step = 0; step < 200; ++step) {
    Tensor loss = loss_of();
    if (step == 0) first = loss.data<float>()[0];
    last = loss.data<float>()[0];
    w.impl()->grad.reset();
    b.impl()->grad.reset();
    backward(loss, Tensor(), false);
    GradModeGuard no_grad(false);
    for (Tensor* p : {&w, &b}) binary_(BinaryOp::Sub, *p, binary(BinaryOp::Mul, p->grad(), Scalar{0.1, false}));
  }
  CHECK(first > 10.0);
  CHECK(last < 1e-6);
  for (int64_t i = 0; i < 3; ++i) CHECK_NEAR(w.data<float>()[i], i + 1.0, 1e-3);
  CHECK_NEAR(b.data<float>()[0], 0.5, 1e-3);
}

TEST(ops_report_errors_as_lamina_exceptions) {
  CHECK_THROWS(mm(ones({2, 3}), ones({2, 3})), ValueError);
  CHECK_THROWS(add(ones({2}), ones({3})), ValueError);
  CHECK_THROWS(softmax(ones({2, 3}), 2), IndexError);
  CHECK_THROWS(full({-1}, Scalar{}), ValueError);
}

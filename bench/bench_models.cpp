// Training steps of the reference models of bench/compare_torch.py driven from C++ alone: the
// same layers, shapes and optimizers as the Python models, built from the ops of ops/ops.h the
// way python/lamina/nn calls them, so that timing both shows what the Python layer costs
// (bench/python_cost.py). A step: logits = model(x); loss = cross_entropy(logits, y); zero_grad
// (grads to none); backward(loss); one fused optimizer step. An inference case: model(x) under
// no-grad. Parameters are U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (fan_in = H for the recurrent
// layers) from lamina's generator (seed 0), as lamina.nn initialises them, batch norm's weight 1
// and bias 0; the batch is N(0, 1) inputs and uniform labels in [0, 10).
// Usage: lamina_bench_models [--threads N] [--cases a,b,...] [--blocks B] [--steps S] [--warmup W]
//                            [--check]
// Prints the median ms per step over B blocks of S steps, wall clock and CPU time (S unset: blocks
// of at least 50 ms);
// --check instead prints each case's parameter shapes and its loss over 20 steps on one batch,
// and fails unless the loss went down.
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

#include "autograd/grad_mode.h"
#include "bench.h"

using namespace lamina;

namespace {

using Layer = std::function<Tensor(const Tensor&)>;

// nn.Sequential: the layers in order and their parameters in the order of Module.parameters().
struct Model {
  std::vector<Tensor> params;
  std::vector<Layer> layers;

  Tensor operator()(Tensor x) const {
    for (const Layer& layer : layers) x = layer(x);
    return x;
  }
  Tensor param(const Shape& shape, double bound) {
    params.push_back(bench::parameter(shape, bound));
    return params.back();
  }
  // nn.Linear(in, out): weight (out, in), bias (out,).
  void linear(int64_t in, int64_t out) {
    double bound = 1 / std::sqrt(double(in));
    Tensor w = param({out, in}, bound), b = param({out}, bound);
    layers.push_back([w, b](const Tensor& x) { return lamina::linear(x, w, b); });
  }
  // nn.Conv2d(in, out, k, padding=pad): weight (out, in, k, k), bias (out,), stride 1.
  void conv2d(int64_t in, int64_t out, int64_t k, int64_t pad) {
    double bound = 1 / std::sqrt(double(in * k * k));
    Tensor w = param({out, in, k, k}, bound), b = param({out}, bound);
    layers.push_back([w, b, pad](const Tensor& x) {
      return lamina::conv2d(x, w, b, {1, 1}, std::vector<int64_t>{pad, pad}, {1, 1}, 1);
    });
  }
  // nn.BatchNorm2d(c) in training mode: batch statistics, running stats updated with momentum 0.1.
  // (Python's module also counts num_batches_tracked, one tiny add that the step does not need.)
  void batch_norm2d(int64_t c) {
    Tensor w = ones({c}), b = zeros({c}), running_mean = zeros({c}), running_var = ones({c});
    w.impl()->requires_grad = b.impl()->requires_grad = true;
    params.insert(params.end(), {w, b});
    layers.push_back([=](const Tensor& x) { return batch_norm(x, running_mean, running_var, w, b, true, 0.1, 1e-5); });
  }
  void relu() {
    layers.push_back([](const Tensor& x) { return lamina::relu(x); });
  }
  // nn.ReLU then nn.MaxPool2d(2) (2x2 windows, stride 2) as nn.Sequential runs them: one op.
  void relu_max_pool2() {
    layers.push_back([](const Tensor& x) { return relu_max_pool2d(x, {2, 2}, {2, 2}, {0, 0}, {1, 1}, false); });
  }
  // nn.Flatten(): (N, *) -> (N, prod(*)).
  void flatten() {
    layers.push_back([](const Tensor& x) { return lamina::flatten(x, 1, -1); });
  }
  // nn.LSTM / nn.GRU(in, hidden, batch_first=True) followed by out[:, -1]: x (N, T, in) is
  // transposed to (T, N, in) for the layer op, whose output (T, N, H) is transposed back;
  // weight_ih (G H, in), weight_hh (G H, H), bias_ih and bias_hh (G H,), all U(-1/sqrt(H), 1/sqrt(H)).
  void recurrent_last_step(RnnMode mode, int64_t gates, int64_t in, int64_t hidden) {
    double bound = 1 / std::sqrt(double(hidden));
    Tensor w_ih = param({gates * hidden, in}, bound), w_hh = param({gates * hidden, hidden}, bound),
           b_ih = param({gates * hidden}, bound), b_hh = param({gates * hidden}, bound);
    layers.push_back([=](const Tensor& x) {
      Tensor out = rnn_layer(mode, transpose(x, 0, 1), {}, {}, w_ih, w_hh, b_ih, b_hh, {}, {}, false)[0];
      return index(transpose(out, 0, 1), {IndexItem(), IndexItem::at(-1)});
    });
  }
};

// 784-512-256-10 with ReLU.
Model mlp() {
  Model m;
  m.linear(784, 512), m.relu(), m.linear(512, 256), m.relu(), m.linear(256, 10);
  return m;
}

// LeNet-5 on 1x28x28: conv5(6, pad 2)-relu-pool-conv5(16)-relu-pool-400-120-84-10.
Model lenet() {
  Model m;
  m.conv2d(1, 6, 5, 2), m.relu_max_pool2(), m.conv2d(6, 16, 5, 0), m.relu_max_pool2(), m.flatten();
  m.linear(400, 120), m.relu(), m.linear(120, 84), m.relu(), m.linear(84, 10);
  return m;
}

// 3x32x32: two blocks of [conv3(pad 1)-BN-ReLU] x 2 + pool (32, then 64 channels), 4096-128-10.
Model cifar_cnn() {
  Model m;
  auto block = [&m](int64_t in, int64_t out) {
    m.conv2d(in, out, 3, 1), m.batch_norm2d(out), m.relu();
    m.conv2d(out, out, 3, 1), m.batch_norm2d(out), m.relu_max_pool2();
  };
  block(3, 32), block(32, 64);
  m.flatten(), m.linear(64 * 8 * 8, 128), m.relu(), m.linear(128, 10);
  return m;
}

// The README demo's network (examples/mnist_cnn.py) on 1x28x28: conv3(16, pad 1)-relu-pool-
// conv3(32, pad 1)-relu-pool-1568-128-10.
Model mnist_cnn() {
  Model m;
  m.conv2d(1, 16, 3, 1), m.relu_max_pool2(), m.conv2d(16, 32, 3, 1), m.relu_max_pool2(), m.flatten();
  m.linear(32 * 7 * 7, 128), m.relu(), m.linear(128, 10);
  return m;
}

// LSTM or GRU 32 -> 128 over (N, 50, 32), a linear head on the last step.
Model recurrent(RnnMode mode, int64_t gates) {
  Model m;
  m.recurrent_last_step(mode, gates, 32, 128), m.linear(128, 10);
  return m;
}

enum class Optimizer { Adam, SgdMomentum, None };  // None: inference under no-grad

// compare_torch.py's CASES, the epoch case as one of its steps (mnist_cnn_b128): name, model, batch,
// one sample's shape, optimizer.
struct Case {
  const char* name;
  std::function<Model()> build;
  int64_t batch;
  Shape sample;
  Optimizer optimizer;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"mlp_b1", mlp, 1, {784}, Optimizer::Adam},
      {"mlp_b16", mlp, 16, {784}, Optimizer::Adam},
      {"mlp_b128", mlp, 128, {784}, Optimizer::Adam},
      {"lenet_b64", lenet, 64, {1, 28, 28}, Optimizer::SgdMomentum},
      {"cifar_cnn_b64", cifar_cnn, 64, {3, 32, 32}, Optimizer::Adam},
      {"mnist_cnn_b128", mnist_cnn, 128, {1, 28, 28}, Optimizer::Adam},
      {"lstm_b32", [] { return recurrent(RnnMode::Lstm, 4); }, 32, {50, 32}, Optimizer::Adam},
      {"gru_b32", [] { return recurrent(RnnMode::Gru, 3); }, 32, {50, 32}, Optimizer::Adam},
      {"mlp_infer_b1", mlp, 1, {784}, Optimizer::None},
      {"lenet_infer_b1", lenet, 1, {1, 28, 28}, Optimizer::None},
  };
  return all;
}

// The timed callable of a case: one training step returning its loss (compare_torch's make_step:
// forward, loss, zero_grad, backward, optimizer step), or one no-grad forward (undefined loss).
std::function<Tensor()> make_step(const Case& c, const Model& model, const Tensor& x, const Tensor& y) {
  if (c.optimizer == Optimizer::None) {
    return [=] {
      GradModeGuard no_grad(false);
      model(x);
      return Tensor();
    };
  }
  std::function<void()> optimizer_step;
  if (c.optimizer == Optimizer::Adam) {
    optimizer_step = [adam = bench::Adam(model.params, 1e-3)]() mutable { adam.step(); };
  } else {
    optimizer_step = [sgd = bench::Sgd(model.params, 0.01, 0.9)]() mutable { sgd.step(); };
  }
  return [=] {
    Tensor loss = cross_entropy(model(x), y);
    bench::zero_grad(model.params);
    backward(loss, Tensor(), false);
    optimizer_step();
    return loss;
  };
}

std::string shapes_of(const std::vector<Tensor>& tensors) {
  std::string s;
  for (const Tensor& t : tensors) {
    s += s.empty() ? "" : ",";
    for (size_t d = 0; d < t.shape().size(); ++d) s += (d ? "x" : "") + std::to_string(t.shape()[d]);
  }
  return s;
}

// The parameter shapes (python_cost.py compares them with the Python model's) and the loss over
// 20 steps on the one batch; false unless the last loss is below the first.
bool check(const Case& c, const std::function<Tensor()>& step, const Model& model, const Tensor& x) {
  std::printf("check %s: input %s; params %s;", c.name, shapes_of({x}).c_str(), shapes_of(model.params).c_str());
  if (c.optimizer == Optimizer::None) {
    GradModeGuard no_grad(false);
    std::printf(" output %s\n", shapes_of({model(x)}).c_str());
    return true;
  }
  std::vector<float> losses;
  for (int i = 0; i < 20; ++i) losses.push_back(*step().data<float>());
  std::printf(" loss");
  for (float l : losses) std::printf(" %.4f", l);
  bool decreased = losses.back() < losses.front();
  std::printf("%s\n", decreased ? "" : "  NOT DECREASING");
  return decreased;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args args(argc, argv);
  set_num_threads(args.integer("--threads", 1));
  std::string selected = "," + args.value("--cases", "") + ",";
  int blocks = args.integer("--blocks", 7), steps = args.integer("--steps", 0), warmup = args.integer("--warmup", 3);
  bool checking = args.flag("--check");
  args.finish("[--threads N] [--cases a,b,...] [--blocks B] [--steps S] [--warmup W] [--check]");

  if (!checking) {
    std::printf("lamina_bench_models: %s\n\n| case | ms per step | CPU ms per step |\n|---|---:|---:|\n",
                bench::machine_line(get_num_threads()).c_str());
  }
  bool ok = true;
  for (const Case& c : cases()) {
    if (selected != ",," && selected.find(std::string(",") + c.name + ",") == std::string::npos) continue;
    manual_seed(0);
    Model model = c.build();
    Shape x_shape = c.sample;
    x_shape.insert(x_shape.begin(), c.batch);
    Tensor x = randn(x_shape), y = randint(0, 10, {c.batch});
    std::function<Tensor()> step = make_step(c, model, x, y);
    if (checking) {
      ok = check(c, step, model, x) && ok;
      continue;
    }
    bench::BlockTimes t = steps > 0 ? bench::median_block_times(step, warmup, blocks, steps)
                                    : bench::median_times(step, warmup, blocks, 50);
    std::printf("| %s | %.4f | %.4f |\n", c.name, t.wall_ms, t.cpu_ms);
    std::fflush(stdout);
  }
  return ok ? 0 : 1;
}

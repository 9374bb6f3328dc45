// Op benchmarks of the C++ core, float32: matmul, the layer ops of the reference models of
// bench/compare_torch.py at their shapes (linear, conv2d, max_pool2d, batch_norm, relu,
// cross_entropy, the LSTM and GRU layers, Adam over the MLP's parameters), the recurrent layers'
// per-step product (packed GEMM vs OpenBLAS), then elementwise ops,
// sum and softmax. Prints a markdown table with the machine.
// Usage: lamina_bench_ops [--threads N] [--passes P]   (defaults 1 and 5): the whole list runs P
// times; each row gives the median of its P timings (each itself a median of 11 blocks).
// Directions: "forward" runs without grad; "fwd+bwd" is the forward recording its node plus
// backward(out, ones) into every input listed (activations included), through the engine.
// Bytes: the forward reads its inputs and writes its output; the backward reads the inputs and
// dout and writes one gradient per input, so fwd+bwd = 3 inputs + 2 outputs (what an op saves
// besides, such as pooling indices or LSTM gates, is not counted: the GB/s are lower bounds).
// FLOPs are stated per op below (a GEMM-shaped op: forward F, backward 2F for dX and dW).
#include <cmath>
#include <cstdio>
#include <string>
#include <tuple>
#include <utility>

#include "autograd/grad_mode.h"
#include "bench.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/packed_gemm.h"

using namespace lamina;
using lamina::bench::median_ms;

namespace {

constexpr double kF32 = 4;  // bytes per float32
bench::Table table;  // every row of every pass

std::string dims(const Shape& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

// Two rows for one op at one shape: forward (no grad), and forward + backward into `inputs`
// (made to require grad). fwd_flops and bwd_flops count the forward and the backward alone.
template <typename F>
void bench_op(const std::string& op, const std::string& shape, const std::vector<Tensor>& inputs, double fwd_flops,
              double bwd_flops, const F& forward) {
  double in_bytes = 0;
  for (const Tensor& t : inputs) in_bytes += double(t.numel()) * kF32;
  double out_bytes;
  {
    GradModeGuard no_grad(false);
    out_bytes = double(forward().numel()) * kF32;
    table.add(op, shape, "forward", median_ms([&] { forward(); }), fwd_flops, in_bytes + out_bytes);
  }
  for (const Tensor& t : inputs) t.impl()->requires_grad = true;
  Tensor dout = ones(forward().shape());
  double ms = median_ms([&] {
    bench::zero_grad(inputs);
    backward(forward(), dout, false);
  });
  table.add(op, shape, "fwd+bwd", ms, fwd_flops + bwd_flops, 3 * in_bytes + 2 * out_bytes);
}

// n x n @ n x n: forward 2n^3; backward dA = G B^T, dB = A^T G: 4n^3.
void bench_matmul() {
  for (int64_t n : {64, 128, 256, 512, 1024}) {
    Tensor a = randn({n, n}), b = randn({n, n});
    double f = 2.0 * n * n * n;
    bench_op("mm", dims({n, n, n}), {a, b}, f, 2 * f, [&] { return mm(a, b); });
  }
}

// linear (B, IC) -> (B, OC): forward 2 B IC OC + B OC (bias); backward dX = dY W and dW = dY^T X
// (2 B IC OC each) and db = sum dY (B OC). The MLP's first layer at three batch sizes, then at
// batch 1 with 128 and 256 outputs: a GEMV whose 0.4 and 0.8 MB of weights stay in the core's L2
// across calls (the 1.6 MB of 784 -> 512 come from L3), so its GB/s is the core's streaming rate.
void bench_linear() {
  const int64_t ic = 784;
  for (auto [b, oc] : {std::pair<int64_t, int64_t>{1, 512}, {16, 512}, {128, 512}, {1, 128}, {1, 256}}) {
    Tensor x = randn({b, ic}), w = randn({oc, ic}), bias = randn({oc});
    double f = 2.0 * b * ic * oc;
    bench_op("linear", dims({b, ic}) + "->" + std::to_string(oc), {x, w, bias}, f + b * oc, 2 * f + b * oc,
             [&] { return linear(x, w, bias); });
  }
}

// conv2d (N, C, H, W) * (OC, C, K, K), stride 1 -> (N, OC, OH, OW): forward 2 N OC OH OW C K K +
// N OC OH OW (bias); backward dX (col2im of W^T dY) and dW (dY cols^T), 2 N OC OH OW C K K each,
// and db. The CIFAR CNN's 3x3 pad-1 layers at batch 64, then LeNet-5's two 5x5 layers.
void bench_conv2d() {
  struct Case { int64_t n, c, oc, hw, k, pad; };
  for (Case s : {Case{64, 3, 32, 32, 3, 1}, Case{64, 32, 32, 32, 3, 1}, Case{64, 32, 64, 16, 3, 1},
                 Case{64, 64, 64, 16, 3, 1}, Case{64, 1, 6, 28, 5, 2}, Case{64, 6, 16, 14, 5, 0}}) {
    Tensor x = randn({s.n, s.c, s.hw, s.hw}), w = randn({s.oc, s.c, s.k, s.k}), bias = randn({s.oc});
    int64_t ohw = s.hw + 2 * s.pad - s.k + 1;
    double outs = double(s.n) * s.oc * ohw * ohw, f = 2 * outs * s.c * s.k * s.k;
    std::string shape = dims(x.shape()) + " k" + std::to_string(s.k) + " p" + std::to_string(s.pad) + "->" +
                        std::to_string(s.oc);
    bench_op("conv2d", shape, {x, w, bias}, f + outs, 2 * f + outs,
             [&] { return conv2d(x, w, bias, {1, 1}, std::vector<int64_t>{s.pad, s.pad}, {1, 1}, 1); });
  }
}

// max_pool2d 2x2 stride 2: comparisons, not FLOPs (printed as -); the backward writes dX in one pass.
void bench_max_pool2d() {
  for (Shape shape : {Shape{64, 32, 32, 32}, Shape{64, 64, 16, 16}, Shape{64, 6, 28, 28}}) {
    Tensor x = randn(shape);
    bench_op("max_pool2d", dims(shape) + " 2x2", {x}, 0, 0,
             [&] { return max_pool2d(x, {2, 2}, {2, 2}, {0, 0}, {1, 1}, false, false).first; });
  }
}

// batch_norm, training (batch statistics, running stats updated), per element: forward 7 FLOPs
// (mean: add; variance: sub, mul, add; y = (x - mean) (w invstd) + b: sub, mul, add); backward 9
// (sums of dy and dy (x - mean): 4; dx = k dy + a (x - mean) + b: 5).
void bench_batch_norm() {
  for (Shape shape : {Shape{64, 32, 32, 32}, Shape{64, 64, 16, 16}}) {
    int64_t c = shape[1];
    Tensor x = randn(shape), w = ones({c}), b = zeros({c}), running_mean = zeros({c}), running_var = ones({c});
    double n = double(x.numel());
    bench_op("batch_norm", dims(shape), {x, w, b}, 7 * n, 9 * n,
             [&] { return batch_norm(x, running_mean, running_var, w, b, true, 0.1, 1e-5); });
  }
}

// relu: one compare per element forward, one select backward.
void bench_relu() {
  for (Shape shape : {Shape{64, 32, 32, 32}, Shape{128, 512}}) {
    Tensor x = randn(shape);
    double n = double(x.numel());
    bench_op("relu", dims(shape), {x}, n, n, [&] { return relu(x); });
  }
}

// cross_entropy of (N, C) logits and int64 targets, mean: forward 4 N C (max, sub, exp, add of the
// log-sum-exp); backward 3 N C (softmax = exp(x - lse), minus one-hot, times 1/N).
void bench_cross_entropy() {
  for (Shape shape : {Shape{128, 10}, Shape{64, 10}}) {
    Tensor logits = randn(shape), target = randint(0, shape[1], {shape[0]});
    double n = double(logits.numel());
    bench_op("cross_entropy", dims(shape), {logits}, 4 * n, 3 * n, [&] { return cross_entropy(logits, target); });
  }
}

// One recurrent layer over a whole sequence, input (T, N, I), G gate blocks of H: forward GEMMs
// 2 T N G H (I + H) (input projection of all steps, then one recurrent GEMM per step); backward
// twice that (dX, dW_ih; dh, dW_hh). The gate math (~10-20 FLOPs per gate value) is not counted.
void bench_rnn_layers() {
  const int64_t t = 50, n = 32, i = 32, h = 128;
  for (auto [name, mode, gates] : {std::tuple{"lstm layer", RnnMode::Lstm, 4}, std::tuple{"gru layer", RnnMode::Gru, 3}}) {
    double bound = 1 / std::sqrt(double(h));
    Tensor x = randn({t, n, i}), w_ih = bench::parameter({gates * h, i}, bound),
           w_hh = bench::parameter({gates * h, h}, bound), b_ih = bench::parameter({gates * h}, bound),
           b_hh = bench::parameter({gates * h}, bound);
    double f = 2.0 * t * n * gates * h * (i + h);
    bench_op(name, dims(x.shape()) + "->" + std::to_string(h), {x, w_ih, w_hh, b_ih, b_hh}, f, 2 * f, [&] {
      return rnn_layer(mode, x, {}, {}, w_ih, w_hh, b_ih, b_hh, {}, {}, false)[0];
    });
  }
}

// adam_step_ over the MLP's parameters (784-512-256-10: 535,818 floats), per element about 12
// FLOPs (m: 3, v: 4, denominator: 3, update: 3 counting sqrt and divide as one) and 28 bytes
// (read p, g, m, v; write p, m, v).
void bench_adam() {
  std::vector<Tensor> params;
  for (Shape shape : {Shape{512, 784}, Shape{512}, Shape{256, 512}, Shape{256}, Shape{10, 256}, Shape{10}}) {
    params.push_back(bench::parameter(shape, 0.01));
    params.back().impl()->grad = randn(shape).impl_ptr();
  }
  double n = 0;
  for (const Tensor& p : params) n += double(p.numel());
  bench::Adam adam(params);
  table.add("adam_step_", "MLP params (" + std::to_string(int64_t(n)) + ")", "step", median_ms([&] { adam.step(); }),
            12 * n, 7 * n * kF32);
}

// One time step of an LSTM (batch 32, H = P = 128): C (M, N) = A (M, K) B with B packed once
// (cpu::gemm_packed, the panels reused every step) and through OpenBLAS (cpu::gemm); forward
// h W_hh^T (M, N, K) = (32, 512, 128), backward dgates W_hh (32, 128, 512). 2 M N K FLOPs.
void bench_recurrent_gemm() {
  for (auto [M, N, K, trans] : {std::tuple{32, 512, 128, true}, std::tuple{32, 128, 512, false}}) {
    std::string shape = std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
    Tensor a = randn({M, K}), w = trans ? randn({N, K}) : randn({K, N}), c = zeros({M, N});
    const float *pa = a.data<float>(), *pw = w.data<float>();
    float* pc = c.data<float>();
    double flops = 2.0 * M * N * K, bytes = double(M * K + K * N + M * N) * kF32;
    const int64_t ldw = trans ? K : N;
    cpu::PackedMatrix<float> packed = cpu::pack_b(pw, trans, K, N, ldw);
    table.add("gemm_packed", shape, trans ? "forward" : "backward",
              median_ms([&] { cpu::gemm_packed<float>(false, M, pa, K, packed, 0.0f, pc, N); }), flops, bytes);
    table.add("openblas", shape, trans ? "forward" : "backward",
              median_ms([&] { cpu::gemm<float>(false, trans, M, N, K, 1.0f, pa, K, pw, ldw, 0.0f, pc, N); }), flops,
              bytes);
  }
}

// Elementwise, sum and softmax at 1e3, 1e5, 1e7 elements (softmax over rows of 1000), forward.
void bench_memory_bound() {
  GradModeGuard no_grad(false);
  for (int64_t n : {1000, 100000, 10000000}) {
    std::string shape = std::to_string(n);
    double nf = double(n);
    Tensor a = randn({n}), b = randn({n});
    table.add("add", shape, "forward", median_ms([&] { add(a, b); }), nf, 3 * nf * kF32);
    table.add("mul", shape, "forward", median_ms([&] { mul(a, b); }), nf, 3 * nf * kF32);
    table.add("relu", shape, "forward", median_ms([&] { relu(a); }), nf, 2 * nf * kF32);
    table.add("exp", shape, "forward", median_ms([&] { unary(UnaryOp::Exp, a); }), 0, 2 * nf * kF32);
    table.add("sum", shape, "forward", median_ms([&] { sum(a); }), nf, nf * kF32);
    Tensor rows = view(a, {n / 1000, 1000});
    table.add("softmax", std::to_string(n / 1000) + "x1000", "forward", median_ms([&] { softmax(rows, 1); }), 0,
              2 * nf * kF32);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args args(argc, argv);
  set_num_threads(args.integer("--threads", 1));
  int passes = args.integer("--passes", 5);
  args.finish("[--threads N] [--passes P]");
  std::printf("lamina_bench_ops: %s, %d passes\n\n", bench::machine_line(get_num_threads()).c_str(), passes);
  for (int pass = 0; pass < passes; ++pass) {
    manual_seed(0);
    table.next_pass();
    bench_matmul();
    bench_linear();
    bench_conv2d();
    bench_max_pool2d();
    bench_batch_norm();
    bench_relu();
    bench_cross_entropy();
    bench_rnn_layers();
    bench_adam();
    bench_recurrent_gemm();
    bench_memory_bound();
  }
  table.print();
  return 0;
}

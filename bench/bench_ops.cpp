// Op benchmarks of the C++ core, float32: matmul (square, forward and forward + backward through
// autograd), the recurrent layers' per-step product (packed GEMM vs OpenBLAS), elementwise
// add/mul/relu/exp, sum, softmax. Prints a markdown table with the machine.
// Usage: lamina_bench_ops [--threads N]   (default: lamina's default, the number of cores)
// Bytes count each input read once and the output written once; matmul FLOPs are 2 M N K.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <tuple>

#include "autograd/grad_mode.h"
#include "bench.h"
#include "core/parallel.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/packed_gemm.h"
#include "ops/ops.h"

using namespace lamina;
using lamina::bench::median_ms;
using lamina::bench::print_row;

namespace {

constexpr double kF32 = 4;  // bytes per float32

// n x n @ n x n: forward 2n^3 FLOPs; forward + backward (dA = G B^T, dB = A^T G) 6n^3.
void bench_matmul() {
  for (int64_t n : {64, 128, 256, 512, 1024}) {
    std::string shape = std::to_string(n) + "x" + std::to_string(n) + "x" + std::to_string(n);
    double nf = double(n);
    Tensor a = randn({n, n}), b = randn({n, n});
    {
      GradModeGuard no_grad(false);
      print_row("mm", shape, "forward", median_ms([&] { mm(a, b); }), 2 * nf * nf * nf, 3 * nf * nf * kF32);
    }
    a.impl()->requires_grad = true;
    b.impl()->requires_grad = true;
    Tensor g = ones({n, n});
    double ms = median_ms([&] {
      a.impl()->grad.reset();
      b.impl()->grad.reset();
      backward(mm(a, b), g, false);
    });
    print_row("mm", shape, "fwd+bwd", ms, 6 * nf * nf * nf, 9 * nf * nf * kF32);
  }
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
    print_row("gemm_packed", shape, trans ? "forward" : "backward",
              median_ms([&] { cpu::gemm_packed<float>(false, M, pa, K, packed, 0.0f, pc, N); }), flops, bytes);
    print_row("openblas", shape, trans ? "forward" : "backward",
              median_ms([&] { cpu::gemm<float>(false, trans, M, N, K, 1.0f, pa, K, pw, ldw, 0.0f, pc, N); }), flops,
              bytes);
  }
}

// Elementwise, sum and softmax at 1e3, 1e5, 1e7 elements (softmax over rows of 1000).
void bench_memory_bound() {
  GradModeGuard no_grad(false);
  for (int64_t n : {1000, 100000, 10000000}) {
    std::string shape = std::to_string(n);
    double nf = double(n);
    Tensor a = randn({n}), b = randn({n});
    print_row("add", shape, "forward", median_ms([&] { add(a, b); }), nf, 3 * nf * kF32);
    print_row("mul", shape, "forward", median_ms([&] { mul(a, b); }), nf, 3 * nf * kF32);
    print_row("relu", shape, "forward", median_ms([&] { relu(a); }), nf, 2 * nf * kF32);
    print_row("exp", shape, "forward", median_ms([&] { unary(UnaryOp::Exp, a); }), 0, 2 * nf * kF32);
    print_row("sum", shape, "forward", median_ms([&] { sum(a); }), nf, nf * kF32);
    Tensor rows = view(a, {n / 1000, 1000});
    print_row("softmax", std::to_string(n / 1000) + "x1000", "forward", median_ms([&] { softmax(rows, 1); }), 0,
              2 * nf * kF32);
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      set_num_threads(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--threads N]\n", argv[0]);
      return 2;
    }
  }
  manual_seed(0);
  std::printf("lamina_bench_ops: %s\n\n", lamina::bench::machine_line(get_num_threads()).c_str());
  lamina::bench::print_header();
  bench_matmul();
  bench_recurrent_gemm();
  bench_memory_bound();
  return 0;
}

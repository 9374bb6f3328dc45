// What the C++ benchmarks share: timing (warm up, blocks of calls, the median), command-line
// options, the machine line and table rows, and the pieces of a training step as lamina's Python
// layer does them (parameters that require grad, zero_grad, the fused Adam and SGD steps).
// Units: time in ms per call; GFLOP/s = flops / time; GB/s = bytes moved (read + written) / time.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <time.h>
#include <vector>

#include "core/parallel.h"
#include "ops/ops.h"

namespace lamina::bench {

// This process's CPU time in ms: unlike the wall clock it leaves out the time the process waited
// for a core, so on a shared machine it is the steadier measure of single-threaded work.
inline double cpu_ms_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}

inline double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Median ms per call of f(), wall clock and CPU time: `warmup` untimed calls, then `blocks` timed
// blocks of `calls` calls each; the median over the blocks of (block time / calls).
struct BlockTimes {
  double wall_ms, cpu_ms;
};
template <typename F>
BlockTimes median_block_times(const F& f, int warmup, int blocks, int calls) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> wall, cpu;
  for (int b = 0; b < blocks; ++b) {
    double cpu0 = cpu_ms_now();
    auto t0 = clock::now();
    for (int i = 0; i < calls; ++i) f();
    wall.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count() / calls);
    cpu.push_back((cpu_ms_now() - cpu0) / calls);
  }
  return {median(wall), median(cpu)};
}

// median_block_times in blocks of enough calls to last at least min_block_ms (a doubling search
// that doubles as the warm-up), so that microsecond ops are timed reliably.
template <typename F>
BlockTimes median_times(const F& f, int warmup, int blocks, double min_block_ms) {
  int calls = 1;
  while (calls < (1 << 20) && median_block_times(f, calls == 1 ? warmup : 0, 1, calls).wall_ms * calls < min_block_ms)
    calls *= 2;
  return median_block_times(f, 0, blocks, calls);
}

// The op tables' measure: median wall ms per call in blocks of at least 1 ms.
template <typename F>
double median_ms(const F& f) {
  return median_times(f, 3, 11, 1.0).wall_ms;
}

// "--name value" options and "--name" flags. Each read removes it; finish() rejects what is left.
class Args {
 public:
  Args(int argc, char** argv) : args_(argv + 1, argv + argc), program_(argv[0]) {}
  bool flag(const std::string& name) {
    auto it = std::find(args_.begin(), args_.end(), name);
    if (it == args_.end()) return false;
    args_.erase(it);
    return true;
  }
  std::string value(const std::string& name, const std::string& fallback) {
    auto it = std::find(args_.begin(), args_.end(), name);
    if (it == args_.end() || it + 1 == args_.end()) return fallback;
    std::string v = *(it + 1);
    args_.erase(it, it + 2);
    return v;
  }
  int integer(const std::string& name, int fallback) { return std::atoi(value(name, std::to_string(fallback)).c_str()); }
  void finish(const char* usage) const {
    if (args_.empty()) return;
    std::fprintf(stderr, "unknown argument '%s'\nusage: %s %s\n", args_[0].c_str(), program_.c_str(), usage);
    std::exit(2);
  }

 private:
  std::vector<std::string> args_;
  std::string program_;
};

// "AMD EPYC, 2 logical CPUs, 2 threads, 2025-01-31 12:00" style line: CPU model, thread count,
// date, and OPENBLAS_CORETYPE when set (it pins OpenBLAS's GEMM kernel and so its speed).
inline std::string machine_line(int threads) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  char date[32];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M", std::localtime(&now));
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " logical CPUs, " +
         std::to_string(threads) + " threads, " + date +
         (coretype ? std::string(", OPENBLAS_CORETYPE=") + coretype : std::string());
}

// A markdown table of measurements taken over several passes of a whole benchmark (so that a
// slow spell of a shared machine spreads over all rows): each pass adds one time per row, in the
// same order; print() gives each row's median ms, the rates at that median and the range.
class Table {
 public:
  void add(const std::string& op, const std::string& shape, const char* direction, double ms, double flops,
           double bytes) {
    if (next_ == rows_.size()) rows_.push_back({op + " | " + shape + " | " + direction, flops, bytes, {}});
    rows_[next_++].ms.push_back(ms);
  }
  void next_pass() { next_ = 0; }
  // Rates of flops or bytes of 0 print as "-".
  void print() const {
    std::printf("| op | shape | direction | ms | GFLOP/s | GB/s | ms range |\n|---|---|---|---:|---:|---:|---:|\n");
    for (const Row& row : rows_) {
      double ms = median(row.ms);
      auto rate = [ms](double amount) {
        char buf[32];
        if (amount <= 0) return std::string("-");
        std::snprintf(buf, sizeof(buf), "%.2f", amount / (ms * 1e-3) / 1e9);
        return std::string(buf);
      };
      auto [lo, hi] = std::minmax_element(row.ms.begin(), row.ms.end());
      std::printf("| %s | %.4f | %s | %s | %.4f-%.4f |\n", row.name.c_str(), ms, rate(row.flops).c_str(),
                  rate(row.bytes).c_str(), *lo, *hi);
    }
  }

 private:
  struct Row {
    std::string name;
    double flops, bytes;
    std::vector<double> ms;
  };
  std::vector<Row> rows_;
  size_t next_ = 0;
};

// A parameter drawn from U(-bound, bound) by lamina's generator (the distribution of PyTorch's
// and lamina.nn's default initialisation), a leaf that requires grad.
inline Tensor parameter(const Shape& shape, double bound) {
  Tensor p = binary(BinaryOp::Mul, binary(BinaryOp::Sub, rand(shape), Scalar{0.5}), Scalar{2 * bound});
  p.impl()->requires_grad = true;
  return p;
}

// Optimizer.zero_grad(set_to_none=True).
inline void zero_grad(const std::vector<Tensor>& params) {
  for (const Tensor& p : params) p.impl()->grad.reset();
}

inline std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params) grads.push_back(p.grad());
  return grads;
}

// lamina.optim.Adam(params, lr): its state (exp_avg, exp_avg_sq, a 0-d step counter per
// parameter) and one fused adam_step_ per step, as adam.py calls it (betas 0.9, 0.999, eps 1e-8).
class Adam {
 public:
  explicit Adam(std::vector<Tensor> params, double lr = 1e-3) : params_(std::move(params)), lr_(lr) {
    for (const Tensor& p : params_) {
      exp_avgs_.push_back(zeros(p.shape()));
      exp_avg_sqs_.push_back(zeros(p.shape()));
      steps_.push_back(zeros({}));
    }
  }
  void step() {
    adam_step_(params_, grads_of(params_), exp_avgs_, exp_avg_sqs_, {}, steps_, lr_, 0.9, 0.999, 1e-8, 0, false,
               false, false);
  }

 private:
  std::vector<Tensor> params_, exp_avgs_, exp_avg_sqs_, steps_;
  double lr_;
};

// lamina.optim.SGD(params, lr, momentum): one fused sgd_step_ per step, as sgd.py calls it; the
// momentum buffers start undefined and come back from the first step.
class Sgd {
 public:
  Sgd(std::vector<Tensor> params, double lr, double momentum)
      : params_(std::move(params)), buffers_(params_.size()), lr_(lr), momentum_(momentum) {}
  void step() { buffers_ = sgd_step_(params_, grads_of(params_), buffers_, lr_, momentum_, 0, 0, false, false); }

 private:
  std::vector<Tensor> params_, buffers_;
  double lr_, momentum_;
};

}  // namespace lamina::bench

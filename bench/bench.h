// A tiny timing harness for the C++ benchmarks: warm up, pick an inner loop long enough to time,
// take the median of several repeats, print one markdown table row per measurement.
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
#include <vector>

namespace lamina::bench {

// Median milliseconds per call of f(): `warmup` untimed calls, then `repeats` samples, each of
// enough calls to last at least min_sample_ms (so that microsecond ops are timed reliably).
template <typename F>
double median_ms(const F& f, int warmup = 3, int repeats = 11, double min_sample_ms = 1.0) {
  using clock = std::chrono::steady_clock;
  auto ms_since = [](clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  };
  for (int i = 0; i < warmup; ++i) f();
  int inner = 1;
  for (;;) {
    auto t0 = clock::now();
    for (int i = 0; i < inner; ++i) f();
    if (ms_since(t0) >= min_sample_ms || inner >= (1 << 20)) break;
    inner *= 2;
  }
  std::vector<double> samples;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = clock::now();
    for (int i = 0; i < inner; ++i) f();
    samples.push_back(ms_since(t0) / inner);
  }
  std::nth_element(samples.begin(), samples.begin() + repeats / 2, samples.end());
  return samples[repeats / 2];
}

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

inline void print_header() {
  std::printf("| op | shape | direction | ms | GFLOP/s | GB/s |\n|---|---|---|---:|---:|---:|\n");
}

// One row; flops or bytes of 0 print as "-".
inline void print_row(const std::string& op, const std::string& shape, const char* direction, double ms,
                      double flops, double bytes) {
  auto rate = [ms](double amount) {
    char buf[32];
    if (amount <= 0) return std::string("-");
    std::snprintf(buf, sizeof(buf), "%.2f", amount / (ms * 1e-3) / 1e9);
    return std::string(buf);
  };
  std::printf("| %s | %s | %s | %.4f | %s | %s |\n", op.c_str(), shape.c_str(), direction, ms,
              rate(flops).c_str(), rate(bytes).c_str());
  std::fflush(stdout);
}

}  // namespace lamina::bench

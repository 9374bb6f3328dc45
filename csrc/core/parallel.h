// Threads: one pool, OpenMP's, runs every loop and every GEMM. OpenBLAS is set to one thread at
// the first GEMM (ops/cpu/matmul.cpp) and cpu::gemm splits a large product into one panel per
// thread itself, so BLAS may be called from inside a parallel_for body (it then runs on that thread).
// parallel_for splits [begin, end) into chunks of at least `grain` iterations and runs
// f(chunk_begin, chunk_end) on the pool; small ranges, and calls from inside a chunk, run inline.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace lamina {

void set_num_threads(int n);
int get_num_threads();

template <typename F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  int64_t n = end - begin;
  if (n <= 0) return;
  int max_threads = omp_get_max_threads();
  if (n <= grain || max_threads == 1 || omp_in_parallel()) {
    f(begin, end);
    return;
  }
  int64_t chunks = std::min<int64_t>(max_threads, (n + grain - 1) / grain);
#pragma omp parallel num_threads(int(chunks))
  {
    int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    int64_t per = (n + nt - 1) / nt;
    int64_t b = begin + t * per, e = std::min(end, b + per);
    if (b < e) f(b, e);
  }
}

}  // namespace lamina

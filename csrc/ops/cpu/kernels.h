// CPU kernels. Conventions (from llm.c): outputs first, then inputs, then sizes; gradients carry
// a `d` prefix; activation gradients are written (=), never accumulated. Kernels take contiguous
// buffers, except the strided elementwise ones (copy_, fill_, binary, compare, where, gather),
// which take tensors whose strides may be 0 on broadcast dims. Kernels never throw from inside
// a parallel loop: front-ends validate first.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"
#include "ops/ops.h"

namespace lamina::cpu {

// --- copy.cpp / factory.cpp ---
void copy_(const Tensor& dst, const Tensor& src);  // same shape; src converted to dst's dtype
void fill_(const Tensor& dst, Scalar value);
template <typename T> void arange(T* out, double start, double step, int64_t n);
template <typename T> void linspace(T* out, double start, double end, int64_t n);
template <typename T> void uniform(T* out, int64_t n, Generator& gen);             // U[0, 1)
template <typename T> void normal(T* out, int64_t n, Generator& gen);              // N(0, 1)
template <typename T> void randint(T* out, int64_t n, int64_t low, int64_t high, Generator& gen);

// --- elementwise.cpp ---
// out (S) = a op b: all of one dtype; a and b of shapes that broadcast to S (read with stride 0).
void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);
// da, db: contiguous (S) or undefined (not needed), written; g, out contiguous (S); a, b broadcast.
void binary_backward(BinaryOp op, const Tensor& da, const Tensor& db, const Tensor& g,
                     const Tensor& a, const Tensor& b, const Tensor& out);
void compare(CompareOp op, const Tensor& out, const Tensor& a, const Tensor& b);   // out bool
void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b);
template <typename T> void unary(UnaryOp op, T* out, const T* inp, int64_t n);
// dinp = dout * f'(inp), written (dinp may be dout); the functors read inp or out, whichever the
// derivative needs.
template <typename T>
void unary_backward(UnaryOp op, T* dinp, const T* dout, const T* inp, const T* out, int64_t n);
template <typename T>
void clamp(T* out, const T* inp, int64_t n, std::optional<double> lo, std::optional<double> hi);
template <typename T>
void clamp_backward(T* dinp, const T* dout, const T* inp, int64_t n, std::optional<double> lo,
                    std::optional<double> hi);

// --- reduce.cpp: inp viewed as (outer, R, inner), out as (outer, inner) ---
template <typename T> void sum(T* out, const T* inp, int64_t outer, int64_t R, int64_t inner);
// values and/or indices (either may be null); NaN wins, then the first extreme.
template <typename T>
void extreme(T* values, int64_t* indices, const T* inp, int64_t outer, int64_t R, int64_t inner, bool is_max);
// var = sum (x - mean)^2 / (R - correction); std = sqrt(var) when take_sqrt.
template <typename T>
void var(T* out, const T* inp, int64_t outer, int64_t R, int64_t inner, double correction, bool take_sqrt);
// dinp = dout * 2 (x - mean) / (R - c) for var; dout * (x - mean) / ((R - c) std) for std.
template <typename T>
void var_backward(T* dinp, const T* dout, const T* inp, const T* result, int64_t outer, int64_t R,
                  int64_t inner, double correction, bool take_sqrt);

// --- matmul.cpp: C (M, N) = alpha op(A) op(B) + beta C, row-major, through OpenBLAS ---
// Callable from inside a parallel_for body (it then runs on that thread alone).
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc);
// The same for `batch` products: A + i stride_a, B + i stride_b -> C + i M N (C contiguous).
template <typename T>
void gemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                  int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b, T beta, T* C);

// --- activation.cpp: softmax along the middle axis of (outer, D, inner) ---
template <typename T> void softmax(T* out, const T* inp, int64_t outer, int64_t D, int64_t inner, bool log);
// softmax: dinp = y (dout - sum(dout y));  log_softmax: dinp = dout - exp(y) sum(dout)
template <typename T>
void softmax_backward(T* dinp, const T* dout, const T* out, int64_t outer, int64_t D, int64_t inner, bool log);

// --- index.cpp ---
// out (outer, sum_i row_bytes[i]) from inputs (outer, row_bytes[i]), in bytes.
void cat(char* out, const std::vector<const char*>& inputs, const std::vector<int64_t>& row_bytes, int64_t outer);
// out (outer, L, inner) = inp (outer, D, inner)[:, index, :]; index values in [0, D).
template <typename T>
void index_select(T* out, const T* inp, const int64_t* index, int64_t outer, int64_t D, int64_t L, int64_t inner);
// dinp (outer, D, inner) += scatter of dout (outer, L, inner) through index (accumulated).
template <typename T>
void index_select_backward(T* dinp, const T* dout, const int64_t* index, int64_t outer, int64_t D, int64_t L,
                           int64_t inner);
// out[i...] = inp[i with i[dim] = index[i...]]; out and index contiguous of index's shape.
void gather(const Tensor& out, const Tensor& inp, int64_t dim, const Tensor& index);
// dinp[i with i[dim] = index[i...]] += src[i...] (accumulated; dinp contiguous).
void scatter_add(const Tensor& dinp, int64_t dim, const Tensor& index, const Tensor& src);

}  // namespace lamina::cpu

// Matrix products through OpenBLAS GEMM. A transposed view is passed to GEMM as a transpose
// flag, not copied. Backward of C = A B: dA = dC B^T, dB = A^T dC (each only when needed).
#include <climits>

#include "ops/dispatch.h"

namespace lamina {

namespace {

// Batch b of a 3-d tensor (B, rows, cols) as GEMM reads it: transposed or not, leading dimension,
// batch stride. A layout GEMM cannot read (both strides > 1) is copied first.
struct GemmOperand {
  Tensor t;  // the data (x itself, or its contiguous copy)
  bool trans = false;
  int64_t ld = 1, batch_stride = 0;
};

GemmOperand gemm_operand(const Tensor& x) {
  int64_t rows = x.shape()[1], cols = x.shape()[2], rs = x.strides()[1], cs = x.strides()[2];
  if (cs == 1 && rs >= std::max<int64_t>(1, cols)) return {x, false, rs, x.strides()[0]};
  if (rs == 1 && cs >= std::max<int64_t>(1, rows)) return {x, true, cs, x.strides()[0]};
  Tensor c = contiguous(x);
  return {c, false, std::max<int64_t>(1, cols), rows * cols};
}

void check_blas_size(const char* op, int64_t M, int64_t N, int64_t K) {
  LAMINA_CHECK(M < INT_MAX && N < INT_MAX && K < INT_MAX, ValueError, "[", op,
               "] matrix dimensions must be below 2^31 for BLAS, got M=", M, ", N=", N, ", K=", K);
}

void check_matmul_inputs(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, a, "input");
  check_defined(op, b, "mat2");
  check_same_device(op, a, b);
  require_cpu(op, a);
  check_floating(op, a, "input");
  LAMINA_CHECK(a.dtype() == b.dtype(), TypeError, "[", op, "] expected both operands to have the same dtype, got ",
               dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
}

// out[b] (M, N) = alpha a[b] (M, K) @ w[b] (K, N) + beta out[b] for each batch b; a and w are
// 3-d (B, ., .) views (batch stride 0 allowed), out is contiguous (B, M, N).
void batched_gemm(const Tensor& out, const Tensor& a, const Tensor& w, double alpha, double beta) {
  int64_t B = out.shape()[0], M = out.shape()[1], N = out.shape()[2], K = a.shape()[2];
  if (B == 0 || M == 0 || N == 0) return;
  if (K == 0) {  // an empty sum: out = beta out, where beta == 0 ignores out (NaN too), as BLAS does
    if (beta == 0) cpu::fill_(out, Scalar{0, false});
    else cpu::binary(BinaryOp::Mul, out, out, scalar_tensor({beta, false}, out.dtype()));
    return;
  }
  GemmOperand A = gemm_operand(a), W = gemm_operand(w);
  dispatch_float(out.dtype(), "matmul", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::gemm_batched<T>(A.trans, W.trans, B, M, N, K, T(alpha), A.t.data<T>(), A.ld, A.batch_stride,
                         W.t.data<T>(), W.ld, W.batch_stride, T(beta), out.data<T>());
  });
}

// dA = alpha dC B^T, dB = alpha A^T dC; dbias = beta sum_to(dC)  (mm, bmm and addmm)
struct MatmulBackward : Node {
  bool batched;
  double alpha, beta;
  Shape bias_shape;
  MatmulBackward(bool b, double al, double be, Shape bs) : batched(b), alpha(al), beta(be), bias_shape(std::move(bs)) {}
  const char* name() const override { return batched ? "BmmBackward0" : bias_shape.empty() ? "MmBackward0" : "AddmmBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor g = grads[0], a = saved(0), b = saved(1);
    auto product = [&](const Tensor& x, const Tensor& y) {
      Tensor p = batched ? bmm(x, y) : mm(x, y);
      return alpha == 1 ? p : binary(BinaryOp::Mul, p, Scalar{alpha, false});
    };
    auto swap_last = [&](const Tensor& x) { return transpose(x, -2, -1); };
    std::vector<Tensor> out{needs_input_grad(0) ? product(g, swap_last(b)) : Tensor(),
                            needs_input_grad(1) ? product(swap_last(a), g) : Tensor()};
    if (next_edges.size() == 3)
      out.push_back(needs_input_grad(2) ? sum_to(beta == 1 ? g : binary(BinaryOp::Mul, g, Scalar{beta, false}), bias_shape)
                                        : Tensor());
    return out;
  }
};

Tensor record_matmul(Tensor out, const Tensor& a, const Tensor& b, const Tensor* bias, bool batched, double alpha,
                     double beta) {
  bool needs = bias ? any_requires_grad({&a, &b, bias}) : any_requires_grad({&a, &b});
  if (!needs) return out;
  auto node = bias ? make_node<MatmulBackward>({&a, &b, bias}, batched, alpha, beta, bias->shape())
                   : make_node<MatmulBackward>({&a, &b}, batched, alpha, beta, Shape{});
  node->save({node->needs_input_grad(1) ? a : Tensor(), node->needs_input_grad(0) ? b : Tensor()});
  set_history(out, std::move(node));
  return out;
}

}  // namespace

Tensor mm(const Tensor& a, const Tensor& b) {
  check_matmul_inputs("mm", a, b);
  LAMINA_CHECK(a.dim() == 2 && b.dim() == 2 && a.shape()[1] == b.shape()[0], ValueError, "[mm] shapes ",
               shape_str(a.shape()), " and ", shape_str(b.shape()), " cannot be multiplied (need (M, K) and (K, N))");
  int64_t M = a.shape()[0], K = a.shape()[1], N = b.shape()[1];
  check_blas_size("mm", M, N, K);
  Tensor out = Tensor::empty({M, N}, a.dtype());
  batched_gemm(view(out, {1, M, N}), unsqueeze(detach(a), 0), unsqueeze(detach(b), 0), 1, 0);
  return record_matmul(out, a, b, nullptr, false, 1, 0);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_matmul_inputs("bmm", a, b);
  LAMINA_CHECK(a.dim() == 3 && b.dim() == 3 && a.shape()[0] == b.shape()[0] && a.shape()[2] == b.shape()[1],
               ValueError, "[bmm] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
               " cannot be multiplied (need (B, M, K) and (B, K, N))");
  int64_t B = a.shape()[0], M = a.shape()[1], K = a.shape()[2], N = b.shape()[2];
  check_blas_size("bmm", M, N, K);
  Tensor out = Tensor::empty({B, M, N}, a.dtype());
  if (B > 0) batched_gemm(out, detach(a), detach(b), 1, 0);
  return record_matmul(out, a, b, nullptr, true, 1, 0);
}

Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b, double beta, double alpha) {
  check_matmul_inputs("addmm", a, b);
  check_defined("addmm", bias, "input");
  LAMINA_CHECK(bias.dtype() == a.dtype(), TypeError, "[addmm] input must have dtype ", dtype_name(a.dtype()),
               ", got ", dtype_name(bias.dtype()));
  LAMINA_CHECK(a.dim() == 2 && b.dim() == 2 && a.shape()[1] == b.shape()[0], ValueError, "[addmm] shapes ",
               shape_str(a.shape()), " and ", shape_str(b.shape()), " cannot be multiplied (need (M, K) and (K, N))");
  int64_t M = a.shape()[0], K = a.shape()[1], N = b.shape()[1];
  check_blas_size("addmm", M, N, K);
  LAMINA_CHECK(broadcast_shapes(bias.shape(), {M, N}, "addmm") == Shape({M, N}), ValueError, "[addmm] input of shape ",
               shape_str(bias.shape()), " does not broadcast to the product's shape ", shape_str({M, N}));
  Tensor out = Tensor::empty({M, N}, a.dtype());
  cpu::copy_(out, expand(detach(bias), {M, N}));
  batched_gemm(view(out, {1, M, N}), unsqueeze(detach(a), 0), unsqueeze(detach(b), 0), alpha, beta);
  return record_matmul(out, a, b, &bias, false, alpha, beta);
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_matmul_inputs("matmul", a, b);
  LAMINA_CHECK(a.dim() >= 1 && b.dim() >= 1, ValueError, "[matmul] both arguments need at least 1 dimension, got shapes ",
               shape_str(a.shape()), " and ", shape_str(b.shape()));
  int64_t ka = a.shape().back(), kb = b.dim() == 1 ? b.shape()[0] : b.shape()[b.dim() - 2];
  LAMINA_CHECK(ka == kb, ValueError, "[matmul] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
               " cannot be multiplied");
  // 1-d operands become matrices (a row for a, a column for b), squeezed out at the end.
  Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
  Tensor b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
  Tensor out;
  if (a2.dim() == 2 && b2.dim() == 2) {
    out = mm(a2, b2);
  } else if (b2.dim() == 2 && a2.is_contiguous()) {
    // (..., M, K) @ (K, N): fold the batch into M, one GEMM.
    Shape shape = a2.shape();
    shape.back() = b2.shape()[1];
    int64_t rows = checked_numel(Shape(a2.shape().begin(), a2.shape().end() - 1), "matmul");  // no -1: K may be 0
    out = reshape(mm(reshape(a2, {rows, ka}), b2), shape);
  } else {
    Shape batch_a(a2.shape().begin(), a2.shape().end() - 2), batch_b(b2.shape().begin(), b2.shape().end() - 2);
    Shape batch = broadcast_shapes(batch_a, batch_b, "matmul");
    int64_t M = a2.shape()[a2.dim() - 2], N = b2.shape().back();
    Shape sa = batch, sb = batch;
    sa.insert(sa.end(), {M, ka});
    sb.insert(sb.end(), {kb, N});
    int64_t B = checked_numel(batch, "matmul");  // explicit: a -1 is ambiguous for empty operands
    Tensor r = bmm(reshape(expand(a2, sa), {B, M, ka}), reshape(expand(b2, sb), {B, kb, N}));
    Shape shape = batch;
    shape.insert(shape.end(), {M, N});
    out = reshape(r, shape);
  }
  if (a.dim() == 1) out = squeeze(out, -2);
  if (b.dim() == 1) out = squeeze(out, -1);
  return out;
}

}  // namespace lamina

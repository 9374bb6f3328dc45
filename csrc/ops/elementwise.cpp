// Elementwise ops with NumPy broadcasting and PyTorch's type promotion (bool < int64 < float32
// < float64; a Python number takes the tensor's float dtype; true division makes floats).
// Backward: the per-element partials (ops/math.h) at the broadcast shape, then sum_to each
// input's shape. A node saves only the operands its requested gradients read.
#include "ops/dispatch.h"

namespace lamina {

namespace {

const char* binary_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
    case BinaryOp::Pow: return "pow";
    case BinaryOp::Maximum: return "maximum";
    case BinaryOp::Minimum: return "minimum";
  }
  return "binary";
}

int category(Dtype d) { return d == Dtype::Bool ? 0 : (is_floating(d) ? 2 : 1); }

// PyTorch's result type of two tensors: a 0-d tensor decides the type only when it is of a
// higher category (bool < integer < floating) than a tensor with dims, e.g.
// float32 (3,) + float64 () -> float32, int64 (3,) + float64 () -> float64.
Dtype result_type(const Tensor& a, const Tensor& b) {
  bool a0 = a.dim() == 0, b0 = b.dim() == 0;
  if (a0 == b0) return promote_types(a.dtype(), b.dtype());
  Dtype with_dims = a0 ? b.dtype() : a.dtype(), zero_dim = a0 ? a.dtype() : b.dtype();
  return category(zero_dim) > category(with_dims) ? promote_types(with_dims, zero_dim) : with_dims;
}

// Bool results exist for add (or), mul (and), maximum (or) and minimum (and), as in PyTorch;
// subtraction refuses bool operands, true division makes floats.
Dtype binary_result_dtype(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  LAMINA_CHECK(op != BinaryOp::Sub || (a.dtype() != Dtype::Bool && b.dtype() != Dtype::Bool), TypeError, "[", name,
               "] subtraction with a bool tensor is not supported; use ~mask or logical_not() to invert a mask");
  Dtype d = result_type(a, b);
  if (op == BinaryOp::Div && !is_floating(d)) return Dtype::Float32;
  LAMINA_CHECK(op != BinaryOp::Pow || d != Dtype::Bool, TypeError, "[", name, "] is not implemented for bool tensors");
  return d;
}

// The dtype a Python number takes next to `other`.
Dtype scalar_dtype(Scalar s, const Tensor& other) {
  if (is_floating(other.dtype())) return other.dtype();
  return s.is_integral ? Dtype::Int64 : Dtype::Float32;
}

// In-place results are written in self's dtype: floats do not go into integers, nor ints into bool.
bool can_cast(Dtype from, Dtype to) {
  if (is_floating(from) && !is_floating(to)) return false;
  return !(from == Dtype::Int64 && to == Dtype::Bool);
}

// Gradient of an input: summed over its broadcast dims and returned in its dtype.
Tensor reduce_grad(const Tensor& g, const Shape& shape, Dtype dtype) { return to(sum_to(g, shape), dtype); }

struct BinaryBackward : Node {
  BinaryOp op;
  Shape a_shape, b_shape;
  Dtype a_dtype, b_dtype;
  BinaryBackward(BinaryOp o, const Tensor& a, const Tensor& b)
      : op(o), a_shape(a.shape()), b_shape(b.shape()), a_dtype(a.dtype()), b_dtype(b.dtype()) {}
  const char* name() const override {
    static const char* names[] = {"AddBackward0", "SubBackward0", "MulBackward0", "DivBackward0",
                                  "PowBackward1", "MaximumBackward0", "MinimumBackward0"};
    return names[int(op)];
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor g = contiguous(grads[0]);
    Tensor da, db;
    if (op == BinaryOp::Add || op == BinaryOp::Sub) {
      da = g;
      db = op == BinaryOp::Sub && needs_input_grad(1) ? unary(UnaryOp::Neg, g) : g;
    } else {
      // saved: a, b, out (undefined where no requested gradient reads them: g stands in)
      Tensor a = saved(0), b = saved(1), out = saved(2);
      if (needs_input_grad(0)) da = Tensor::empty(g.shape(), g.dtype());
      if (needs_input_grad(1)) db = Tensor::empty(g.shape(), g.dtype());
      cpu::binary_backward(op, da, db, g, a.defined() ? a : g, b.defined() ? b : g, out.defined() ? out : g);
    }
    return {needs_input_grad(0) ? reduce_grad(da, a_shape, a_dtype) : Tensor(),
            needs_input_grad(1) ? reduce_grad(db, b_shape, b_dtype) : Tensor()};
  }
};

// Which saved operands each op's gradients read.
void save_binary_operands(BinaryBackward& node, const Tensor& a, const Tensor& b, const Tensor& out) {
  bool need_da = node.needs_input_grad(0), need_db = node.needs_input_grad(1);
  switch (node.op) {
    case BinaryOp::Add:
    case BinaryOp::Sub: return;
    case BinaryOp::Mul: return node.save({need_db ? a : Tensor(), need_da ? b : Tensor(), Tensor()});
    case BinaryOp::Div: return node.save({Tensor(), b, need_db ? out : Tensor()});
    case BinaryOp::Pow: return node.save({a, b, need_db ? out : Tensor()});
    case BinaryOp::Maximum:
    case BinaryOp::Minimum: return node.save({a, b, Tensor()});
  }
}

}  // namespace

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_defined(name, a, "input");
  check_defined(name, b, "other");
  check_same_device(name, a, b);
  require_cpu(name, a);
  Dtype dt = binary_result_dtype(op, a, b, name);
  if (dt == Dtype::Bool)  // or / and / max / min of 0 and 1, computed on integers
    return to(binary(op, to(a, Dtype::Int64), to(b, Dtype::Int64)), Dtype::Bool);
  Tensor ac = to(a, dt), bc = to(b, dt);
  Tensor out = Tensor::empty(a.shape() == b.shape() ? a.shape() : broadcast_shapes(a.shape(), b.shape(), name), dt);
  cpu::binary(op, out, ac, bc);
  if (any_requires_grad({&ac, &bc})) {
    LAMINA_CHECK(is_floating(dt), TypeError, "[", name, "] only floating-point tensors can require gradients");
    auto node = make_node<BinaryBackward>({&ac, &bc}, op, ac, bc);
    save_binary_operands(*node, ac, bc, out);
    set_history(out, std::move(node));
  }
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, Scalar b) {
  check_defined(binary_name(op), a, "input");
  return binary(op, a, scalar_tensor(b, scalar_dtype(b, a)));
}

Tensor binary(BinaryOp op, Scalar a, const Tensor& b) {
  check_defined(binary_name(op), b, "other");
  return binary(op, scalar_tensor(a, scalar_dtype(a, b)), b);
}

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }

namespace {

// Whether the node of op saves its first operand (for a gradient): an in-place op then must not
// let the node see the operand after the write.
bool saves_first_operand(BinaryOp op) { return op != BinaryOp::Add && op != BinaryOp::Sub && op != BinaryOp::Div; }

// A copy of self's values with self's place in the autograd graph: what an in-place op computes
// from, so that its node saves the values before the write (PyTorch's original_self).
Tensor value_before_write(const Tensor& self) {
  Tensor copy = clone(detach(self));
  copy.impl()->requires_grad = self.requires_grad();
  copy.impl()->grad_fn = self.grad_fn();
  copy.impl()->output_nr = self.impl()->output_nr;
  return copy;
}

}  // namespace

void binary_(BinaryOp op, const Tensor& self, const Tensor& other) {
  std::string name = std::string(binary_name(op)) + "_";
  check_defined(name.c_str(), other, "other");
  check_inplace(name.c_str(), self);
  check_same_device(name.c_str(), self, other);
  require_cpu(name.c_str(), self);
  Dtype dt = binary_result_dtype(op, self, other, name.c_str());
  LAMINA_CHECK(can_cast(dt, self.dtype()), TypeError, "[", name, "] result type ", dtype_name(dt),
               " can't be cast to the desired output type ", dtype_name(self.dtype()));
  LAMINA_CHECK(broadcast_shapes(self.shape(), other.shape(), name.c_str()) == self.shape(), ValueError, "[", name,
               "] output with shape ", shape_str(self.shape()), " doesn't match the broadcast shape ",
               shape_str(broadcast_shapes(self.shape(), other.shape(), name.c_str())));
  if (any_requires_grad({&self, &other})) {
    // Compute out of place, write into self, and make self the result in the graph.
    LAMINA_CHECK(!self.impl()->is_view, RuntimeError, "[", name,
                 "] in-place operations on views of tensors that require grad are not supported; "
                 "use the out-of-place form");
    Tensor result = to(binary(op, saves_first_operand(op) ? value_before_write(self) : self, other), self.dtype());
    cpu::copy_(self, result);
    self.bump_version();
    set_history(self, result.grad_fn(), result.impl()->output_nr);
    return;
  }
  // other sharing self's memory in another layout (x += x.t()) is read from a copy.
  bool aliased = other.storage() == self.storage() && !(other.offset() == self.offset() && other.strides() == self.strides());
  if (self.dtype() == Dtype::Bool) cpu::copy_(self, binary(op, self, other));
  else cpu::binary(op, self, self, aliased ? clone(to(other, self.dtype())) : to(other, self.dtype()));
  self.bump_version();
}

Tensor compare(CompareOp op, const Tensor& a, const Tensor& b) {
  check_defined("compare", a, "input");
  check_defined("compare", b, "other");
  check_same_device("compare", a, b);
  require_cpu("compare", a);
  Dtype dt = result_type(a, b);
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), "compare"), Dtype::Bool);
  cpu::compare(op, out, detach(to(a, dt)), detach(to(b, dt)));
  return out;
}

namespace {

// da = where(cond, g, 0), db = where(cond, 0, g), each summed to its input's shape.
struct WhereBackward : Node {
  Shape a_shape, b_shape;
  Dtype a_dtype, b_dtype;
  WhereBackward(const Tensor& a, const Tensor& b)
      : a_shape(a.shape()), b_shape(b.shape()), a_dtype(a.dtype()), b_dtype(b.dtype()) {}
  const char* name() const override { return "WhereBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor cond = saved(0), g = grads[0];
    Tensor zero = scalar_tensor({0, true}, g.dtype());
    return {needs_input_grad(0) ? reduce_grad(where(cond, g, zero), a_shape, a_dtype) : Tensor(),
            needs_input_grad(1) ? reduce_grad(where(cond, zero, g), b_shape, b_dtype) : Tensor()};
  }
};

}  // namespace

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  check_defined("where", condition, "condition");
  check_defined("where", a, "input");
  check_defined("where", b, "other");
  LAMINA_CHECK(condition.dtype() == Dtype::Bool, TypeError, "[where] condition must be a bool tensor, got ",
               dtype_name(condition.dtype()));
  check_same_device("where", condition, a);
  check_same_device("where", a, b);
  require_cpu("where", a);
  Dtype dt = result_type(a, b);
  Tensor ac = to(a, dt), bc = to(b, dt);
  Shape shape = broadcast_shapes(condition.shape(), broadcast_shapes(a.shape(), b.shape(), "where"), "where");
  Tensor out = Tensor::empty(shape, dt);
  cpu::where(out, condition, ac, bc);
  if (any_requires_grad({&ac, &bc})) {
    auto node = make_node<WhereBackward>({&ac, &bc}, ac, bc);
    node->save({condition});
    set_history(out, std::move(node));
  }
  return out;
}

namespace {

const char* unary_name(UnaryOp op) {
  static const char* names[] = {"neg", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh"};
  return names[int(op)];
}

// Which of (input, output) the derivative of op reads.
bool grad_reads_output(UnaryOp op) {
  return op == UnaryOp::Exp || op == UnaryOp::Sqrt || op == UnaryOp::Relu || op == UnaryOp::Sigmoid ||
         op == UnaryOp::Tanh;
}

struct UnaryBackward : Node {
  UnaryOp op;
  explicit UnaryBackward(UnaryOp o) : op(o) {}
  const char* name() const override {
    static const char* names[] = {"NegBackward0",  "ExpBackward0",  "LogBackward0",     "SqrtBackward0",
                                  "AbsBackward0",  "ReluBackward0", "SigmoidBackward0", "TanhBackward0"};
    return names[int(op)];
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor operand = op == UnaryOp::Neg ? Tensor() : saved(0);
    auto [g, dx] = elementwise_grad_buffers(std::move(grads[0]));  // dx may be g (written in place)
    dispatch_float(g.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* inp = operand.defined() && !grad_reads_output(op) ? operand.data<T>() : nullptr;
      const T* out = operand.defined() && grad_reads_output(op) ? operand.data<T>() : nullptr;
      cpu::unary_backward<T>(op, dx.data<T>(), g.data<T>(), inp, out, g.numel());
    });
    return {dx};
  }
};

}  // namespace

Tensor unary(UnaryOp op, const Tensor& x) {
  const char* name = unary_name(op);
  check_defined(name, x, "input");
  require_cpu(name, x);
  bool keeps_integers = op == UnaryOp::Neg || op == UnaryOp::Abs || op == UnaryOp::Relu;
  Tensor xc = contiguous(is_floating(x.dtype()) || keeps_integers ? x : to(x, Dtype::Float32));
  Tensor out = Tensor::empty(xc.shape(), xc.dtype());
  dispatch_numeric(xc.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::unary<T>(op, out.data<T>(), xc.data<T>(), xc.numel());
  });
  if (any_requires_grad({&xc})) {
    auto node = make_node<UnaryBackward>({&xc}, op);
    if (op != UnaryOp::Neg) node->save({grad_reads_output(op) ? out : xc});
    set_history(out, std::move(node));
  }
  return out;
}

namespace {

struct ClampBackward : Node {
  std::optional<double> lo, hi;
  ClampBackward(std::optional<double> l, std::optional<double> h) : lo(l), hi(h) {}
  const char* name() const override { return "ClampBackward1"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor g = contiguous(grads[0]), x = saved(0);
    Tensor dx = Tensor::empty(g.shape(), g.dtype());
    dispatch_float(g.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::clamp_backward<T>(dx.data<T>(), g.data<T>(), x.data<T>(), g.numel(), lo, hi);
    });
    return {dx};
  }
};

}  // namespace

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  check_defined("clamp", x, "input");
  require_cpu("clamp", x);
  LAMINA_CHECK(min || max, ValueError, "[clamp] at least one of 'min' or 'max' must not be None");
  Tensor xc = contiguous(x);
  Tensor out = Tensor::empty(xc.shape(), xc.dtype());
  dispatch_numeric(xc.dtype(), "clamp", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::clamp<T>(out.data<T>(), xc.data<T>(), xc.numel(), min, max);
  });
  if (any_requires_grad({&xc})) {
    auto node = make_node<ClampBackward>({&xc}, min, max);
    node->save({xc});
    set_history(out, std::move(node));
  }
  return out;
}

void clamp_(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  check_inplace("clamp_", x);
  LAMINA_CHECK(!(GradMode::is_enabled() && x.requires_grad()), RuntimeError,
               "[clamp_] in-place clamp of a tensor that requires grad is not supported; use clamp()");
  Tensor result = clamp(x, min, max);
  cpu::copy_(x, result);
  x.bump_version();
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  LAMINA_CHECK(broadcast_shapes(shape, x.shape(), "sum_to") == x.shape(), ValueError, "[sum_to] shape ",
               shape_str(x.shape()), " cannot be summed to ", shape_str(shape));
  std::vector<int64_t> dims;
  size_t lead = size_t(x.dim()) - shape.size();
  for (size_t d = 0; d < size_t(x.dim()); ++d)
    if (d < lead || (shape[d - lead] == 1 && x.shape()[d] != 1)) dims.push_back(int64_t(d));
  if (dims.empty()) return reshape(x, shape);
  return reshape(sum(x, dims, true), shape);
}

}  // namespace lamina

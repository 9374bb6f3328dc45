// The ops as lamina.<op>(input, ...) functions and Tensor methods, with PyTorch's argument names
// and defaults, plus Tensor's operators. Compute-heavy calls release the GIL; tiny elementwise
// calls keep it (releasing costs more than the op).
#include <pybind11/stl.h>

#include "bindings/bindings.h"

namespace lamina::bindings {

namespace {

using GilRelease = py::call_guard<py::gil_scoped_release>;

std::string type_name(py::handle h) { return py::str(py::type::of(h).attr("__name__")); }

// a op other, where other is a Tensor or a Python number; nullopt for any other object.
std::optional<Tensor> binary_with(BinaryOp op, const Tensor& a, py::handle other, bool reflected = false) {
  if (py::isinstance<Tensor>(other)) {
    const Tensor& b = other.cast<const Tensor&>();
    return reflected ? binary(op, b, a) : binary(op, a, b);
  }
  if (std::optional<Scalar> s = to_scalar(other)) return reflected ? binary(op, *s, a) : binary(op, a, *s);
  return std::nullopt;
}

// The dtype a Python number takes next to a tensor of dtype `other` (PyTorch's promotion):
// the tensor's float dtype, else int64 for an integer and float32 for a float.
Dtype scalar_dtype_next_to(Scalar s, Dtype other) {
  if (is_floating(other)) return other;
  return s.is_integral ? Dtype::Int64 : Dtype::Float32;
}

std::optional<Tensor> compare_with(CompareOp op, const Tensor& a, py::handle other) {
  if (py::isinstance<Tensor>(other)) return compare(op, a, other.cast<const Tensor&>());
  if (std::optional<Scalar> s = to_scalar(other)) return compare(op, a, scalar_tensor(*s, scalar_dtype_next_to(*s, a.dtype())));
  return std::nullopt;
}

// A clamp bound: None or a number (a float bound makes an integer input's result float32).
std::optional<Scalar> clamp_bound(py::handle h, const char* op, const char* arg) {
  if (h.is_none()) return std::nullopt;
  std::optional<Scalar> s = to_scalar(h);
  LAMINA_CHECK(s.has_value(), TypeError, "[", op, "] ", arg, " must be a number or None, got ", type_name(h));
  return s;
}

std::optional<double> value_of(const std::optional<Scalar>& s) { return s ? std::optional<double>(s->value) : std::nullopt; }

Tensor clamp_with(const Tensor& x, py::handle lo, py::handle hi) {
  std::optional<Scalar> l = clamp_bound(lo, "clamp", "min"), h = clamp_bound(hi, "clamp", "max");
  bool float_bound = (l && !l->is_integral) || (h && !h->is_integral);
  return clamp(float_bound && !is_floating(x.dtype()) ? to(x, Dtype::Float32) : x, value_of(l), value_of(h));
}

py::object clamp_inplace(py::object self, py::handle lo, py::handle hi) {
  const Tensor& x = self.cast<const Tensor&>();
  std::optional<Scalar> l = clamp_bound(lo, "clamp_", "min"), h = clamp_bound(hi, "clamp_", "max");
  LAMINA_CHECK(is_floating(x.dtype()) || !((l && !l->is_integral) || (h && !h->is_integral)), TypeError,
               "[clamp_] result type float32 can't be cast to the desired output type ", dtype_name(x.dtype()));
  clamp_(x, value_of(l), value_of(h));
  return self;
}

Tensor require(std::optional<Tensor> t, const char* op, py::handle other) {
  LAMINA_CHECK(t.has_value(), TypeError, "[", op, "] other must be a tensor or a number, got ", type_name(other));
  return *t;
}

// An operator: NotImplemented for operands it does not know, so Python can try the other side.
py::object op_result(std::optional<Tensor> t) { return t ? py::cast(*t) : py::object(py::reinterpret_borrow<py::object>(Py_NotImplemented)); }

// Shapes given as sizes or as one sequence: x.view(2, 3) or x.view((2, 3)).
Shape sizes(const py::args& args, const char* op) { return shape_from_args(args, op); }

double correction_of(std::optional<bool> unbiased, std::optional<double> correction) {
  if (correction) return *correction;
  return unbiased.value_or(true) ? 1.0 : 0.0;
}

py::object extreme(const Tensor& x, py::object dim, bool keepdim, bool is_max) {
  if (dim.is_none()) {
    Tensor r;
    {
      py::gil_scoped_release release;  // the Python result is made after the GIL is back
      r = is_max ? max(x) : min(x);
    }
    return py::cast(r);
  }
  if (py::isinstance<Tensor>(dim))  // lamina.max(a, b): elementwise
    return py::cast(binary(is_max ? BinaryOp::Maximum : BinaryOp::Minimum, x, dim.cast<Tensor>()));
  LAMINA_CHECK(PyIndex_Check(dim.ptr()), TypeError, "[", is_max ? "max" : "min",
               "] dim must be an int or a tensor, got ", type_name(dim));
  std::pair<Tensor, Tensor> r = is_max ? max(x, dim.cast<int64_t>(), keepdim) : min(x, dim.cast<int64_t>(), keepdim);
  py::object result_type = py::module_::import("lamina.return_types").attr(is_max ? "max" : "min");
  return result_type(r.first, r.second);
}

}  // namespace

void init_ops(py::module_& m, py::class_<Tensor>& cls) {
  // --- factories (the lamina package wraps these with PyTorch's *size signatures) ---
  m.def("_full", [](const Shape& shape, py::handle value, std::optional<Dtype> dtype, Device device) {
    std::optional<Scalar> s = to_scalar(value);
    LAMINA_CHECK(s.has_value(), TypeError, "[full] fill_value must be a number, got ", type_name(value));
    return full(shape, *s, dtype, device);
  });
  m.def("_zeros", &zeros);
  m.def("_ones", &ones);
  m.def("_empty", [](const Shape& shape, Dtype dtype, Device device) { return Tensor::empty(shape, dtype, device); });
  m.def("_arange", [](py::handle start, py::handle end, py::handle step, std::optional<Dtype> dtype) {
    auto num = [](py::handle h, const char* arg) {
      std::optional<Scalar> s = to_scalar(h);
      LAMINA_CHECK(s.has_value(), TypeError, "[arange] ", arg, " must be a number, got ", type_name(h));
      return *s;
    };
    return arange(num(start, "start"), num(end, "end"), num(step, "step"), dtype);
  });
  m.def("_linspace", &linspace);
  m.def("_eye", &eye);
  m.def("_rand", &rand);
  m.def("_randn", &randn);
  m.def("_randint", &randint);

  // --- copies and conversions ---
  def_function_and_method(m, cls, "clone", &clone, "A contiguous copy (differentiable).");
  cls.def("contiguous", &contiguous, "This tensor if contiguous, else a contiguous copy.");
  cls.def("_to_dtype", [](const Tensor& t, Dtype d) { return to(t, d); }, GilRelease());
  cls.def("_to_device", [](const Tensor& t, Device d) { return to(t, d); }, GilRelease());
  cls.def("copy_", [](py::object self, const Tensor& src) {
    copy_(self.cast<Tensor>(), src);
    return self;
  }, py::arg("src"), "Copies src (broadcast, converted) into this tensor.");
  cls.def("fill_", [](py::object self, py::handle value) {
    std::optional<Scalar> s = to_scalar(value);
    LAMINA_CHECK(s.has_value(), TypeError, "[fill_] value must be a number, got ", type_name(value));
    fill_(self.cast<Tensor>(), *s);
    return self;
  }, py::arg("value"));
  cls.def("zero_", [](py::object self) {
    zero_(self.cast<Tensor>());
    return self;
  });

  // --- views ---
  cls.def("view", [](const Tensor& t, py::args shape) { return view(t, sizes(shape, "view")); }, "A view with a new shape (one -1 allowed).");
  cls.def("reshape", [](const Tensor& t, py::args shape) { return reshape(t, sizes(shape, "reshape")); }, "A view with a new shape when possible, else a copy.");
  m.def("reshape", [](const Tensor& t, const Shape& shape) { return reshape(t, shape); }, py::arg("input"), py::arg("shape"));
  def_function_and_method(m, cls, "flatten", &flatten, "Merges dims start_dim..end_dim into one.", py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  def_function_and_method(m, cls, "squeeze", &squeeze, "Removes size-1 dims (or the one given).", py::arg("dim") = py::none());
  def_function_and_method(m, cls, "unsqueeze", &unsqueeze, "Inserts a size-1 dim at dim.", py::arg("dim"));
  def_function_and_method(m, cls, "transpose", &transpose, "Swaps two dims (a view).", py::arg("dim0"), py::arg("dim1"));
  cls.def("permute", [](const Tensor& t, py::args dims) { return permute(t, sizes(dims, "permute")); }, "Reorders the dims (a view).");
  m.def("permute", &permute, py::arg("input"), py::arg("dims"));
  def_function_and_method(m, cls, "t", &t, "Transpose of a tensor of at most 2 dims.");
  cls.def("expand", [](const Tensor& t, py::args shape) { return expand(t, sizes(shape, "expand")); }, "Broadcasts size-1 dims to larger sizes (a view).");
  def_function_and_method(m, cls, "narrow", &narrow, "x[..., start:start+length, ...] along dim (a view).", py::arg("dim"), py::arg("start"), py::arg("length"));
  def_function_and_method(m, cls, "select", &select, "x[..., index, ...] along dim (a view).", py::arg("dim"), py::arg("index"));

  // --- elementwise ---
  struct Binary { const char* name; BinaryOp op; const char* doc; };
  for (Binary b : {Binary{"add", BinaryOp::Add, "input + other (broadcast)"}, Binary{"sub", BinaryOp::Sub, "input - other"},
                   Binary{"mul", BinaryOp::Mul, "input * other"}, Binary{"div", BinaryOp::Div, "input / other (true division)"},
                   Binary{"maximum", BinaryOp::Maximum, "elementwise max(input, other); NaN propagates"},
                   Binary{"minimum", BinaryOp::Minimum, "elementwise min(input, other); NaN propagates"}}) {
    const char* name = b.name;
    BinaryOp op = b.op;
    def_function_and_method(m, cls, name, [op, name](const Tensor& a, py::handle other) { return require(binary_with(op, a, other), name, other); },
                            b.doc, py::arg("other"));
  }
  def_function_and_method(m, cls, "pow", [](const Tensor& a, py::handle e) { return require(binary_with(BinaryOp::Pow, a, e), "pow", e); },
                          "input ** exponent", py::arg("exponent"));
  struct Compare { const char* name; CompareOp op; };
  for (Compare c : {Compare{"eq", CompareOp::Eq}, Compare{"ne", CompareOp::Ne}, Compare{"lt", CompareOp::Lt},
                    Compare{"le", CompareOp::Le}, Compare{"gt", CompareOp::Gt}, Compare{"ge", CompareOp::Ge}}) {
    const char* name = c.name;
    CompareOp op = c.op;
    def_function_and_method(m, cls, name, [op, name](const Tensor& a, py::handle other) { return require(compare_with(op, a, other), name, other); },
                            "elementwise comparison (a bool tensor)", py::arg("other"));
  }
  struct Unary { const char* name; UnaryOp op; const char* doc; };
  for (Unary u : {Unary{"neg", UnaryOp::Neg, "-x"}, Unary{"exp", UnaryOp::Exp, "e^x"}, Unary{"log", UnaryOp::Log, "natural log"},
                  Unary{"sqrt", UnaryOp::Sqrt, "square root"}, Unary{"abs", UnaryOp::Abs, "|x|"},
                  Unary{"relu", UnaryOp::Relu, "max(x, 0)"}, Unary{"sigmoid", UnaryOp::Sigmoid, "1 / (1 + e^-x)"},
                  Unary{"tanh", UnaryOp::Tanh, "hyperbolic tangent"}}) {
    UnaryOp op = u.op;
    def_function_and_method(m, cls, u.name, [op](const Tensor& x) {
      std::optional<py::gil_scoped_release> release;
      if (x.numel() > 65536) release.emplace();
      return unary(op, x);
    }, u.doc);
  }
  m.def("where", [](const Tensor& c, py::handle a, py::handle b) {
    Tensor ta = py::isinstance<Tensor>(a) ? a.cast<Tensor>() : Tensor(), tb = py::isinstance<Tensor>(b) ? b.cast<Tensor>() : Tensor();
    LAMINA_CHECK(ta.defined() || tb.defined(), TypeError, "[where] input or other must be a tensor");
    auto operand = [&](py::handle h, const Tensor& other) {
      if (py::isinstance<Tensor>(h)) return h.cast<Tensor>();
      std::optional<Scalar> s = to_scalar(h);
      LAMINA_CHECK(s.has_value(), TypeError, "[where] input and other must be tensors or numbers, got ", type_name(h));
      return scalar_tensor(*s, scalar_dtype_next_to(*s, other.dtype()));
    };
    return where(c, operand(a, tb.defined() ? tb : ta), operand(b, ta.defined() ? ta : tb));
  }, py::arg("condition"), py::arg("input"), py::arg("other"), "condition ? input : other, broadcast.");
  def_function_and_method(m, cls, "clamp", &clamp_with, "min(max(x, min), max); gradient passes where min <= x <= max.",
                          py::arg("min") = py::none(), py::arg("max") = py::none());
  def_function_and_method(m, cls, "clip", &clamp_with, "Alias of clamp.", py::arg("min") = py::none(), py::arg("max") = py::none());
  cls.def("clamp_", &clamp_inplace, py::arg("min") = py::none(), py::arg("max") = py::none(), "clamp in place.");
  cls.def("clip_", &clamp_inplace, py::arg("min") = py::none(), py::arg("max") = py::none(), "Alias of clamp_.");

  // operators
  struct Op { const char* name; BinaryOp op; bool reflected; };
  for (Op o : {Op{"__add__", BinaryOp::Add, false}, Op{"__radd__", BinaryOp::Add, true}, Op{"__sub__", BinaryOp::Sub, false},
               Op{"__rsub__", BinaryOp::Sub, true}, Op{"__mul__", BinaryOp::Mul, false}, Op{"__rmul__", BinaryOp::Mul, true},
               Op{"__truediv__", BinaryOp::Div, false}, Op{"__rtruediv__", BinaryOp::Div, true},
               Op{"__pow__", BinaryOp::Pow, false}, Op{"__rpow__", BinaryOp::Pow, true}}) {
    BinaryOp op = o.op;
    bool reflected = o.reflected;
    cls.def(o.name, [op, reflected](const Tensor& a, py::handle other) { return op_result(binary_with(op, a, other, reflected)); }, py::is_operator());
  }
  struct InPlace { const char* name; const char* method; BinaryOp op; };
  for (InPlace o : {InPlace{"__iadd__", "add_", BinaryOp::Add}, InPlace{"__isub__", "sub_", BinaryOp::Sub},
                    InPlace{"__imul__", "mul_", BinaryOp::Mul}, InPlace{"__itruediv__", "div_", BinaryOp::Div}}) {
    BinaryOp op = o.op;
    const char* method = o.method;
    auto f = [op, method](py::object self, py::handle other) {
      const Tensor& t = self.cast<const Tensor&>();
      Tensor operand;
      if (py::isinstance<Tensor>(other)) operand = other.cast<Tensor>();
      else if (std::optional<Scalar> s = to_scalar(other)) operand = scalar_tensor(*s, scalar_dtype_next_to(*s, t.dtype()));
      else throw TypeError(fmt("[", method, "] other must be a tensor or a number, got ", type_name(other)));
      binary_(op, t, operand);
      return self;
    };
    cls.def(o.name, f, py::is_operator());
    cls.def(o.method, f, py::arg("other"));
  }
  struct Cmp { const char* name; CompareOp op; };
  for (Cmp c : {Cmp{"__eq__", CompareOp::Eq}, Cmp{"__ne__", CompareOp::Ne}, Cmp{"__lt__", CompareOp::Lt},
                Cmp{"__le__", CompareOp::Le}, Cmp{"__gt__", CompareOp::Gt}, Cmp{"__ge__", CompareOp::Ge}}) {
    CompareOp op = c.op;
    cls.def(c.name, [op](const Tensor& a, py::handle other) { return op_result(compare_with(op, a, other)); }, py::is_operator());
  }
  cls.def("__hash__", [](py::handle self) { return py::hash(py::int_(reinterpret_cast<uintptr_t>(self.cast<const Tensor&>().impl()))); });
  cls.def("__neg__", [](const Tensor& x) { return unary(UnaryOp::Neg, x); });
  cls.def("__abs__", [](const Tensor& x) { return unary(UnaryOp::Abs, x); });
  cls.def("__matmul__", [](const Tensor& a, const Tensor& b) { return matmul(a, b); }, GilRelease(), py::is_operator());

  // --- reductions ---
  def_function_and_method(m, cls, "sum", [](const Tensor& x, py::object dim, bool keepdim, std::optional<Dtype> dtype) {
    std::vector<int64_t> dims = dims_from(dim);
    py::gil_scoped_release release;
    return sum(dtype ? to(x, *dtype) : x, dims, keepdim);
  }, "Sum over dim (int or tuple; None: all).", py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  def_function_and_method(m, cls, "mean", [](const Tensor& x, py::object dim, bool keepdim, std::optional<Dtype> dtype) {
    std::vector<int64_t> dims = dims_from(dim);
    py::gil_scoped_release release;
    return mean(dtype ? to(x, *dtype) : x, dims, keepdim);
  }, "Mean over dim (int or tuple; None: all).", py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  def_function_and_method(m, cls, "var", [](const Tensor& x, py::object dim, std::optional<bool> unbiased, bool keepdim, std::optional<double> correction) {
    std::vector<int64_t> dims = dims_from(dim);
    py::gil_scoped_release release;
    return var(x, dims, correction_of(unbiased, correction), keepdim);
  }, "sum((x - mean)^2) / (N - correction); unbiased=True means correction=1.", py::arg("dim") = py::none(),
     py::arg("unbiased") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("correction") = py::none());
  def_function_and_method(m, cls, "std", [](const Tensor& x, py::object dim, std::optional<bool> unbiased, bool keepdim, std::optional<double> correction) {
    std::vector<int64_t> dims = dims_from(dim);
    py::gil_scoped_release release;
    return lamina::std(x, dims, correction_of(unbiased, correction), keepdim);
  }, "sqrt(var).", py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false, py::kw_only(),
     py::arg("correction") = py::none());
  def_function_and_method(m, cls, "max", [](const Tensor& x, py::object dim, bool keepdim) { return extreme(x, dim, keepdim, true); },
                          "The maximum; with dim, (values, indices); with a tensor, elementwise.", py::arg("dim") = py::none(), py::arg("keepdim") = false);
  def_function_and_method(m, cls, "min", [](const Tensor& x, py::object dim, bool keepdim) { return extreme(x, dim, keepdim, false); },
                          "The minimum; with dim, (values, indices); with a tensor, elementwise.", py::arg("dim") = py::none(), py::arg("keepdim") = false);
  def_function_and_method(m, cls, "argmax", &argmax, "Index of the maximum (of the flattened input without dim).",
                          py::arg("dim") = py::none(), py::arg("keepdim") = false, GilRelease());
  def_function_and_method(m, cls, "argmin", &argmin, "Index of the minimum (of the flattened input without dim).",
                          py::arg("dim") = py::none(), py::arg("keepdim") = false, GilRelease());

  // --- matrix products ---
  def_function_and_method(m, cls, "mm", &mm, "(M, K) @ (K, N)", py::arg("mat2"), GilRelease());
  def_function_and_method(m, cls, "bmm", &bmm, "(B, M, K) @ (B, K, N)", py::arg("mat2"), GilRelease());
  def_function_and_method(m, cls, "matmul", &matmul, "Matrix product with numpy.matmul's rules.", py::arg("other"), GilRelease());
  def_function_and_method(m, cls, "addmm", &addmm, "beta input + alpha (mat1 @ mat2)", py::arg("mat1"), py::arg("mat2"),
                          py::kw_only(), py::arg("beta") = 1.0, py::arg("alpha") = 1.0, GilRelease());

  // --- softmax ---
  // dtype: the input is converted to it first (as PyTorch), e.g. float64 for an accurate softmax of float32.
  def_function_and_method(m, cls, "softmax", [](const Tensor& x, int64_t dim, std::optional<Dtype> dtype) {
    return softmax(dtype ? to(x, *dtype) : x, dim);
  }, "exp(x) / sum exp(x) along dim (stable).", py::arg("dim"), py::arg("dtype") = py::none(), GilRelease());
  def_function_and_method(m, cls, "log_softmax", [](const Tensor& x, int64_t dim, std::optional<Dtype> dtype) {
    return log_softmax(dtype ? to(x, *dtype) : x, dim);
  }, "x - log sum exp(x) along dim (stable).", py::arg("dim"), py::arg("dtype") = py::none(), GilRelease());

  // --- joining, splitting, indexing ---
  m.def("cat", &cat, py::arg("tensors"), py::arg("dim") = 0, "Concatenates along an existing dim.", GilRelease());
  m.def("concat", &cat, py::arg("tensors"), py::arg("dim") = 0, "Alias of cat.", GilRelease());
  m.def("stack", &stack, py::arg("tensors"), py::arg("dim") = 0, "Stacks along a new dim.", GilRelease());
  def_function_and_method(m, cls, "split", [](const Tensor& x, py::object size, int64_t dim) {
    if (PyIndex_Check(size.ptr())) return split(x, size.cast<int64_t>(), dim);
    return split(x, size.cast<std::vector<int64_t>>(), dim);
  }, "Views of consecutive pieces along dim (a size, or a list of sizes).", py::arg("split_size_or_sections"), py::arg("dim") = 0);
  def_function_and_method(m, cls, "chunk", &chunk, "Splits into `chunks` views of (nearly) equal size.", py::arg("chunks"), py::arg("dim") = 0);
  def_function_and_method(m, cls, "index_select", &index_select, "Entries of dim at the given indices.", py::arg("dim"), py::arg("index"), GilRelease());
  def_function_and_method(m, cls, "gather", &gather, "out[i][j] = input[i][index[i][j]] for dim=1, and so on.", py::arg("dim"), py::arg("index"), GilRelease());
  def_function_and_method(m, cls, "masked_select", &masked_select, "The entries where mask is true, as a 1-d tensor.", py::arg("mask"), GilRelease());
  def_function_and_method(m, cls, "nonzero", &nonzero, "Indices (count, ndim) of the nonzero entries.", GilRelease());
}

}  // namespace lamina::bindings

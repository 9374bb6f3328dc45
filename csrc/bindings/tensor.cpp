// Tensor's Python face: dtype and device objects, metadata, NumPy interop (shared memory both
// ways), indexing (x[...] and x[...] = v) and the conversions the other binding files use.
#include <pybind11/numpy.h>

#include "bindings/bindings.h"

namespace lamina::bindings {

Shape shape_from_args(const py::args& args, const char* op) {
  py::sequence seq = args;
  if (args.size() == 1 && (py::isinstance<py::tuple>(args[0]) || py::isinstance<py::list>(args[0])))
    seq = args[0].cast<py::sequence>();
  Shape shape;
  for (py::handle h : seq) {
    LAMINA_CHECK(PyIndex_Check(h.ptr()) && !PyBool_Check(h.ptr()), TypeError, "[", op,
                 "] sizes must be integers, got ", std::string(py::str(py::type::of(h).attr("__name__"))));
    shape.push_back(h.cast<int64_t>());
  }
  return shape;
}

std::optional<Scalar> to_scalar(py::handle h) {
  if (PyBool_Check(h.ptr()) || PyLong_Check(h.ptr())) return Scalar{h.cast<double>(), true};
  if (PyFloat_Check(h.ptr())) return Scalar{PyFloat_AS_DOUBLE(h.ptr()), false};
  if (py::isinstance<py::array>(h) || !py::hasattr(h, "dtype") || !py::hasattr(h, "item")) return std::nullopt;
  py::object item = h.attr("item")();  // a NumPy scalar
  if (PyBool_Check(item.ptr()) || PyLong_Check(item.ptr())) return Scalar{item.cast<double>(), true};
  if (PyFloat_Check(item.ptr())) return Scalar{item.cast<double>(), false};
  return std::nullopt;
}

std::vector<int64_t> dims_from(const py::object& dim) {
  if (dim.is_none()) return {};
  if (PyIndex_Check(dim.ptr()) && !PyBool_Check(dim.ptr())) return {dim.cast<int64_t>()};
  bool ok = py::isinstance<py::tuple>(dim) || py::isinstance<py::list>(dim);
  std::vector<int64_t> dims;
  if (ok)
    for (py::handle d : dim) {
      ok = PyIndex_Check(d.ptr()) && !PyBool_Check(d.ptr());
      if (!ok) break;
      dims.push_back(d.cast<int64_t>());
    }
  LAMINA_CHECK(ok, TypeError, "[dim] dim must be None, an int or a tuple of ints, got ", std::string(py::repr(dim)));
  return dims;
}

namespace {

Dtype dtype_from_numpy(const py::dtype& dt) {
  if (dt.is(py::dtype::of<float>())) return Dtype::Float32;
  if (dt.is(py::dtype::of<double>())) return Dtype::Float64;
  if (dt.is(py::dtype::of<int64_t>())) return Dtype::Int64;
  if (dt.is(py::dtype::of<bool>())) return Dtype::Bool;
  char kind = dt.kind();
  if (kind == 'f' && dt.itemsize() == 4) return Dtype::Float32;
  if (kind == 'f' && dt.itemsize() == 8) return Dtype::Float64;
  if (kind == 'i' && dt.itemsize() == 8) return Dtype::Int64;
  if (kind == 'b') return Dtype::Bool;
  throw TypeError(fmt("[from_numpy] NumPy dtype ", std::string(py::str(dt)),
                      " is not supported; use float32, float64, int64 or bool"));
}

py::dtype numpy_dtype(Dtype d) {
  switch (d) {
    case Dtype::Float32: return py::dtype::of<float>();
    case Dtype::Float64: return py::dtype::of<double>();
    case Dtype::Int64: return py::dtype::of<int64_t>();
    case Dtype::Bool: return py::dtype::of<bool>();
  }
  return py::dtype::of<float>();
}

// Shares the array's memory: the storage holds a reference to the array and drops it (with
// the GIL) when the last tensor using it dies.
Tensor from_numpy(const py::array& arr) {
  Dtype dtype = dtype_from_numpy(arr.dtype());
  size_t esize = element_size(dtype);
  Shape shape, strides;
  int64_t min_offset = 0, max_offset = 0;
  for (py::ssize_t d = 0; d < arr.ndim(); ++d) {
    py::ssize_t st = arr.strides(d);
    LAMINA_CHECK(st >= 0, ValueError, "[from_numpy] arrays with negative strides are not supported; pass a copy (arr.copy())");
    LAMINA_CHECK(st % py::ssize_t(esize) == 0, ValueError, "[from_numpy] strides must be multiples of the element size");
    shape.push_back(arr.shape(d));
    strides.push_back(st / py::ssize_t(esize));
    if (arr.shape(d) > 0) max_offset += (arr.shape(d) - 1) * strides.back();
  }
  (void)min_offset;
  py::object keep = arr;
  auto release = [obj = keep.release().ptr()]() {
    py::gil_scoped_acquire gil;
    Py_DECREF(obj);
  };
  size_t nbytes = size_t(max_offset + 1) * esize;
  auto storage = std::make_shared<Storage>(const_cast<void*>(arr.data()), nbytes, Device{}, release);
  return Tensor::view_of(storage, shape, strides, 0, dtype);
}

py::array to_numpy(const Tensor& t) {
  LAMINA_CHECK(!t.requires_grad(), RuntimeError,
               "[numpy] can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()");
  LAMINA_CHECK(t.device().is_cpu(), TypeError, "[numpy] can't convert a ", t.device().str(),
               " tensor to NumPy; copy it to the host with .cpu() first");
  size_t esize = element_size(t.dtype());
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides;
  for (int64_t s : t.strides()) strides.push_back(py::ssize_t(s * int64_t(esize)));
  auto* keep = new std::shared_ptr<Storage>(t.storage());
  py::capsule owner(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  return py::array(numpy_dtype(t.dtype()), shape, strides, t.raw_data(), owner);
}

std::vector<IndexItem> index_items(const py::handle& key, const Tensor& x) {
  std::vector<IndexItem> items;
  auto add = [&](py::handle h) {
    IndexItem it;
    if (h.is_none()) {
      it.kind = IndexItem::Kind::NewAxis;
    } else if (h.ptr() == Py_Ellipsis) {
      it.kind = IndexItem::Kind::Ellipsis;
    } else if (PySlice_Check(h.ptr())) {
      py::slice s = py::reinterpret_borrow<py::slice>(h);
      py::object start = s.attr("start"), stop = s.attr("stop"), step = s.attr("step");
      if (!start.is_none()) it.start = start.cast<int64_t>();
      if (!stop.is_none()) it.stop = stop.cast<int64_t>();
      if (!step.is_none()) it.step = step.cast<int64_t>();
    } else if (py::isinstance<Tensor>(h)) {
      Tensor t = h.cast<Tensor>();
      if (t.dim() == 0 && t.dtype() == Dtype::Int64) {
        it.kind = IndexItem::Kind::Integer;
        it.integer = *contiguous(t).data<int64_t>();
      } else {
        it.kind = IndexItem::Kind::Tensor;
        it.tensor = t;
      }
    } else if (PyIndex_Check(h.ptr()) && !PyBool_Check(h.ptr())) {
      it.kind = IndexItem::Kind::Integer;
      it.integer = h.cast<int64_t>();
    } else if (py::isinstance<py::list>(h) || py::isinstance<py::array>(h)) {
      py::array arr = py::array::ensure(h);
      LAMINA_CHECK(arr && (arr.dtype().kind() == 'i' || arr.dtype().kind() == 'u' || arr.dtype().kind() == 'b' ||
                           arr.size() == 0), TypeError, "[index] a list or array index must hold integers or bools");
      if (arr.size() == 0) arr = py::array_t<int64_t>(0);
      else if (arr.dtype().kind() != 'b') arr = arr.attr("astype")("int64");
      it.kind = IndexItem::Kind::Tensor;
      it.tensor = clone(from_numpy(py::array::ensure(arr, py::array::c_style)));
    } else {
      throw IndexError(fmt("[index] only integers, slices (`:`), ellipsis (`...`), None and int64 or bool tensors are "
                           "valid indices, got ", std::string(py::str(py::type::of(h).attr("__name__")))));
    }
    items.push_back(std::move(it));
  };
  if (py::isinstance<py::tuple>(key)) {
    for (py::handle h : key) add(h);
  } else {
    add(key);
  }
  (void)x;
  return items;
}

}  // namespace

void init_tensor(py::module_& m, py::class_<Tensor>& cls) {
  py::enum_<Dtype>(m, "dtype", "A tensor element type: lamina.float32, float64, int64 or bool.")
      .value("float32", Dtype::Float32)
      .value("float64", Dtype::Float64)
      .value("int64", Dtype::Int64)
      .value("bool", Dtype::Bool)
      .def("__repr__", [](Dtype d) { return std::string("lamina.") + dtype_name(d); }, py::prepend())
      .def("__str__", [](Dtype d) { return std::string("lamina.") + dtype_name(d); })
      .def_property_readonly("is_floating_point", [](Dtype d) { return is_floating(d); })
      .def_property_readonly("itemsize", [](Dtype d) { return element_size(d); });

  py::class_<Device>(m, "device", "Where a tensor lives: lamina.device('cpu'), lamina.device('cuda:0').")
      .def(py::init(&parse_device), py::arg("type"))
      .def(py::init([](const std::string& type, int index) {
             Device d = parse_device(type);
             LAMINA_CHECK(d.is_cuda() && index >= 0, ValueError, "[device] an index needs type 'cuda', got '", type, "'");
             d.index = index;
             return d;
           }),
           py::arg("type"), py::arg("index"))
      .def_property_readonly("type", [](const Device& d) { return d.is_cpu() ? "cpu" : "cuda"; })
      .def_property_readonly("index", [](const Device& d) -> py::object {
        if (d.is_cpu()) return py::none();
        return py::int_(d.index);
      })
      .def("__str__", &Device::str)
      .def("__repr__", [](const Device& d) { return "device(type='" + std::string(d.is_cpu() ? "cpu" : "cuda") +
                                                    (d.is_cpu() ? "')" : "', index=" + std::to_string(d.index) + ")"); })
      .def("__eq__", [](const Device& a, const Device& b) { return a == b; })
      .def("__eq__", [](const Device& a, const std::string& b) { return a == parse_device(b); })
      .def("__hash__", [](const Device& d) { return int(d.type) * 1024 + d.index; });
  py::implicitly_convertible<py::str, Device>();

  m.def("from_numpy", &from_numpy, py::arg("ndarray"),
        "A tensor that shares memory with a NumPy array (float32, float64, int64 or bool).");

  // Tensor(t): a new leaf over t's storage (what nn.Parameter(data) builds on).
  cls.def(py::init([](const Tensor& t) { return detach(t); }), py::arg("data"));
  cls.def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t.shape())); })
      .def_property_readonly("dtype", &Tensor::dtype)
      .def_property_readonly("device", &Tensor::device)
      .def_property_readonly("ndim", &Tensor::dim)
      .def_property_readonly("is_cuda", [](const Tensor& t) { return t.device().is_cuda(); })
      .def("dim", &Tensor::dim, "The number of dimensions.")
      .def("numel", &Tensor::numel, "The number of elements.")
      .def("size", [](const Tensor& t, py::object dim) -> py::object {
             if (dim.is_none()) return py::tuple(py::cast(t.shape()));
             return py::int_(t.size(dim.cast<int64_t>()));
           }, py::arg("dim") = py::none(), "The shape, or the size of one dim.")
      .def("stride", [](const Tensor& t, py::object dim) -> py::object {
             if (dim.is_none()) return py::tuple(py::cast(t.strides()));
             return py::int_(t.strides()[wrap_dim(dim.cast<int64_t>(), t.dim(), "stride")]);
           }, py::arg("dim") = py::none(), "Strides in elements.")
      .def("storage_offset", &Tensor::offset)
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("element_size", [](const Tensor& t) { return element_size(t.dtype()); })
      .def("is_floating_point", [](const Tensor& t) { return is_floating(t.dtype()); })
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()); })
      .def("numpy", &to_numpy, "A NumPy array sharing this tensor's memory.")
      .def("__getitem__", [](const Tensor& t, py::handle key) { return index(t, index_items(key, t)); })
      .def("__setitem__", [](const Tensor& t, py::handle key, py::handle value) {
             Tensor v;
             if (py::isinstance<Tensor>(value)) v = value.cast<Tensor>();
             else if (std::optional<Scalar> s = to_scalar(value)) v = scalar_tensor(*s, t.dtype(), t.device());
             else throw TypeError(fmt("[index_put_] can only assign a tensor or a number, got ",
                                      std::string(py::str(py::type::of(value).attr("__name__")))));
             index_put_(t, index_items(key, t), v);
           })
      .def("__len__", [](const Tensor& t) {
        LAMINA_CHECK(t.dim() > 0, TypeError, "[len] len() of a 0-d tensor");
        return t.shape()[0];
      });
}

}  // namespace lamina::bindings

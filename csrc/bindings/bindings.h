// Shared by the binding files: one init_<area>(m) per file, and the conversions from Python
// objects (shapes, numbers, dims, indices) to the C++ API's types. Bindings translate; they
// never compute.
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "ops/ops.h"

namespace lamina::bindings {

namespace py = pybind11;

void init_tensor(py::module_& m, py::class_<Tensor>& cls);
void init_autograd(py::module_& m, py::class_<Tensor>& cls);
void init_ops(py::module_& m, py::class_<Tensor>& cls);
void init_nn(py::module_& m);     // layers: linear, activations, dropout, norms, embedding
void init_loss(py::module_& m);   // loss functions
void init_optim(py::module_& m);  // fused optimizer steps
void init_conv(py::module_& m);   // convolutions, pooling, interpolation
void init_rnn(py::module_& m);    // recurrent layers over whole sequences

// A shape from f(2, 3), f((2, 3)) or f([2, 3]).
Shape shape_from_args(const py::args& args, const char* op);
// A Python number (bool, int, float or a NumPy scalar) as a Scalar; nullopt for anything else.
std::optional<Scalar> to_scalar(py::handle h);
// dim=None, an int, or a tuple/list of ints.
std::vector<int64_t> dims_from(const py::object& dim);

// Registers f both as lamina.<name>(input, ...) and as Tensor.<name>(self, ...).
template <typename F, typename... Extra>
void def_function_and_method(py::module_& m, py::class_<Tensor>& cls, const char* name, F f, const char* doc,
                             const Extra&... extra) {
  m.def(name, f, doc, py::arg("input"), extra...);
  cls.def(name, f, doc, extra...);
}

}  // namespace lamina::bindings

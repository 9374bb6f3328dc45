// Autograd's Python face: requires_grad, grad, grad_fn, backward, retain_grad, detach, and the
// thread-local grad mode behind lamina.no_grad / enable_grad / set_grad_enabled.
#include "autograd/engine.h"
#include "autograd/node.h"
#include "bindings/bindings.h"

namespace lamina::bindings {

void init_autograd(py::module_& m, py::class_<Tensor>& cls) {
  py::class_<Node, std::shared_ptr<Node>>(m, "Node", "A step of the autograd graph (Tensor.grad_fn).")
      .def("name", &Node::name)
      .def_property_readonly("next_functions", [](const Node& n) {
        py::list out;
        for (const Edge& e : n.next_edges) out.append(py::make_tuple(e.node, e.input_nr));
        return py::tuple(out);
      })
      .def("__repr__", [](const Node& n) { return "<" + std::string(n.name()) + " object>"; });

  m.def("is_grad_enabled", &GradMode::is_enabled, "Whether ops record autograd history on this thread.");
  m.def("_set_grad_enabled", &GradMode::set_enabled, py::arg("mode"));

  cls.def_property("requires_grad", &Tensor::requires_grad,
                   [](const Tensor& t, bool flag) {
                     LAMINA_CHECK(t.is_leaf(), RuntimeError,
                                  "[requires_grad] you can only change requires_grad flags of leaf tensors; use "
                                  "detach() for a non-leaf");
                     LAMINA_CHECK(!flag || is_floating(t.dtype()), RuntimeError,
                                  "[requires_grad] only tensors of floating point dtype can require gradients, got ",
                                  dtype_name(t.dtype()));
                     t.impl()->requires_grad = flag;
                   })
      .def_property("grad", [](const Tensor& t) -> py::object {
                      if (!t.impl()->grad) return py::none();
                      return py::cast(Tensor(t.impl()->grad));
                    },
                    [](const Tensor& t, py::object g) {
                      if (g.is_none()) {
                        t.impl()->grad.reset();
                        return;
                      }
                      Tensor grad = g.cast<Tensor>();
                      LAMINA_CHECK(grad.shape() == t.shape(), ValueError, "[grad] assigned grad has shape ",
                                   shape_str(grad.shape()), " but the tensor has shape ", shape_str(t.shape()));
                      LAMINA_CHECK(grad.dtype() == t.dtype(), TypeError, "[grad] assigned grad has dtype ",
                                   dtype_name(grad.dtype()), " but the tensor has dtype ", dtype_name(t.dtype()));
                      t.impl()->grad = grad.impl_ptr();
                    })
      .def_property_readonly("grad_fn", &Tensor::grad_fn)
      .def_property_readonly("is_leaf", &Tensor::is_leaf)
      .def("requires_grad_", [](py::object self, bool flag) {
             self.attr("requires_grad") = flag;
             return self;
           }, py::arg("requires_grad") = true, "Sets requires_grad in place and returns the tensor.")
      .def("detach", &detach, "A tensor sharing this one's storage, without history.")
      .def("_set_data", &set_data, py::arg("data"), "Tensor.data = data: new data, same autograd identity.")
      .def("retain_grad", &retain_grad, "Keeps .grad for this non-leaf tensor after backward.")
      .def("_backward", [](const Tensor& t, std::optional<Tensor> gradient, bool retain_graph) {
             backward(t, gradient.value_or(Tensor()), retain_graph);
           }, py::arg("gradient"), py::arg("retain_graph"), py::call_guard<py::gil_scoped_release>());
}

}  // namespace lamina::bindings

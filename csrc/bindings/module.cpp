// lamina._C: the compiled module. Registers Lamina's error types and the areas of the API.
#include "bindings/bindings.h"
#include "core/allocator.h"
#include "core/parallel.h"
#include "core/random.h"
#include "ops/cuda/kernels.h"

namespace py = pybind11;
using namespace lamina;

PYBIND11_MODULE(_C, m) {
  m.doc() = "Lamina's C++ core (private: use the lamina package)";
  // ValueError, IndexError and RuntimeError derive from the std exceptions that pybind11
  // already maps (invalid_argument, out_of_range, runtime_error); TypeError needs its own.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const lamina::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const lamina::RuntimeError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  py::class_<Tensor> tensor(m, "Tensor", py::dynamic_attr());
  bindings::init_tensor(m, tensor);
  bindings::init_autograd(m, tensor);
  bindings::init_ops(m, tensor);
  bindings::init_nn(m);
  bindings::init_loss(m);
  bindings::init_optim(m);
  bindings::init_conv(m);
  bindings::init_rnn(m);

  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Sets the threads of Lamina's loops (OpenMP) and of its GEMM (OpenBLAS) together.");
  m.def("get_num_threads", &get_num_threads, "The number of threads Lamina's loops use.");
  m.def("manual_seed", &manual_seed, py::arg("seed"), "Seeds Lamina's one random generator.");
  m.def("initial_seed", [] { return default_generator().seed(); }, "The seed last given to manual_seed.");
  m.def("get_rng_state", [] { return default_generator().state(); }, "The generator's state (4 uint64 words).");
  m.def("set_rng_state", [](const std::array<uint64_t, 4>& s) { default_generator().set_state(s); }, py::arg("state"),
        "Restores a state returned by get_rng_state.");
  m.def("_host_empty_cache", &host_empty_cache, "Returns the host allocator's cached blocks to the system.");
  m.def("_host_allocator_stats", [] {
    HostAllocatorStats s = host_allocator_stats();
    py::dict d;
    d["cached_bytes"] = s.cached_bytes;
    d["hits"] = s.hits;
    d["misses"] = s.misses;
    return d;
  }, "The host allocator's cached bytes and its cache hits and misses (blocks of 64 KiB and up).");
  m.def("cuda_is_available", &cuda::is_available, "Whether a CUDA device can be used.");
  m.def("cuda_device_count", &cuda::device_count, "The number of CUDA devices.");
#ifdef LAMINA_WITH_CUDA
  m.attr("built_with_cuda") = true;
#else
  m.attr("built_with_cuda") = false;
#endif
}

// Optimizer steps: check that the lists line up (one entry per parameter, same shape and dtype,
// contiguous state on the CPU), count the steps, run the kernel once per dtype present and bump
// the versions of every tensor written. No autograd: these are updates, not ops.
#include "ops/cpu/optim.h"
#include "ops/dispatch.h"

namespace lamina {

namespace {

// list[k] must be defined, on the CPU, of params[k]'s shape and dtype; written lists also contiguous.
void check_list(const char* op, const std::vector<Tensor>& params, const std::vector<Tensor>& list, const char* name,
                bool written) {
  LAMINA_CHECK(list.size() == params.size(), ValueError, "[", op, "] expected one entry of ", name,
               " per parameter (", params.size(), "), got ", list.size());
  for (size_t k = 0; k < list.size(); ++k) {
    const Tensor& t = list[k];
    LAMINA_CHECK(t.defined(), TypeError, "[", op, "] ", name, "[", k, "] must be a tensor, got None");
    require_cpu(op, t);
    LAMINA_CHECK(is_floating(t.dtype()), TypeError, "[", op, "] ", name, "[", k,
                 "] must be a float32 or float64 tensor, got ", dtype_name(t.dtype()));
    if (&list != &params) {
      LAMINA_CHECK(t.dtype() == params[k].dtype(), TypeError, "[", op, "] ", name, "[", k,
                   "] must have the dtype of params[", k, "] (", dtype_name(params[k].dtype()), "), got ",
                   dtype_name(t.dtype()));
      LAMINA_CHECK(t.shape() == params[k].shape(), ValueError, "[", op, "] ", name, "[", k,
                   "] must have the shape of params[", k, "] ", shape_str(params[k].shape()), ", got ",
                   shape_str(t.shape()));
    }
    LAMINA_CHECK(!written || t.is_contiguous(), ValueError, "[", op, "] ", name, "[", k,
                 "] must be contiguous (it is updated in place)");
  }
}

// Increments each 0-d step counter and returns the new counts.
std::vector<double> count_steps(const char* op, const std::vector<Tensor>& params, const std::vector<Tensor>& steps) {
  LAMINA_CHECK(steps.size() == params.size(), ValueError, "[", op, "] expected one step per parameter (",
               params.size(), "), got ", steps.size());
  for (size_t k = 0; k < steps.size(); ++k) {
    LAMINA_CHECK(steps[k].defined() && steps[k].numel() == 1 && is_floating(steps[k].dtype()) &&
                     steps[k].device().is_cpu(),
                 TypeError, "[", op, "] steps[", k, "] must be a one-element float tensor on the CPU");
  }
  std::vector<double> counts(steps.size());
  for (size_t k = 0; k < steps.size(); ++k) {
    dispatch_float(steps[k].dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* s = steps[k].data<T>();
      *s += T(1);
      counts[k] = double(*s);
    });
    steps[k].bump_version();
  }
  return counts;
}

// Runs f(tag, indices) once per dtype present among params, with the indices of that dtype's tensors.
template <typename F> void for_each_dtype(const char* op, const std::vector<Tensor>& params, const F& f) {
  for (Dtype d : {Dtype::Float32, Dtype::Float64}) {
    std::vector<size_t> idx;
    for (size_t k = 0; k < params.size(); ++k)
      if (params[k].dtype() == d) idx.push_back(k);
    if (!idx.empty()) dispatch_float(d, op, [&](auto tag) { f(tag, idx); });
  }
}

template <typename T> std::vector<T*> ptrs(const std::vector<Tensor>& list, const std::vector<size_t>& idx) {
  std::vector<T*> out;
  if (list.empty()) return out;
  for (size_t k : idx) out.push_back(list[k].data<T>());
  return out;
}
template <typename T> std::vector<const T*> const_ptrs(const std::vector<Tensor>& list, const std::vector<size_t>& idx) {
  std::vector<const T*> out;
  for (size_t k : idx) out.push_back(list[k].data<T>());
  return out;
}
std::vector<int64_t> sizes_of(const std::vector<Tensor>& params, const std::vector<size_t>& idx) {
  std::vector<int64_t> out;
  for (size_t k : idx) out.push_back(params[k].numel());
  return out;
}
template <typename V> V select_of(const V& all, const std::vector<size_t>& idx) {
  V out;
  for (size_t k : idx) out.push_back(all[k]);
  return out;
}

std::vector<Tensor> contiguous_all(const std::vector<Tensor>& list) {
  std::vector<Tensor> out;
  for (const Tensor& t : list) out.push_back(contiguous(t));
  return out;
}

void bump_all(const std::vector<Tensor>& list) {
  for (const Tensor& t : list) t.bump_version();
}

// Common checks: params written in place, grads read (made contiguous), and the state lists.
std::vector<Tensor> checked_grads(const char* op, const std::vector<Tensor>& params, const std::vector<Tensor>& grads) {
  check_list(op, params, params, "params", true);
  check_list(op, params, grads, "grads", false);
  return contiguous_all(grads);
}

}  // namespace

std::vector<Tensor> sgd_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                              const std::vector<Tensor>& momentum_buffers, double lr, double momentum, double dampening,
                              double weight_decay, bool nesterov, bool maximize) {
  const char* op = "sgd_step_";
  GradModeGuard no_grad(false);
  std::vector<Tensor> g = checked_grads(op, params, grads);
  std::vector<Tensor> bufs = momentum_buffers;
  std::vector<uint8_t> first;
  if (momentum != 0) {
    LAMINA_CHECK(bufs.size() == params.size(), ValueError, "[", op, "] expected one momentum buffer (or None) per ",
                 "parameter (", params.size(), "), got ", bufs.size());
    for (size_t k = 0; k < bufs.size(); ++k) {
      first.push_back(!bufs[k].defined());
      if (first.back()) bufs[k] = Tensor::empty(params[k].shape(), params[k].dtype());
    }
    check_list(op, params, bufs, "momentum_buffers", true);
  }
  for_each_dtype(op, params, [&](auto tag, const std::vector<size_t>& idx) {
    using T = typename decltype(tag)::type;
    cpu::sgd_step<T>(ptrs<T>(params, idx), ptrs<T>(momentum != 0 ? bufs : std::vector<Tensor>{}, idx),
                     const_ptrs<T>(g, idx), momentum != 0 ? select_of(first, idx) : std::vector<uint8_t>(idx.size()),
                     sizes_of(params, idx), lr, momentum, dampening, weight_decay, nesterov, maximize);
  });
  bump_all(params);
  if (momentum != 0) bump_all(bufs);
  return bufs;
}

void adam_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& exp_avgs,
                const std::vector<Tensor>& exp_avg_sqs, const std::vector<Tensor>& max_exp_avg_sqs,
                const std::vector<Tensor>& steps, double lr, double beta1, double beta2, double eps, double weight_decay,
                bool amsgrad, bool maximize, bool decoupled_weight_decay) {
  const char* op = "adam_step_";
  GradModeGuard no_grad(false);
  std::vector<Tensor> g = checked_grads(op, params, grads);
  check_list(op, params, exp_avgs, "exp_avgs", true);
  check_list(op, params, exp_avg_sqs, "exp_avg_sqs", true);
  if (amsgrad) check_list(op, params, max_exp_avg_sqs, "max_exp_avg_sqs", true);
  std::vector<double> counts = count_steps(op, params, steps);
  for_each_dtype(op, params, [&](auto tag, const std::vector<size_t>& idx) {
    using T = typename decltype(tag)::type;
    cpu::adam_step<T>(ptrs<T>(params, idx), ptrs<T>(exp_avgs, idx), ptrs<T>(exp_avg_sqs, idx),
                      ptrs<T>(amsgrad ? max_exp_avg_sqs : std::vector<Tensor>{}, idx), const_ptrs<T>(g, idx),
                      select_of(counts, idx), sizes_of(params, idx), lr, beta1, beta2, eps, weight_decay, amsgrad,
                      maximize, decoupled_weight_decay);
  });
  bump_all(params);
  bump_all(exp_avgs);
  bump_all(exp_avg_sqs);
  if (amsgrad) bump_all(max_exp_avg_sqs);
}

void rmsprop_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                   const std::vector<Tensor>& square_avgs, const std::vector<Tensor>& grad_avgs,
                   const std::vector<Tensor>& momentum_buffers, const std::vector<Tensor>& steps, double lr,
                   double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize) {
  const char* op = "rmsprop_step_";
  GradModeGuard no_grad(false);
  std::vector<Tensor> g = checked_grads(op, params, grads);
  check_list(op, params, square_avgs, "square_avgs", true);
  if (centered) check_list(op, params, grad_avgs, "grad_avgs", true);
  if (momentum > 0) check_list(op, params, momentum_buffers, "momentum_buffers", true);
  count_steps(op, params, steps);
  for_each_dtype(op, params, [&](auto tag, const std::vector<size_t>& idx) {
    using T = typename decltype(tag)::type;
    cpu::rmsprop_step<T>(ptrs<T>(params, idx), ptrs<T>(square_avgs, idx),
                         ptrs<T>(centered ? grad_avgs : std::vector<Tensor>{}, idx),
                         ptrs<T>(momentum > 0 ? momentum_buffers : std::vector<Tensor>{}, idx), const_ptrs<T>(g, idx),
                         sizes_of(params, idx), lr, alpha, eps, weight_decay, momentum, centered, maximize);
  });
  bump_all(params);
  bump_all(square_avgs);
  if (centered) bump_all(grad_avgs);
  if (momentum > 0) bump_all(momentum_buffers);
}

void adagrad_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& sums,
                   const std::vector<Tensor>& steps, double lr, double lr_decay, double weight_decay, double eps,
                   bool maximize) {
  const char* op = "adagrad_step_";
  GradModeGuard no_grad(false);
  std::vector<Tensor> g = checked_grads(op, params, grads);
  check_list(op, params, sums, "sums", true);
  std::vector<double> counts = count_steps(op, params, steps);
  for_each_dtype(op, params, [&](auto tag, const std::vector<size_t>& idx) {
    using T = typename decltype(tag)::type;
    cpu::adagrad_step<T>(ptrs<T>(params, idx), ptrs<T>(sums, idx), const_ptrs<T>(g, idx), select_of(counts, idx),
                         sizes_of(params, idx), lr, lr_decay, weight_decay, eps, maximize);
  });
  bump_all(params);
  bump_all(sums);
}

void adadelta_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                    const std::vector<Tensor>& square_avgs, const std::vector<Tensor>& acc_deltas,
                    const std::vector<Tensor>& steps, double lr, double rho, double eps, double weight_decay,
                    bool maximize) {
  const char* op = "adadelta_step_";
  GradModeGuard no_grad(false);
  std::vector<Tensor> g = checked_grads(op, params, grads);
  check_list(op, params, square_avgs, "square_avgs", true);
  check_list(op, params, acc_deltas, "acc_deltas", true);
  count_steps(op, params, steps);
  for_each_dtype(op, params, [&](auto tag, const std::vector<size_t>& idx) {
    using T = typename decltype(tag)::type;
    cpu::adadelta_step<T>(ptrs<T>(params, idx), ptrs<T>(square_avgs, idx), ptrs<T>(acc_deltas, idx),
                          const_ptrs<T>(g, idx), sizes_of(params, idx), lr, rho, eps, weight_decay, maximize);
  });
  bump_all(params);
  bump_all(square_avgs);
  bump_all(acc_deltas);
}

}  // namespace lamina

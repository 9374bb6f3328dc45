// Optimizer kernels: the elements of all tensors of a group form one range that is split across
// threads (many small tensors parallelise as well as one large one); each element runs the update
// of ops/optim_math.h. Scalars that depend on the step are computed per tensor, in double.
#include "ops/cpu/optim.h"

#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "ops/optim_math.h"

namespace lamina::cpu {

namespace {

constexpr int64_t kGrain = 32768;

// f(k, b, e) over elements [b, e) of tensor k, for every element of every tensor.
template <typename F> void for_each_span(const std::vector<int64_t>& sizes, const F& f) {
  std::vector<int64_t> start(sizes.size() + 1, 0);
  for (size_t k = 0; k < sizes.size(); ++k) start[k + 1] = start[k] + sizes[k];
  parallel_for(0, start.back(), kGrain, [&](int64_t b, int64_t e) {
    size_t k = size_t(std::upper_bound(start.begin(), start.end(), b) - start.begin()) - 1;
    for (; b < e; ++k) {
      int64_t stop = std::min(e, start[k + 1]);
      if (stop > b) f(k, b - start[k], stop - start[k]);
      b = stop;
    }
  });
}

template <typename T> T* at_or_null(const Ptrs<T>& list, size_t k) { return list.empty() ? nullptr : list[k]; }

// Calls f(std::bool_constant<flag>...) for the runtime flags, so that the element loop is compiled
// once per combination without branches inside (and vectorises).
template <typename F> void with_flags(const F& f) { f(); }
template <typename F, typename... Rest> void with_flags(const F& f, bool flag, Rest... rest) {
  if (flag) with_flags([&](auto... c) { f(std::true_type{}, c...); }, rest...);
  else with_flags([&](auto... c) { f(std::false_type{}, c...); }, rest...);
}

}  // namespace

template <typename T>
void sgd_step(const Ptrs<T>& params, const Ptrs<T>& momentum_buffers, const ConstPtrs<T>& grads,
              const std::vector<uint8_t>& first, const std::vector<int64_t>& sizes, double lr, double momentum,
              double dampening, double weight_decay, bool nesterov, bool maximize) {
  with_flags([&](auto has_buf, auto nesterov_c, auto maximize_c) {
    for_each_span(sizes, [&](size_t k, int64_t b, int64_t e) {
      T unused = 0;  // the buffer argument when there is no momentum (never written then)
      T *p = params[k], *buf = at_or_null(momentum_buffers, k);
      const T* g = grads[k];
      const bool first_step = has_buf && first[k];
      for (int64_t i = b; i < e; ++i)
        math::sgd_update<T>(p[i], has_buf ? buf[i] : unused, g[i], first_step, T(lr), T(momentum), T(1 - dampening),
                            T(weight_decay), nesterov_c, maximize_c);
    });
  }, !momentum_buffers.empty(), nesterov, maximize);
}

template <typename T>
void adam_step(const Ptrs<T>& params, const Ptrs<T>& exp_avgs, const Ptrs<T>& exp_avg_sqs,
               const Ptrs<T>& max_exp_avg_sqs, const ConstPtrs<T>& grads, const std::vector<double>& steps,
               const std::vector<int64_t>& sizes, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool amsgrad, bool maximize, bool decoupled_weight_decay) {
  with_flags([&](auto ams, auto maximize_c, auto decoupled_c) {
    for_each_span(sizes, [&](size_t k, int64_t b, int64_t e) {
      double bias_correction1 = 1 - std::pow(beta1, steps[k]), bias_correction2 = 1 - std::pow(beta2, steps[k]);
      const T step_size = T(lr / bias_correction1), bias_correction2_sqrt = T(std::sqrt(bias_correction2));
      const T one_minus_beta1 = T(1 - beta1), b2 = T(beta2), one_minus_beta2 = T(1 - beta2), e_ = T(eps),
              wd = T(weight_decay), decay = T(1 - lr * weight_decay);
      T *p = params[k], *m = exp_avgs[k], *v = exp_avg_sqs[k], *vmax = ams ? max_exp_avg_sqs[k] : nullptr;
      const T* g = grads[k];
      for (int64_t i = b; i < e; ++i)
        math::adam_update<T>(p[i], m[i], v[i], ams ? vmax + i : nullptr, g[i], one_minus_beta1, b2, one_minus_beta2,
                             e_, wd, decay, step_size, bias_correction2_sqrt, maximize_c, decoupled_c);
    });
  }, amsgrad, maximize, decoupled_weight_decay);
}

template <typename T>
void rmsprop_step(const Ptrs<T>& params, const Ptrs<T>& square_avgs, const Ptrs<T>& grad_avgs,
                  const Ptrs<T>& momentum_buffers, const ConstPtrs<T>& grads, const std::vector<int64_t>& sizes,
                  double lr, double alpha, double eps, double weight_decay, double momentum, bool centered,
                  bool maximize) {
  for_each_span(sizes, [&](size_t k, int64_t b, int64_t e) {
    T *p = params[k], *sq = square_avgs[k];
    T *ga = centered ? grad_avgs[k] : nullptr, *buf = momentum > 0 ? momentum_buffers[k] : nullptr;
    const T* g = grads[k];
    for (int64_t i = b; i < e; ++i)
      math::rmsprop_update<T>(p[i], sq[i], ga ? ga + i : nullptr, buf ? buf + i : nullptr, g[i], T(lr), T(alpha),
                              T(1 - alpha), T(eps), T(weight_decay), T(momentum), maximize);
  });
}

template <typename T>
void adagrad_step(const Ptrs<T>& params, const Ptrs<T>& sums, const ConstPtrs<T>& grads,
                  const std::vector<double>& steps, const std::vector<int64_t>& sizes, double lr, double lr_decay,
                  double weight_decay, double eps, bool maximize) {
  for_each_span(sizes, [&](size_t k, int64_t b, int64_t e) {
    T clr = T(lr / (1 + (steps[k] - 1) * lr_decay));
    T *p = params[k], *s = sums[k];
    const T* g = grads[k];
    for (int64_t i = b; i < e; ++i) math::adagrad_update<T>(p[i], s[i], g[i], clr, T(eps), T(weight_decay), maximize);
  });
}

template <typename T>
void adadelta_step(const Ptrs<T>& params, const Ptrs<T>& square_avgs, const Ptrs<T>& acc_deltas,
                   const ConstPtrs<T>& grads, const std::vector<int64_t>& sizes, double lr, double rho, double eps,
                   double weight_decay, bool maximize) {
  for_each_span(sizes, [&](size_t k, int64_t b, int64_t e) {
    T *p = params[k], *sq = square_avgs[k], *acc = acc_deltas[k];
    const T* g = grads[k];
    for (int64_t i = b; i < e; ++i)
      math::adadelta_update<T>(p[i], sq[i], acc[i], g[i], T(lr), T(rho), T(1 - rho), T(eps), T(weight_decay), maximize);
  });
}

#define LAMINA_INSTANTIATE_OPTIM(T)                                                                                   \
  template void sgd_step<T>(const Ptrs<T>&, const Ptrs<T>&, const ConstPtrs<T>&, const std::vector<uint8_t>&,        \
                            const std::vector<int64_t>&, double, double, double, double, bool, bool);                 \
  template void adam_step<T>(const Ptrs<T>&, const Ptrs<T>&, const Ptrs<T>&, const Ptrs<T>&, const ConstPtrs<T>&,    \
                             const std::vector<double>&, const std::vector<int64_t>&, double, double, double, double, \
                             double, bool, bool, bool);                                                               \
  template void rmsprop_step<T>(const Ptrs<T>&, const Ptrs<T>&, const Ptrs<T>&, const Ptrs<T>&, const ConstPtrs<T>&, \
                                const std::vector<int64_t>&, double, double, double, double, double, bool, bool);     \
  template void adagrad_step<T>(const Ptrs<T>&, const Ptrs<T>&, const ConstPtrs<T>&, const std::vector<double>&,     \
                                const std::vector<int64_t>&, double, double, double, double, bool);                   \
  template void adadelta_step<T>(const Ptrs<T>&, const Ptrs<T>&, const Ptrs<T>&, const ConstPtrs<T>&,                \
                                 const std::vector<int64_t>&, double, double, double, double, bool);
LAMINA_INSTANTIATE_OPTIM(float)
LAMINA_INSTANTIATE_OPTIM(double)
#undef LAMINA_INSTANTIATE_OPTIM

}  // namespace lamina::cpu

// CPU optimizer kernels (cpu/optim.cpp): one call updates a whole group of tensors in place.
// Every argument list lines up by tensor k: params[k], grads[k] and the state buffers hold
// sizes[k] contiguous elements of type T. A state list the update does not use may be empty.
// steps[k] is tensor k's step count t after this update (1 on the first). Per-element math:
// ops/optim_math.h.
#pragma once
#include <cstdint>
#include <vector>

namespace lamina::cpu {

template <typename T> using Ptrs = std::vector<T*>;
template <typename T> using ConstPtrs = std::vector<const T*>;

// momentum_buffers[k] is initialised from the gradient where first[k] (and used only if momentum != 0).
template <typename T>
void sgd_step(const Ptrs<T>& params, const Ptrs<T>& momentum_buffers, const ConstPtrs<T>& grads,
              const std::vector<uint8_t>& first, const std::vector<int64_t>& sizes, double lr, double momentum,
              double dampening, double weight_decay, bool nesterov, bool maximize);
// max_exp_avg_sqs: used when amsgrad.
template <typename T>
void adam_step(const Ptrs<T>& params, const Ptrs<T>& exp_avgs, const Ptrs<T>& exp_avg_sqs,
               const Ptrs<T>& max_exp_avg_sqs, const ConstPtrs<T>& grads, const std::vector<double>& steps,
               const std::vector<int64_t>& sizes, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool amsgrad, bool maximize, bool decoupled_weight_decay);
// grad_avgs: used when centered; momentum_buffers: used when momentum > 0.
template <typename T>
void rmsprop_step(const Ptrs<T>& params, const Ptrs<T>& square_avgs, const Ptrs<T>& grad_avgs,
                  const Ptrs<T>& momentum_buffers, const ConstPtrs<T>& grads, const std::vector<int64_t>& sizes,
                  double lr, double alpha, double eps, double weight_decay, double momentum, bool centered,
                  bool maximize);
template <typename T>
void adagrad_step(const Ptrs<T>& params, const Ptrs<T>& sums, const ConstPtrs<T>& grads,
                  const std::vector<double>& steps, const std::vector<int64_t>& sizes, double lr, double lr_decay,
                  double weight_decay, double eps, bool maximize);
template <typename T>
void adadelta_step(const Ptrs<T>& params, const Ptrs<T>& square_avgs, const Ptrs<T>& acc_deltas,
                   const ConstPtrs<T>& grads, const std::vector<int64_t>& sizes, double lr, double rho, double eps,
                   double weight_decay, bool maximize);

}  // namespace lamina::cpu

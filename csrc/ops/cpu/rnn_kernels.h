// CPU kernels of the recurrent layers: one layer in one direction over a whole sequence, forward
// and backward through time. Sequences are in the packed layout: time step t holds batch_sizes[t]
// rows (nonincreasing: sequences are sorted by length and a finished one drops out of the batch),
// starting at row sum_{t' < t} batch_sizes[t'] of the (total, .) buffers; a padded (T, N, .)
// input is the case batch_sizes[t] = N. Conventions of cpu/kernels.h: outputs first, contiguous
// buffers, parameter gradients accumulated (+=), activation gradients written (=).
#pragma once
#include <cstdint>
#include <vector>

#include "ops/ops.h"

namespace lamina::cpu {

// Letters: I input features, H hidden units, P recurrent state width (the projection size of an
// LSTM with proj_size, else H), G = gate blocks per unit in the weights (RNN 1, LSTM 4, GRU 3),
// S = values saved per unit (RNN 1: h; LSTM 5: i, f, g, o, tanh c'; GRU 4: r, z, n, W_hn h + b_hn).
struct RnnSizes {
  RnnMode mode = RnnMode::RnnTanh;
  int64_t N = 0, I = 0, H = 0, P = 0;
  std::vector<int64_t> batch_sizes;  // (T,), batch_sizes[0] == N
  bool reverse = false;
  bool zero_h0 = false;  // the initial h is zero (no hx given): the products with it are skipped

  int64_t steps() const { return int64_t(batch_sizes.size()); }
  int64_t total() const;  // sum(batch_sizes): rows of the packed buffers
  int64_t gates() const { return mode == RnnMode::Lstm ? 4 : mode == RnnMode::Gru ? 3 : 1; }
  int64_t saved_gates() const { return mode == RnnMode::Lstm ? 5 : mode == RnnMode::Gru ? 4 : 1; }
  bool projected() const { return mode == RnnMode::Lstm && P != H; }
};

// w_ih (G*H, I), w_hh (G*H, P), b_ih and b_hh (G*H,) or both null, w_hr (P, H) or null.
template <typename T> struct RnnWeights {
  const T *w_ih = nullptr, *w_hh = nullptr, *b_ih = nullptr, *b_hh = nullptr, *w_hr = nullptr;
};

// The gradient of the output, read in place: row b of step t at steps[t] + b * batch_stride. It
// describes a contiguous (total, P) buffer and any padded (T, N, P) one with contiguous rows, e.g.
// the transpose of a batch-first gradient, without a copy. No steps: the gradient is zero.
template <typename T> struct StepRows {
  std::vector<const T*> steps;
  int64_t batch_stride = 0;
};

// x (total, I), out (total, P); h (N, P) and c (N, H, LSTM only): the initial state on entry, the
// final one on return (a row keeps its state once its sequence has ended).
// Saves for backward: gates (total, S*H), h_prev (total, P) and c_prev (total, H, LSTM) (each
// row's state before its step), m (total, H) (projected LSTM: o tanh(c), the input of W_hr).
// The input projection x W_ih^T is one GEMM per chunk of consecutive steps (about 256 rows); then
// one GEMM h W_hh^T per step and a fused gate kernel over (batch_sizes[t], H), and with a
// projection one GEMM m W_hr^T per step.
template <typename T>
void rnn_layer_forward(T* out, T* h, T* c, T* gates, T* h_prev, T* c_prev, T* m, const T* x, const RnnWeights<T>& w,
                       const RnnSizes& s);

// dout: rows (total, P) (see StepRows); dh (N, P) and dc (N, H, LSTM): the gradients of the final
// state on entry, those of the initial state on return (written; dh unspecified with zero_h0).
// dx (total, I) written; dw_ih, dw_hh, db_ih, db_hh, dw_hr accumulated; each null when not needed.
// Steps run in the reverse of the forward order: the gradient of h' is dh + dout_t (with a
// projection dm = (dh + dout_t) W_hr, else the gate kernel adds the two as it reads them); the gate
// kernel turns dm and dc into the pre-activation gradients da_t (B_t, G*H) and dc_prev; then
// dh_prev = da_t W_hh (GRU: + dh z). Per chunk of consecutive steps (about 256 rows), one GEMM
// each: dx = da W_ih,
// dW_ih += da^T x, dW_hh += da^T h_prev, dW_hr += dh^T m; db = column sums of da. (GRU: the
// gradient reaching W_hh differs from the one reaching W_ih in the n block: dgh_n = da_n r.)
template <typename T>
void rnn_layer_backward(T* dx, T* dh, T* dc, T* dw_ih, T* dw_hh, T* db_ih, T* db_hh, T* dw_hr, const StepRows<T>& dout,
                        const T* x, const T* gates, const T* h_prev, const T* c_prev, const T* m,
                        const RnnWeights<T>& w, const RnnSizes& s);

}  // namespace lamina::cpu

// Per-element gate math of the recurrent cells, written once for the CPU loops and a CUDA kernel
// (LAMINA_HD). Each function handles one hidden unit j of one batch row: it takes the gate
// pre-activations (biases included) and the previous state, and returns the activated gates and
// the new state; its backward takes the saved gates and the gradient of the new state and returns
// the gradients of the pre-activations and of the previous state. Gate orders are PyTorch's:
// LSTM (i, f, g, o), GRU (r, z, n). The activations are math::Sigmoid and math::Tanh, whose float
// forms vectorise (math::vexp, math::vtanh), so the row loops of the CPU kernels do too.
#pragma once
#include "ops/math.h"

namespace lamina::math {

// Elman RNN: h' = act(a), act = tanh or relu;  da = dh' act'(h'), from the output alone.
template <typename T> LAMINA_HD T rnn_cell_forward(T a, bool relu) { return relu ? Relu{}.fwd(a) : Tanh{}.fwd(a); }
template <typename T> LAMINA_HD T rnn_cell_backward(T h, T dh, bool relu) {
  return relu ? Relu{}.grad(T(0), h, dh) : Tanh{}.grad(T(0), h, dh);
}

// LSTM: i = s(a_i), f = s(a_f), g = tanh(a_g), o = s(a_o);  c' = f c + i g;  m = o tanh(c').
// (m is h' without projection, the input of W_hr with it.) The caller applies the four gate
// activations (each a whole block of units at once: one activation per loop vectorises best),
// then lstm_state_forward the rest; tanh c' is saved for the backward.
template <typename T> struct LstmGates {
  T i, f, g, o;
};
template <typename T> LAMINA_HD void lstm_state_forward(const LstmGates<T>& gates, T c_prev, T& c, T& tanh_c, T& m) {
  c = gates.f * c_prev + gates.i * gates.g;
  tanh_c = Tanh{}.fwd(c);
  m = gates.o * tanh_c;
}
// dm: gradient of m; dc: gradient of c' from the next step; tanh_c = tanh c' (saved).
//   dc' += dm o (1 - tanh^2 c');  do = dm tanh c';  di = dc' g;  dg = dc' i;  df = dc' c_prev;
//   dc_prev = dc' f;  each gate's da = d(gate) * its activation's derivative.
template <typename T>
LAMINA_HD void lstm_cell_backward(const LstmGates<T>& gates, T tanh_c, T c_prev, T dm, T dc, LstmGates<T>& dpre,
                                  T& dc_prev) {
  T dc_total = dc + Tanh{}.grad(T(0), tanh_c, dm * gates.o);
  dpre.i = Sigmoid{}.grad(T(0), gates.i, dc_total * gates.g);
  dpre.f = Sigmoid{}.grad(T(0), gates.f, dc_total * c_prev);
  dpre.g = Tanh{}.grad(T(0), gates.g, dc_total * gates.i);
  dpre.o = Sigmoid{}.grad(T(0), gates.o, dm * tanh_c);
  dc_prev = dc_total * gates.f;
}

// GRU (PyTorch's formulation): with gi = W_ih x + b_ih and gh = W_hh h + b_hh, split (r, z, n),
//   r = s(gi_r + gh_r), z = s(gi_z + gh_z), n = tanh(gi_n + r gh_n), h' = (1 - z) n + z h.
// Saves r, z, n and gh_n (the backward needs gh_n for dr).
template <typename T> struct GruGates {
  T r, z, n, hn;
};
template <typename T>
LAMINA_HD void gru_cell_forward(T gi_r, T gi_z, T gi_n, T gh_r, T gh_z, T gh_n, T h_prev, GruGates<T>& gates, T& h) {
  gates.r = Sigmoid{}.fwd(gi_r + gh_r);
  gates.z = Sigmoid{}.fwd(gi_z + gh_z);
  gates.hn = gh_n;
  gates.n = Tanh{}.fwd(gi_n + gates.r * gh_n);
  h = (T(1) - gates.z) * gates.n + gates.z * h_prev;
}
// dh: gradient of h'. Returns the gradients of gi (r, z, n) and of gh_n; those of gh_r and gh_z
// equal gi_r's and gi_z's. dh_prev_direct = dh z is the part of dh_prev that skips W_hh.
//   dn = dh (1 - z), da_n = dn (1 - n^2) = dgi_n, dgh_n = da_n r, dr = da_n gh_n, dz = dh (h - n).
template <typename T>
LAMINA_HD void gru_cell_backward(const GruGates<T>& gates, T h_prev, T dh, T& dgi_r, T& dgi_z, T& dgi_n, T& dgh_n,
                                 T& dh_prev_direct) {
  T da_n = Tanh{}.grad(T(0), gates.n, dh * (T(1) - gates.z));
  dgi_n = da_n;
  dgh_n = da_n * gates.r;
  dgi_r = Sigmoid{}.grad(T(0), gates.r, da_n * gates.hn);
  dgi_z = Sigmoid{}.grad(T(0), gates.z, dh * (h_prev - gates.n));
  dh_prev_direct = dh * gates.z;
}

}  // namespace lamina::math

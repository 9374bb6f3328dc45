// Per-element gate math of the recurrent cells, written once for the CPU loops and a CUDA kernel
// (LAMINA_HD). Each function handles one hidden unit j of one batch row: it takes the gate
// pre-activations (biases included) and the previous state, and returns the activated gates and
// the new state; its backward takes the saved gates and the gradient of the new state and returns
// the gradients of the pre-activations and of the previous state. Gate orders are PyTorch's:
// LSTM (i, f, g, o), GRU (r, z, n).
#pragma once
#include <cstdint>

#include "ops/math.h"

namespace lamina::math {

// The activations of the gates, forward. float: exp is a branch-free polynomial (Cephes' expf:
// 2^n e^r, |r| <= ln2 / 2, degree 6; within 2 ulp of expf on [-87, 88], clamped outside) that
// compilers vectorize, unlike the libm call, which is most of an LSTM step's time otherwise;
// sigmoid and tanh are built on it (tanh through e^(-2|x|): absolute error about 1e-7).
// double (gradcheck, users who ask for it): the libm functions. The derivatives use the outputs
// only (math::Sigmoid / math::Tanh grad).
template <typename T> LAMINA_HD T gate_exp(T x) { return std::exp(x); }
template <> LAMINA_HD float gate_exp<float>(float x) {
  x = x < -87.0f ? -87.0f : x;  // clamp (NaN passes through)
  x = x > 88.0f ? 88.0f : x;
  // x = n ln2 + r with n = round(x / ln2): adding 1.5 2^23 rounds x / ln2 to an integer, which
  // then sits in the low mantissa bits of t (a floor call or a float-to-int conversion would keep
  // the loop scalar); ln2 in two parts, the first product exact.
  float t = x * 1.44269504088896341f + 12582912.0f;
  float n = t - 12582912.0f;
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  uint32_t bits = (__builtin_bit_cast(uint32_t, t) - 0x4B400000u + 127u) << 23;  // 2^n, n in [-126, 127]
  return p * __builtin_bit_cast(float, bits);
}
template <typename T> LAMINA_HD T gate_sigmoid(T x) { return T(1) / (T(1) + gate_exp(-x)); }
template <typename T> LAMINA_HD T gate_tanh(T x) { return std::tanh(x); }
template <> LAMINA_HD float gate_tanh<float>(float x) {
  float t = gate_exp(-2.0f * std::fabs(x));
  return std::copysign((1.0f - t) / (1.0f + t), x);
}

// Elman RNN: h' = act(a), act = tanh or relu;  da = dh' act'(h'), from the output alone.
template <typename T> LAMINA_HD T rnn_cell_forward(T a, bool relu) { return relu ? Relu{}.fwd(a) : gate_tanh(a); }
template <typename T> LAMINA_HD T rnn_cell_backward(T h, T dh, bool relu) {
  return relu ? Relu{}.grad(T(0), h, dh) : Tanh{}.grad(T(0), h, dh);
}

// LSTM: i = s(a_i), f = s(a_f), g = tanh(a_g), o = s(a_o);  c' = f c + i g;  m = o tanh(c').
// (m is h' without projection, the input of W_hr with it.)
template <typename T> struct LstmGates {
  T i, f, g, o;
};
template <typename T>
LAMINA_HD void lstm_cell_forward(T ai, T af, T ag, T ao, T c_prev, LstmGates<T>& gates, T& c, T& m) {
  gates.i = gate_sigmoid(ai);
  gates.f = gate_sigmoid(af);
  gates.g = gate_tanh(ag);
  gates.o = gate_sigmoid(ao);
  c = gates.f * c_prev + gates.i * gates.g;
  m = gates.o * gate_tanh(c);
}
// dm: gradient of m; dc: gradient of c' from the next step. c' is recomputed from the saved gates
// and c_prev (the same expression as the forward, so the same value).
//   dc' += dm o (1 - tanh^2 c');  do = dm tanh c';  di = dc' g;  dg = dc' i;  df = dc' c_prev;
//   dc_prev = dc' f;  each gate's da = d(gate) * its activation's derivative.
template <typename T>
LAMINA_HD void lstm_cell_backward(const LstmGates<T>& gates, T c_prev, T dm, T dc, LstmGates<T>& dpre, T& dc_prev) {
  T c = gates.f * c_prev + gates.i * gates.g;
  T tc = gate_tanh(c);
  T dc_total = dc + Tanh{}.grad(c, tc, dm * gates.o);
  dpre.i = Sigmoid{}.grad(T(0), gates.i, dc_total * gates.g);
  dpre.f = Sigmoid{}.grad(T(0), gates.f, dc_total * c_prev);
  dpre.g = Tanh{}.grad(T(0), gates.g, dc_total * gates.i);
  dpre.o = Sigmoid{}.grad(T(0), gates.o, dm * tc);
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
  gates.r = gate_sigmoid(gi_r + gh_r);
  gates.z = gate_sigmoid(gi_z + gh_z);
  gates.hn = gh_n;
  gates.n = gate_tanh(gi_n + gates.r * gh_n);
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

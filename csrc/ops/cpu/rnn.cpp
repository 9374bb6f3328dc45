// Recurrent layers on the CPU: one layer in one direction over a whole (packed) sequence. GEMMs
// (OpenBLAS, outside any parallel region) do the matrix work; the per-unit gate math of
// ops/rnn_math.h runs in parallel over (batch_sizes[t], H). Shapes and saved buffers are
// documented in cpu/rnn_kernels.h.
#include <algorithm>
#include <vector>

#include "core/parallel.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/rnn_kernels.h"
#include "ops/rnn_math.h"

namespace lamina::cpu {

int64_t RnnSizes::total() const {
  int64_t n = 0;
  for (int64_t b : batch_sizes) n += b;
  return n;
}

namespace {

constexpr int64_t kGateGrain = 2048;  // units per thread chunk in the gate kernels

// Row offset of each step in the packed buffers: offsets[t] = sum_{t' < t} batch_sizes[t'].
std::vector<int64_t> step_offsets(const RnnSizes& s) {
  std::vector<int64_t> offsets(size_t(s.steps()) + 1, 0);
  for (int64_t t = 0; t < s.steps(); ++t) offsets[size_t(t + 1)] = offsets[size_t(t)] + s.batch_sizes[size_t(t)];
  return offsets;
}

// The k-th step in processing order.
int64_t step_at(const RnnSizes& s, int64_t k) { return s.reverse ? s.steps() - 1 - k : k; }

// out[c] += sum_r inp[r, c] for inp (rows, cols), summed in double, in parallel over columns.
template <typename T> void add_column_sums(T* out, const T* inp, int64_t rows, int64_t cols) {
  parallel_for(0, cols, 64, [&](int64_t b, int64_t e) {
    std::vector<double> acc(size_t(e - b), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = inp + r * cols;
      for (int64_t c = b; c < e; ++c) acc[size_t(c - b)] += double(row[c]);
    }
    for (int64_t c = b; c < e; ++c) out[c] += T(acc[size_t(c - b)]);
  });
}

}  // namespace

// Step t, row b, unit j: pre-activation of gate block g = xproj[g H + j] + hproj[g H + j]
// (+ b_ih + b_hh), where xproj = x_t W_ih^T (all steps at once) and hproj = h_prev W_hh^T.
// GRU keeps the two halves apart: n = tanh(gi_n + r gh_n) needs gh_n = (h W_hh^T + b_hh)_n alone.
template <typename T>
void rnn_layer_forward(T* out, T* h, T* c, T* gates, T* h_prev, T* c_prev, T* m, const T* x, const RnnWeights<T>& w,
                       const RnnSizes& s) {
  const int64_t I = s.I, H = s.H, P = s.P, GH = s.gates() * H, SH = s.saved_gates() * H;
  const bool relu = s.mode == RnnMode::RnnRelu, projected = s.projected();
  const std::vector<int64_t> offsets = step_offsets(s);
  std::vector<T> xproj(size_t(s.total() * GH)), hproj(size_t(s.N * GH));
  gemm<T>(false, true, s.total(), GH, I, T(1), x, I, w.w_ih, I, T(0), xproj.data(), GH);

  for (int64_t k = 0; k < s.steps(); ++k) {
    const int64_t t = step_at(s, k), B = s.batch_sizes[size_t(t)], off = offsets[size_t(t)];
    std::copy(h, h + B * P, h_prev + off * P);
    if (c_prev) std::copy(c, c + B * H, c_prev + off * H);
    gemm<T>(false, true, B, GH, P, T(1), h_prev + off * P, P, w.w_hh, P, T(0), hproj.data(), GH);
    parallel_for(0, B * H, kGateGrain, [&](int64_t begin, int64_t end) {
      for (int64_t u = begin; u < end; ++u) {
        const int64_t b = u / H, j = u % H, row = off + b;
        const T* xp = xproj.data() + row * GH;
        const T* hp = hproj.data() + b * GH;
        auto bias_ih = [&](int64_t gate) { return w.b_ih ? w.b_ih[gate * H + j] : T(0); };
        auto bias_hh = [&](int64_t gate) { return w.b_hh ? w.b_hh[gate * H + j] : T(0); };
        auto pre = [&](int64_t gate) { return xp[gate * H + j] + bias_ih(gate) + hp[gate * H + j] + bias_hh(gate); };
        T* saved = gates + row * SH;
        T h_new;
        if (s.mode == RnnMode::Lstm) {
          math::LstmGates<T> g;
          T c_new, m_new;
          math::lstm_cell_forward(pre(0), pre(1), pre(2), pre(3), c[b * H + j], g, c_new, m_new);
          saved[j] = g.i, saved[H + j] = g.f, saved[2 * H + j] = g.g, saved[3 * H + j] = g.o;
          c[b * H + j] = c_new;
          if (projected) {
            m[row * H + j] = m_new;
            continue;
          }
          h_new = m_new;
        } else if (s.mode == RnnMode::Gru) {
          math::GruGates<T> g;
          math::gru_cell_forward(xp[j] + bias_ih(0), xp[H + j] + bias_ih(1), xp[2 * H + j] + bias_ih(2),
                                 hp[j] + bias_hh(0), hp[H + j] + bias_hh(1), hp[2 * H + j] + bias_hh(2),
                                 h_prev[row * P + j], g, h_new);
          saved[j] = g.r, saved[H + j] = g.z, saved[2 * H + j] = g.n, saved[3 * H + j] = g.hn;
        } else {
          h_new = math::rnn_cell_forward(pre(0), relu);
          saved[j] = h_new;
        }
        h[b * P + j] = h_new;
        out[row * P + j] = h_new;
      }
    });
    if (projected) {  // h = m W_hr^T: (B, H) x (H, P)
      gemm<T>(false, true, B, P, H, T(1), m + off * H, H, w.w_hr, H, T(0), out + off * P, P);
      std::copy(out + off * P, out + (off + B) * P, h);
    }
  }
}

template <typename T>
void rnn_layer_backward(T* dx, T* dh, T* dc, T* dw_ih, T* dw_hh, T* db_ih, T* db_hh, T* dw_hr, const T* dout,
                        const T* x, const T* gates, const T* h_prev, const T* c_prev, const T* m,
                        const RnnWeights<T>& w, const RnnSizes& s) {
  const int64_t I = s.I, H = s.H, P = s.P, GH = s.gates() * H, SH = s.saved_gates() * H, total = s.total();
  const bool relu = s.mode == RnnMode::RnnRelu, projected = s.projected(), gru = s.mode == RnnMode::Gru;
  const std::vector<int64_t> offsets = step_offsets(s);
  // dgi: gradient of the pre-activations through W_ih (and b_ih); dgh: through W_hh (and b_hh),
  // the same buffer except for the GRU. dh_all: the gradient of each step's projected state.
  std::vector<T> dgi(size_t(total * GH)), dgh_gru(gru ? size_t(total * GH) : 0);
  std::vector<T> dh_all(projected ? size_t(total * P) : 0), dm_proj(projected ? size_t(s.N * H) : 0);
  T* dgh = gru ? dgh_gru.data() : dgi.data();

  for (int64_t k = s.steps() - 1; k >= 0; --k) {
    const int64_t t = step_at(s, k), B = s.batch_sizes[size_t(t)], off = offsets[size_t(t)];
    if (dout)
      for (int64_t i = 0; i < B * P; ++i) dh[i] += dout[off * P + i];
    // dm: the gradient of o tanh(c) (of h itself without projection), (B, H).
    const T* dm = dh;
    if (projected) {  // h = m W_hr^T: dm = dh W_hr, dW_hr += dh^T m (after the loop)
      std::copy(dh, dh + B * P, dh_all.data() + off * P);
      gemm<T>(false, false, B, H, P, T(1), dh, P, w.w_hr, H, T(0), dm_proj.data(), H);
      dm = dm_proj.data();
    }
    parallel_for(0, B * H, kGateGrain, [&](int64_t begin, int64_t end) {
      for (int64_t u = begin; u < end; ++u) {
        const int64_t b = u / H, j = u % H, row = off + b;
        const T* saved = gates + row * SH;
        T* da = dgi.data() + row * GH;
        if (s.mode == RnnMode::Lstm) {
          math::LstmGates<T> g{saved[j], saved[H + j], saved[2 * H + j], saved[3 * H + j]}, d;
          T dc_prev;
          math::lstm_cell_backward(g, c_prev[row * H + j], dm[b * H + j], dc[b * H + j], d, dc_prev);
          da[j] = d.i, da[H + j] = d.f, da[2 * H + j] = d.g, da[3 * H + j] = d.o;
          dc[b * H + j] = dc_prev;
        } else if (gru) {
          math::GruGates<T> g{saved[j], saved[H + j], saved[2 * H + j], saved[3 * H + j]};
          T dgh_n, dh_direct;
          math::gru_cell_backward(g, h_prev[row * P + j], dm[b * H + j], da[j], da[H + j], da[2 * H + j], dgh_n,
                                  dh_direct);
          T* dah = dgh + row * GH;
          dah[j] = da[j], dah[H + j] = da[H + j], dah[2 * H + j] = dgh_n;
          dh[b * P + j] = dh_direct;  // dm == dh here: this unit's value was read above
        } else {
          da[j] = math::rnn_cell_backward(saved[j], dm[b * H + j], relu);
        }
      }
    });
    // dh_prev = da_h W_hh: (B, G*H) x (G*H, P); the GRU adds it to dh z written above.
    gemm<T>(false, false, B, P, GH, T(1), dgh + off * GH, GH, w.w_hh, P, gru ? T(1) : T(0), dh, P);
  }

  if (dx) gemm<T>(false, false, total, I, GH, T(1), dgi.data(), GH, w.w_ih, I, T(0), dx, I);
  if (dw_ih) gemm<T>(true, false, GH, I, total, T(1), dgi.data(), GH, x, I, T(1), dw_ih, I);
  if (dw_hh) gemm<T>(true, false, GH, P, total, T(1), dgh, GH, h_prev, P, T(1), dw_hh, P);
  if (db_ih) add_column_sums(db_ih, dgi.data(), total, GH);
  if (db_hh) add_column_sums(db_hh, dgh, total, GH);
  if (dw_hr) gemm<T>(true, false, P, H, total, T(1), dh_all.data(), P, m, H, T(1), dw_hr, H);
}

#define LAMINA_INSTANTIATE(T)                                                                                   \
  template void rnn_layer_forward<T>(T*, T*, T*, T*, T*, T*, T*, const T*, const RnnWeights<T>&, const RnnSizes&); \
  template void rnn_layer_backward<T>(T*, T*, T*, T*, T*, T*, T*, T*, const T*, const T*, const T*, const T*,    \
                                      const T*, const T*, const RnnWeights<T>&, const RnnSizes&);
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
#undef LAMINA_INSTANTIATE

}  // namespace lamina::cpu

// Recurrent layers on the CPU: one layer in one direction over a whole (packed) sequence. GEMMs
// (cpu::gemm_packed, each weight packed once per call) do the matrix work: per step with W_hh and
// W_hr, per chunk of steps with W_ih and for the weight gradients; the gate math of
// ops/rnn_math.h runs row by row over each step's batch (rows in parallel when a step is large),
// vectorised over the H units of a row. Shapes and saved buffers are documented in
// cpu/rnn_kernels.h.
#include <algorithm>
#include <vector>

#include "core/parallel.h"
#include "ops/cpu/packed_gemm.h"
#include "ops/cpu/rnn_kernels.h"
#include "ops/rnn_math.h"

namespace lamina::cpu {

int64_t RnnSizes::total() const {
  int64_t n = 0;
  for (int64_t b : batch_sizes) n += b;
  return n;
}

namespace {

// Units (row, j) per thread chunk in the gate kernels: about 5 us of LSTM gate math, against about
// a microsecond for a fork-join on the pool that has just run the step's GEMM.
constexpr int64_t kGateGrain = 2048;
// Rows of a chunk of steps (at least one step): see StepChunk.
constexpr int64_t kChunkRows = 256;

// Row offset of each step in the packed buffers: offsets[t] = sum_{t' < t} batch_sizes[t'].
std::vector<int64_t> step_offsets(const RnnSizes& s) {
  std::vector<int64_t> offsets(size_t(s.steps()) + 1, 0);
  for (int64_t t = 0; t < s.steps(); ++t) offsets[size_t(t + 1)] = offsets[size_t(t)] + s.batch_sizes[size_t(t)];
  return offsets;
}

// The k-th step in processing order.
int64_t step_at(const RnnSizes& s, int64_t k) { return s.reverse ? s.steps() - 1 - k : k; }

// Steps k in [k_begin, k_end) of the processing order, holding rows [lo, lo + rows) of the packed
// buffers: whole steps, at most max(kChunkRows, N) rows. Both directions work chunk by chunk, so
// that a chunk's input projection (forward) or pre-activation gradients (backward) stay in cache,
// in buffers of one chunk, and its weight gradients are GEMMs with K = rows (per step, K = a batch
// would leave a GEMM loading and storing dW; over the whole sequence, da would not stay in cache).
struct StepChunk {
  int64_t k_begin, k_end, lo, rows;
};
std::vector<StepChunk> step_chunks(const RnnSizes& s, const std::vector<int64_t>& offsets) {
  const int64_t capacity = std::max(kChunkRows, s.N);
  std::vector<StepChunk> chunks;
  for (int64_t k = 0; k < s.steps(); ++k) {
    const int64_t t = step_at(s, k), B = s.batch_sizes[size_t(t)];
    if (chunks.empty() || chunks.back().rows + B > capacity) chunks.push_back({k, k, offsets[size_t(t)], 0});
    StepChunk& chunk = chunks.back();
    chunk.k_end = k + 1, chunk.rows += B, chunk.lo = std::min(chunk.lo, offsets[size_t(t)]);
  }
  return chunks;
}

// sums[c] += sum_r inp[r, c] for inp (rows, cols), one chunk of steps: summed in T over the chunk's
// rows in order (as the weight-gradient GEMMs sum their K = rows products), then added in double.
template <typename T> void add_column_sums(double* sums, const T* inp, int64_t rows, int64_t cols) {
  std::vector<T> chunk(size_t(cols), T(0));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) chunk[size_t(c)] += inp[r * cols + c];
  for (int64_t c = 0; c < cols; ++c) sums[c] += double(chunk[size_t(c)]);
}

// --- one row of one step, units j in [0, H): the fused gate kernels (vectorised over j) ---

// a[k] = act(a[k] + bias[k]) for k in [0, n): one activation per loop, so that the loop vectorises
// with no select between two functions.
template <typename T, typename Act> void activate(T* __restrict a, const T* __restrict bias, int64_t n, Act act) {
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) a[k] = act.fwd(a[k] + bias[k]);
}

// LSTM: a (5H) in: the row's pre-activations less the biases (blocks i, f, g, o), out: its saved
// values (i, f, g, o, tanh c'); bias (4H): b_ih + b_hh; c_prev (H); c (H): c'; m (H): o tanh(c').
template <typename T>
void lstm_row_forward(T* __restrict a, const T* __restrict bias, const T* __restrict c_prev, T* __restrict c,
                      T* __restrict m, int64_t H) {
  activate(a, bias, 2 * H, math::Sigmoid{});  // i, f
  activate(a + 2 * H, bias + 2 * H, H, math::Tanh{});  // g
  activate(a + 3 * H, bias + 3 * H, H, math::Sigmoid{});  // o
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const math::LstmGates<T> g{a[j], a[H + j], a[2 * H + j], a[3 * H + j]};
    math::lstm_state_forward(g, c_prev[j], c[j], a[4 * H + j], m[j]);
  }
}

// GRU: gi = xp + b_ih, gh = hp + b_hh (xp = x W_ih^T, hp = h W_hh^T); h (H) = h'.
template <typename T>
void gru_row_forward(T* __restrict saved, T* __restrict h, const T* __restrict xp, const T* __restrict hp,
                     const T* __restrict b_ih, const T* __restrict b_hh, const T* __restrict h_prev, int64_t H) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    math::GruGates<T> g;
    math::gru_cell_forward(xp[j] + b_ih[j], xp[H + j] + b_ih[H + j], xp[2 * H + j] + b_ih[2 * H + j],
                           hp[j] + b_hh[j], hp[H + j] + b_hh[H + j], hp[2 * H + j] + b_hh[2 * H + j], h_prev[j], g,
                           h[j]);
    saved[j] = g.r, saved[H + j] = g.z, saved[2 * H + j] = g.n, saved[3 * H + j] = g.hn;
  }
}

// Elman RNN: a (H) in: the pre-activations less the biases, out: h' (saved); bias (H): b_ih + b_hh.
template <typename T> void rnn_row_forward(T* __restrict a, const T* __restrict bias, int64_t H, bool relu) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) a[j] = math::rnn_cell_forward(a[j] + bias[j], relu);
}

// The backward kernels take the gradient of a row's output in two parts, dm + dout: the one from
// the next step and the one from the layer's output row (zeros where it was added before).
// LSTM: da (4H) written; dc (H) in: dc', out: dc_prev; dm + dout (H): the gradient of m.
template <typename T>
void lstm_row_backward(T* __restrict da, T* __restrict dc, const T* __restrict saved, const T* __restrict c_prev,
                       const T* __restrict dm, const T* __restrict dout, int64_t H) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    math::LstmGates<T> g{saved[j], saved[H + j], saved[2 * H + j], saved[3 * H + j]}, d;
    math::lstm_cell_backward(g, saved[4 * H + j], c_prev[j], dm[j] + dout[j], dc[j], d, dc[j]);
    da[j] = d.i, da[H + j] = d.f, da[2 * H + j] = d.g, da[3 * H + j] = d.o;
  }
}

// GRU: dgi, dgh (3H) written; dh (H) in: with dout, the gradient of h', out: its direct part dh' z.
template <typename T>
void gru_row_backward(T* __restrict dgi, T* __restrict dgh, T* __restrict dh, const T* __restrict dout,
                      const T* __restrict saved, const T* __restrict h_prev, int64_t H) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    math::GruGates<T> g{saved[j], saved[H + j], saved[2 * H + j], saved[3 * H + j]};
    T dgh_n, dh_direct;
    math::gru_cell_backward(g, h_prev[j], dh[j] + dout[j], dgi[j], dgi[H + j], dgi[2 * H + j], dgh_n, dh_direct);
    dgh[j] = dgi[j], dgh[H + j] = dgi[H + j], dgh[2 * H + j] = dgh_n;
    dh[j] = dh_direct;
  }
}

// Elman RNN: da (H) written; dm + dout (H): the gradient of h'.
template <typename T>
void rnn_row_backward(T* __restrict da, const T* __restrict saved, const T* __restrict dm, const T* __restrict dout,
                      int64_t H, bool relu) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) da[j] = math::rnn_cell_backward(saved[j], dm[j] + dout[j], relu);
}

}  // namespace

// Step t, row b, unit j: the pre-activation of gate block g is xproj[g H + j] + hproj[g H + j] + the
// biases, xproj = x_t W_ih^T (one GEMM per chunk of steps) and hproj = h_prev W_hh^T. LSTM and RNN
// build xproj + hproj in place in the first G*H values of the rows of `gates`: the chunk's xproj
// there, then each step's GEMM adds hproj (beta 1), then the gate kernel adds b_ih + b_hh as it
// activates the row in place (the biases are never written into the rows). The GRU keeps the two
// apart, n = tanh(gi_n + r gh_n) needing gh_n = (h W_hh^T + b_hh)_n alone: xproj and hproj are
// scratch buffers there, and its gate kernel adds b_ih to one and b_hh to the other. With
// s.zero_h0 the first step's hproj is zero (h_prev = 0), its GEMM skipped.
// The state of a running sequence lives in the h_prev (c_prev) rows of its next step: each step
// reads its rows there and writes the new state into the next step's rows, or into h (c) where the
// sequence ends; a sequence's first step copies its initial state in from h (c).
template <typename T>
void rnn_layer_forward(T* out, T* h, T* c, T* gates, T* h_prev, T* c_prev, T* m, const T* x, const RnnWeights<T>& w,
                       const RnnSizes& s) {
  const int64_t I = s.I, H = s.H, P = s.P, GH = s.gates() * H, SH = s.saved_gates() * H;
  const bool relu = s.mode == RnnMode::RnnRelu, projected = s.projected(), gru = s.mode == RnnMode::Gru;
  const std::vector<int64_t> offsets = step_offsets(s);
  // The biases the gate kernels add: b_ih + b_hh (LSTM, RNN) or b_ih and b_hh (GRU); zeros without.
  std::vector<T> b_ih(size_t(GH), T(0)), b_hh(size_t(GH), T(0)), b_sum(size_t(GH), T(0));
  if (w.b_ih) {
    std::copy(w.b_ih, w.b_ih + GH, b_ih.begin());
    std::copy(w.b_hh, w.b_hh + GH, b_hh.begin());
    for (int64_t k = 0; k < GH; ++k) b_sum[size_t(k)] = w.b_ih[k] + w.b_hh[k];
  }
  // GRU: xproj, the chunk's input projections, indexed by row - lo; hproj: the step's.
  Scratch<T> xproj = scratch<T>(gru ? std::max(kChunkRows, s.N) * GH : 0), hproj = scratch<T>(gru ? s.N * GH : 0);
  const PackedMatrix<T> w_ih_t = pack_b(w.w_ih, true, I, GH, I);                           // W_ih^T (I, G*H)
  const PackedMatrix<T> w_hh_t = pack_b(w.w_hh, true, P, GH, P);                           // W_hh^T (P, G*H)
  const PackedMatrix<T> w_hr_t = projected ? pack_b(w.w_hr, true, H, P, H) : PackedMatrix<T>{};  // W_hr^T (H, P)

  for (const StepChunk& chunk : step_chunks(s, offsets)) {
    const int64_t lo = chunk.lo;  // xproj = x W_ih^T, the chunk's rows
    T* chunk_xproj = gru ? xproj.get() : gates + lo * SH;
    gemm_packed<T>(false, chunk.rows, x + lo * I, I, w_ih_t, T(0), chunk_xproj, gru ? GH : SH);
    for (int64_t k = chunk.k_begin; k < chunk.k_end; ++k) {
      const int64_t t = step_at(s, k), B = s.batch_sizes[size_t(t)], off = offsets[size_t(t)];
      const bool zero_h = s.zero_h0 && k == 0;  // h_prev W_hh^T = 0
      // Rows [0, carried) continue from the previous step, which wrote their state here; the others
      // (all at k = 0, more with a reversed packed sequence) start here.
      const int64_t carried = k == 0 ? 0 : std::min(B, s.batch_sizes[size_t(step_at(s, k - 1))]);
      std::copy(h + carried * P, h + B * P, h_prev + (off + carried) * P);
      if (c_prev) std::copy(c + carried * H, c + B * H, c_prev + (off + carried) * H);
      // Rows [0, next_rows) go on to the next step, at row next_off; the others end here.
      const bool last = k + 1 == s.steps();
      const int64_t next_rows = last ? 0 : s.batch_sizes[size_t(step_at(s, k + 1))];
      const int64_t next_off = last ? 0 : offsets[size_t(step_at(s, k + 1))];
      T* h_next = h_prev + next_off * P;  // rows b < next_rows; h + b P for the others
      T* c_next = c_prev ? c_prev + next_off * H : nullptr;
      if (gru) {  // hproj = h_prev W_hh^T
        if (zero_h) std::fill(hproj.get(), hproj.get() + B * GH, T(0));
        else gemm_packed<T>(false, B, h_prev + off * P, P, w_hh_t, T(0), hproj.get(), GH);
      } else if (!zero_h) {  // gates rows += h_prev W_hh^T
        gemm_packed<T>(false, B, h_prev + off * P, P, w_hh_t, T(1), gates + off * SH, SH);
      }
      parallel_for(0, B, std::max<int64_t>(1, kGateGrain / H), [&](int64_t row_begin, int64_t row_end) {
        for (int64_t b = row_begin; b < row_end; ++b) {
          const int64_t row = off + b;
          T* saved = gates + row * SH;
          T* out_row = out + row * P;  // h' without projection
          if (s.mode == RnnMode::Lstm) {
            lstm_row_forward(saved, b_sum.data(), c_prev + row * H, b < next_rows ? c_next + b * H : c + b * H,
                             projected ? m + row * H : out_row, H);
          } else if (gru) {
            gru_row_forward(saved, out_row, xproj.get() + (row - lo) * GH, hproj.get() + b * GH, b_ih.data(),
                            b_hh.data(), h_prev + row * P, H);
          } else {
            rnn_row_forward(saved, b_sum.data(), H, relu);
            std::copy(saved, saved + H, out_row);
          }
          if (!projected) std::copy(out_row, out_row + P, b < next_rows ? h_next + b * P : h + b * P);
        }
      });
      if (projected) {  // h = m W_hr^T: (B, H) x (H, P)
        gemm_packed<T>(false, B, m + off * H, H, w_hr_t, T(0), out + off * P, P);
        const int64_t going_on = std::min(B, next_rows);
        std::copy(out + off * P, out + (off + going_on) * P, h_next);
        std::copy(out + (off + going_on) * P, out + (off + B) * P, h + going_on * P);
      }
    }
  }
}

// Chunk by chunk (StepChunk), last first: the chunk's steps, then its weight gradients, e.g.
// dW_hh += da[lo:lo+rows]^T h_prev[lo:lo+rows].
template <typename T>
void rnn_layer_backward(T* dx, T* dh, T* dc, T* dw_ih, T* dw_hh, T* db_ih, T* db_hh, T* dw_hr, const StepRows<T>& dout,
                        const T* x, const T* gates, const T* h_prev, const T* c_prev, const T* m,
                        const RnnWeights<T>& w, const RnnSizes& s) {
  const int64_t I = s.I, H = s.H, P = s.P, GH = s.gates() * H, SH = s.saved_gates() * H;
  const bool relu = s.mode == RnnMode::RnnRelu, projected = s.projected(), gru = s.mode == RnnMode::Gru;
  const std::vector<int64_t> offsets = step_offsets(s);
  const int64_t capacity = std::max(kChunkRows, s.N);
  // dgi: gradient of the pre-activations through W_ih (and b_ih); dgh: through W_hh (and b_hh), the
  // same buffer except for the GRU; both indexed by row - lo. dh_chunk: each row's gradient of h
  // (projected LSTM, for dW_hr). db_sums: the bias gradients' column sums (add_column_sums).
  Scratch<T> dgi = scratch<T>(capacity * GH), dgh_gru = scratch<T>(gru ? capacity * GH : 0);
  Scratch<T> dh_chunk = scratch<T>(projected ? capacity * P : 0), dm_proj = scratch<T>(projected ? s.N * H : 0);
  T* dgh = gru ? dgh_gru.get() : dgi.get();
  std::vector<double> dbi_sums(db_ih ? size_t(GH) : 0), dbh_sums(db_hh && gru ? size_t(GH) : 0);
  const std::vector<T> zeros(size_t(H), T(0));  // the gate kernels' dout where it is none or added to dh
  const PackedMatrix<T> w_hh_p = pack_b(w.w_hh, false, GH, P, P);                          // W_hh (G*H, P)
  const PackedMatrix<T> w_ih_p = dx ? pack_b(w.w_ih, false, GH, I, I) : PackedMatrix<T>{};  // W_ih (G*H, I)
  const PackedMatrix<T> w_hr_p = projected ? pack_b(w.w_hr, false, P, H, H) : PackedMatrix<T>{};  // W_hr (P, H)

  const std::vector<StepChunk> chunks = step_chunks(s, offsets);
  for (auto chunk = chunks.rbegin(); chunk != chunks.rend(); ++chunk) {
    const int64_t lo = chunk->lo, rows = chunk->rows;
    for (int64_t k = chunk->k_end - 1; k >= chunk->k_begin; --k) {
      const int64_t t = step_at(s, k), B = s.batch_sizes[size_t(t)], off = offsets[size_t(t)];
      // Row b's gradient from the output: added to dh here with a projection, else by the gate kernel.
      const bool dout_in_kernel = !dout.steps.empty() && !projected;
      auto dout_row = [&](int64_t b) { return dout.steps[size_t(t)] + b * dout.batch_stride; };
      // dm (+ dout): the gradient of o tanh(c) (of h itself without projection), (B, H).
      const T* dm = dh;
      if (projected) {  // h = m W_hr^T: dm = (dh + dout) W_hr, dW_hr += dh^T m (with the chunk)
        for (int64_t b = 0; b < B && !dout.steps.empty(); ++b)
          for (int64_t p = 0; p < P; ++p) dh[b * P + p] += dout_row(b)[p];
        std::copy(dh, dh + B * P, dh_chunk.get() + (off - lo) * P);
        gemm_packed<T>(false, B, dh, P, w_hr_p, T(0), dm_proj.get(), H);
        dm = dm_proj.get();
      }
      parallel_for(0, B, std::max<int64_t>(1, kGateGrain / H), [&](int64_t row_begin, int64_t row_end) {
        for (int64_t b = row_begin; b < row_end; ++b) {
          const int64_t row = off + b;
          const T* saved = gates + row * SH;
          T* da = dgi.get() + (row - lo) * GH;
          T* dgh_row = dgh + (row - lo) * GH;
          const T* dout_b = dout_in_kernel ? dout_row(b) : zeros.data();
          if (s.mode == RnnMode::Lstm) lstm_row_backward(da, dc + b * H, saved, c_prev + row * H, dm + b * H, dout_b, H);
          else if (gru) gru_row_backward(da, dgh_row, dh + b * P, dout_b, saved, h_prev + row * P, H);  // dm == dh
          else rnn_row_backward(da, saved, dm + b * H, dout_b, H, relu);
        }
      });
      // dh_prev = da_h W_hh: (B, G*H) x (G*H, P); the GRU adds it to dh z written above. (A zero
      // initial state has no gradient.)
      if (!(s.zero_h0 && k == 0)) gemm_packed<T>(false, B, dgh + (off - lo) * GH, GH, w_hh_p, gru ? T(1) : T(0), dh, P);
    }
    // Rows [h_lo, h_lo + h_rows) of the chunk have h_prev != 0: with s.zero_h0 the first step's rows
    // (at one end of the chunk, whichever the direction) add nothing to dW_hh.
    int64_t h_lo = lo, h_rows = rows;
    if (s.zero_h0 && chunk->k_begin == 0) {
      const int64_t t0 = step_at(s, 0), B0 = s.batch_sizes[size_t(t0)];
      h_rows -= B0;
      if (offsets[size_t(t0)] == lo) h_lo += B0;
    }

    // The chunk's share of dx = da W_ih, dW_ih += da^T x, dW_hh += da_h^T h_prev, dW_hr += dh^T m,
    // db = column sums of da (da_h for b_hh).
    if (dx) gemm_packed<T>(false, rows, dgi.get(), GH, w_ih_p, T(0), dx + lo * I, I);
    if (dw_ih) gemm_packed<T>(true, GH, dgi.get(), GH, pack_b(x + lo * I, false, rows, I, I), T(1), dw_ih, I);
    if (dw_hh && h_rows > 0)
      gemm_packed<T>(true, GH, dgh + (h_lo - lo) * GH, GH, pack_b(h_prev + h_lo * P, false, h_rows, P, P), T(1),
                     dw_hh, P);
    if (dw_hr) gemm_packed<T>(true, P, dh_chunk.get(), P, pack_b(m + lo * H, false, rows, H, H), T(1), dw_hr, H);
    if (db_ih) add_column_sums(dbi_sums.data(), dgi.get(), rows, GH);
    if (db_hh && gru) add_column_sums(dbh_sums.data(), dgh, rows, GH);
  }
  for (int64_t c = 0; c < GH && db_ih; ++c) db_ih[c] += T(dbi_sums[size_t(c)]);
  for (int64_t c = 0; c < GH && db_hh; ++c) db_hh[c] += T((gru ? dbh_sums : dbi_sums)[size_t(c)]);
}

#define LAMINA_INSTANTIATE(T)                                                                                   \
  template void rnn_layer_forward<T>(T*, T*, T*, T*, T*, T*, T*, const T*, const RnnWeights<T>&, const RnnSizes&); \
  template void rnn_layer_backward<T>(T*, T*, T*, T*, T*, T*, T*, T*, const StepRows<T>&, const T*, const T*,     \
                                      const T*, const T*, const T*, const RnnWeights<T>&, const RnnSizes&);
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
#undef LAMINA_INSTANTIATE

}  // namespace lamina::cpu

// Normalization kernels: batch norm (statistics per channel over N and L) and group norm
// (statistics per sample and group; layer norm is its G = 1, HW = 1 case). Statistics are
// accumulated in double, two passes (mean, then squared deviations). With xhat = (x - mean) rstd
// and y = xhat w + b, the input gradient over a normalized set of M elements is
//   dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)),   dxhat = dy w,
// since d mean / dx = 1/M and d rstd / dx = -rstd^3 (x - mean) / M.
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "ops/cpu/layers.h"

namespace lamina::cpu {

namespace {
inline int64_t grain_for(int64_t work_per_item) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(work_per_item, 1)); }
}  // namespace

// ---------------------------------------------------------------------------------------------
// Batch norm: inp (N, C, L), weight, bias (C,), out (N, C, L); saves mean, rstd (C,).
// A task owns a range of channels and walks the samples in order (n outer, c inner), so with
// one task the passes stream through memory: walking one channel over all samples instead
// reads blocks of L elements C L apart, which for a 32x32 image and 32 channels (128 KiB
// apart) share cache sets and miss. Each channel's sum still adds its rows in sample order
// (each row over lane_sum's fixed lanes): the same result at any thread count.

template <typename T>
void batch_norm_stats(T* mean, T* rstd, T* running_mean, T* running_var, const T* inp, int64_t N, int64_t C,
                      int64_t L, double eps, double momentum) {
  const int64_t M = N * L;
  parallel_for(0, C, grain_for(M), [&](int64_t b, int64_t e) {
    std::vector<double> mu(size_t(e), 0.0), squares(size_t(e), 0.0);  // indexed by channel; [b, e) used
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = b; c < e; ++c) {
        const T* x = inp + (n * C + c) * L;
        mu[size_t(c)] += lane_sum<double>(L, [&](int64_t l) { return double(x[l]); });
      }
    for (int64_t c = b; c < e; ++c) mu[size_t(c)] /= double(M);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = b; c < e; ++c) {
        const T* x = inp + (n * C + c) * L;
        const double m = mu[size_t(c)];
        squares[size_t(c)] += lane_sum<double>(L, [&](int64_t l) { return (double(x[l]) - m) * (double(x[l]) - m); });
      }
    for (int64_t c = b; c < e; ++c) {
      const double m = mu[size_t(c)], ss = squares[size_t(c)];
      mean[c] = T(m);
      rstd[c] = T(1.0 / std::sqrt(ss / double(M) + eps));
      if (running_mean) running_mean[c] = T((1 - momentum) * double(running_mean[c]) + momentum * m);
      if (running_var) running_var[c] = T((1 - momentum) * double(running_var[c]) + momentum * ss / double(M - 1));
    }
  });
}

template <typename T>
void batch_norm_eval_stats(T* mean, T* rstd, const T* running_mean, const T* running_var, int64_t C, double eps) {
  for (int64_t c = 0; c < C; ++c) {
    mean[c] = running_mean[c];
    rstd[c] = T(1.0 / std::sqrt(double(running_var[c]) + eps));
  }
}

// y = x scale[c] + shift[c],  scale = rstd w,  shift = b - mean scale
template <typename T>
void batch_norm_forward(T* out, const T* inp, const T* mean, const T* rstd, const T* weight, const T* bias, int64_t N,
                        int64_t C, int64_t L) {
  parallel_for(0, N * C, grain_for(L), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t c = k % C;
      T scale = rstd[c] * (weight ? weight[c] : T(1));
      T shift = (bias ? bias[c] : T(0)) - mean[c] * scale;
      const T* x = inp + k * L;
      T* y = out + k * L;
      for (int64_t l = 0; l < L; ++l) y[l] = x[l] * scale + shift;
    }
  });
}

// training: dx = w rstd / M (M dy - sum dy - xhat sum(dy xhat)) per channel; eval: dx = w rstd dy.
// dweight[c] += sum dy xhat, dbias[c] += sum dy. The sums run in double; dx, affine in dy and
// x - mean per channel, is then evaluated in T: dx = k dy + a (x - mean) + b with k = w rstd,
// a = -k rstd mean(dy xhat), b = -k mean(dy) (x - mean first, so a large mean cancels exactly).
template <typename T>
void batch_norm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* mean, const T* rstd,
                         const T* weight, int64_t N, int64_t C, int64_t L, bool training) {
  const int64_t M = N * L;
  parallel_for(0, C, grain_for(M), [&](int64_t b, int64_t e) {
    // Indexed by channel ([b, e) used): sum dy, sum dy (x - mean), then dx's coefficients.
    std::vector<double> sum_dy(size_t(e), 0.0), sum_dy_xmu(size_t(e), 0.0);
    std::vector<T> dy_scale(size_t(e), T(0)), x_scale(size_t(e), T(0)), shift(size_t(e), T(0));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = b; c < e; ++c) {
        const T* x = inp + (n * C + c) * L;
        const T* dy = dout + (n * C + c) * L;
        const double mu = double(mean[c]);
        sum_dy[size_t(c)] += lane_sum<double>(L, [&](int64_t l) { return double(dy[l]); });
        sum_dy_xmu[size_t(c)] += lane_sum<double>(L, [&](int64_t l) { return double(dy[l]) * (double(x[l]) - mu); });
      }
    for (int64_t c = b; c < e; ++c) {
      const double r = double(rstd[c]), sum_dy_xhat = sum_dy_xmu[size_t(c)] * r;
      if (dweight) dweight[c] += T(sum_dy_xhat);
      if (dbias) dbias[c] += T(sum_dy[size_t(c)]);
      const double k = (weight ? double(weight[c]) : 1.0) * r;
      const double mean_dy = training ? sum_dy[size_t(c)] / double(M) : 0.0;
      const double mean_dy_xhat = training ? sum_dy_xhat / double(M) : 0.0;
      dy_scale[size_t(c)] = T(k);
      x_scale[size_t(c)] = T(-k * r * mean_dy_xhat);
      shift[size_t(c)] = T(-k * mean_dy);
    }
    if (!dinp) return;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = b; c < e; ++c) {
        const T* x = inp + (n * C + c) * L;
        const T* dy = dout + (n * C + c) * L;
        T* dx = dinp + (n * C + c) * L;
        const T k = dy_scale[size_t(c)], a = x_scale[size_t(c)], sh = shift[size_t(c)], mu = mean[c];
        for (int64_t l = 0; l < L; ++l) dx[l] = k * dy[l] + a * (x[l] - mu) + sh;
      }
  });
}

// ---------------------------------------------------------------------------------------------
// Group norm: inp (N, C, HW), G groups of Cg = C / G channels, weight, bias (C,), out (N, C, HW);
// saves mean, rstd (N, G). Row (n, g) is the contiguous block of Cg * HW elements.

template <typename T>
void group_norm_forward(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias, int64_t N, int64_t C,
                        int64_t HW, int64_t G, double eps) {
  const int64_t Cg = C / G, D = Cg * HW;
  parallel_for(0, N * G, grain_for(D), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const T* x = inp + row * D;
      T* y = out + row * D;
      double s = 0, ss = 0;
      for (int64_t j = 0; j < D; ++j) s += double(x[j]);
      double mu = s / double(D);
      for (int64_t j = 0; j < D; ++j) ss += (double(x[j]) - mu) * (double(x[j]) - mu);
      double r = 1.0 / std::sqrt(ss / double(D) + eps);
      mean[row] = T(mu);
      rstd[row] = T(r);
      int64_t c0 = (row % G) * Cg;
      for (int64_t cg = 0; cg < Cg; ++cg) {
        T scale = T(r) * (weight ? weight[c0 + cg] : T(1));
        T shift = (bias ? bias[c0 + cg] : T(0)) - T(mu) * scale;
        for (int64_t i = cg * HW; i < (cg + 1) * HW; ++i) y[i] = x[i] * scale + shift;
      }
    }
  });
}

// dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) per row, dxhat = dy w[c];
// dweight[c] += sum_{n, hw} dy xhat, dbias[c] += sum_{n, hw} dy.
template <typename T>
void group_norm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* mean, const T* rstd,
                         const T* weight, int64_t N, int64_t C, int64_t HW, int64_t G) {
  const int64_t Cg = C / G, D = Cg * HW;
  if (dinp) {
    parallel_for(0, N * G, grain_for(D), [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        const T* x = inp + row * D;
        const T* dy = dout + row * D;
        T* dx = dinp + row * D;
        double mu = double(mean[row]), r = double(rstd[row]), sum_dxhat = 0, sum_dxhat_xhat = 0;
        int64_t c0 = (row % G) * Cg;
        for (int64_t j = 0; j < D; ++j) {
          double dxhat = double(dy[j]) * (weight ? double(weight[c0 + j / HW]) : 1.0);
          sum_dxhat += dxhat;
          sum_dxhat_xhat += dxhat * (double(x[j]) - mu) * r;
        }
        double mean_dxhat = sum_dxhat / double(D), mean_dxhat_xhat = sum_dxhat_xhat / double(D);
        for (int64_t j = 0; j < D; ++j) {
          double dxhat = double(dy[j]) * (weight ? double(weight[c0 + j / HW]) : 1.0);
          dx[j] = T(r * (dxhat - mean_dxhat - (double(x[j]) - mu) * r * mean_dxhat_xhat));
        }
      }
    });
  }
  if (!dweight && !dbias) return;
  // Threads own channel ranges and walk every sample (row-contiguous reads for layer norm).
  parallel_for(0, C, grain_for(N * HW), [&](int64_t b, int64_t e) {
    std::vector<double> acc_w(size_t(e - b), 0.0), acc_b(size_t(e - b), 0.0);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = b; c < e; ++c) {
        int64_t row = n * G + c / Cg;
        double mu = double(mean[row]), r = double(rstd[row]);
        const T* x = inp + (n * C + c) * HW;
        const T* dy = dout + (n * C + c) * HW;
        double sw = 0, sb = 0;
        for (int64_t i = 0; i < HW; ++i) {
          sw += double(dy[i]) * (double(x[i]) - mu) * r;
          sb += double(dy[i]);
        }
        acc_w[size_t(c - b)] += sw;
        acc_b[size_t(c - b)] += sb;
      }
    for (int64_t c = b; c < e; ++c) {
      if (dweight) dweight[c] += T(acc_w[size_t(c - b)]);
      if (dbias) dbias[c] += T(acc_b[size_t(c - b)]);
    }
  });
}

#define LAMINA_INSTANTIATE(T)                                                                                     \
  template void batch_norm_stats<T>(T*, T*, T*, T*, const T*, int64_t, int64_t, int64_t, double, double);         \
  template void batch_norm_eval_stats<T>(T*, T*, const T*, const T*, int64_t, double);                            \
  template void batch_norm_forward<T>(T*, const T*, const T*, const T*, const T*, const T*, int64_t, int64_t,      \
                                      int64_t);                                                                   \
  template void batch_norm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*, int64_t,     \
                                       int64_t, int64_t, bool);                                                   \
  template void group_norm_forward<T>(T*, T*, T*, const T*, const T*, const T*, int64_t, int64_t, int64_t,        \
                                      int64_t, double);                                                           \
  template void group_norm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*, int64_t,     \
                                       int64_t, int64_t, int64_t);
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
#undef LAMINA_INSTANTIATE

}  // namespace lamina::cpu

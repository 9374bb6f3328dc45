// Loss kernels: the elementwise losses (one loop over the functors of ops/loss_math.h) and the
// class losses over (N, C, S) (cross-entropy with the log-softmax fused in, NLL). Sums run over
// fixed chunks in a fixed order, in double, so a loss does not depend on the thread count.
#include "ops/cpu/loss.h"

#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "core/parallel.h"

namespace lamina::cpu {

namespace {

constexpr int64_t kChunk = 16384;  // elements per partial sum / per parallel task

// The K sums of f(b, e) over the chunks of [0, n) of `chunk` items, added in chunk order.
template <size_t K, typename F> std::array<double, K> chunked_sum(int64_t n, int64_t chunk, const F& f) {
  int64_t chunks = (n + chunk - 1) / chunk;
  std::vector<std::array<double, K>> partial(size_t(std::max<int64_t>(chunks, 0)));
  parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) partial[size_t(c)] = f(c * chunk, std::min(n, (c + 1) * chunk));
  });
  std::array<double, K> total{};
  for (const auto& p : partial)
    for (size_t k = 0; k < K; ++k) total[k] += p[k];
  return total;
}

// Calls f with the functor of `kind`.
template <typename F> void with_loss(PointwiseLoss kind, double param, const F& f) {
  switch (kind) {
    case PointwiseLoss::Mse: return f(math::MseLoss{});
    case PointwiseLoss::L1: return f(math::L1Loss{});
    case PointwiseLoss::SmoothL1: return f(math::SmoothL1Loss{param});
    case PointwiseLoss::Huber: return f(math::HuberLoss{param});
    case PointwiseLoss::Bce: return f(math::BceLoss{});
    case PointwiseLoss::BceWithLogits: return f(math::BceWithLogitsLoss{});
    case PointwiseLoss::KlDiv: return f(math::KlDivLoss{});
    case PointwiseLoss::KlDivLogTarget: return f(math::KlDivLogTargetLoss{});
  }
}

// Positions (n, s) per task for loops that walk C classes each.
int64_t positions_per_chunk(int64_t C) { return std::max<int64_t>(1, 8192 / std::max<int64_t>(C, 1)); }

// log sum_c exp(x[c * S]), stable (the maximum is subtracted first); exp in T, the sum in double.
template <typename T> double log_sum_exp(const T* x, int64_t C, int64_t S) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t c = 0; c < C; ++c) m = std::max(m, x[c * S]);
  if (std::isinf(m) && m < 0) m = 0;  // all -inf: avoid (-inf) - (-inf)
  constexpr int kLanes = 8;  // exp in T (math::vexp vectorises), summed in double over fixed lanes
  double lanes[kLanes] = {};
  int64_t c = 0;
  for (; c + kLanes <= C; c += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] += double(math::vexp(x[(c + l) * S] - m));
  for (int l = 0; c < C; ++c, ++l) lanes[l] += double(math::vexp(x[c * S] - m));
  double s = 0;
  for (int l = 0; l < kLanes; ++l) s += lanes[l];
  return double(m) + std::log(s);
}

// softmax p_c = exp(x_c - lse), the difference taken in double (lse may be ~1e4), exp in T.
template <typename T> T softmax_at(T x, double lse) { return math::vexp(T(double(x) - lse)); }

}  // namespace

// --- elementwise losses ---

template <typename T>
void pointwise_loss(T* losses, double* sums, const T* inp, const T* target, const T* weight, const T* pos_weight,
                    int64_t n, PointwiseLoss kind, double param) {
  with_loss(kind, param, [&](const auto& loss) {
    auto total = chunked_sum<2>(n, kChunk, [&](int64_t b, int64_t e) {
      double s = 0, sw = 0;
      for (int64_t i = b; i < e; ++i) {
        T w = weight ? weight[i] : T(1);
        T l = w * loss.fwd(inp[i], target[i], pos_weight ? pos_weight[i] : T(1));
        if (losses) losses[i] = l;
        s += double(l);
        sw += double(w);
      }
      return std::array<double, 2>{s, sw};
    });
    if (sums) sums[0] = total[0], sums[1] = total[1];
  });
}

template <typename T>
void pointwise_loss_backward(T* dinp, T* dtarget, T* dweight, const T* dout, int64_t dout_stride, double scale,
                             double mean_loss, const T* inp, const T* target, const T* weight, const T* pos_weight,
                             int64_t n, PointwiseLoss kind, double param) {
  with_loss(kind, param, [&](const auto& loss) {
    parallel_for(0, n, kChunk, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        T g = T(double(dout[i * dout_stride]) * scale);
        T w = weight ? weight[i] : T(1), pw = pos_weight ? pos_weight[i] : T(1);
        T dx, dt;
        loss.grad(inp[i], target[i], pw, dx, dt);
        if (dinp) dinp[i] = g * w * dx;
        if (dtarget) dtarget[i] = g * w * dt;
        if (dweight) dweight[i] = g * (loss.fwd(inp[i], target[i], pw) - T(mean_loss));
      }
    });
  });
}

// --- cross-entropy with class indices ---

template <typename T>
void cross_entropy(T* losses, double* lse, double* sums, const T* inp, const int64_t* target, const T* weight,
                   int64_t N, int64_t C, int64_t S, int64_t ignore_index, double label_smoothing) {
  const double ls = label_smoothing, smooth = ls / double(C);
  auto total = chunked_sum<2>(N * S, positions_per_chunk(C), [&](int64_t b, int64_t e) {
    double s = 0, sw = 0;
    for (int64_t k = b; k < e; ++k) {
      const T* x = inp + (k / S) * C * S + k % S;
      double lz = log_sum_exp(x, C, S);
      lse[k] = lz;
      int64_t y = target[k];
      double l = 0;
      if (y != ignore_index) {
        double wy = weight ? double(weight[y]) : 1.0;
        l = -(1 - ls) * wy * (double(x[y * S]) - lz);
        if (ls > 0) {
          double wlogp = 0;
          for (int64_t c = 0; c < C; ++c) wlogp += (weight ? double(weight[c]) : 1.0) * (double(x[c * S]) - lz);
          l -= smooth * wlogp;
        }
        sw += wy;
      }
      if (losses) losses[k] = T(l);
      s += l;
    }
    return std::array<double, 2>{s, sw};
  });
  sums[0] = total[0], sums[1] = total[1];
}

// d logp_c / d x_k = [c == k] - p_k, so with a = (1 - ls) w_y + (ls / C) sum_c w_c:
// dl/dx_k = p_k a - (1 - ls) w_y [k == y] - (ls / C) w_k.
template <typename T>
void cross_entropy_backward(T* dinp, const T* dout, int64_t dout_stride, double scale, const T* inp,
                            const double* lse, const int64_t* target, const T* weight, int64_t N, int64_t C,
                            int64_t S, int64_t ignore_index, double label_smoothing) {
  const double ls = label_smoothing, smooth = ls / double(C);
  double w_total = double(C);
  if (weight) {
    w_total = 0;
    for (int64_t c = 0; c < C; ++c) w_total += double(weight[c]);
  }
  parallel_for(0, N * S, positions_per_chunk(C), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t base = (k / S) * C * S + k % S, y = target[k];
      const T* x = inp + base;
      T* dx = dinp + base;
      if (y == ignore_index) {
        for (int64_t c = 0; c < C; ++c) dx[c * S] = T(0);
        continue;
      }
      double g = double(dout[k * dout_stride]) * scale;
      double wy = weight ? double(weight[y]) : 1.0;
      double a = (1 - ls) * wy + smooth * w_total;
      for (int64_t c = 0; c < C; ++c) {
        double v = double(softmax_at(x[c * S], lse[k])) * a - smooth * (weight ? double(weight[c]) : 1.0);
        if (c == y) v -= (1 - ls) * wy;
        dx[c * S] = T(g * v);
      }
    }
  });
}

// --- cross-entropy with class probabilities ---

template <typename T>
void cross_entropy_probs(T* losses, double* lse, double* sums, const T* inp, const T* target, const T* weight,
                         int64_t N, int64_t C, int64_t S, double label_smoothing) {
  const double ls = label_smoothing, smooth = ls / double(C);
  auto total = chunked_sum<1>(N * S, positions_per_chunk(C), [&](int64_t b, int64_t e) {
    double s = 0;
    for (int64_t k = b; k < e; ++k) {
      int64_t base = (k / S) * C * S + k % S;
      const T *x = inp + base, *t = target + base;
      double lz = log_sum_exp(x, C, S);
      lse[k] = lz;
      double l = 0;
      for (int64_t c = 0; c < C; ++c) {
        double tc = (1 - ls) * double(t[c * S]) + smooth;
        l -= (weight ? double(weight[c]) : 1.0) * tc * (double(x[c * S]) - lz);
      }
      if (losses) losses[k] = T(l);
      s += l;
    }
    return std::array<double, 1>{s};
  });
  sums[0] = total[0], sums[1] = 0;
}

// dl/dx_k = -w_k t'_k + p_k sum_c w_c t'_c;  dl/dt_k = -(1 - ls) w_k logp_k.
template <typename T>
void cross_entropy_probs_backward(T* dinp, T* dtarget, const T* dout, int64_t dout_stride, double scale,
                                  const T* inp, const double* lse, const T* target, const T* weight, int64_t N,
                                  int64_t C, int64_t S, double label_smoothing) {
  const double ls = label_smoothing, smooth = ls / double(C);
  parallel_for(0, N * S, positions_per_chunk(C), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t base = (k / S) * C * S + k % S;
      const T *x = inp + base, *t = target + base;
      double g = double(dout[k * dout_stride]) * scale;
      double wt_total = 0;
      for (int64_t c = 0; c < C; ++c) wt_total += (weight ? double(weight[c]) : 1.0) * ((1 - ls) * double(t[c * S]) + smooth);
      for (int64_t c = 0; c < C; ++c) {
        double wc = weight ? double(weight[c]) : 1.0, logp = double(x[c * S]) - lse[k];
        if (dinp) dinp[base + c * S] = T(g * (double(softmax_at(x[c * S], lse[k])) * wt_total - wc * ((1 - ls) * double(t[c * S]) + smooth)));
        if (dtarget) dtarget[base + c * S] = T(-g * (1 - ls) * wc * logp);
      }
    }
  });
}

// --- nll ---

template <typename T>
void nll_loss(T* losses, double* sums, const T* inp, const int64_t* target, const T* weight, int64_t N, int64_t C,
              int64_t S, int64_t ignore_index) {
  auto total = chunked_sum<2>(N * S, kChunk, [&](int64_t b, int64_t e) {
    double s = 0, sw = 0;
    for (int64_t k = b; k < e; ++k) {
      int64_t y = target[k];
      double l = 0;
      if (y != ignore_index) {
        double wy = weight ? double(weight[y]) : 1.0;
        l = -wy * double(inp[(k / S) * C * S + y * S + k % S]);
        sw += wy;
      }
      if (losses) losses[k] = T(l);
      s += l;
    }
    return std::array<double, 2>{s, sw};
  });
  sums[0] = total[0], sums[1] = total[1];
}

template <typename T>
void nll_loss_backward(T* dinp, const T* dout, int64_t dout_stride, double scale, const int64_t* target,
                       const T* weight, int64_t N, int64_t C, int64_t S, int64_t ignore_index) {
  parallel_for(0, N * S, positions_per_chunk(C), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t base = (k / S) * C * S + k % S, y = target[k];
      for (int64_t c = 0; c < C; ++c) dinp[base + c * S] = T(0);
      if (y == ignore_index) continue;
      double wy = weight ? double(weight[y]) : 1.0;
      dinp[base + y * S] = T(-double(dout[k * dout_stride]) * scale * wy);
    }
  });
}

#define LAMINA_INSTANTIATE_LOSS(T)                                                                                  \
  template void pointwise_loss<T>(T*, double*, const T*, const T*, const T*, const T*, int64_t, PointwiseLoss,      \
                                  double);                                                                          \
  template void pointwise_loss_backward<T>(T*, T*, T*, const T*, int64_t, double, double, const T*, const T*,       \
                                           const T*, const T*, int64_t, PointwiseLoss, double);                     \
  template void cross_entropy<T>(T*, double*, double*, const T*, const int64_t*, const T*, int64_t, int64_t,       \
                                 int64_t, int64_t, double);                                                         \
  template void cross_entropy_backward<T>(T*, const T*, int64_t, double, const T*, const double*, const int64_t*,  \
                                          const T*, int64_t, int64_t, int64_t, int64_t, double);                    \
  template void cross_entropy_probs<T>(T*, double*, double*, const T*, const T*, const T*, int64_t, int64_t,       \
                                       int64_t, double);                                                            \
  template void cross_entropy_probs_backward<T>(T*, T*, const T*, int64_t, double, const T*, const double*,        \
                                                const T*, const T*, int64_t, int64_t, int64_t, double);             \
  template void nll_loss<T>(T*, double*, const T*, const int64_t*, const T*, int64_t, int64_t, int64_t, int64_t);  \
  template void nll_loss_backward<T>(T*, const T*, int64_t, double, const int64_t*, const T*, int64_t, int64_t,    \
                                     int64_t, int64_t);
LAMINA_INSTANTIATE_LOSS(float)
LAMINA_INSTANTIATE_LOSS(double)
#undef LAMINA_INSTANTIATE_LOSS

}  // namespace lamina::cpu

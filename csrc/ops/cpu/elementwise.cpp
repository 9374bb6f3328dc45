// Elementwise kernels. The math of each op is a functor in ops/math.h, shared with CUDA; these
// loops only walk memory. Binary ops run on strided operands (broadcasting without copies);
// unary ops, clamp and every backward run on contiguous buffers.
#include "ops/cpu/kernels.h"
#include "ops/cpu/loops.h"
#include "ops/math.h"

namespace lamina::cpu {

// Calls f(functor) for the functor of op.
template <typename F> void with_binary_functor(BinaryOp op, const F& f) {
  switch (op) {
    case BinaryOp::Add: return f(math::Add{});
    case BinaryOp::Sub: return f(math::Sub{});
    case BinaryOp::Mul: return f(math::Mul{});
    case BinaryOp::Div: return f(math::Div{});
    case BinaryOp::Pow: return f(math::Pow{});
    case BinaryOp::Maximum: return f(math::Maximum{});
    case BinaryOp::Minimum: return f(math::Minimum{});
  }
}

template <typename F> void with_unary_functor(UnaryOp op, const F& f) {
  switch (op) {
    case UnaryOp::Neg: return f(math::Neg{});
    case UnaryOp::Exp: return f(math::Exp{});
    case UnaryOp::Log: return f(math::Log{});
    case UnaryOp::Sqrt: return f(math::Sqrt{});
    case UnaryOp::Abs: return f(math::Abs{});
    case UnaryOp::Relu: return f(math::Relu{});
    case UnaryOp::Sigmoid: return f(math::Sigmoid{});
    case UnaryOp::Tanh: return f(math::Tanh{});
  }
}

// Strides that read t over `shape` (t's shape broadcasts to it).
static Shape strides_over(const Tensor& t, const Shape& shape) {
  return t.shape() == shape ? t.strides() : broadcast_strides(t.shape(), t.strides(), shape);
}

// out = a op b. Integer division is not reached (front-ends promote to float).
void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  dispatch_numeric(out.dtype(), "binary", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = out.data<T>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    with_binary_functor(op, [&](auto fn) {
      const int64_t n = out.numel();
      if (a.shape() == out.shape() && b.shape() == out.shape() && out.is_contiguous() && a.is_contiguous() &&
          b.is_contiguous()) {
        parallel_for(0, n, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) o[i] = fn.fwd(pa[i], pb[i]);
        });
        return;
      }
      strided_loop<3>(out.shape(), {out.strides(), strides_over(a, out.shape()), strides_over(b, out.shape())},
                      kElementwiseGrain,
                      [&](int64_t n, const auto& off, const auto& st) {
                        T* po = o + off[0];
                        const T* xa = pa + off[1];
                        const T* xb = pb + off[2];
                        if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
                          for (int64_t i = 0; i < n; ++i) po[i] = fn.fwd(xa[i], xb[i]);
                        } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
                          const T s = xb[0];
                          for (int64_t i = 0; i < n; ++i) po[i] = fn.fwd(xa[i], s);
                        } else {
                          for (int64_t i = 0; i < n; ++i) po[i * st[0]] = fn.fwd(xa[i * st[1]], xb[i * st[2]]);
                        }
                      });
    });
  });
}

void binary_backward(BinaryOp op, const Tensor& da, const Tensor& db, const Tensor& g,
                     const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(g.dtype(), "binary_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* pda = da.defined() ? da.data<T>() : nullptr;
    T* pdb = db.defined() ? db.data<T>() : nullptr;
    const T* pg = g.data<T>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    const T* po = out.defined() ? out.data<T>() : nullptr;
    Shape unit = contiguous_strides(g.shape());
    with_binary_functor(op, [&](auto fn) {
      strided_loop<3>(g.shape(), {unit, strides_over(a, g.shape()), strides_over(b, g.shape())}, kElementwiseGrain,
                      [&](int64_t n, const auto& off, const auto& st) {
                        for (int64_t i = 0; i < n; ++i) {
                          int64_t k = off[0] + i;
                          T ga, gb;
                          fn.grad(pa[off[1] + i * st[1]], pb[off[2] + i * st[2]], po ? po[k] : T(0), pg[k], ga, gb);
                          if (pda) pda[k] = ga;
                          if (pdb) pdb[k] = gb;
                        }
                      });
    });
  });
}

void compare(CompareOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  dispatch_all(a.dtype(), "compare", [&](auto tag) {
    using T = typename decltype(tag)::type;
    bool* o = out.data<bool>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    auto run = [&](auto cmp) {
      strided_loop<3>(out.shape(), {out.strides(), strides_over(a, out.shape()), strides_over(b, out.shape())},
                      kElementwiseGrain, [&](int64_t n, const auto& off, const auto& st) {
                        for (int64_t i = 0; i < n; ++i)
                          o[off[0] + i * st[0]] = cmp(pa[off[1] + i * st[1]], pb[off[2] + i * st[2]]);
                      });
    };
    switch (op) {
      case CompareOp::Eq: return run([](T x, T y) { return x == y; });
      case CompareOp::Ne: return run([](T x, T y) { return x != y; });
      case CompareOp::Lt: return run([](T x, T y) { return x < y; });
      case CompareOp::Le: return run([](T x, T y) { return x <= y; });
      case CompareOp::Gt: return run([](T x, T y) { return x > y; });
      case CompareOp::Ge: return run([](T x, T y) { return x >= y; });
    }
  });
}

void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b) {
  dispatch_all(out.dtype(), "where", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = out.data<T>();
    const bool* c = condition.data<bool>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    const Shape& S = out.shape();
    strided_loop<4>(S, {out.strides(), strides_over(condition, S), strides_over(a, S), strides_over(b, S)},
                    kElementwiseGrain, [&](int64_t n, const auto& off, const auto& st) {
                      for (int64_t i = 0; i < n; ++i)
                        o[off[0] + i * st[0]] = c[off[1] + i * st[1]] ? pa[off[2] + i * st[2]] : pb[off[3] + i * st[3]];
                    });
  });
}

template <typename T> void unary(UnaryOp op, T* out, const T* inp, int64_t n) {
  with_unary_functor(op, [&](auto fn) {
    parallel_for(0, n, kElementwiseGrain / 4, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] = fn.fwd(inp[i]);
    });
  });
}

template <typename T>
void unary_backward(UnaryOp op, T* dinp, const T* dout, const T* inp, const T* out, int64_t n) {
  with_unary_functor(op, [&](auto fn) {
    parallel_for(0, n, kElementwiseGrain / 4, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) dinp[i] = fn.grad(inp ? inp[i] : T(0), out ? out[i] : T(0), dout[i]);
    });
  });
}

template <typename T>
void clamp(T* out, const T* inp, int64_t n, std::optional<double> lo, std::optional<double> hi) {
  const T l = lo ? T(*lo) : T(0), h = hi ? T(*hi) : T(0);
  const bool has_lo = lo.has_value(), has_hi = hi.has_value();
  parallel_for(0, n, kElementwiseGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = math::clamp(inp[i], l, h, has_lo, has_hi);
  });
}

template <typename T>
void clamp_backward(T* dinp, const T* dout, const T* inp, int64_t n, std::optional<double> lo,
                    std::optional<double> hi) {
  const T l = lo ? T(*lo) : T(0), h = hi ? T(*hi) : T(0);
  const bool has_lo = lo.has_value(), has_hi = hi.has_value();
  parallel_for(0, n, kElementwiseGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      bool inside = (!has_lo || inp[i] >= l) && (!has_hi || inp[i] <= h);
      dinp[i] = inside ? dout[i] : T(0);
    }
  });
}

#define LAMINA_INSTANTIATE(T)                                                                    \
  template void unary<T>(UnaryOp, T*, const T*, int64_t);                                        \
  template void unary_backward<T>(UnaryOp, T*, const T*, const T*, const T*, int64_t);           \
  template void clamp<T>(T*, const T*, int64_t, std::optional<double>, std::optional<double>);   \
  template void clamp_backward<T>(T*, const T*, const T*, int64_t, std::optional<double>, std::optional<double>);
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
#undef LAMINA_INSTANTIATE
template void unary<int64_t>(UnaryOp, int64_t*, const int64_t*, int64_t);
template void clamp<int64_t>(int64_t*, const int64_t*, int64_t, std::optional<double>, std::optional<double>);

}  // namespace lamina::cpu

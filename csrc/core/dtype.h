// Element types of tensors and the switch that turns a runtime Dtype into a C++ type.
// dispatch_*(dtype, op, f) calls f(TypeTag<T>{}) for the matching T, or throws TypeError naming op.
#pragma once
#include <cstdint>
#include <string>

#include "core/check.h"

namespace lamina {

enum class Dtype : uint8_t { Float32, Float64, Int64, Bool };

inline size_t element_size(Dtype d) {
  switch (d) {
    case Dtype::Float32: return 4;
    case Dtype::Float64: return 8;
    case Dtype::Int64: return 8;
    case Dtype::Bool: return 1;
  }
  return 0;
}

inline const char* dtype_name(Dtype d) {
  switch (d) {
    case Dtype::Float32: return "float32";
    case Dtype::Float64: return "float64";
    case Dtype::Int64: return "int64";
    case Dtype::Bool: return "bool";
  }
  return "?";
}

inline bool is_floating(Dtype d) { return d == Dtype::Float32 || d == Dtype::Float64; }

// PyTorch's promotion between tensor dtypes: bool < int64 < float32 < float64.
inline Dtype promote_types(Dtype a, Dtype b) {
  auto rank = [](Dtype d) {
    switch (d) {
      case Dtype::Bool: return 0;
      case Dtype::Int64: return 1;
      case Dtype::Float32: return 2;
      case Dtype::Float64: return 3;
    }
    return 0;
  };
  return rank(a) >= rank(b) ? a : b;
}

template <typename T> struct TypeTag { using type = T; };
template <typename T> constexpr Dtype dtype_of();
template <> constexpr Dtype dtype_of<float>() { return Dtype::Float32; }
template <> constexpr Dtype dtype_of<double>() { return Dtype::Float64; }
template <> constexpr Dtype dtype_of<int64_t>() { return Dtype::Int64; }
template <> constexpr Dtype dtype_of<bool>() { return Dtype::Bool; }

// Floating types only (the differentiable ops).
template <typename F> decltype(auto) dispatch_float(Dtype d, const char* op, F&& f) {
  switch (d) {
    case Dtype::Float32: return f(TypeTag<float>{});
    case Dtype::Float64: return f(TypeTag<double>{});
    default: break;
  }
  throw TypeError(fmt("[", op, "] expected a float32 or float64 tensor, got ", dtype_name(d)));
}

// Numeric types: float32, float64, int64.
template <typename F> decltype(auto) dispatch_numeric(Dtype d, const char* op, F&& f) {
  if (d == Dtype::Int64) return f(TypeTag<int64_t>{});
  return dispatch_float(d, op, std::forward<F>(f));
}

// Every dtype.
template <typename F> decltype(auto) dispatch_all(Dtype d, const char* op, F&& f) {
  if (d == Dtype::Bool) return f(TypeTag<bool>{});
  return dispatch_numeric(d, op, std::forward<F>(f));
}

}  // namespace lamina

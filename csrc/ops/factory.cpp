// New tensors: constants, ranges, identity, random numbers (from the one seeded generator).
#include <cmath>

#include "core/random.h"
#include "ops/dispatch.h"

namespace lamina {

namespace {

Dtype scalar_dtype(Scalar v) { return v.is_integral ? Dtype::Int64 : Dtype::Float32; }

// A new uninitialised tensor; a negative or too large shape is a ValueError naming the factory.
Tensor new_tensor(const char* op, const Shape& shape, Dtype dtype, Device device = {}) {
  checked_numel(shape, op);
  return Tensor::empty(shape, dtype, device);
}

Tensor new_filled(const char* op, const Shape& shape, Scalar value, Dtype dtype, Device device) {
  Tensor out = new_tensor(op, shape, dtype, device);
  LAMINA_DISPATCH_DEVICE(device, fill_, out, value);
  return out;
}

}  // namespace

Tensor full(const Shape& shape, Scalar value, std::optional<Dtype> dtype, Device device) {
  return new_filled("full", shape, value, dtype.value_or(scalar_dtype(value)), device);
}

Tensor zeros(const Shape& shape, Dtype dtype, Device device) { return new_filled("zeros", shape, {0, true}, dtype, device); }
Tensor ones(const Shape& shape, Dtype dtype, Device device) { return new_filled("ones", shape, {1, true}, dtype, device); }
Tensor scalar_tensor(Scalar value, Dtype dtype, Device device) { return full({}, value, dtype, device); }

Tensor arange(Scalar start, Scalar end, Scalar step, std::optional<Dtype> dtype) {
  LAMINA_CHECK(step.value != 0, ValueError, "[arange] step must be nonzero");
  LAMINA_CHECK(std::isfinite(start.value) && std::isfinite(end.value) && std::isfinite(step.value), ValueError,
               "[arange] start, end and step must be finite");
  LAMINA_CHECK((end.value - start.value) / step.value >= 0 || start.value == end.value, ValueError,
               "[arange] upper bound and larger bound inconsistent with step sign (start=", start.value,
               ", end=", end.value, ", step=", step.value, ")");
  bool integral = start.is_integral && end.is_integral && step.is_integral;
  Dtype dt = dtype.value_or(integral ? Dtype::Int64 : Dtype::Float32);
  double count = std::ceil((end.value - start.value) / step.value);
  LAMINA_CHECK(count < double(int64_t(1) << 48), ValueError, "[arange] too many elements (", count, ")");
  Tensor out = new_tensor("arange", {int64_t(std::max(0.0, count))}, dt);
  dispatch_numeric(dt, "arange", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::arange<T>(out.data<T>(), start.value, step.value, out.numel());
  });
  return out;
}

Tensor linspace(double start, double end, int64_t steps, Dtype dtype) {
  LAMINA_CHECK(steps >= 0, ValueError, "[linspace] steps must be non-negative, got ", steps);
  Tensor out = new_tensor("linspace", {steps}, dtype);
  if (steps == 0) return out;
  dispatch_numeric(dtype, "linspace", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::linspace<T>(out.data<T>(), start, end, steps);
  });
  return out;
}

Tensor eye(int64_t n, int64_t m, Dtype dtype) {
  LAMINA_CHECK(n >= 0 && m >= 0, ValueError, "[eye] n and m must be non-negative, got n=", n, ", m=", m);
  Tensor out = new_filled("eye", {n, m}, {0, true}, dtype, {});
  Tensor diagonal = Tensor::view_of(out.storage(), {std::min(n, m)}, {m + 1}, 0, dtype);
  cpu::fill_(diagonal, {1, true});
  return out;
}

Tensor rand(const Shape& shape, Dtype dtype) {
  Tensor out = new_tensor("rand", shape, dtype);
  dispatch_float(dtype, "rand", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::uniform<T>(out.data<T>(), out.numel(), default_generator());
  });
  return out;
}

Tensor randn(const Shape& shape, Dtype dtype) {
  Tensor out = new_tensor("randn", shape, dtype);
  dispatch_float(dtype, "randn", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::normal<T>(out.data<T>(), out.numel(), default_generator());
  });
  return out;
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, Dtype dtype) {
  LAMINA_CHECK(low < high, ValueError, "[randint] expected low < high, got low=", low, ", high=", high);
  Tensor out = new_tensor("randint", shape, dtype);
  dispatch_numeric(dtype, "randint", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::randint<T>(out.data<T>(), out.numel(), low, high, default_generator());
  });
  return out;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace lamina

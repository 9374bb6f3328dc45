// The Generator (core/random.h): reproducible sequences, bounded integers, state round trips; and
// the error in ulp of the vectorised log and sincos (ops/math.h) that randn's Box-Muller uses.
#include <cmath>
#include <cstdint>
#include <vector>

#include "check.h"
#include "core/random.h"
#include "ops/math.h"
#include "ops/ops.h"

using namespace lamina;

TEST(generator_same_seed_gives_same_sequence) {
  Generator a(1234), b(1234), c(1235);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = a.next_u64();
    CHECK_EQ(x, b.next_u64());
    differs |= x != c.next_u64();
  }
  CHECK(differs);
  a.manual_seed(1234);
  b.manual_seed(1234);
  CHECK_EQ(a.uniform_double(), b.uniform_double());
  CHECK_EQ(a.seed(), uint64_t(1234));
}

TEST(generator_below_stays_in_range_and_hits_every_value) {
  Generator gen(7);
  for (uint64_t n : {uint64_t(1), uint64_t(2), uint64_t(7), uint64_t(1000), (uint64_t(1) << 63) + 3}) {
    for (int i = 0; i < 2000; ++i) CHECK(gen.below(n) < n);
  }
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 7000; ++i) ++counts[gen.below(7)];
  for (int c : counts) CHECK(c > 800 && c < 1200);  // about 1000 each
}

TEST(generator_uniform_is_in_unit_interval) {
  Generator gen(3);
  for (int i = 0; i < 10000; ++i) {
    float f = gen.uniform_float();
    double d = gen.uniform_double();
    CHECK(f >= 0.0f && f < 1.0f);
    CHECK(d >= 0.0 && d < 1.0);
  }
}

TEST(generator_state_round_trip_resumes_the_sequence) {
  Generator gen(99);
  gen.next_u64();
  auto state = gen.state();
  uint64_t expected = gen.next_u64();
  gen.next_u64();
  gen.set_state(state);
  CHECK_EQ(gen.next_u64(), expected);
}

TEST(manual_seed_makes_randn_reproducible) {
  manual_seed(42);
  Tensor a = randn({16});
  manual_seed(42);
  Tensor b = randn({16});
  for (int64_t i = 0; i < 16; ++i) CHECK_EQ(a.data<float>()[i], b.data<float>()[i]);
}

// |got - ref| in ulps of ref rounded to T (long double references: 64-bit significands on x86).
template <typename T> double ulp_error(T got, long double ref) {
  T rounded = T(ref);
  T ulp = std::nextafter(std::fabs(rounded), T(INFINITY)) - std::fabs(rounded);
  return double(std::fabs((long double)got - ref) / ulp);
}

// Over randn's inputs: vlog on u1 in [2^-32, 1] (float) or [2^-54, 1] (double), dense near 1 and
// log-spaced below; vsincos_2pi on u2 in [0, 1].
template <typename T> void check_vlog_and_vsincos_within(double max_ulp, int min_exponent) {
  const long double kHalfPi = 1.5707963267948966192313216916398L;
  double worst_log = 0, worst_sincos = 0;
  for (int i = 0; i <= 1000000; ++i) {
    T near_one = T(1) - T(i) * T(1e-7);  // down to 0.9
    T spread = std::ldexp(T(1) + T(i % 1000) / T(1000), min_exponent + int(int64_t(i) * -min_exponent / 1000001));
    for (T u1 : {near_one, spread}) worst_log = std::max(worst_log, ulp_error(math::vlog(u1), std::log((long double)u1)));
    // The reference turns 2 pi u2 = q pi/2 + x exactly (4 u2 - q is exact), so that sin and cos stay
    // relatively accurate next to their zeros.
    T u2 = T(i) / T(1000000);
    long double q = std::nearbyint(4.0L * u2), x = (4.0L * u2 - q) * kHalfPi;
    long double s = std::sin(x), c = std::cos(x), quarter_sin[4] = {s, c, -s, -c}, quarter_cos[4] = {c, -s, -c, s};
    math::SinCos<T> t = math::vsincos_2pi(u2);
    worst_sincos = std::max(worst_sincos, ulp_error(t.sin, quarter_sin[int(q) % 4]));
    worst_sincos = std::max(worst_sincos, ulp_error(t.cos, quarter_cos[int(q) % 4]));
  }
  std::printf("    %s: vlog %.2f ulp, vsincos_2pi %.2f ulp\n", sizeof(T) == 4 ? "float" : "double", worst_log,
              worst_sincos);
  CHECK(worst_log <= max_ulp);
  CHECK(worst_sincos <= max_ulp);
}

TEST(vlog_and_vsincos_2pi_float_within_two_ulp) { check_vlog_and_vsincos_within<float>(2.0, -32); }
TEST(vlog_and_vsincos_2pi_double_within_two_ulp) { check_vlog_and_vsincos_within<double>(2.0, -54); }

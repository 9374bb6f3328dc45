// The one random generator of the process (lamina.manual_seed). xoshiro256** seeded through
// splitmix64: the same seed gives the same numbers on every run and every machine.
// Uniform floats take the top 24 (float) or 53 (double) bits; normal samples are drawn in blocks by
// cpu::normal (ops/cpu/factory.cpp).
#pragma once
#include <array>
#include <cstdint>

namespace lamina {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x853c49e6748fea9bULL) { manual_seed(seed); }
  void manual_seed(uint64_t seed);
  uint64_t seed() const { return seed_; }
  uint64_t next_u64();
  double uniform_double();  // [0, 1)
  float uniform_float();    // [0, 1)
  // Uniform integer in [0, n), n > 0, without modulo bias.
  uint64_t below(uint64_t n);
  // The full state, to save and restore (checkpoint and resume).
  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_{};
  uint64_t seed_ = 0;
};

Generator& default_generator();

}  // namespace lamina

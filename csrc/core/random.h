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
  // xoshiro256**, inline: the random fills call it once per sample.
  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  double uniform_double() { return to_uniform_double(next_u64()); }  // [0, 1)
  float uniform_float() { return to_uniform_float(next_u64()); }     // [0, 1)
  // The uniform numbers of a drawn word (its top 53 or 24 bits), for loops that draw words first.
  static double to_uniform_double(uint64_t word) { return double(word >> 11) * 0x1.0p-53; }
  static float to_uniform_float(uint64_t word) { return float(word >> 40) * 0x1.0p-24f; }
  // Uniform integer in [0, n), n > 0, without modulo bias.
  uint64_t below(uint64_t n);
  // f(g) with g a copy of this generator, whose advanced state is then stored back. A loop that
  // draws from a local generator keeps the state in registers; through a reference the compiler
  // reloads and stores it around every sample (rand of 1M floats 12.6 -> 0.7 ms).
  template <typename F> void draw(F&& f) {
    Generator local = *this;
    f(local);
    *this = local;
  }
  // The full state, to save and restore (checkpoint and resume).
  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_{};
  uint64_t seed_ = 0;
};

Generator& default_generator();

}  // namespace lamina

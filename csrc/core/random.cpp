#include "core/random.h"

namespace lamina {

static uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void Generator::manual_seed(uint64_t seed) {
  seed_ = seed;
  uint64_t x = seed;
  for (auto& word : s_) word = splitmix64(x);
}

uint64_t Generator::below(uint64_t n) {
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // reject the biased tail
  uint64_t x;
  do x = next_u64(); while (x >= limit);
  return x % n;
}

Generator& default_generator() {
  static Generator gen;
  return gen;
}

}  // namespace lamina

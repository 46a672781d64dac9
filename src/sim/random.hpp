// The simulator's only source of chance: xoshiro256** seeded through
// splitmix64. Doubles and bounded integers are derived here from the raw bits
// rather than by std::uniform_*_distribution, whose output differs between
// standard libraries; the same seed gives the same run with any compiler.
#pragma once

#include <array>
#include <cstdint>

#include "util/splitmix.hpp"

namespace imsflow::sim {

class Random {
 public:
  explicit Random(std::uint64_t seed) {
    // splitmix64 spreads any seed (0 included) over the four state words,
    // which must not all be zero.
    for (auto& word : state_) word = splitmix64(seed);
  }

  /// 64 uniformly distributed bits.
  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  /// Uniform in [0, 1), from the top 53 bits (every value exactly representable).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// True with probability p (p <= 0 never, p >= 1 always).
  bool chance(double p) { return unit() < p; }

  /// Uniform in [0, bound]; rejection sampling keeps it free of modulo bias.
  std::uint64_t up_to(std::uint64_t bound) {
    if (bound == ~std::uint64_t{0}) return next();
    const std::uint64_t range = bound + 1;
    const std::uint64_t reject_below = (0 - range) % range;  // 2^64 mod range
    for (;;) {
      const std::uint64_t r = next();
      if (r >= reject_below) return r % range;
    }
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::array<std::uint64_t, 4> state_{};
};

}  // namespace imsflow::sim

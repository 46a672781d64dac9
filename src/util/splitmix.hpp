// splitmix64: each call advances `state` and returns 64 well-mixed bits.
// Reproducible from the seed on any compiler; the cores draw tags, branches
// and Call-IDs from it, and the simulator seeds its generator with it.
#pragma once

#include <cstdint>

namespace imsflow {

constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace imsflow

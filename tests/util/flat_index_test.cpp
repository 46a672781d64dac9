#include "util/flat_index.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>
#include <random>

namespace imsflow {
namespace {

// Against std::multimap as the reference, with a weak hash so that chains,
// wrap-around and backward-shift deletion are all exercised.
TEST(FlatIndex, BehavesLikeAMapUnderRandomInsertsAndErases) {
  FlatIndex index;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> live;  // (value, hash), the reference
  std::mt19937_64 rng(7);
  std::uint32_t next = 0;
  for (int step = 0; step < 40000; ++step) {
    if (live.empty() || rng() % 3 != 0) {
      // A weak hash (64 values, spread over the table) so that chains, wrap
      // around and backward-shift deletion are all exercised.
      const std::uint64_t hash = (rng() % 64) * 0x9E3779B97F4A7C15ull;
      index.insert(hash, next);
      live.emplace_back(next++, hash);
    } else {
      const std::size_t i = rng() % live.size();
      ASSERT_TRUE(index.erase(live[i].second, live[i].first));
      live[i] = live.back();
      live.pop_back();
    }
    if (step % 4999 == 0) {
      for (const auto& entry : live) {
        // Plain names: clang 14 cannot capture a structured binding.
        const auto value = entry.first;
        const auto hash = entry.second;
        auto found = index.find(hash, [&](std::uint32_t v) { return v == value; });
        ASSERT_TRUE(found) << step;
        EXPECT_EQ(*found, value);
      }
    }
  }
  EXPECT_EQ(index.size(), live.size());
  EXPECT_FALSE(index.erase(12345, 999999999));
  EXPECT_FALSE(index.find(3, [](std::uint32_t) { return false; }));
}

TEST(FlatIndex, HashZeroIsAValidKey) {
  FlatIndex index;
  index.insert(0, 42);
  EXPECT_EQ(index.find(0, [](std::uint32_t v) { return v == 42; }), 42u);
  EXPECT_TRUE(index.erase(0, 42));
  EXPECT_EQ(index.size(), 0u);
}

}  // namespace
}  // namespace imsflow

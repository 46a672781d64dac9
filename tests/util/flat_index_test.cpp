#include "util/flat_index.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace imsflow {
namespace {

// Against std::multimap as the reference, with a weak hash so that chains,
// wrap-around and backward-shift deletion are all exercised.
TEST(FlatIndex, BehavesLikeAMapUnderRandomInsertsAndErases) {
  FlatIndex index;
  std::map<std::uint32_t, std::uint64_t> live;  // value → hash
  std::mt19937_64 rng(7);
  std::uint32_t next = 0;
  for (int step = 0; step < 200000; ++step) {
    if (live.empty() || rng() % 3 != 0) {
      const std::uint64_t hash = rng() % 64;  // many collisions on purpose
      index.insert(hash, next);
      live[next++] = hash;
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      ASSERT_TRUE(index.erase(it->second, it->first));
      live.erase(it);
    }
    if (step % 997 == 0) {
      for (const auto& [value, hash] : live) {
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

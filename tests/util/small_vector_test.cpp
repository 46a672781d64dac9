#include "util/small_vector.hpp"

#include <gtest/gtest.h>

#include <string>

namespace imsflow {
namespace {

TEST(SmallVector, KeepsElementsInlineThenGrows) {
  SmallVector<int, 4> v;
  for (int i = 0; i < 100; ++i) v.push_back(i);
  ASSERT_EQ(v.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(v[i], i);
  v.truncate(10);
  EXPECT_EQ(v.size(), 10u);
  EXPECT_EQ(v.back(), 9);
  v.clear();
  EXPECT_TRUE(v.empty());
}

TEST(SmallVector, CopiesAndMovesNonTrivialElements) {
  SmallVector<std::string, 2> v;
  v.push_back(std::string(100, 'a'));
  v.push_back("b");
  v.push_back("c");  // spills to the heap
  SmallVector<std::string, 2> copy = v;
  SmallVector<std::string, 2> moved = std::move(v);
  EXPECT_EQ(copy.size(), 3u);
  EXPECT_EQ(moved.size(), 3u);
  EXPECT_EQ(moved[0], std::string(100, 'a'));
  EXPECT_EQ(copy[2], "c");
  SmallVector<std::string, 2> inline_only;
  inline_only.push_back("x");
  SmallVector<std::string, 2> moved_inline = std::move(inline_only);
  EXPECT_EQ(moved_inline[0], "x");
  EXPECT_TRUE(inline_only.empty());
}

}  // namespace
}  // namespace imsflow

namespace imsflow {
namespace {

struct Wide {
  int a = 7;
  char pad[200];
  int b;
};

TEST(SmallVector, EmplaceBackValueInitialisesInPlace) {
  SmallVector<Wide, 2> v;
  for (int i = 0; i < 5; ++i) {
    Wide& w = v.emplace_back();
    EXPECT_EQ(w.a, 7);
    EXPECT_EQ(w.b, 0);
    EXPECT_EQ(w.pad[199], 0);
    w.b = i;
  }
  ASSERT_EQ(v.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(v[i].b, i);
  SmallVector<std::string, 1> s;
  s.emplace_back(3, 'x');
  s.emplace_back("yz");
  EXPECT_EQ(s[0], "xxx");
  EXPECT_EQ(s[1], "yz");
}

}  // namespace
}  // namespace imsflow

#include "util/result.hpp"

namespace imsflow {
namespace {

TEST(Result, BuildsTheValueInPlaceAndTakesAnErrorLater) {
  Result<SmallVector<int, 4>, int> r(std::in_place);
  ASSERT_TRUE(r);
  r->push_back(3);
  EXPECT_EQ((*r)[0], 3);
  r = Unexpected{42};
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), 42);
}

}  // namespace
}  // namespace imsflow

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

// Elements live inline or in a heap block: after every move and copy each
// vector owns its own elements, and a moved-from vector can be used again.
TEST(SmallVector, EachVectorOwnsItsElementsAfterMovesAndCopies) {
  SmallVector<std::string, 2> heap;
  for (int i = 0; i < 5; ++i) heap.push_back(std::to_string(i));
  SmallVector<std::string, 2> taken = std::move(heap);
  heap.push_back("again");  // the moved-from vector is inline and usable
  heap.push_back("and");
  heap.push_back("grows");
  ASSERT_EQ(heap.size(), 3u);
  EXPECT_EQ(heap[2], "grows");
  ASSERT_EQ(taken.size(), 5u);
  EXPECT_EQ(taken[0], "0");
  EXPECT_EQ(taken[4], "4");

  SmallVector<std::string, 2> inline_src;
  inline_src.push_back("in");
  taken = std::move(inline_src);  // a heap vector takes inline elements
  ASSERT_EQ(taken.size(), 1u);
  taken.push_back("b");
  taken.push_back("c");  // grows again from the inline buffer
  EXPECT_EQ(taken[0], "in");
  EXPECT_EQ(taken[2], "c");

  SmallVector<std::string, 2> copy(taken);
  copy[0] = "changed";
  EXPECT_EQ(taken[0], "in");  // the copy owns its elements
  SmallVector<std::string, 2> small;
  small.push_back("s");
  SmallVector<std::string, 2> small_copy(small);
  small_copy[0] = "t";
  EXPECT_EQ(small[0], "s");
  const auto& same = small_copy;
  small_copy = same;  // assignment to itself keeps the elements
  EXPECT_EQ(small_copy[0], "t");
  EXPECT_NE(static_cast<const void*>(small_copy.data()), static_cast<const void*>(small.data()));
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

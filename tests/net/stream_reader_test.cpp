#include "net/stream_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace imsflow::net {
namespace {

using namespace std::chrono_literals;
using Kind = StreamItem::Kind;

constexpr std::string_view kMessage =
    "MESSAGE sip:b@x SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n"
    "Content-Length: 5\r\n\r\nhello";
const TimePoint t0 = TimePoint{} + std::chrono::hours(1);

std::vector<std::string> drain(StreamReader& r, TimePoint now, Kind* last = nullptr) {
  std::vector<std::string> out;
  while (true) {
    StreamItem item = r.next(now);
    if (item.kind == Kind::Message) {
      out.emplace_back(item.message);
      continue;
    }
    if (item.kind == Kind::KeepAlive) continue;
    if (last) *last = item.kind;
    return out;
  }
}

TEST(StreamReader, ByteAtATimeGivesTheMessageOnceWhole) {
  StreamReader r;
  std::vector<std::string> got;
  for (std::size_t i = 0; i < kMessage.size(); ++i) {
    r.append(kMessage.substr(i, 1));
    auto part = drain(r, t0);
    if (i + 1 < kMessage.size()) {
      EXPECT_TRUE(part.empty()) << i;
    }
    got.insert(got.end(), part.begin(), part.end());
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], kMessage);
  EXPECT_EQ(r.buffered(), 0u);
  EXPECT_FALSE(r.incomplete_since());
}

TEST(StreamReader, SeveralMessagesAndKeepAlivesInOneRead) {
  StreamReader r;
  r.append("\r\n\r\n" + std::string(kMessage) + std::string(kMessage) + "\r\n");
  const auto got = drain(r, t0);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], kMessage);
}

TEST(StreamReader, StallClockStartsWithAnIncompleteMessage) {
  StreamReader r;
  r.append(kMessage.substr(0, 30));
  drain(r, t0);
  ASSERT_TRUE(r.incomplete_since());
  EXPECT_EQ(*r.incomplete_since(), t0);
  r.append(kMessage.substr(30, 10));
  drain(r, t0 + 1s);
  EXPECT_EQ(*r.incomplete_since(), t0) << "more bytes of the same message do not restart it";
  r.append(kMessage.substr(40));
  EXPECT_EQ(drain(r, t0 + 2s).size(), 1u);
  EXPECT_FALSE(r.incomplete_since());
}

TEST(StreamReader, CorruptStreamStaysCorruptWithItsOffset) {
  StreamReader r;
  r.append(std::string(kMessage) + "GARBAGE\r\n");
  Kind last{};
  EXPECT_EQ(drain(r, t0, &last).size(), 1u);
  EXPECT_EQ(last, Kind::Corrupt);
  StreamItem again = r.next(t0);
  EXPECT_EQ(again.kind, Kind::Corrupt);
  EXPECT_EQ(again.offset, kMessage.size()) << "offsets count from the start of the stream";
  EXPECT_STREQ(again.reason, "a SIP request or status line");
}

TEST(StreamReader, PrepareAndCommitAppendInPlaceAcrossCompaction) {
  StreamReader r;
  // Enough whole messages to pass the compaction threshold, then one split.
  std::size_t messages = 0;
  for (int round = 0; round < 1000; ++round) {
    char* into = r.prepare(kMessage.size());
    std::copy(kMessage.begin(), kMessage.end(), into);
    r.commit(kMessage.size());
    messages += drain(r, t0).size();
  }
  EXPECT_EQ(messages, 1000u);
  char* into = r.prepare(64);
  std::copy(kMessage.begin(), kMessage.begin() + 20, into);
  r.commit(20);
  EXPECT_TRUE(drain(r, t0).empty());
  r.append(kMessage.substr(20));
  EXPECT_EQ(drain(r, t0).size(), 1u);
  EXPECT_EQ(r.stream_offset(), 1001u * kMessage.size());
}

}  // namespace
}  // namespace imsflow::net

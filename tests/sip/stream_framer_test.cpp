#include "sip/stream_framer.hpp"

#include <gtest/gtest.h>

#include "shared_data.hpp"
#include "sip/parser.hpp"

namespace imsflow::sip {
namespace {

using Status = StreamFrame::Status;

std::string message(std::string_view body = "") {
  return "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
         "To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

TEST(StreamFramer, WholeMessageAndPipelinedMessages) {
  const std::string one = message("v=0\r\n");
  const std::string two = message("abc");
  const std::string stream = one + two;
  StreamFramer framer;
  StreamFrame f = framer.next(stream);
  ASSERT_EQ(f.status, Status::Message);
  EXPECT_EQ(f.length, one.size());
  f = framer.next(std::string_view(stream).substr(one.size()));
  ASSERT_EQ(f.status, Status::Message);
  EXPECT_EQ(f.length, two.size());
  EXPECT_TRUE(parse(std::string_view(stream).substr(one.size(), f.length), ParseMode::Stream));
}

TEST(StreamFramer, ByteAtATimeNeedsMoreUntilTheLastByte) {
  const std::string m = message("0123456789");
  StreamFramer framer;
  for (std::size_t n = 1; n < m.size(); ++n) {
    ASSERT_EQ(framer.next(std::string_view(m).substr(0, n)).status, Status::NeedMore) << n;
  }
  StreamFrame f = framer.next(m);
  ASSERT_EQ(f.status, Status::Message);
  EXPECT_EQ(f.length, m.size());
}

TEST(StreamFramer, KeepAlivesBeforeAMessage) {
  StreamFramer framer;
  StreamFrame ping = framer.next("\r\n\r\n");
  EXPECT_EQ(ping.status, Status::KeepAlive);
  EXPECT_EQ(ping.length, 4u);
  EXPECT_EQ(framer.next("\r").status, Status::NeedMore);  // a lone CR may be the start of CRLF
  const std::string m = "\r\n" + message();
  StreamFrame lead = framer.next(m);
  ASSERT_EQ(lead.status, Status::KeepAlive);
  EXPECT_EQ(lead.length, 2u);
  StreamFrame f = framer.next(std::string_view(m).substr(2));
  ASSERT_EQ(f.status, Status::Message);
  EXPECT_EQ(f.length, m.size() - 2);
}

TEST(StreamFramer, CorruptStreams) {
  StreamFramer a;
  EXPECT_EQ(a.next("\x16\x03\x01 binary garbage\r\n").status, Status::Corrupt);
  StreamFramer b;
  std::string no_length = message();
  no_length.erase(no_length.find("Content-Length: 0\r\n"), 19);
  EXPECT_EQ(b.next(no_length).status, Status::Corrupt);
  StreamFramer c;
  std::string negative = message();
  negative.replace(negative.find("Content-Length: 0"), 17, "Content-Length: -5");
  EXPECT_EQ(c.next(negative).status, Status::Corrupt);
  StreamFramer d;
  std::string conflicting = message();
  conflicting.insert(conflicting.find("\r\n\r\n") + 2, "l: 7\r\n");
  StreamFrame f = d.next(conflicting);
  EXPECT_EQ(f.status, Status::Corrupt);
  EXPECT_STREQ(f.reason, "one valid, non-negative Content-Length");
  StreamFramer e(1024);
  std::string endless = "OPTIONS sip:a@b SIP/2.0\r\n";
  for (int i = 0; i < 100; ++i) endless += "X-Filler: 0123456789012345678901234567890123456789\r\n";
  EXPECT_EQ(e.next(endless).status, Status::Corrupt);
}

TEST(StreamFramer, CompactContentLengthAndOddSpacing) {
  std::string m = message("xyz");
  m.replace(m.find("Content-Length: 3"), 17, "l   :   3");
  StreamFramer framer;
  StreamFrame f = framer.next(m);
  ASSERT_EQ(f.status, Status::Message);
  EXPECT_EQ(f.length, m.size());
}

TEST(StreamFramer, LargeHeaderSectionGrowingByteByByte) {
  // The framer keeps its scan position between calls (no re-scan); the
  // outcome must be the same as for one call with the whole buffer.
  std::string big = "OPTIONS sip:a@b SIP/2.0\r\n";
  for (int i = 0; i < 500; ++i) big += "X-Filler: 01234567890123456789\r\n";
  big += "Content-Length: 0\r\n\r\n";
  StreamFramer framer;
  StreamFrame f;
  for (std::size_t n = 1; n <= big.size(); ++n) {
    f = framer.next(std::string_view(big).substr(0, n));
    if (f.status != Status::NeedMore) break;
  }
  EXPECT_EQ(f.status, Status::Message);
  EXPECT_EQ(f.length, big.size());
}

TEST(StreamFramer, RecordedMessagesFrameExactly) {
  std::string stream;
  std::vector<std::size_t> sizes;
  for (const auto& e : std::filesystem::directory_iterator(test::data_dir() / "messages")) {
    std::string bytes = test::read_file(e.path());
    sizes.push_back(bytes.size());
    stream += bytes;
  }
  StreamFramer framer;
  std::size_t at = 0;
  for (std::size_t expected : sizes) {
    StreamFrame f = framer.next(std::string_view(stream).substr(at));
    ASSERT_EQ(f.status, Status::Message);
    EXPECT_EQ(f.length, expected);
    at += f.length;
  }
  EXPECT_EQ(at, stream.size());
}

}  // namespace
}  // namespace imsflow::sip

#include "report/ladder.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace imsflow::report {
namespace {

using namespace std::chrono_literals;

TEST(Ladder, ArrowsPointFromSenderToReceiver) {
  Ladder l;
  l.columns = {{"UE-A", "10.0.0.1:5060"}, {"P-CSCF", "10.0.0.9:5060"}, {"UE-B", "10.0.0.2:5060"}};
  l.rows = {{0ms, 0, 1, "INVITE", ""}, {20ms, 1, 0, "100 Trying", ""}, {25ms, 1, 2, "INVITE", "(lost)"},
            {30ms, 2, 0, "200 OK", ""}};
  const std::string text = render_text(l, 20);
  std::istringstream in(text);
  std::string header, addresses, r1, r2, r3, r4;
  std::getline(in, header);
  std::getline(in, addresses);
  std::getline(in, r1);
  std::getline(in, r2);
  std::getline(in, r3);
  std::getline(in, r4);
  EXPECT_NE(header.find("UE-A"), std::string::npos);
  EXPECT_NE(header.find("P-CSCF"), std::string::npos);
  EXPECT_NE(addresses.find("10.0.0.2:5060"), std::string::npos);
  EXPECT_NE(r1.find("INVITE"), std::string::npos);
  EXPECT_NE(r1.find("->|"), std::string::npos);
  EXPECT_LT(r1.find("INVITE"), r1.find("->|"));
  EXPECT_NE(r2.find("|<-"), std::string::npos);
  EXPECT_NE(r2.find("    20.000"), std::string::npos);
  EXPECT_NE(r3.find("(lost)"), std::string::npos);
  // A row spanning two gaps crosses the middle column.
  EXPECT_GT(r4.find('<'), r4.find('|'));
  EXPECT_EQ(text.find('\t'), std::string::npos);
}

// A first column named longer than the space left of it moves right: the
// header keeps "time ms" whole, one space before the name, and the arrows
// still start on the column's bar under the centre of its name.
TEST(Ladder, LongFirstColumnNameLeavesTheTimeHeaderWhole) {
  for (const std::string name : {"UE", "UE-A", "S-CSCF", "originating-ue", "a-very-long-node-name-here"}) {
    Ladder l;
    l.columns = {{name, "[2001:db8::1]:5060"}, {"P-CSCF", "10.0.0.9:5060"}};
    l.rows = {{0ms, 0, 1, "INVITE", ""}, {1234567ms, 1, 0, "100 Trying", ""}};
    std::istringstream in(render_text(l, 20));
    std::string header, addresses, r1, r2;
    std::getline(in, header);
    std::getline(in, addresses);
    std::getline(in, r1);
    std::getline(in, r2);
    SCOPED_TRACE(name);
    ASSERT_EQ(header.rfind("    time ms ", 0), 0u) << header;
    const std::size_t at = header.find(name, 12);
    ASSERT_NE(at, std::string::npos) << header;
    EXPECT_EQ(header.find("time ms"), 4u);
    // The bar of the first column lies under the name and after the time.
    const std::size_t bar = r1.find('|');
    EXPECT_GE(bar, at);
    EXPECT_LT(bar, at + name.size());
    EXPECT_GT(bar, r2.find("1234567.000") + 11);
    EXPECT_NE(addresses.find("[2001:db8::1]:5060"), std::string::npos);
    EXPECT_NE(header.find("P-CSCF"), std::string::npos);
  }
}

TEST(Ladder, LabelsNameMethodStatusAndReliability) {
  EXPECT_EQ(message_label("INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
                          "To: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"),
            "INVITE");
  EXPECT_EQ(message_label("SIP/2.0 183 Session Progress\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
                          "To: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nRSeq: 7\r\nRequire: 100rel\r\n"
                          "Content-Length: 3\r\n\r\nv=0"),
            "183 Session Progress (INVITE) RSeq 7 +SDP");
  EXPECT_EQ(message_label("garbage"), "?");
}

}  // namespace
}  // namespace imsflow::report

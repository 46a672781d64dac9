#include "sip/verdict.hpp"

#include <gtest/gtest.h>

namespace imsflow::sip {
namespace {

std::string request(std::string_view method, std::string_view extra, std::string_view ruri = "sip:bob@example.com") {
  return std::string(method) + " " + std::string(ruri) +
         " SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\n"
         "To: <sip:bob@example.com>\r\nCall-ID: c\r\nCSeq: 1 " +
         std::string(method) + "\r\nMax-Forwards: 70\r\n" + std::string(extra) + "Content-Length: 0\r\n\r\n";
}

std::optional<RequiredResponse> check(const std::string& text) {
  Message m;
  auto r = parse(text, m);
  EXPECT_TRUE(r) << (r ? "" : r.error().describe());
  return check_request(m, ElementProfile::ims_default());
}

TEST(Verdict, AcceptableRequestNeedsNoResponse) {
  EXPECT_FALSE(check(request("INVITE", "Supported: 100rel\r\nRequire: precondition\r\n")));
  EXPECT_FALSE(check(request("ACK", "Require: nonsense\r\n")));  // ACK is never answered
}

TEST(Verdict, BadExtensionListsUnsupportedTags) {
  auto r = check(request("INVITE", "Require: 100rel, foo\r\nProxy-Require: bar, foo\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 420);
  EXPECT_EQ(r->unsupported, (std::vector<std::string>{"foo", "bar"}));
}

TEST(Verdict, RequireIsIgnoredInCancel) { EXPECT_FALSE(check(request("CANCEL", "Require: foo\r\n"))); }

TEST(Verdict, OrderFollowsRfc3261) {
  // Max-Forwards first (§16.3), then method (§8.2.1), then URI scheme (§8.2.2.1).
  std::string zero = request("FOO", "Require: x\r\n");
  zero.replace(zero.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
  EXPECT_EQ(check(zero)->status, 483);
  EXPECT_EQ(check(request("FOO", "Require: x\r\n"))->status, 501);
  EXPECT_EQ(check(request("OPTIONS", "", "mailto:bob@example.com"))->status, 416);
  // A body type is only judged when there is a body.
  EXPECT_FALSE(check(request("OPTIONS", "Content-Type: application/x-unknown\r\n")));
}

TEST(Verdict, UnsupportedBodyIs415) {
  std::string text = request("MESSAGE", "Content-Type: application/x-unknown\r\n");
  text.replace(text.find("Content-Length: 0\r\n\r\n"), 21, "Content-Length: 2\r\n\r\nhi");
  auto r = check(text);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 415);
}

TEST(Verdict, InviteWhoseAcceptExcludesSdpIs406) {
  EXPECT_EQ(check(request("INVITE", "Accept: text/plain\r\n"))->status, 406);
  EXPECT_FALSE(check(request("INVITE", "Accept: application/sdp, application/3gpp-ims+xml\r\n")));
}

TEST(Verdict, RegisterNeedsSipAddressOfRecord) {
  std::string text = request("REGISTER", "", "sip:example.com");
  text.replace(text.find("To: <sip:bob@example.com>"), 25, "To: <mailto:bob@example.com>");
  EXPECT_EQ(check(text)->status, 400);
}

TEST(Verdict, ResponsesToParseErrors) {
  auto code_for = [](const std::string& text) {
    Message m;
    auto r = parse(text, m);
    EXPECT_FALSE(r);
    return r ? std::optional<int>() : response_for(r.error());
  };
  EXPECT_EQ(code_for("INVITE sip:a@b SIP/3.0\r\n\r\n"), 505);
  EXPECT_EQ(code_for("INVITE sip:a@b SIP/2.0\r\nVia: x\r\n\r\n"), 400);
  EXPECT_EQ(code_for("SIP/2.0 200 OK\r\nVia: x\r\n\r\n"), std::nullopt);  // responses are dropped
  std::string mismatch = request("NEWMETHOD", "");
  mismatch.replace(mismatch.find("CSeq: 1 NEWMETHOD"), 17, "CSeq: 1 INVITE");
  EXPECT_EQ(code_for(mismatch), 501);
}

}  // namespace
}  // namespace imsflow::sip

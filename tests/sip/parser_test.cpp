// The message parser: start lines, header framing, folding, compact forms,
// body framing, typed access, and bad input that must fail precisely.
#include "sip/parser.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>

#include "shared_data.hpp"

namespace imsflow::sip {
namespace {

const std::string kInvite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    "Supported: 100rel, precondition\r\n"
    "Supported: timer\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

// Parsed messages point into their buffer: keep every buffer alive.
const std::string& keep(std::string bytes) {
  static std::deque<std::string> buffers;
  return buffers.emplace_back(std::move(bytes));
}

Message must_parse(std::string text, ParseMode mode = ParseMode::Datagram) {
  const std::string& bytes = keep(std::move(text));
  Message m;
  auto r = parse(bytes, m, mode);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().describe());
  return m;
}

ParseError must_fail(std::string text, ParseMode mode = ParseMode::Datagram) {
  const std::string& bytes = keep(std::move(text));  // the error's header name points into it
  Message m;
  auto r = parse(bytes, m, mode);
  EXPECT_FALSE(r.has_value()) << bytes.substr(0, 80);
  return r ? ParseError{} : r.error();
}

TEST(Parser, RequestLineAndTypedHeaders) {
  Message m = must_parse(kInvite);
  EXPECT_TRUE(m.is_request());
  EXPECT_EQ(m.method(), Method::Invite);
  EXPECT_EQ(m.request_uri().user, "bob");
  EXPECT_EQ(m.version(), "SIP/2.0");
  ASSERT_EQ(m.vias().size(), 1u);
  EXPECT_EQ(m.top_via()->branch, "z9hG4bK776asdhds");
  EXPECT_EQ(m.max_forwards(), 70u);
  EXPECT_EQ(m.to()->display_name, "Bob");
  EXPECT_FALSE(m.to()->tag());
  EXPECT_EQ(m.from()->tag(), "1928301774");
  EXPECT_EQ(m.call_id(), "a84b4c76e66710@pc33.atlanta.example.com");
  EXPECT_EQ(m.cseq()->number, 314159u);
  EXPECT_EQ(m.contacts().size(), 1u);
  EXPECT_EQ(m.supported().size(), 3u);  // two Supported lines combine
  EXPECT_TRUE(m.lists(HeaderId::Supported, "TIMER"));
  EXPECT_FALSE(m.lists(HeaderId::Require, "100rel"));
  EXPECT_EQ(m.content_length(), 4u);
  EXPECT_EQ(m.body(), "v=0\n");
  EXPECT_EQ(m.headers().size(), 11u);
  EXPECT_EQ(m.bytes(), kInvite);
  EXPECT_EQ(m.find("content-type")->value, "application/sdp");
  EXPECT_EQ(m.find("c")->value, "application/sdp");  // compact form resolves
}

TEST(Parser, StatusLine) {
  Message m = must_parse(
      "SIP/2.0 183 Session Progress\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
      "To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nRequire: 100rel\r\nRSeq: 7\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(m.is_response());
  EXPECT_EQ(m.status_code(), 183);
  EXPECT_EQ(m.reason_phrase(), "Session Progress");
  EXPECT_EQ(m.rseq(), 7u);
  EXPECT_TRUE(m.lists(HeaderId::Require, "100rel"));
  // Empty reason phrase (RFC 4475 §3.1.1.13).
  Message n = must_parse(
      "SIP/2.0 100 \r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\n"
      "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(n.reason_phrase(), "");
}

TEST(Parser, CompactFormsAndCaseInsensitiveNames) {
  Message m = must_parse(
      "OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:a@b>;tag=1\r\nt: <sip:c@d>\r\n"
      "i: cid\r\nCSEQ: 2 OPTIONS\r\nk: 100rel\r\nm: <sip:a@h>\r\nl: 0\r\nMAX-FORWARDS: 0070\r\n"
      "x: 1800;refresher=uac\r\no: reg\r\nu: reg, dialog\r\n\r\n");
  EXPECT_EQ(m.call_id(), "cid");
  EXPECT_EQ(m.max_forwards(), 70u);
  EXPECT_EQ(m.session_expires()->value, "1800");
  EXPECT_EQ(m.session_expires()->param("refresher"), "uac");
  EXPECT_EQ(m.param_values(HeaderId::Event).first()->value, "reg");
  EXPECT_EQ(m.tokens(HeaderId::AllowEvents).size(), 2u);
  EXPECT_EQ(m.headers()[0].name, "v");
  EXPECT_EQ(m.headers()[0].id, HeaderId::Via);
}

TEST(Parser, FoldedHeadersKeepTheirBytes) {
  const std::string msg =
      "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>\r\n  ;tag=1\r\n"
      "To:\r\n <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1\r\n\tOPTIONS\r\nSubject: one\r\n two\r\nContent-Length: 0\r\n\r\n";
  Message m = must_parse(msg);
  EXPECT_EQ(m.from()->tag(), "1");
  EXPECT_EQ(m.to()->uri.user, "c");
  EXPECT_EQ(m.cseq()->method, Method::Options);
  EXPECT_EQ(m.find(HeaderId::Subject)->value, "one\r\n two");
  EXPECT_EQ(m.find(HeaderId::From)->length, std::string_view("From: <sip:a@b>\r\n  ;tag=1\r\n").size());
}

TEST(Parser, MultiValueHeadersAsLists) {
  Message m = must_parse(
      "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP p1;branch=z9hG4bK1, SIP/2.0/TCP p2:5061;branch=z9hG4bK2\r\n"
      "Via: SIP/2.0/UDP p3;branch=z9hG4bK3\r\nRoute: <sip:r1;lr>, <sip:r2;lr>\r\nRecord-Route: <sip:rr1;lr>\r\n"
      "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
      "Contact: \"A, B\" <sip:a@h1>;q=0.7, <sip:a@h2>;expires=30\r\n"
      "Allow: INVITE, ACK, PRACK\r\nP-Charging-Vector: icid-value=\"AyretyU0dm+6O2IrT5tAFrbHLso=\";orig-ioi=home1.net\r\n"
      "Content-Length: 0\r\n\r\n");
  ASSERT_EQ(m.vias().size(), 3u);
  EXPECT_EQ(m.vias()[1].transport, "TCP");
  EXPECT_EQ(m.vias()[1].port, 5061);
  EXPECT_EQ(m.vias()[2].branch, "z9hG4bK3");
  EXPECT_EQ(m.routes().size(), 2u);
  EXPECT_EQ(m.record_routes().size(), 1u);
  std::vector<std::string> hosts;
  for (const NameAddr& c : m.contacts()) hosts.emplace_back(c.uri.host);
  EXPECT_EQ(hosts, (std::vector<std::string>{"h1", "h2"}));
  EXPECT_EQ(m.contacts().first()->display_name, "A, B");
  EXPECT_EQ(m.allow().size(), 3u);
  EXPECT_EQ(m.icid_value(), "AyretyU0dm+6O2IrT5tAFrbHLso=");
}

TEST(Parser, ContactWildcard) {
  Message m = must_parse(
      "REGISTER sip:r SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@r>;tag=1\r\nTo: <sip:a@r>\r\n"
      "Call-ID: x\r\nCSeq: 3 REGISTER\r\nContact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(m.contacts().first()->wildcard);
  EXPECT_EQ(m.expires(), 0u);
}

TEST(Parser, LeadingCrlfSkippedAndTrailingDatagramBytesIgnored) {
  const std::string msg = "\r\n\r\n" + kInvite + "GARBAGE AFTER";
  Message m;
  auto r = parse(msg, m);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, msg.size() - 13);
  EXPECT_EQ(m.offset_in_input(), 4u);
  EXPECT_EQ(m.trailing_bytes(), 13u);
  EXPECT_EQ(m.bytes(), kInvite);
}

TEST(Parser, NoContentLengthInDatagramTakesTheRest) {
  Message m = must_parse(
      "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCall-ID: x\r\n"
      "CSeq: 1 INVITE\r\n\r\nbody bytes");
  EXPECT_EQ(m.body(), "body bytes");
  auto e = must_fail(
      "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCall-ID: x\r\n"
      "CSeq: 1 INVITE\r\n\r\n",
      ParseMode::Stream);
  EXPECT_EQ(e.code, ParseErrorCode::ContentLength);
}

TEST(Parser, ContentLengthBothWays) {
  std::string longer = kInvite;
  longer.replace(longer.find("Content-Length: 4"), 17, "Content-Length: 9");
  auto e = must_fail(longer);
  EXPECT_EQ(e.code, ParseErrorCode::BodyTruncated);
  EXPECT_EQ(e.declared, 9u);
  EXPECT_EQ(e.available, 4u);
  EXPECT_EQ(e.header, HeaderId::ContentLength);
  EXPECT_NE(e.describe().find("declares 9 body bytes but only 4"), std::string::npos);
  std::string shorter = kInvite;
  shorter.replace(shorter.find("Content-Length: 4"), 17, "Content-Length: 2");
  Message m = must_parse(shorter);
  EXPECT_EQ(m.body(), "v=");
  EXPECT_EQ(m.trailing_bytes(), 2u);
  std::string negative = kInvite;
  negative.replace(negative.find("Content-Length: 4"), 17, "Content-Length: -4");
  EXPECT_EQ(must_fail(negative).code, ParseErrorCode::HeaderValue);
}

TEST(Parser, StartLineErrors) {
  auto req = [](const std::string& line) {
    return must_fail(line + "\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCall-ID: x\r\n"
                            "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
  };
  EXPECT_EQ(req("INVITE  sip:a@b SIP/2.0").code, ParseErrorCode::StartLine);
  EXPECT_EQ(req("INVITE sip:a@b SIP/2.0 ").code, ParseErrorCode::StartLine);
  EXPECT_EQ(req("INVITE <sip:a@b> SIP/2.0").code, ParseErrorCode::RequestUri);
  EXPECT_EQ(req("INVITE sip:a@b;x SIP/2.0 SIP/2.0").code, ParseErrorCode::RequestUri);
  EXPECT_EQ(req("INVITE sip:a@b SIP/7.0").code, ParseErrorCode::Version);
  EXPECT_EQ(req("INVITE sip:a@b HTTP/1.1").code, ParseErrorCode::StartLine);
  EXPECT_EQ(req("INVITE").code, ParseErrorCode::StartLine);
  EXPECT_EQ(req(" INVITE sip:a@b SIP/2.0").code, ParseErrorCode::StartLine);
  EXPECT_EQ(req("SIP/2.0 1000 Too big").code, ParseErrorCode::StatusCode);
  EXPECT_EQ(req("SIP/2.0 099 Too small").code, ParseErrorCode::StatusCode);
  EXPECT_EQ(req("SIP/2.0 20 Short").code, ParseErrorCode::StatusCode);
  EXPECT_EQ(req("SIP/3.0 200 OK").code, ParseErrorCode::Version);
}

TEST(Parser, MissingAndDuplicateHeaders) {
  auto e = must_fail("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n");
  EXPECT_EQ(e.code, ParseErrorCode::MissingHeader);
  EXPECT_EQ(e.header, HeaderId::From);
  auto d = must_fail(
      "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCall-ID: x\r\n"
      "Call-ID: y\r\nCSeq: 1 OPTIONS\r\n\r\n");
  EXPECT_EQ(d.code, ParseErrorCode::DuplicateHeader);
  EXPECT_EQ(d.header, HeaderId::CallId);
  EXPECT_EQ(d.offset, std::string("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCall-ID: x\r\n").size());
  auto m = must_fail(
      "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCall-ID: x\r\n"
      "CSeq: 1 INVITE\r\n\r\n");
  EXPECT_EQ(m.code, ParseErrorCode::CSeqMethodMismatch);
}

TEST(Parser, HeaderLineErrorsNameTheHeaderAndOffset) {
  const std::string prefix = "OPTIONS sip:a@b SIP/2.0\r\n";
  auto e = must_fail(prefix + "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n\r\n");
  EXPECT_EQ(e.code, ParseErrorCode::HeaderValue);
  EXPECT_EQ(e.header_name, "Via");
  EXPECT_EQ(e.offset, prefix.size() + std::string("Via: SIP/2.0/UDP 192.0.2.15;").size());
  auto n = must_fail(prefix + "Bad Header: x\r\n\r\n");
  EXPECT_EQ(n.code, ParseErrorCode::HeaderName);
  EXPECT_EQ(n.offset, prefix.size() + 4);  // where the ':' should be
  auto c = must_fail(prefix + " continuation first\r\n\r\n");
  EXPECT_EQ(c.code, ParseErrorCode::HeaderName);
  auto u = must_fail(prefix + "Via: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\n");
  EXPECT_EQ(u.code, ParseErrorCode::HeadersUnterminated);
}

TEST(Parser, EmptyInput) {
  EXPECT_EQ(must_fail("").code, ParseErrorCode::Empty);
  EXPECT_EQ(must_fail("\r\n\r\n").code, ParseErrorCode::Empty);
}

TEST(Parser, ToleratedMalformedPHeaderIsRecordedNotFatal) {
  Message m = must_parse(
      "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
      "Call-ID: x\r\nCSeq: 1 INVITE\r\nP-Asserted-Identity: <sip:0498765432100@<null>>\r\n"
      "P-Asserted-Identity: <tel:+15551230001>\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(m.defects().size(), 1u);
  EXPECT_EQ(m.defects()[0].header, HeaderId::PAssertedIdentity);
  // The good value is typed; the bad one is only kept as text.
  ASSERT_EQ(m.name_addrs(HeaderId::PAssertedIdentity).size(), 1u);
  EXPECT_EQ(m.name_addrs(HeaderId::PAssertedIdentity).first()->uri.kind, UriScheme::Tel);
  EXPECT_EQ(m.count(HeaderId::PAssertedIdentity), 2u);
}

// --- bad input: bounded time and memory, precise verdicts ------------------

const std::string kHead =
    "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
    "Call-ID: x\r\nCSeq: 1 OPTIONS\r\n";

TEST(ParserBadInput, EveryPrefixOfAValidMessageFailsCleanly) {
  const std::string full = kInvite;
  for (std::size_t n = 0; n < full.size(); ++n) {
    Message m;
    auto r = parse(std::string_view(full).substr(0, n), m, ParseMode::Stream);
    EXPECT_FALSE(r) << "prefix of " << n << " bytes parsed";
  }
  EXPECT_TRUE(parse(full, ParseMode::Stream));
}

TEST(ParserBadInput, NulBytes) {
  std::string nul_in_unknown = kHead + "X-Thing: a";
  nul_in_unknown.push_back('\0');
  nul_in_unknown += "b\r\nContent-Length: 0\r\n\r\n";
  auto e = must_fail(nul_in_unknown);
  EXPECT_EQ(e.header_name, "X-Thing");
  EXPECT_EQ(e.offset, nul_in_unknown.find('\0'));
  std::string nul_in_uri = "OPTIONS sip:a";
  nul_in_uri.push_back('\0');
  nul_in_uri += "@b SIP/2.0\r\n\r\n";
  EXPECT_EQ(must_fail(nul_in_uri).code, ParseErrorCode::RequestUri);
  // A NUL after a backslash in a quoted string is a legal quoted-pair.
  std::string quoted = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: \"x\\";
  quoted.push_back('\0');
  quoted += "\" <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
  EXPECT_TRUE(parse(quoted));
}

TEST(ParserBadInput, HugeHeaderLine) {
  const std::string big = kHead + "Subject: " + std::string(64 * 1024, 'a') + "\r\nContent-Length: 0\r\n\r\n";
  Message m = must_parse(big);
  EXPECT_EQ(m.find(HeaderId::Subject)->value.size(), 64u * 1024);
  const std::string big_uri = "OPTIONS sip:" + std::string(64 * 1024, 'u') + "@b SIP/2.0\r\n\r\n";
  EXPECT_EQ(must_fail(big_uri).code, ParseErrorCode::MissingHeader);
}

TEST(ParserBadInput, TenThousandHeaders) {
  std::string many = kHead;
  for (int i = 0; i < 10000; ++i) many += "X-H: " + std::to_string(i) + "\r\n";
  many += "\r\n";
  auto e = must_fail(many);
  EXPECT_EQ(e.code, ParseErrorCode::TooManyHeaders);
  ParseLimits generous;
  generous.max_headers = 20000;
  Message m;
  ASSERT_TRUE(parse(many, m, ParseMode::Datagram, generous));
  EXPECT_EQ(m.headers().size(), 10005u);
}

TEST(ParserBadInput, DeepNestingOfQuotesAndBrackets) {
  std::string deep = kHead + "Contact: " + std::string(20000, '<') + "sip:a@b" + std::string(20000, '>') + "\r\n\r\n";
  EXPECT_EQ(must_fail(deep).header, HeaderId::Contact);
  std::string quotes = kHead + "Contact: " + std::string(20001, '"') + "<sip:a@b>\r\n\r\n";
  EXPECT_EQ(must_fail(quotes).header, HeaderId::Contact);
  std::string comment = kHead + "Retry-After: 5 " + std::string(20000, '(') + "\r\n\r\n";
  EXPECT_EQ(must_fail(comment).header, HeaderId::RetryAfter);
}

TEST(ParserBadInput, InvalidUtf8) {
  EXPECT_EQ(must_fail(kHead + "Subject: caf\xc3\r\n\r\n").header, HeaderId::Subject);
  EXPECT_EQ(must_fail(kHead + "To2: \"\xff\" <sip:a@b>\r\n\r\n").code, ParseErrorCode::HeaderValue);
  auto reason = must_fail("SIP/2.0 200 O\xc0\xafK\r\n\r\n");
  EXPECT_EQ(reason.code, ParseErrorCode::StartLine);
}

TEST(ParserBadInput, MessageTooLarge) {
  ParseLimits small;
  small.max_message_bytes = 100;
  Message m;
  auto r = parse(kInvite, m, ParseMode::Datagram, small);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ParseErrorCode::MessageTooLarge);
}

TEST(ParserBadInput, MessageIsReusableAfterAnError) {
  Message m;
  ASSERT_FALSE(parse(kHead + "Via: bad\r\n\r\n", m));
  ASSERT_TRUE(parse(kInvite, m));
  EXPECT_EQ(m.vias().size(), 1u);
  EXPECT_EQ(m.supported().size(), 3u);
}

}  // namespace
}  // namespace imsflow::sip

// Property: for generated messages, build → serialize → parse gives back the
// values that were built. Seeded, so every run checks the same 2,000 messages.
#include <gtest/gtest.h>

#include <random>

#include "sip/builder.hpp"
#include "sip/parser.hpp"

namespace imsflow::sip {
namespace {

class Generator {
 public:
  explicit Generator(unsigned seed) : rng_(seed) {}

  int number(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool coin() { return number(0, 1) == 1; }

  std::string from_alphabet(std::string_view alphabet, int min_len, int max_len) {
    std::string s;
    const int n = number(min_len, max_len);
    for (int i = 0; i < n; ++i) s.push_back(alphabet[number(0, static_cast<int>(alphabet.size()) - 1)]);
    return s;
  }
  std::string token() { return from_alphabet("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~", 1, 12); }
  std::string hostname() {
    std::string h = from_alphabet("abcdefghijklmnopqrstuvwxyz", 1, 1) + from_alphabet("abcdefghijklmnopqrstuvwxyz0123456789-", 0, 8);
    for (int i = number(0, 3); i > 0; --i) h += "." + from_alphabet("abcdefghijklmnopqrstuvwxyz", 1, 6);
    return h;
  }
  std::string host() {
    switch (number(0, 2)) {
      case 0: return hostname();
      case 1: return std::to_string(number(1, 255)) + "." + std::to_string(number(0, 255)) + "." +
                     std::to_string(number(0, 255)) + "." + std::to_string(number(1, 254));
      default: return "[2001:db8::" + std::to_string(number(1, 9999)) + "]";
    }
  }
  std::string user() { return from_alphabet("abcdefghijklmnopqrstuvwxyz0123456789+-_.!~*'()&=$,;?/", 1, 16); }
  std::string display_name() {
    // Quoted, with escapes and UTF-8.
    std::string d;
    for (int i = number(1, 10); i > 0; --i) {
      switch (number(0, 4)) {
        case 0: d += "\\\""; break;
        case 1: d += "\xc3\xa9"; break;  // é
        case 2: d += " "; break;
        default: d += from_alphabet("abcdefghijklmnopqrstuvwxyz", 1, 3);
      }
    }
    return d;
  }

 private:
  std::mt19937 rng_;
};

struct Built {
  std::string method, user, host, branch, from_tag, call_id, display, supported;
  int port = 0;
  unsigned cseq = 0, max_forwards = 0, rseq = 0;
  std::string body;
  std::string text;
};

Built generate(Generator& g) {
  static const char* kMethods[] = {"INVITE", "PRACK", "UPDATE", "BYE", "OPTIONS", "MESSAGE"};
  Built b;
  b.method = kMethods[g.number(0, 5)];
  b.user = g.user();
  b.host = g.host();
  b.port = g.number(1, 65535);
  b.branch = "z9hG4bK" + g.token();
  b.from_tag = g.token();
  b.call_id = g.token() + "@" + g.hostname();
  b.display = g.display_name();
  b.cseq = static_cast<unsigned>(g.number(1, 2147483647));
  b.max_forwards = static_cast<unsigned>(g.number(0, 255));
  b.rseq = static_cast<unsigned>(g.number(1, 2147483647));
  b.supported = g.token();
  if (g.coin()) b.body = g.from_alphabet("abcdefghij\r\n\0 ", 0, 200);
  MessageBuilder mb = MessageBuilder::request(b.method, "sip:" + b.user + "@" + b.host + ":" + std::to_string(b.port));
  mb.add(HeaderId::Via, "SIP/2.0/UDP " + b.host + ";branch=" + b.branch + (g.coin() ? ";rport" : ""))
      .add(HeaderId::From, "\"" + b.display + "\" <sip:" + b.user + "@" + b.host + ">;tag=" + b.from_tag)
      .add(HeaderId::To, "<sip:" + g.user() + "@" + g.host() + ">")
      .add(HeaderId::CallId, b.call_id)
      .add(HeaderId::CSeq, std::to_string(b.cseq) + " " + b.method)
      .add(HeaderId::MaxForwards, std::to_string(b.max_forwards))
      .add(HeaderId::Supported, b.supported + ", 100rel")
      .add(HeaderId::RSeq, std::to_string(b.rseq))
      .add(g.token() + "-X", g.token());
  if (!b.body.empty()) mb.set_body("application/octet-stream", b.body);
  b.text = mb.serialize();
  return b;
}

TEST(Property, BuildSerializeParseGivesBackTheValues) {
  Generator g(20261124);
  for (int i = 0; i < 2000; ++i) {
    const Built b = generate(g);
    SCOPED_TRACE(b.text);
    for (ParseMode mode : {ParseMode::Datagram, ParseMode::Stream}) {
      Message m;
      auto r = parse(b.text, m, mode);
      ASSERT_TRUE(r) << r.error().describe();
      EXPECT_EQ(*r, b.text.size());
      EXPECT_EQ(m.method_text(), b.method);
      EXPECT_EQ(m.request_uri().user, b.user);
      EXPECT_EQ(m.request_uri().host, b.host);
      EXPECT_EQ(m.request_uri().port, b.port);
      EXPECT_EQ(m.top_via()->branch, b.branch);
      EXPECT_EQ(m.from()->tag(), b.from_tag);
      EXPECT_EQ(m.from()->display_name, b.display);
      EXPECT_EQ(m.call_id(), b.call_id);
      EXPECT_EQ(m.cseq()->number, b.cseq);
      EXPECT_EQ(m.max_forwards(), b.max_forwards);
      EXPECT_EQ(m.rseq(), b.rseq);
      EXPECT_TRUE(m.lists(HeaderId::Supported, b.supported));
      EXPECT_EQ(m.body(), b.body);
      EXPECT_EQ(MessageBuilder::copy_of(m).serialize(), b.text);
    }
  }
}

TEST(Property, ResponsesBuiltFromGeneratedRequestsParse) {
  Generator g(7);
  for (int i = 0; i < 500; ++i) {
    const Built b = generate(g);
    Message req;
    ASSERT_TRUE(parse(b.text, req));
    const int status = std::array{100, 180, 183, 200, 404, 486, 503}[static_cast<std::size_t>(g.number(0, 6))];
    Message resp;
    const std::string text = MessageBuilder::response_to(req, status, "t" + std::to_string(i)).serialize();
    ASSERT_TRUE(parse(text, resp)) << text;
    EXPECT_EQ(resp.status_code(), status);
    EXPECT_EQ(resp.call_id(), b.call_id);
    EXPECT_EQ(resp.top_via()->branch, b.branch);
    EXPECT_EQ(resp.cseq()->number, b.cseq);
    EXPECT_EQ(resp.to()->tag().has_value(), status != 100);
  }
}

}  // namespace
}  // namespace imsflow::sip

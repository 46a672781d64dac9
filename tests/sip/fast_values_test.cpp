// The parser's one-pass readers (sip/fast_values.hpp) against the general
// grammars: on the shapes they take they must give the same entries, view for
// view; on every other shape they must step aside, so that the general
// grammar's verdict and error stand. fuzz_sip_values and fuzz_sip_parse keep
// checking the same on generated input.
#include "sip/fast_values.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "general_grammar_check.hpp"
#include "shared_data.hpp"
#include "sip/parser.hpp"

namespace imsflow::sip {
namespace {

using test::grammar_check::diff;

// A readable buffer where the value is followed by bytes a run could take
// (token, hostname and URI characters), so that a reader that looks ahead to
// `limit` but decides past `end` shows up.
struct Placed {
  explicit Placed(std::string_view value) : buffer(std::string(value) + "abc123-._~!*+%&=;,:@\"") {}
  const char* begin() const { return buffer.data(); }
  const char* end() const { return buffer.data() + buffer.size() - 21; }
  const char* limit() const { return buffer.data() + buffer.size(); }
  std::string buffer;
};

template <class T, class Fast, class General>
void expect_fast_equals_general(std::string_view value, Fast&& fast, General&& general) {
  SCOPED_TRACE(std::string(value));
  Placed placed(value);
  T quick{};
  const char* stop = fast(placed.begin(), placed.end(), placed.limit(), quick);
  ASSERT_EQ(stop, placed.end()) << "the one-pass reader should take this whole value";
  T slow{};
  Scanner s(std::string_view(placed.begin(), value.size()));
  ASSERT_FALSE(general(s, slow)) << "the general grammar should accept this value";
  s.skip_lws();
  ASSERT_TRUE(s.at_end());
  EXPECT_EQ(diff(quick, slow), "");
}

template <class T, class Fast>
void expect_fast_steps_aside(std::string_view value, Fast&& fast) {
  SCOPED_TRACE(std::string(value));
  Placed placed(value);
  T quick{};
  EXPECT_NE(fast(placed.begin(), placed.end(), placed.limit(), quick), placed.end());
}

TEST(FastValues, NameAddrCommonShapesEqualTheGeneralGrammar) {
  auto general = [](Scanner& s, NameAddr& na) { return parse_name_addr(s, false, na); };
  for (std::string_view v : {
           "<sip:127.0.0.1:5060;lr>",
           "<sip:+15551230001@ims.mnc001.mcc001.3gppnetwork.org>;tag=14080SIPpTag001",
           "<tel:+15551230002>",
           "\"Alice Smith\" <sip:alice@example.com>;tag=a73kszlfl",
           "\"\"<sip:anonymous@anonymous.invalid>",
           "<sip:+15551230001@127.0.0.1:5070;transport=udp>;+sip.instance=\"<urn:gsma:imei:35209900-176148-0>\";"
           "+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\";audio",
           "<sip:user:secret@host.example.com:5061;maddr=239.255.255.1;ttl=15?Subject=hi>;expires=600;q=0.5",
           "<urn:service:sos>",
           "<sip:10.0.0.1>;received=10.0.0.2;x=[2001:db8::1]",
           "<sip:host>; tag=spaced",
       }) {
    expect_fast_equals_general<NameAddr>(v, internal::fast_name_addr, general);
  }
}

TEST(FastValues, NameAddrOtherShapesAreLeftToTheGeneralGrammar) {
  for (std::string_view v : {
           "Alice <sip:alice@example.com>",       // token display name
           "sip:alice@example.com;tag=1",         // addr-spec without brackets
           "<sip:alice@example.com> ;tag=1",      // LWS before a parameter
           "<sip:alice@example.com>;tag = 1",     // LWS around '='
           "\"Al\\\"ice\" <sip:a@b>",             // quoted-pair in the display name
           "\"J\xc3\xbcrgen\" <sip:j@b>",         // UTF-8 in the display name
           "<sip:[2001:db8::1]:5060>",            // IPv6 reference
           "<sip:a@b>;tag=\"unterminated",        // no closing quote before the end
           "<sip:a@b>;tag=",                      // empty value
           "<sip:a@b>;=x",                        // empty name
           "<sip:a@b",                            // no '>'
           "<sip:a@b>garbage",
           "",
       }) {
    expect_fast_steps_aside<NameAddr>(v, internal::fast_name_addr);
  }
}

TEST(FastValues, ViaCommonShapesEqualTheGeneralGrammar) {
  auto general = [](Scanner& s, Via& via) { return parse_via(s, via); };
  for (std::string_view v : {
           "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-14080-1-0;rport",
           "SIP/2.0/TCP pcscf.ims.mnc001.mcc001.3gppnetwork.org;branch=z9hG4bKabc;received=10.1.2.3;rport=5060",
           "SIP/2.0/UDP   host_with_underscore:0",
           "SIP/2.0/TLS 1.2.3.4.5;branch=\"quoted\";branch=second",
           "SIP/2.0/UDP 10.0.0.1;received=2001:db8::1",
           "SIP/2.0/UDP 10.0.0.1;received=[2001:db8::1];x",
       }) {
    expect_fast_equals_general<Via>(v, internal::fast_via, general);
  }
}

TEST(FastValues, ViaOtherShapesAreLeftToTheGeneralGrammar) {
  for (std::string_view v : {
           "SIP / 2.0 / UDP host",               // LWS around '/'
           "SIP/2.0/UDP [2001:db8::1]:5060",     // IPv6 sent-by
           "SIP/2.0/UDP host : 5060",            // LWS around ':'
           "SIP/2.0/UDP host:65536",             // port out of range
           "SIP/2.0/UDP host:",                  // no port digits
           "SIP/2.0/UDP .host",                  // bad hostname
           "SIP/2.0/UDP host;received=not-an-ip",
           "SIP/2.0/UDP host;rport=x",
           "SIP/2.0/UDP host;rport=70000",
           "SIP/2.0/UDPhost",
           "SIP/2.0/UDP",
       }) {
    expect_fast_steps_aside<Via>(v, internal::fast_via);
  }
}

TEST(FastValues, ParamValueCommonShapesEqualTheGeneralGrammar) {
  auto general = [](Scanner& s, ParamValue& pv) { return parse_param_value(s, false, pv); };
  for (std::string_view v : {
           "application/sdp",
           "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=0010100010019B01",
           "*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"",
           "urn:urn-7:3gpp-service.ims.icsi.mmtel",
           "icid-value=1234bc9876e;icid-generated-at=192.0.2.1;orig-ioi=home1.net",
           "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064",
           "caf\xc3\xa9",
       }) {
    expect_fast_equals_general<ParamValue>(v, [](const char* p, const char* e, const char* l, ParamValue& pv) {
      return internal::fast_param_value(p, e, l, false, pv);
    }, general);
  }
}

TEST(FastValues, ParamValueOtherShapesAreLeftToTheGeneralGrammar) {
  auto fast = [](const char* p, const char* e, const char* l, ParamValue& pv) {
    return internal::fast_param_value(p, e, l, false, pv);
  };
  for (std::string_view v : {
           "\"quoted\"",
           "<sip:a@b>",
           "SIP ;cause=200",           // LWS before the parameters
           "Q.850;text=\"a \\\" b\"",  // quoted-pair
           "a\x01" "b",                // control character
           ";x=1",                     // no value
       }) {
    expect_fast_steps_aside<ParamValue>(v, fast);
  }
}

TEST(FastValues, CSeqAndCallIdCommonShapesOnly) {
  for (std::string_view v : {"1 INVITE", "4294967295 ACK", "0007\tPRACK", "12 x-custom"}) {
    SCOPED_TRACE(std::string(v));
    Placed placed(v);
    CSeq quick;
    ASSERT_TRUE(internal::fast_cseq(placed.begin(), placed.end(), placed.limit(), quick));
    auto slow = parse_cseq(std::string_view(placed.begin(), v.size()));  // the same bytes, for the views
    ASSERT_TRUE(slow);
    EXPECT_EQ(quick.number, slow->number);
    EXPECT_EQ(quick.method, slow->method);
    EXPECT_TRUE(test::grammar_check::same(quick.method_text, slow->method_text));
  }
  for (std::string_view v : {"4294967296 ACK", "00000000001 ACK", "1INVITE", "1 ", " 1 ACK", "1 INVITE x", "x ACK"}) {
    SCOPED_TRACE(std::string(v));
    Placed placed(v);
    CSeq quick;
    EXPECT_FALSE(internal::fast_cseq(placed.begin(), placed.end(), placed.limit(), quick));
  }
  for (std::string_view v : {"1-14080@127.0.0.1", "a84b4c76e66710", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com",
                             "<weird>{id}@[::1]"}) {
    Placed placed(v);
    EXPECT_TRUE(internal::fast_call_id(placed.begin(), placed.end(), placed.limit())) << v;
    EXPECT_FALSE(check_call_id(v)) << v;
  }
  for (std::string_view v : {"a@", "@b", "a@b@c", "a b", "", "a;b"}) {
    Placed placed(v);
    EXPECT_FALSE(internal::fast_call_id(placed.begin(), placed.end(), placed.limit())) << v;
  }
}

TEST(FastValues, TokenRunsStopWhereTheValueEnds) {
  Placed placed("timer");
  EXPECT_EQ(internal::fast_token(placed.begin(), placed.end(), placed.limit()), placed.end());
  const std::string list = "100rel,\tprecondition";
  const char* end = list.data() + list.size();
  const char* comma = internal::fast_token(list.data(), end, end);
  ASSERT_EQ(std::string_view(list.data(), static_cast<std::size_t>(comma - list.data())), "100rel");
  EXPECT_EQ(internal::fast_next_element(comma, end), list.data() + 8);
  EXPECT_EQ(internal::fast_next_element(end, end), nullptr);
  EXPECT_EQ(internal::fast_next_element(nullptr, end), nullptr);
  const std::string trailing = "a, ";
  EXPECT_EQ(internal::fast_next_element(trailing.data() + 1, trailing.data() + trailing.size()), nullptr);
}

// The whole-list reader (one classification of up to 64 bytes) against the
// token by token one: on every list it takes, the same tokens at the same
// addresses; the lists it leaves are the token by token reader's to judge,
// and a list it takes is one that reader takes whole too.
TEST(FastValues, TokenListInOneGoEqualsTokenByToken) {
  std::mt19937 rng(29);
  constexpr std::string_view kTokens[] = {"100rel", "precondition", "timer", "INVITE", "a", "x-y.z", "tok~en", "%*+!"};
  constexpr std::string_view kJoins[] = {",", ", ", ",\t", ",  ", " ,", ",,", " ", ";"};
  int taken = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string value;
    const int n = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) {
      if (k > 0) value += kJoins[rng() % 8 < 5 ? rng() % 3 : rng() % std::size(kJoins)];
      value += kTokens[rng() % std::size(kTokens)];
    }
    if (rng() % 16 == 0) value += ',';
    if (rng() % 16 == 0) value.insert(0, " ");
    // With 64 readable bytes after the value's start, and without.
    for (const bool roomy : {true, false}) {
      const std::string buffer = roomy ? value + std::string(64, 'a') : value;
      const char* b = buffer.data();
      const char* e = b + value.size();
      std::vector<std::string_view> whole;
      const bool took = internal::fast_token_list(b, e, b + buffer.size(), [&](std::string_view t) { whole.push_back(t); });
      if (!took) {
        EXPECT_TRUE(whole.empty());
        continue;
      }
      ++taken;
      std::vector<std::string_view> one_by_one;
      const char* p = b;
      while (p != nullptr) {
        const char* q = internal::fast_token(p, e, b + buffer.size());
        ASSERT_NE(q, p) << value;
        one_by_one.emplace_back(p, static_cast<std::size_t>(q - p));
        if (q == e) break;
        p = internal::fast_next_element(q, e);
        ASSERT_NE(p, nullptr) << "the whole-list reader took a list the token by token one refuses: " << value;
      }
      ASSERT_EQ(whole.size(), one_by_one.size()) << value;
      for (std::size_t i = 0; i < whole.size(); ++i) {
        EXPECT_EQ(whole[i].data(), one_by_one[i].data()) << value;
        EXPECT_EQ(whole[i].size(), one_by_one[i].size()) << value;
      }
    }
  }
  EXPECT_GT(taken, 2000);
}

// Whole messages: the parser's tables equal the general grammars' for every
// header, whichever reader took it.
std::string message_with(std::string_view extra_headers) {
  std::string m =
      "OPTIONS sip:bob@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
      "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n"
      "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n";
  m += extra_headers;
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

TEST(FastValues, MixedShapesInOneHeaderKeepTheGeneralResult) {
  for (std::string_view extra : {
           "Route: <sip:p1;lr>, <sip:p2;lr>\r\n",
           "Route: <sip:p1;lr>,Proxy <sip:p2;lr>\r\n",          // second element of another shape
           "Route: <sip:p1;lr> , <sip:p2;lr>\r\n",
           "Contact: <sip:a@b>;expires=60, sip:c@d;q=0.1\r\n",
           "Via: SIP/2.0/UDP h1;branch=z9hG4bKa, SIP / 2.0 / TCP h2\r\n",
           "Supported: 100rel, precondition,timer\r\n",
           "Supported: 100rel , timer\r\nRequire:\r\n",
           "Accept-Contact: *;+g.3gpp.icsi-ref=\"x\", *;audio\r\n",
           "P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=00101\r\n",
           "Accept:\r\nAllow: INVITE,ACK\r\n",
       }) {
    SCOPED_TRACE(std::string(extra));
    const std::string bytes = message_with(extra);
    Message m;
    auto r = parse(bytes, m);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(test::recheck_with_general_grammars(m), "");
  }
}

TEST(FastValues, ErrorsComeFromTheGeneralGrammar) {
  // Each header starts with a shape a one-pass reader takes and then breaks,
  // or breaks a check made after the reader: the verdict and the offset (the
  // end of the value, where each of these grammars stops) are the general
  // grammar's.
  struct Case {
    std::string_view name;
    std::string_view value;
    std::string_view expected;
    bool at_value_end;  // else at the value's first byte
  };
  for (const Case& c : {
           Case{"Route", "<sip:p1;lr>,", "an element (empty list element)", true},
           Case{"Supported", "100rel,", "an element (empty list element)", true},
           Case{"Contact", "<sip:a@b>;expires=", "a parameter value after '='", true},
           Case{"Via", "SIP/2.0/UDP host;rport=x", "a port number in rport", true},
           Case{"RSeq", "0", "an RSeq from 1 to 4294967295", false},
           Case{"Max-Forwards", "256", "a number from 0 to 255", false},
           Case{"Content-Length", "4294967296", "a number no larger than 4294967295", false},
           Case{"Content-Type", "application", "a media type 'type/subtype'", false},
           Case{"Content-Type", "application/sdp/x", "a media type 'type/subtype'", false},
           Case{"Session-Expires", "1800x;refresher=uac", "delta-seconds (a number of seconds)", false},
           Case{"Min-SE", "ninety", "delta-seconds (a number of seconds)", false},
       }) {
    const std::string header = std::string(c.name) + ": " + std::string(c.value) + "\r\n";
    SCOPED_TRACE(header);
    const std::string bytes = message_with(header);
    auto r = parse(bytes);
    ASSERT_FALSE(r);
    EXPECT_STREQ(r.error().expected, c.expected.data());
    const std::size_t value_at = bytes.find(header) + c.name.size() + 2;
    EXPECT_EQ(r.error().offset, c.at_value_end ? value_at + c.value.size() : value_at);
  }
}

TEST(FastValues, NumberHeadersTakeWhatTheGeneralGrammarTakes) {
  struct Case {
    std::string_view header;
    std::uint32_t expires;
  };
  for (const Case& c : {Case{"Expires: 4294967295\r\n", 4294967295u}, Case{"Expires: 00000000001\r\n", 1u},
                        Case{"Expires: 0\r\n", 0u}, Case{"Expires: 0000000000000000000000007\r\n", 7u}}) {
    SCOPED_TRACE(std::string(c.header));
    const std::string bytes = message_with(c.header);
    Message m;
    auto r = parse(bytes, m);
    ASSERT_TRUE(r) << r.error().describe();
    ASSERT_TRUE(m.expires());
    EXPECT_EQ(*m.expires(), c.expires);
    EXPECT_EQ(test::recheck_with_general_grammars(m), "");
  }
  const std::string rseq = message_with("RSeq: 1\r\nMax-Forwards: 255\r\n");
  Message m;
  ASSERT_TRUE(parse(rseq, m));
  EXPECT_EQ(m.rseq(), 1u);
  EXPECT_EQ(m.max_forwards(), 255u);
}

std::vector<std::filesystem::path> message_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    const auto ext = e.path().extension();
    if (ext == ".sip" || ext == ".dat") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t recheck_files(const std::vector<std::filesystem::path>& files) {
  std::size_t parsed = 0;
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    const std::string bytes = test::read_file(file);
    for (ParseMode mode : {ParseMode::Datagram, ParseMode::Stream}) {
      Message m;
      if (!parse(bytes, m, mode)) continue;
      ++parsed;
      EXPECT_EQ(test::recheck_with_general_grammars(m), "");
    }
  }
  return parsed;
}

TEST(FastValues, RecordedMessagesGiveTheGeneralGrammarsEntries) {
  EXPECT_GE(recheck_files(message_files(test::data_dir() / "messages")), 9u);
}

TEST(FastValues, SharedMessagesAndTortureTestsGiveTheGeneralGrammarsEntries) {
  IMSFLOW_REQUIRE_SHARED("messages");
  IMSFLOW_REQUIRE_SHARED("conformance/sip-torture");
  std::vector<std::filesystem::path> files = message_files(test::shared_dir() / "messages");
  for (const auto& f : message_files(test::shared_dir() / "conformance/sip-torture")) files.push_back(f);
  EXPECT_GE(recheck_files(files), 40u);
}

}  // namespace
}  // namespace imsflow::sip

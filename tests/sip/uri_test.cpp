#include "sip/uri.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace imsflow::sip {
namespace {

Uri must_parse(std::string_view text) {
  auto u = parse_uri(text);
  EXPECT_TRUE(u.has_value()) << text << ": " << (u ? "" : u.error().expected);
  return u ? *u : Uri{};
}

TEST(Uri, SipWithUserPortParamsAndHeaders) {
  Uri u = must_parse("sips:alice:secret@Example.COM:5061;transport=tcp;lr?Subject=hi&Priority=urgent");
  EXPECT_EQ(u.kind, UriScheme::Sips);
  EXPECT_EQ(u.user, "alice");
  EXPECT_EQ(u.password, "secret");
  EXPECT_EQ(u.host, "Example.COM");
  EXPECT_EQ(u.host_kind, HostKind::Name);
  EXPECT_TRUE(u.has_port);
  EXPECT_EQ(u.port, 5061);
  EXPECT_EQ(u.param("transport"), "tcp");
  EXPECT_EQ(u.param("LR"), "");  // present, no value; names are case-insensitive
  EXPECT_FALSE(u.param("maddr"));
  EXPECT_EQ(u.headers, "Subject=hi&Priority=urgent");
}

TEST(Uri, ImsTelephoneStyleSipUri) {
  Uri u = must_parse("sip:+15551230002@ims.mnc001.mcc001.3gppnetwork.org;user=phone");
  EXPECT_EQ(u.user, "+15551230002");
  EXPECT_EQ(u.param("user"), "phone");
  EXPECT_FALSE(u.has_port);
}

TEST(Uri, TelUri) {
  Uri u = must_parse("tel:+1-555-123-0002;phone-context=ims.example.org");
  EXPECT_EQ(u.kind, UriScheme::Tel);
  EXPECT_EQ(u.user, "+1-555-123-0002");
  EXPECT_EQ(u.param("phone-context"), "ims.example.org");
  EXPECT_FALSE(parse_uri("tel:"));
  EXPECT_FALSE(parse_uri("tel:+1 555"));
}

TEST(Uri, Ipv6ReferencesPerRfc5118) {
  Uri good = must_parse("sip:[2001:db8::10]:5070");
  EXPECT_EQ(good.host_kind, HostKind::IPv6);
  EXPECT_EQ(good.host, "[2001:db8::10]");
  EXPECT_EQ(good.host_address(), "2001:db8::10");
  EXPECT_EQ(good.port, 5070);
  Uri ambiguous = must_parse("sip:[2001:db8::10:5070]");
  EXPECT_FALSE(ambiguous.has_port);
  EXPECT_EQ(ambiguous.host_address(), "2001:db8::10:5070");
  EXPECT_TRUE(parse_uri("sip:user@[2001:db8:::192.0.2.1]"));  // tolerated three-colon form
  EXPECT_TRUE(parse_uri("sip:[::ffff:192.0.2.10]:19823"));
  auto bad = parse_uri("sip:2001:db8::10");  // IPv6 without brackets
  ASSERT_FALSE(bad);
  EXPECT_STREQ(bad.error().expected, "a port number from 0 to 65535");
  EXPECT_FALSE(parse_uri("sip:[2001:db8::10"));
  EXPECT_FALSE(parse_uri("sip:[zz::1]"));
}

TEST(Uri, Ipv4Hosts) {
  EXPECT_EQ(must_parse("sip:192.0.2.1").host_kind, HostKind::IPv4);
  EXPECT_EQ(must_parse("sip:u@255.255.255.255:1").host_kind, HostKind::IPv4);
  EXPECT_FALSE(parse_uri("sip:u@host:65536"));
  EXPECT_FALSE(parse_uri("sip:u@host:"));
  EXPECT_FALSE(parse_uri("sip:u@"));
  EXPECT_FALSE(parse_uri("sip:@host"));
  EXPECT_FALSE(parse_uri("sip:u@ho st"));
}

TEST(Uri, UnusualButValidUserParts) {
  // RFC 4475 §3.1.1.2 and §3.1.1.9.
  Uri u = must_parse(
      "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
  EXPECT_EQ(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  EXPECT_EQ(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  EXPECT_EQ(must_parse("sip:user;par=u%40example.net@example.com").user, "user;par=u%40example.net");
  EXPECT_EQ(must_parse("sips:%75se%72@example.com").user, "%75se%72");
}

TEST(Uri, RejectsBadEscapesAndCharacters) {
  auto e = parse_uri("sip:us%4@host");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().offset, 6u);  // the '%'
  EXPECT_FALSE(parse_uri("sip:us<er@host"));
  EXPECT_FALSE(parse_uri("sip:host;=x"));
  EXPECT_FALSE(parse_uri("sip:host;a="));
  EXPECT_FALSE(parse_uri("sip:host?"));
  EXPECT_FALSE(parse_uri("sip:host?a=%zz"));
  EXPECT_FALSE(parse_uri("noscheme"));
  EXPECT_FALSE(parse_uri("1sip:host"));
  EXPECT_FALSE(parse_uri(""));
}

TEST(Uri, OtherSchemesAreOpaque) {
  Uri u = must_parse("urn:service:sos");
  EXPECT_EQ(u.kind, UriScheme::Other);
  EXPECT_EQ(u.scheme, "urn");
  EXPECT_EQ(u.opaque, "service:sos");
  EXPECT_TRUE(parse_uri("soap.beep://192.0.2.103:3002"));
  EXPECT_FALSE(parse_uri("mailto:a b"));
  EXPECT_FALSE(parse_uri("urn:"));
}

// RFC 3261 §19.1.4 examples: equivalent pairs and non-equivalent pairs.
TEST(UriComparison, EquivalentPerRfc3261) {
  auto eq = [](std::string_view a, std::string_view b) {
    return uri_equal(must_parse(a), must_parse(b)) && uri_equal(must_parse(b), must_parse(a));
  };
  EXPECT_TRUE(eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
  EXPECT_TRUE(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
  EXPECT_TRUE(eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;newparam=5"));
  EXPECT_TRUE(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                 "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
  EXPECT_TRUE(eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                 "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));
  EXPECT_TRUE(eq("tel:+1-555-123-0002", "tel:+15551230002"));
}

TEST(UriComparison, NotEquivalentPerRfc3261) {
  auto eq = [](std::string_view a, std::string_view b) { return uri_equal(must_parse(a), must_parse(b)); };
  EXPECT_FALSE(eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));  // user case
  EXPECT_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));  // port present in one
  EXPECT_TRUE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));  // in one only: ignored
  EXPECT_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;maddr=239.255.255.1"));
  EXPECT_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;user=phone"));
  EXPECT_FALSE(eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
  EXPECT_FALSE(eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
  EXPECT_FALSE(eq("sip:a@b", "sips:a@b"));
  EXPECT_FALSE(eq("sip:a@b;ttl=1", "sip:a@b;ttl=2"));
}

TEST(Uri, IpAddressHelper) {
  EXPECT_TRUE(is_ip_address("192.0.2.1"));
  EXPECT_TRUE(is_ip_address("2001:db8::9:255"));
  EXPECT_TRUE(is_ip_address("[2001:db8::9:255]"));
  EXPECT_FALSE(is_ip_address("host.example.com"));
  EXPECT_FALSE(is_ip_address("300.1.1.1"));
}

}  // namespace
}  // namespace imsflow::sip

// --- the one-pass fast path against the general parser ----------------------

namespace imsflow::sip {
namespace {

std::string describe(const Uri& u) {
  auto v = [](std::string_view s) { return s.data() ? "[" + std::string(s) + "]" : std::string("<null>"); };
  return v(u.raw) + v(u.scheme) + std::to_string(static_cast<int>(u.kind)) + v(u.user) + v(u.password) + v(u.host) +
         std::to_string(static_cast<int>(u.host_kind)) + ":" + std::to_string(u.port) + (u.has_port ? "p" : "-") +
         v(u.params.raw()) + v(u.headers) + v(u.opaque);
}

// Whenever the fast path consumes the whole text, the general parser must
// accept it with the same fields; both parse_uri forms agree on everything.
void check_same(const std::string& text) {
  Uri fast;
  const char* end = text.data() + text.size();
  const char* stop = internal::parse_uri_prefix(text.data(), end, fast);
  Uri general;
  auto e = internal::parse_uri_general(text, general);
  if (stop == end) {
    ASSERT_FALSE(e) << text << ": " << e->expected;
    ASSERT_EQ(describe(fast), describe(general)) << text;
  }
  auto pub = parse_uri(text);
  ASSERT_EQ(pub.has_value(), !e) << text;
  if (pub) {
    ASSERT_EQ(describe(*pub), describe(general)) << text;
  } else {
    ASSERT_EQ(pub.error().offset, e->offset) << text;
    ASSERT_STREQ(pub.error().expected, e->expected) << text;
  }
}

TEST(UriFastPath, AgreesWithTheGeneralParser) {
  const std::vector<std::string> samples = {
      "sip:+15551230002@ims.mnc001.mcc001.3gppnetwork.org;user=phone",
      "sip:127.0.0.1:5060;lr",
      "sips:alice:secret@Example.COM:5061;transport=tcp;lr?Subject=hi&Priority=urgent",
      "tel:+15551230002",
      "tel:+1-555-123;phone-context=example.com",
      "urn:urn-7:3gpp-service.ims.icsi.mmtel",
      "sip:%61lice@host",
      "sip:host;a=%41;b",
      "sip:a@b@c",
      "sip:user:@host",
      "sip:@host",
      "sip:host:",
      "sip:host:65535",
      "sip:host:65536",
      "sip:host:0000005060",
      "sip:[2001:db8::1]:5060",
      "sip:1.2.3.4",
      "sip:1.2.3.256",
      "sip:1.2.3",
      "sip:-host",
      "sip:.host",
      "sip:host;;x",
      "sip:host;x=",
      "sip:host;a=b=c",
      "sip:host?",
      "sip:host?a=b&c=%4",
      "sip:host;p=a@b",
      "sip:a:b:c@h",
      "sip:a:1:2@h",
      "SIP:Host",
      "SiPs:Host",
      "tel:12?x",
      "tel:1;a=b?c",
      "x:",
      "1sip:host",
      "sip",
      "sip:host_name.example",
      "sip:u%4@host",
      "sip:host,x",
  };
  for (const std::string& s : samples) check_same(s);
  // Random edits of the samples.
  std::mt19937 rng(5);
  const std::string_view alphabet = "@:;=?&%[]<>.-_+,/ 09afAFsipSIPtel\"\\";
  for (int round = 0; round < 20000; ++round) {
    std::string t = samples[rng() % samples.size()];
    for (int k = 1 + static_cast<int>(rng() % 3); k > 0 && !t.empty(); --k) {
      const std::size_t at = rng() % t.size();
      switch (rng() % 3) {
        case 0: t[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: t.insert(t.begin() + static_cast<std::ptrdiff_t>(at), alphabet[rng() % alphabet.size()]); break;
        default: t.erase(at, 1); break;
      }
    }
    check_same(t);
  }
}

TEST(UriFastPath, StopsAtTheFirstByteThatCannotContinueTheUri) {
  const std::string text = "sip:bob@example.com;lr>;tag=1";
  Uri u;
  const char* stop = internal::parse_uri_prefix(text.data(), text.data() + text.size(), u);
  ASSERT_NE(stop, nullptr);
  EXPECT_EQ(*stop, '>');
  EXPECT_EQ(u.raw, "sip:bob@example.com;lr");
  EXPECT_EQ(u.params.raw(), ";lr");
  Uri v;
  const std::string bad = "sip:b%4xob@example.com>";  // a cut escape: the general parser reports it
  EXPECT_EQ(internal::parse_uri_prefix(bad.data(), bad.data() + bad.size(), v), nullptr);
}

}  // namespace
}  // namespace imsflow::sip

// One test group per header grammar, with the failures each must report.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "sip/header_values.hpp"
#include "sip/parser.hpp"

namespace imsflow::sip {
namespace {

NameAddr name_addr(std::string_view text, bool in_list = false) {
  Scanner s(text);
  auto r = parse_name_addr(s, in_list);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().expected);
  return r ? *r : NameAddr{};
}

SyntaxError name_addr_error(std::string_view text) {
  Scanner s(text);
  auto r = parse_name_addr(s, false);
  EXPECT_FALSE(r.has_value()) << text;
  return r ? SyntaxError{} : r.error();
}

TEST(NameAddrGrammar, QuotedDisplayNameWithEscapes) {
  NameAddr n = name_addr(R"("J Rosenberg \\\"" <sip:jdrosen@example.com>;tag=98asjd8)");
  EXPECT_TRUE(n.display_quoted);
  EXPECT_EQ(n.display_name, R"(J Rosenberg \\\")");
  EXPECT_EQ(n.uri.user, "jdrosen");
  EXPECT_EQ(n.tag(), "98asjd8");
}

TEST(NameAddrGrammar, TokenDisplayNameWithAndWithoutSpaceBeforeBracket) {
  EXPECT_EQ(name_addr("Bob Smith <sip:bob@example.com>").display_name, "Bob Smith");
  EXPECT_EQ(name_addr("caller<sip:caller@example.com>").display_name, "caller");  // RFC 4475 §3.1.1.6
}

TEST(NameAddrGrammar, Utf8DisplayName) {
  NameAddr n = name_addr("\"\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\" <sip:ivan@example.com>");
  EXPECT_EQ(n.display_name, "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd");
  auto e = name_addr_error("\"\xd0\" <sip:ivan@example.com>");
  EXPECT_STREQ(e.expected, "valid UTF-8 in a quoted string");
}

TEST(NameAddrGrammar, AddrSpecParamsBelongToTheHeader) {
  // RFC 4475 §3.3.12: unbracketed, ";unknownparam" is a header parameter.
  NameAddr n = name_addr("sip:+19725552222@gw1.example.net;unknownparam");
  EXPECT_FALSE(n.bracketed);
  EXPECT_TRUE(n.params.has("unknownparam"));
  EXPECT_FALSE(n.uri.params.has("unknownparam"));
  // RFC 4475 §3.3.13: bracketed, it is a URI parameter.
  NameAddr b = name_addr("<sip:+19725552222@gw1.example.net;unknownparam>");
  EXPECT_TRUE(b.uri.params.has("unknownparam"));
  EXPECT_FALSE(b.params.has("unknownparam"));
}

TEST(NameAddrGrammar, FeatureTagsOnContact) {
  NameAddr c = name_addr(
      "<sip:+15551230001@127.0.0.1:5070;transport=udp>;+sip.instance=\"<urn:gsma:imei:35209900-176148-0>\";"
      "+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\";audio;expires=600000");
  EXPECT_EQ(unquote(*c.param("+sip.instance")), "<urn:gsma:imei:35209900-176148-0>");
  EXPECT_EQ(unquote(*c.param("+g.3gpp.icsi-ref")), "urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel");
  EXPECT_TRUE(c.params.has("audio"));
  EXPECT_EQ(c.param("expires"), "600000");
  EXPECT_EQ(c.uri.param("transport"), "udp");
}

TEST(NameAddrGrammar, Failures) {
  EXPECT_STREQ(name_addr_error("\"unterminated <sip:a@b>").expected, "a closing '\"' for this quoted string");
  EXPECT_STREQ(name_addr_error("< sip:a@b >").expected, "no whitespace inside '<' '>'");
  EXPECT_STREQ(name_addr_error("<sip:a@b").expected, "a '>' closing this '<'");
  EXPECT_STREQ(name_addr_error("Watson, Thomas <sip:t@example.org>").expected,
               "a quoted display name (it has characters outside token) or '<'");
  EXPECT_STREQ(name_addr_error("sip:user@example.com?Route=%3Csip:x%3E").expected,
               "'<' '>' around a URI that carries headers ('?')");
  EXPECT_STREQ(name_addr_error("<sip:a@b>;;").expected, "a parameter name after ';'");
  EXPECT_STREQ(name_addr_error("<sip:a@b>;tag=").expected, "a parameter value after '='");
  EXPECT_STREQ(name_addr_error("\"a\" sip:a@b").expected, "'<' after the quoted display name");
  Scanner s("<sip:a@b>;tag=\"x");
  EXPECT_FALSE(parse_name_addr(s, false));
}

Via via(std::string_view text) {
  Scanner s(text);
  auto r = parse_via(s);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().expected);
  return r ? *r : Via{};
}

TEST(ViaGrammar, FieldsAndParams) {
  Via v = via("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-14080-1-0;rport;received=192.0.2.7");
  EXPECT_EQ(v.protocol_name, "SIP");
  EXPECT_EQ(v.protocol_version, "2.0");
  EXPECT_EQ(v.transport, "UDP");
  EXPECT_EQ(v.host, "127.0.0.1");
  EXPECT_EQ(v.port, 5070);
  EXPECT_EQ(v.branch, "z9hG4bK-14080-1-0");
  EXPECT_TRUE(v.has_magic_cookie());
  EXPECT_EQ(v.rport(), "");
  EXPECT_EQ(v.received(), "192.0.2.7");
}

TEST(ViaGrammar, LwsAroundSlashesAndFolding) {
  Via v = via("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw");
  EXPECT_EQ(v.transport, "UDP");
  EXPECT_EQ(v.host, "192.0.2.2");
  EXPECT_FALSE(v.has_magic_cookie());
  Via w = via("SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8");
  EXPECT_EQ(w.host, "spindle.example.com");
  EXPECT_EQ(w.branch, "z9hG4bK9ikj8");
}

TEST(ViaGrammar, Ipv6SentByAndReceived) {
  Via v = via("SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3;received=2001:db8::9:255");
  EXPECT_EQ(v.host_kind, HostKind::IPv6);
  EXPECT_EQ(v.port, 6050);
  EXPECT_EQ(v.received(), "2001:db8::9:255");
  EXPECT_EQ(via("SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255]").received(), "[2001:db8::9:255]");
}

TEST(ViaGrammar, Failures) {
  auto err = [](std::string_view t) {
    Scanner s(t);
    auto r = parse_via(s);
    EXPECT_FALSE(r) << t;
    return r ? std::string() : std::string(r.error().expected);
  };
  EXPECT_EQ(err("SIP/2.0 host"), "'/' after the protocol version");
  EXPECT_EQ(err("SIP/2.0/UDP"), "whitespace before sent-by");
  EXPECT_EQ(err("SIP/2.0/UDP host:99999"), "a port number from 0 to 65535");
  EXPECT_EQ(err("SIP/2.0/UDP host;branch="), "a parameter value after '='");
  EXPECT_EQ(err("SIP/2.0/UDP host;received=example.com"), "an IPv4 or IPv6 address in received");
  EXPECT_EQ(err("SIP/2.0/UDP host;rport=x"), "a port number in rport");
  EXPECT_EQ(err("SIP/2.0/UDP [2001:db8::1;branch=z9hG4bK1"), "a ']' closing the IPv6 reference");
}

TEST(CSeqGrammar, ValuesAndFailures) {
  auto c = parse_cseq(" 0009\r\n  INVITE ");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->number, 9u);
  EXPECT_EQ(c->method, Method::Invite);
  EXPECT_EQ(parse_cseq("4294967295 ACK")->number, 4294967295u);
  EXPECT_STREQ(parse_cseq("4294967296 ACK").error().expected, "a number no larger than 4294967295");
  EXPECT_STREQ(parse_cseq("INVITE").error().expected, "a CSeq number");
  EXPECT_STREQ(parse_cseq("1INVITE").error().expected, "whitespace between the CSeq number and the method");
  EXPECT_STREQ(parse_cseq("1 INVITE x").error().expected, "the end of the CSeq value");
  EXPECT_EQ(parse_cseq("1 invite")->method, Method::Unknown);  // methods are case-sensitive
}

TEST(RAckGrammar, ValuesAndFailures) {
  auto r = parse_rack("1 1 INVITE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rseq, 1u);
  EXPECT_EQ(r->cseq, 1u);
  EXPECT_EQ(r->method, Method::Invite);
  EXPECT_FALSE(parse_rack("1 INVITE"));
  EXPECT_FALSE(parse_rack("1 2"));
  EXPECT_FALSE(parse_rack("x 1 INVITE"));
  EXPECT_FALSE(parse_rack("1 1 INVITE extra"));
}

TEST(ParamValueGrammar, ReasonSecurityAndAccessNetworkInfo) {
  Scanner r("SIP ;cause=200 ;text=\"Call completed elsewhere\"");
  auto reason = parse_param_value(r, true);
  ASSERT_TRUE(reason);
  EXPECT_EQ(reason->value, "SIP");
  EXPECT_EQ(reason->param("cause"), "200");
  EXPECT_EQ(unquote(*reason->param("text")), "Call completed elsewhere");
  Scanner p("3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=0010100010019B01");
  auto pani = parse_param_value(p, true);
  ASSERT_TRUE(pani);
  EXPECT_EQ(pani->value, "3GPP-E-UTRAN-FDD");
  EXPECT_EQ(pani->param("utran-cell-id-3gpp"), "0010100010019B01");
  Scanner bad(";x=1");
  EXPECT_STREQ(parse_param_value(bad, true).error().expected, "a value before the parameters");
}

TEST(RetryAfterGrammar, DeltaCommentAndParams) {
  auto r = parse_retry_after("120 (I'm in a meeting);duration=3600");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, "120");
  EXPECT_EQ(r->comment, "I'm in a meeting");
  EXPECT_EQ(r->param("duration"), "3600");
  EXPECT_FALSE(parse_retry_after("949302838503028349304023988"));
  EXPECT_FALSE(parse_retry_after("5 (unclosed"));
  EXPECT_FALSE(parse_retry_after("soon"));
}

TEST(WarningGrammar, ThreeDigitCodes) {
  Scanner s("399 pcscf.example.net \"Incompatible media\"");
  auto w = parse_warning(s);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->code, 399);
  EXPECT_EQ(w->agent, "pcscf.example.net");
  EXPECT_EQ(w->text, "Incompatible media");
  Scanner four("1812 overture \"In Progress\"");
  EXPECT_STREQ(parse_warning(four).error().expected, "a three-digit warn-code");
  Scanner no_text("399 agent");
  EXPECT_FALSE(parse_warning(no_text));
}

TEST(CredentialsGrammar, DigestAkaChallenge) {
  auto c = parse_credentials(
      "Digest realm=\"ims.mnc001.mcc001.3gppnetwork.org\", nonce=\"AbC=\", algorithm=AKAv1-MD5, qop=\"auth\"");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme, "Digest");
  EXPECT_EQ(c->param("realm"), "ims.mnc001.mcc001.3gppnetwork.org");
  EXPECT_EQ(c->param("algorithm"), "AKAv1-MD5");
  EXPECT_EQ(c->param("qop"), "auth");
  EXPECT_FALSE(c->param("opaque"));
  EXPECT_FALSE(parse_credentials("Digest realm"));
  EXPECT_FALSE(parse_credentials("Digest realm=\"x\",,nonce=1"));
  EXPECT_FALSE(parse_credentials("\"Digest\" realm=x"));
}

TEST(SimpleGrammars, DateCallIdText) {
  EXPECT_FALSE(check_date("Sat, 13 Nov 2010 23:29:00 GMT"));
  EXPECT_STREQ(check_date("Fri, 01 Jan 2010 16:00:00 EST")->expected,
               "the time zone 'GMT' (the only one SIP allows)");
  EXPECT_TRUE(check_date("Fri, 1 Jan 2010 16:00:00 GMT"));
  EXPECT_TRUE(check_date("Xyz, 01 Jan 2010 16:00:00 GMT"));
  EXPECT_FALSE(check_call_id("1-14080@127.0.0.1"));
  EXPECT_FALSE(check_call_id("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"));
  EXPECT_TRUE(check_call_id("a b"));
  EXPECT_TRUE(check_call_id("a@"));
  EXPECT_TRUE(check_call_id(""));
  EXPECT_FALSE(check_text("any text\r\n folded"));
  EXPECT_TRUE(check_text(std::string_view("nul\0here", 8)));
  EXPECT_TRUE(check_text("bad \xc3"));
}

TEST(ParamsView, IteratesAndLooksUp) {
  Params p(";lr;transport=TCP;x=\"a;b\"");
  std::vector<std::string> names;
  for (const Param& param : p) names.emplace_back(param.name);
  EXPECT_EQ(names, (std::vector<std::string>{"lr", "transport", "x"}));
  EXPECT_EQ(p.get("x"), "\"a;b\"");
  EXPECT_EQ(p.get("TRANSPORT"), "TCP");
  EXPECT_FALSE(p.get("maddr"));
}

}  // namespace
}  // namespace imsflow::sip

namespace imsflow::sip {
namespace {

TEST(HeaderNames, LongCompactAndAnyCase) {
  EXPECT_EQ(header_id_from_name("Via"), HeaderId::Via);
  EXPECT_EQ(header_id_from_name("vIA"), HeaderId::Via);
  EXPECT_EQ(header_id_from_name("v"), HeaderId::Via);
  EXPECT_EQ(header_id_from_name("V"), HeaderId::Via);
  EXPECT_EQ(header_id_from_name("P-Charging-Function-Addresses"), HeaderId::PChargingFunctionAddresses);
  EXPECT_EQ(header_id_from_name("rack"), HeaderId::RAck);
  EXPECT_EQ(header_id_from_name("RSEQ"), HeaderId::RSeq);
  EXPECT_EQ(header_id_from_name("x"), HeaderId::SessionExpires);
  EXPECT_EQ(header_id_from_name("d"), HeaderId::RequestDisposition);
  EXPECT_EQ(header_id_from_name("q"), HeaderId::Other);  // no such compact form
  EXPECT_EQ(header_id_from_name("Vias"), HeaderId::Other);
  EXPECT_EQ(header_id_from_name("C%6Fntact"), HeaderId::Other);
  EXPECT_EQ(header_id_from_name(""), HeaderId::Other);
  EXPECT_EQ(header_id_from_name(std::string(200, 'a')), HeaderId::Other);
  // Every canonical name maps back to its id, by either lookup.
  for (int i = 1; i < static_cast<int>(HeaderId::kCount); ++i) {
    const auto id = static_cast<HeaderId>(i);
    EXPECT_EQ(header_id_from_name(canonical_name(id)), id) << canonical_name(id);
    const std::string line = std::string(canonical_name(id)) + ": " + std::string(40, 'v');
    EXPECT_EQ(header_id_from_name(std::string_view(line.data(), canonical_name(id).size()), line.data() + line.size()), id);
  }
}

// The word-at-a-time name compare, and the parser's one-probe lookup, must
// give what a byte-by-byte compare of the lower-cased name gives, for every
// length (1-, 2-, 4- and 8-byte words, overlapping tails), for a change at
// any position and for a byte more or fewer.
TEST(HeaderNames, WordCompareMatchesAByteCompareAtEveryPosition) {
  // Byte by byte, as the lookup always did: (c | 0x20) against the lower-case name.
  auto reference = [](std::string_view name) {
    for (int i = 1; i < static_cast<int>(HeaderId::kCount) && name.size() > 1; ++i) {
      const auto id = static_cast<HeaderId>(i);
      const std::string_view canonical = canonical_name(id);
      if (canonical.size() != name.size() || ascii::to_lower(name[0]) != ascii::to_lower(canonical[0])) continue;
      bool same = true;
      for (std::size_t k = 0; k < name.size(); ++k) same &= static_cast<char>(name[k] | 0x20) == ascii::to_lower(canonical[k]);
      if (same) return id;
    }
    if (name.size() == 1) {
      for (int i = 1; i < static_cast<int>(HeaderId::kCount); ++i) {
        const auto id = static_cast<HeaderId>(i);
        if (header_info(id).compact == ascii::to_lower(name[0])) return id;
      }
    }
    return HeaderId::Other;
  };
  // The parser's one-probe lookup, for a name followed by the rest of a line
  // (so that 32 bytes are readable, as in a parsed message).
  auto by_probe = [](std::string_view name) {
    const std::string line = std::string(name) + ": value of the header\r\n\r\n" + std::string(40, 'x');
    return header_id_from_name(std::string_view(line.data(), name.size()), line.data() + line.size());
  };
  std::mt19937 rng(3);
  const std::string_view token_chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~";
  for (int i = 1; i < static_cast<int>(HeaderId::kCount); ++i) {
    const std::string canonical(canonical_name(static_cast<HeaderId>(i)));
    for (int round = 0; round < 40; ++round) {
      std::string name = canonical;
      for (char& c : name) {
        if (rng() % 2) c = static_cast<char>(ascii::is_alpha(c) ? (c ^ 0x20) : c);
      }
      ASSERT_EQ(header_id_from_name(name), reference(name)) << name;
      // One byte changed, anywhere: the first or last byte of a word included.
      std::string changed = name;
      changed[rng() % changed.size()] = token_chars[rng() % token_chars.size()];
      ASSERT_EQ(header_id_from_name(changed), reference(changed)) << changed;
      // Non-token bytes (never in a parsed name) compare as the byte loop did.
      std::string odd = name;
      for (char& c : odd) {
        if (c == '-') c = '\r';
      }
      ASSERT_EQ(header_id_from_name(odd), reference(odd)) << odd;
      ASSERT_EQ(by_probe(name), reference(name)) << name;
      ASSERT_EQ(by_probe(changed), reference(changed)) << changed;
      ASSERT_EQ(by_probe(odd), reference(odd)) << odd;
      // One byte more or fewer, at either end.
      for (const std::string& near : {name + token_chars[rng() % token_chars.size()], name.substr(1),
                                      name.substr(0, name.size() - 1), std::string(1, 'x') + name}) {
        ASSERT_EQ(by_probe(near), reference(near)) << near;
      }
    }
  }
}

TEST(Methods, CaseSensitive) {
  EXPECT_EQ(method_from_token("PRACK"), Method::Prack);
  EXPECT_EQ(method_from_token("UPDATE"), Method::Update);
  EXPECT_EQ(method_from_token("prack"), Method::Unknown);
  EXPECT_EQ(method_from_token("RE%47IST%45R"), Method::Unknown);
  EXPECT_EQ(method_name(Method::Subscribe), "SUBSCRIBE");
}

}  // namespace
}  // namespace imsflow::sip

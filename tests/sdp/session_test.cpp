// RFC 4566 parsing and writing: the SIPp INVITE and 183 bodies, every line
// type the parser reads, and every error with its line number and offset.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

#include "sdp/session.hpp"
#include "sdp_test_support.hpp"
#include "shared_data.hpp"

namespace imsflow::sdp {
namespace {

using test_support::body_of;

/// Parses text that must be rejected and returns the error.
SdpError error_of(std::string_view text) {
  auto r = parse(text);
  EXPECT_FALSE(r) << "parsed although it should not:\n" << text;
  if (r) return SdpError{};
  return r.error();
}

// A small session written for these tests (CRLF line ends).
constexpr std::string_view kBasic =
    "v=0\r\n"
    "o=alice 2890844526 2890844527 IN IP4 192.0.2.10\r\n"
    "s=call\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 8 97\r\n"
    "a=rtpmap:97 iLBC/8000\r\n";

// --- the recorded bodies ----------------------------------------------------

// c=IN IP4 <address>: a dotted quad or a host name (ascii::is_ipv4_address,
// tested on its own in util_tests, decides the first).
TEST(SdpParse, Ipv4ConnectionAddresses) {
  struct Case {
    std::string_view address;
    bool valid;
  };
  for (const Case& c : {Case{"10.0.0.1", true}, Case{"01.002.3.4", true}, Case{"255.255.255.255", true},
                        Case{"256.0.0.1", false}, Case{"1.2.3", false}, Case{"1.2.3.4.5", false}, Case{"1..2.3", false},
                        Case{"1234.1.1.1", false}, Case{"pcscf.ims.example", true}, Case{"224.2.1.1/127", true}}) {
    const std::string body =
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 " + std::string(c.address) + "\r\nt=0 0\r\n";
    EXPECT_EQ(static_cast<bool>(parse(body)), c.valid) << c.address;
  }
}

TEST(SdpParse, InviteBodyFromSipp) {
  const std::string body = body_of("invite_sdp.sip");
  ASSERT_FALSE(body.empty());
  auto s = parse(body);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->raw, body);
  EXPECT_EQ(s->version, 0u);
  EXPECT_EQ(s->origin.username, "SIPp-MO");
  EXPECT_EQ(s->origin.session_id, "1001");
  EXPECT_EQ(s->origin.session_version, "1001");
  EXPECT_EQ(s->origin.net_type, "IN");
  EXPECT_EQ(s->origin.addr_type, "IP4");
  EXPECT_EQ(s->origin.address, "127.0.0.1");
  EXPECT_EQ(s->session_name, "-");
  ASSERT_TRUE(s->connection);
  EXPECT_EQ(s->connection->type, AddressType::IP4);
  EXPECT_EQ(s->connection->address, "127.0.0.1");
  ASSERT_EQ(s->bandwidths.size(), 1u);
  EXPECT_EQ(s->bandwidths[0].type, "AS");
  EXPECT_EQ(s->bandwidths[0].value, 49u);
  EXPECT_EQ(s->timing, "0 0");
  EXPECT_EQ(s->direction(), Direction::SendRecv);

  ASSERT_EQ(s->media.size(), 1u);
  const Media& m = s->media[0];
  EXPECT_EQ(m.media, "audio");
  EXPECT_EQ(m.port, 6004);
  EXPECT_EQ(m.port_count, 1);
  EXPECT_EQ(m.proto, "RTP/AVP");
  ASSERT_EQ(m.formats.size(), 2u);
  EXPECT_EQ(m.formats[0], "116");
  EXPECT_EQ(m.formats[1], "111");
  EXPECT_FALSE(m.connection);
  EXPECT_EQ(s->connection_for(0), &*s->connection);

  auto wb = m.rtpmap(116);
  ASSERT_TRUE(wb);
  EXPECT_EQ(wb->payload_type, 116);
  EXPECT_EQ(wb->encoding, "AMR-WB");
  EXPECT_EQ(wb->clock_rate, 16000u);
  EXPECT_EQ(wb->channels, 1);
  auto dtmf = m.rtpmap(111);
  ASSERT_TRUE(dtmf);
  EXPECT_EQ(dtmf->encoding, "telephone-event");
  EXPECT_EQ(dtmf->clock_rate, 16000u);
  EXPECT_FALSE(m.rtpmap(118));

  EXPECT_EQ(m.fmtp(116), "mode-change-capability=2;max-red=0");
  EXPECT_EQ(m.fmtp(111), "0-15");
  EXPECT_FALSE(m.fmtp(118));
  EXPECT_EQ(m.ptime(), 20u);
  EXPECT_TRUE(m.has_direction());
  EXPECT_EQ(m.direction(Direction::Inactive), Direction::SendRecv);

  const Attribute* curr = m.attribute("curr");
  ASSERT_NE(curr, nullptr);
  EXPECT_TRUE(curr->has_value);
  EXPECT_EQ(curr->value, "qos local none");  // the first of two
  const Attribute* sendrecv = m.attribute("sendrecv");
  ASSERT_NE(sendrecv, nullptr);
  EXPECT_FALSE(sendrecv->has_value);
  EXPECT_TRUE(sendrecv->value.empty());
  EXPECT_EQ(m.attribute("Sendrecv"), nullptr);  // attribute names are case-sensitive
}

TEST(SdpParse, SessionProgressBodyFromSipp) {
  const std::string body = body_of("183_session_progress_sdp.sip");
  auto s = parse(body);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->origin.username, "SIPp-MT");
  ASSERT_EQ(s->bandwidths.size(), 3u);
  EXPECT_EQ(s->bandwidths[1].type, "RS");
  EXPECT_EQ(s->bandwidths[1].value, 600u);
  EXPECT_EQ(s->bandwidths[2].type, "RR");
  EXPECT_EQ(s->bandwidths[2].value, 2000u);
  ASSERT_EQ(s->media.size(), 1u);
  const Media& m = s->media[0];
  EXPECT_EQ(m.port, 6016);
  ASSERT_EQ(m.bandwidths.size(), 1u);  // the media-level b=AS:49
  EXPECT_EQ(m.bandwidths[0].type, "AS");
  EXPECT_EQ(m.bandwidths[0].value, 49u);
  ASSERT_NE(m.attribute("conf"), nullptr);
  EXPECT_EQ(m.attribute("conf")->value, "qos remote sendrecv");
  EXPECT_EQ(m.attribute("maxptime")->value, "240");
}

TEST(SdpParse, SippMultiCodecOffer) {
  const std::string body = body_of("invite_sdp_sipp.sip");
  auto s = parse(body);
  ASSERT_TRUE(s) << s.error().describe();
  const Media& m = s->media[0];
  ASSERT_EQ(m.formats.size(), 6u);
  EXPECT_EQ(m.rtpmap(96)->encoding, "AMR");
  EXPECT_EQ(m.rtpmap(110)->clock_rate, 8000u);
  EXPECT_EQ(m.fmtp(107), "octet-align=1;mode-change-capability=2;max-red=0");
}

// --- line ends -----------------------------------------------------------------

TEST(SdpParse, BareLineFeedsAndMixedEnds) {
  std::string lf(kBasic);
  for (std::size_t at; (at = lf.find("\r\n")) != std::string::npos;) lf.erase(at, 1);
  ASSERT_EQ(lf.find('\r'), std::string::npos);
  auto s = parse(lf);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->session_name, "call");
  EXPECT_EQ(s->media[0].rtpmap(97)->encoding, "iLBC");
  EXPECT_EQ(s->media[0].rtpmap(97)->clock_rate, 8000u);

  auto mixed = parse("v=0\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\nc=IN IP4 10.0.0.1\r\nt=0 0\nm=audio 4000 RTP/AVP 0");
  ASSERT_TRUE(mixed) << mixed.error().describe();  // no line end after the last line either
  EXPECT_EQ(mixed->media[0].formats[0], "0");
}

TEST(SdpParse, TrailingEmptyLinesAreHarmless) {
  const std::string text = std::string(kBasic) + "\r\n\r\n";
  auto s = parse(text);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->media.size(), 1u);
}

// --- c= ------------------------------------------------------------------------

/// A parsed c= line, copied out of the text it was parsed from.
struct ParsedConnection {
  std::string addr_type;
  AddressType type = AddressType::Other;
  std::string address;
};

ParsedConnection connection_of(std::string_view c_line) {
  const std::string text = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n" + std::string(c_line) +
                           "\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
  auto s = parse(text);
  EXPECT_TRUE(s) << c_line << ": " << (s ? std::string() : s.error().describe());
  if (!s || !s->connection) return ParsedConnection{};
  EXPECT_EQ(s->connection->net_type, "IN");
  return ParsedConnection{std::string(s->connection->addr_type), s->connection->type,
                          std::string(s->connection->address)};
}

TEST(SdpParse, ConnectionAddresses) {
  ParsedConnection v4 = connection_of("c=IN IP4 192.0.2.33");
  EXPECT_EQ(v4.type, AddressType::IP4);
  EXPECT_EQ(v4.address, "192.0.2.33");

  ParsedConnection v6 = connection_of("c=IN IP6 2001:db8::1");
  EXPECT_EQ(v6.type, AddressType::IP6);
  EXPECT_EQ(v6.addr_type, "IP6");
  EXPECT_EQ(v6.address, "2001:db8::1");

  ParsedConnection mapped = connection_of("c=IN IP6 ::ffff:192.0.2.1");
  EXPECT_EQ(mapped.type, AddressType::IP6);

  ParsedConnection fqdn = connection_of("c=IN IP4 pcscf.ims.mnc001.mcc001.3gppnetwork.org");
  EXPECT_EQ(fqdn.type, AddressType::IP4);
  EXPECT_EQ(fqdn.address, "pcscf.ims.mnc001.mcc001.3gppnetwork.org");

  ParsedConnection fqdn6 = connection_of("c=IN IP6 media.example.com");
  EXPECT_EQ(fqdn6.type, AddressType::IP6);

  // Multicast: the TTL and address count are not part of the address.
  ParsedConnection multicast = connection_of("c=IN IP4 224.2.36.42/127");
  EXPECT_EQ(multicast.address, "224.2.36.42");
  ParsedConnection multicast6 = connection_of("c=IN IP6 FF15::101/3");
  EXPECT_EQ(multicast6.address, "FF15::101");

  ParsedConnection other = connection_of("c=IN ATM 47.0005.80");
  EXPECT_EQ(other.type, AddressType::Other);
  EXPECT_EQ(other.addr_type, "ATM");
}

TEST(SdpParse, MediaLevelConnectionOverridesSession) {
  constexpr std::string_view text =
      "v=0\r\n"
      "o=- 7 7 IN IP6 2001:db8::7\r\n"
      "s=-\r\n"
      "t=0 0\r\n"
      "m=audio 5004 RTP/AVP 0\r\n"
      "c=IN IP6 2001:db8::20\r\n"
      "m=video 5006 RTP/AVP 31\r\n"
      "c=IN IP4 192.0.2.40\r\n";
  auto s = parse(text);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_FALSE(s->connection);
  ASSERT_EQ(s->media.size(), 2u);
  ASSERT_NE(s->connection_for(0), nullptr);
  EXPECT_EQ(s->connection_for(0)->address, "2001:db8::20");
  EXPECT_EQ(s->connection_for(1)->type, AddressType::IP4);
  EXPECT_EQ(s->connection_for(2), nullptr);
}

// --- m= --------------------------------------------------------------------------

TEST(SdpParse, MediaPortCountAndFormats) {
  constexpr std::string_view text =
      "v=0\r\n"
      "o=- 1 1 IN IP4 10.0.0.1\r\n"
      "s=-\r\n"
      "c=IN IP4 10.0.0.1\r\n"
      "t=0 0\r\n"
      "m=video 49170/2 RTP/AVP 31 32\r\n"
      "m=audio 0 RTP/AVP 0\r\n"
      "m=message 7394 TCP/MSRP *\r\n";
  auto s = parse(text);
  ASSERT_TRUE(s) << s.error().describe();
  ASSERT_EQ(s->media.size(), 3u);
  EXPECT_EQ(s->media[0].media, "video");
  EXPECT_EQ(s->media[0].port, 49170);
  EXPECT_EQ(s->media[0].port_count, 2);
  ASSERT_EQ(s->media[0].formats.size(), 2u);
  EXPECT_EQ(s->media[0].formats[1], "32");
  EXPECT_EQ(s->media[1].port, 0);
  EXPECT_EQ(s->media[1].port_count, 1);
  EXPECT_EQ(s->media[2].proto, "TCP/MSRP");
  EXPECT_EQ(s->media[2].formats[0], "*");
}

// --- a=rtpmap, a=fmtp, a=ptime ------------------------------------------------

TEST(SdpParse, RtpmapWithoutClockRateParses) {
  const std::string text = std::string(kBasic) + "a=rtpmap:31 LPC\r\na=rtpmap:98 L16/16000/2\r\n";
  auto s = parse(text);
  ASSERT_TRUE(s) << s.error().describe();
  const Media& m = s->media[0];
  auto lpc = m.rtpmap(31);
  ASSERT_TRUE(lpc);
  EXPECT_EQ(lpc->payload_type, 31);
  EXPECT_EQ(lpc->encoding, "LPC");
  EXPECT_EQ(lpc->clock_rate, 0u);
  EXPECT_EQ(lpc->channels, 1);
  auto l16 = m.rtpmap(98);
  ASSERT_TRUE(l16);
  EXPECT_EQ(l16->clock_rate, 16000u);
  EXPECT_EQ(l16->channels, 2);
}

TEST(SdpParse, FmtpAndPtime) {
  const std::string text = std::string(kBasic) +
                           "a=fmtp:97 mode=30\r\n"
                           "a=fmtp:101   0-16\r\n"
                           "a=ptime:30\r\n";
  auto s = parse(text);
  ASSERT_TRUE(s) << s.error().describe();
  const Media& m = s->media[0];
  EXPECT_EQ(m.fmtp(97), "mode=30");
  EXPECT_EQ(m.fmtp(101), "0-16");  // extra spaces trimmed
  EXPECT_FALSE(m.fmtp(0));
  EXPECT_EQ(m.ptime(), 30u);

  auto none = parse(kBasic);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->media[0].ptime());
  const std::string bad_text = std::string(kBasic) + "a=ptime:twenty\r\n";
  auto bad = parse(bad_text);
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->media[0].ptime());
}

// --- directions ------------------------------------------------------------------

TEST(SdpParse, DirectionAtMediaAndSessionLevel) {
  constexpr std::string_view text =
      "v=0\r\n"
      "o=- 1 1 IN IP4 10.0.0.1\r\n"
      "s=-\r\n"
      "c=IN IP4 10.0.0.1\r\n"
      "t=0 0\r\n"
      "a=sendonly\r\n"
      "m=audio 4000 RTP/AVP 0\r\n"
      "m=audio 4002 RTP/AVP 0\r\n"
      "a=recvonly\r\n"
      "m=audio 4004 RTP/AVP 0\r\n"
      "a=inactive\r\n"
      "m=audio 4006 RTP/AVP 0\r\n"
      "a=sendrecv\r\n";
  auto s = parse(text);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->direction(), Direction::SendOnly);
  ASSERT_NE(s->attribute("sendonly"), nullptr);
  ASSERT_EQ(s->media.size(), 4u);
  EXPECT_FALSE(s->media[0].has_direction());
  EXPECT_EQ(s->media[0].direction(s->direction()), Direction::SendOnly);  // inherited
  EXPECT_TRUE(s->media[1].has_direction());
  EXPECT_EQ(s->media[1].direction(s->direction()), Direction::RecvOnly);
  EXPECT_EQ(s->media[2].direction(s->direction()), Direction::Inactive);
  EXPECT_EQ(s->media[3].direction(s->direction()), Direction::SendRecv);

  auto plain = parse(kBasic);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->direction(), Direction::SendRecv);  // the default
  EXPECT_EQ(direction_name(Direction::SendOnly), "sendonly");
  EXPECT_EQ(direction_name(Direction::RecvOnly), "recvonly");
  EXPECT_EQ(direction_name(Direction::Inactive), "inactive");
  EXPECT_EQ(direction_name(Direction::SendRecv), "sendrecv");
}

TEST(SdpParse, DirectionWithAValueIsNotADirection) {
  const std::string text = std::string(kBasic) + "a=sendonly:yes\r\n";
  auto s = parse(text);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->media[0].has_direction());
}

// --- other session lines ---------------------------------------------------------

TEST(SdpParse, OptionalSessionLinesAndRepeatTimes) {
  constexpr std::string_view text =
      "v=0\r\n"
      "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n"
      "s=SDP Seminar\r\n"
      "i=A Seminar on the session description protocol\r\n"
      "u=http://www.example.com/seminars/sdp.pdf\r\n"
      "e=j.doe@example.com (Jane Doe)\r\n"
      "p=+1 617 555-6011\r\n"
      "c=IN IP4 224.2.17.12/127\r\n"
      "b=CT:128\r\n"
      "t=2873397496 2873404696\r\n"
      "r=7d 1h 0 25h\r\n"
      "z=2882844526 -1h 2898848070 0\r\n"
      "k=prompt\r\n"
      "a=recvonly\r\n"
      "m=audio 49170 RTP/AVP 0\r\n"
      "i=voice\r\n"
      "b=TIAS:64000\r\n"
      "k=prompt\r\n";
  auto s = parse(text);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->session_name, "SDP Seminar");
  EXPECT_EQ(s->timing, "2873397496 2873404696");
  EXPECT_EQ(s->bandwidths[0].type, "CT");
  EXPECT_EQ(s->bandwidths[0].value, 128u);
  EXPECT_EQ(s->media[0].bandwidths[0].type, "TIAS");
  EXPECT_EQ(s->media[0].bandwidths[0].value, 64000u);
}

// --- errors ----------------------------------------------------------------------

TEST(SdpParseError, EmptyBody) {
  SdpError e = error_of("");
  EXPECT_EQ(e.line, 1u);
  EXPECT_EQ(e.offset, 0u);
  EXPECT_NE(std::string(e.expected).find("v=0"), std::string::npos);
  SdpError only_newlines = error_of("\r\n");
  EXPECT_NE(std::string(only_newlines.expected).find("v=0"), std::string::npos);
}

TEST(SdpParseError, MissingVersion) {
  SdpError e = error_of("o=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n");
  EXPECT_EQ(e.line, 1u);
  EXPECT_EQ(e.offset, 0u);
  EXPECT_NE(std::string(e.expected).find("v=0"), std::string::npos);
}

TEST(SdpParseError, WrongVersion) {
  SdpError e = error_of("v=1\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n");
  EXPECT_EQ(e.line, 1u);
  EXPECT_EQ(e.offset, 2u);  // the value after "v="
  SdpError twice = error_of("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nv=0\r\nt=0 0\r\n");
  EXPECT_EQ(twice.line, 4u);
}

TEST(SdpParseError, MissingOrigin) {
  constexpr std::string_view text = "v=0\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
  SdpError e = error_of(text);
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.offset, text.find("s=-"));
  EXPECT_NE(std::string(e.expected).find("o="), std::string::npos);
  // Nothing may come between v= and o= (RFC 4566 §5 order).
  constexpr std::string_view early =
      "v=0\r\nb=AS:64\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
  SdpError before = error_of(early);
  EXPECT_EQ(before.line, 2u);
  EXPECT_EQ(before.offset, early.find("b=AS"));
  SdpError attr_first = error_of("v=0\r\na=sendonly\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n");
  EXPECT_EQ(attr_first.line, 2u);
  // A body that stops after v=.
  SdpError cut = error_of("v=0\r\n");
  EXPECT_EQ(cut.offset, 5u);
  EXPECT_NE(std::string(cut.expected).find("o="), std::string::npos);
}

TEST(SdpParseError, MalformedOrigin) {
  constexpr std::string_view text = "v=0\r\no=- one 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n";
  SdpError e = error_of(text);
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.offset, text.find("- one"));
  SdpError short_o = error_of("v=0\r\no=- 1 1 IN IP4\r\ns=-\r\nt=0 0\r\n");
  EXPECT_EQ(short_o.line, 2u);
}

TEST(SdpParseError, MissingSessionName) {
  constexpr std::string_view text = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
  SdpError e = error_of(text);
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.offset, text.find("c=IN"));
  EXPECT_NE(std::string(e.expected).find("s="), std::string::npos);
  SdpError cut = error_of("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n");
  EXPECT_NE(std::string(cut.expected).find("s="), std::string::npos);
  SdpError attr_first = error_of("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\na=recvonly\r\ns=-\r\nt=0 0\r\n");
  EXPECT_EQ(attr_first.line, 3u);
}

TEST(SdpParseError, MissingTiming) {
  constexpr std::string_view with_media =
      "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n";
  SdpError e = error_of(with_media);
  EXPECT_EQ(e.line, 5u);  // m= before t=
  EXPECT_EQ(e.offset, with_media.find("m=audio"));
  EXPECT_NE(std::string(e.expected).find("t="), std::string::npos);

  constexpr std::string_view no_media = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n";
  SdpError end = error_of(no_media);
  EXPECT_EQ(end.offset, no_media.size());
  EXPECT_NE(std::string(end.expected).find("t="), std::string::npos);

  constexpr std::string_view bad_t = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0\r\n";
  SdpError bad = error_of(bad_t);
  EXPECT_EQ(bad.line, 4u);
  EXPECT_EQ(bad.offset, bad_t.find("t=0") + 2);  // the value of t=
}

TEST(SdpParseError, BadConnection) {
  const std::string head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n";
  struct Case {
    const char* line;
    std::size_t offset_in_line;  // where the error points, from the start of "c="
  } cases[] = {
      {"c=IN IP4 999.1.1.1", 9},      // not an IPv4 address, not a host name
      {"c=IN IP4 4", 9},              // points at the address, not at the 4 of "IP4"
      {"c=IN IP4 10.0.0", 9},         // three parts
      {"c=IN IP6 192.0.2.1", 9},      // an IPv4 address under IP6
      {"c=IN IP6 2001:db8::zz", 9},   // not hex
      {"c=IN IP4", 2},                // missing address
      {"c=IN IP4 10.0.0.1 extra", 2}, // one field too many
      {"c=XX IP4 10.0.0.1", 2},       // network type
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    const std::string text = head + c.line + "\r\nt=0 0\r\n";
    SdpError e = error_of(text);
    EXPECT_EQ(e.line, 4u);
    EXPECT_EQ(e.offset, head.size() + c.offset_in_line);
  }
  // The same rules apply inside a media section.
  const std::string media = head + "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 300.0.0.1\r\n";
  SdpError e = error_of(media);
  EXPECT_EQ(e.line, 6u);
  EXPECT_EQ(e.offset, media.find("300.0.0.1"));
}

TEST(SdpParseError, BadMediaLine) {
  const std::string head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
  struct Case {
    const char* line;
    std::size_t offset_in_line;
  } cases[] = {
      {"m=audio 70000 RTP/AVP 0", 8},   // port above 65535
      {"m=audio port RTP/AVP 0", 8},    // not a number
      {"m=audio -1 RTP/AVP 0", 8},
      {"m=audio 4000/0 RTP/AVP 0", 13}, // a port count of zero
      {"m=audio 4000/x RTP/AVP 0", 13},
      {"m=audio 4000 RTP/AVP", 2},      // no format
      {"m=audio 4000", 2},
      {"m=audio 4000 RTP/AVP 0  8", 2}, // two spaces between formats
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    const std::string text = head + c.line + "\r\n";
    SdpError e = error_of(text);
    EXPECT_EQ(e.line, 6u);
    EXPECT_EQ(e.offset, head.size() + c.offset_in_line);
  }
}

TEST(SdpParseError, BadBandwidthAndAttribute) {
  const std::string head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n";
  SdpError no_colon = error_of(head + "b=AS\r\nt=0 0\r\n");
  EXPECT_EQ(no_colon.line, 5u);
  EXPECT_EQ(no_colon.offset, head.size() + 2);
  SdpError not_number = error_of(head + "b=AS:lots\r\nt=0 0\r\n");
  EXPECT_EQ(not_number.offset, head.size() + 5);
  SdpError no_name = error_of(head + "t=0 0\r\na=:x\r\n");
  EXPECT_EQ(no_name.line, 6u);
}

TEST(SdpParseError, UnknownLineType) {
  const std::string head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
  SdpError session = error_of(head + "x=unknown\r\n");
  EXPECT_EQ(session.line, 6u);
  EXPECT_EQ(session.offset, head.size());
  // u= is a session-level line; inside a media section it is out of place.
  const std::string media = head + "m=audio 4000 RTP/AVP 0\r\nu=http://example.com\r\n";
  SdpError in_media = error_of(media);
  EXPECT_EQ(in_media.line, 7u);
  EXPECT_EQ(in_media.offset, media.find("u=http"));
  SdpError not_a_line = error_of(head + "garbage\r\n");
  EXPECT_EQ(not_a_line.line, 6u);
  SdpError space = error_of(head + "a =x\r\n");
  EXPECT_EQ(space.line, 6u);
}

TEST(SdpParseError, EmptyLineInTheMiddle) {
  const std::string head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n";
  SdpError e = error_of(head + "\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n");
  EXPECT_EQ(e.line, 4u);
  EXPECT_EQ(e.offset, head.size());
}

TEST(SdpParseError, MissingConnectionForAMedia) {
  constexpr std::string_view text =
      "v=0\r\n"
      "o=- 1 1 IN IP4 10.0.0.1\r\n"
      "s=-\r\n"
      "t=0 0\r\n"
      "m=audio 4000 RTP/AVP 0\r\n"
      "c=IN IP4 10.0.0.1\r\n"
      "m=video 4002 RTP/AVP 31\r\n"
      "a=sendrecv\r\n";
  SdpError e = error_of(text);
  EXPECT_EQ(e.line, 7u);  // the m= line of the section without c=
  EXPECT_EQ(e.offset, text.find("m=video"));
  EXPECT_NE(std::string(e.expected).find("c="), std::string::npos);
}

TEST(SdpParseError, DescribeNamesLineAndOffset) {
  SdpError e =
      error_of("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 99999 RTP/AVP 0\r\n");
  const std::string text = e.describe();
  EXPECT_NE(text.find("line 6"), std::string::npos) << text;
  EXPECT_NE(text.find("byte " + std::to_string(e.offset)), std::string::npos) << text;
  EXPECT_NE(text.find("port"), std::string::npos) << text;
}

TEST(SdpParseError, EveryPrefixOfARecordedBodyIsSafe) {
  // Cutting the INVITE body anywhere either parses or fails with an offset
  // inside the text; it never reads past it.
  const std::string body = body_of("invite_sdp.sip");
  for (std::size_t n = 0; n <= body.size(); ++n) {
    auto r = parse(std::string_view(body).substr(0, n));
    if (!r) {
      EXPECT_LE(r.error().offset, n) << n;
    }
  }
}

// The o=, c=, t= and m= fields are split by a mask of the line's spaces when
// 64 bytes can be read from the value on, else one field at a time. The two
// must agree: each random line is parsed near the end of its body (the field
// by field way) and again with 96 more bytes after it (the mask), and gives
// the same fields or the same error in both.
std::string fields_of(const Result<Session, SdpError>& r) {
  if (!r) {
    const SdpError& e = r.error();
    return "error " + std::string(e.expected) + " at " + std::to_string(e.offset) + " line " + std::to_string(e.line);
  }
  const Session& s = *r;
  std::string out;
  auto add = [&](std::string_view v) {
    out += '[';
    out += v;
    out += ']';
  };
  const Origin& o = s.origin;
  for (std::string_view v : {o.username, o.session_id, o.session_version, o.net_type, o.addr_type, o.address}) add(v);
  if (s.connection) {
    add(s.connection->net_type);
    add(s.connection->addr_type);
    add(s.connection->address);
  }
  add(s.timing);
  for (const Media& m : s.media) {
    add(m.media);
    add(std::to_string(m.port) + "/" + std::to_string(m.port_count));
    add(m.proto);
    for (std::string_view f : m.formats) add(f);
  }
  return out;
}

TEST(SdpParse, FieldSplittingDoesNotDependOnWhatFollowsTheLine) {
  constexpr std::string_view kWords[] = {"IN", "IP4", "IP6", "0", "8", "97", "audio", "RTP/AVP", "10.0.0.1",
                                         "alice", "2890844526", "4000/2", "x:y", "", "a-very-long-field-name-0123456789"};
  const std::string tail = [] {
    std::string t;
    for (int i = 0; i < 8; ++i) t += "a=sendrecv\r\n";
    return t;
  }();
  std::mt19937 rng(41);
  int parsed = 0;
  for (int round = 0; round < 20000; ++round) {
    // Half the lines are the kind's usual fields, the rest random words;
    // either with the odd extra space.
    constexpr std::string_view kUsual[] = {"alice 2890844526 2890844527 IN IP4 10.0.0.1", "IN IP4 10.0.0.1", "0 0",
                                           "audio 4000 RTP/AVP 0 8 97 101"};
    std::string value;
    if (rng() % 8 == 0) value += ' ';
    if (rng() % 2 == 0) {
      for (char c : kUsual[round % 4]) value += c == ' ' && rng() % 10 == 0 ? std::string("  ") : std::string(1, c);
    } else {
      const int n = static_cast<int>(rng() % 9);
      for (int k = 0; k < n; ++k) {
        if (k > 0) value += rng() % 10 == 0 ? "  " : " ";
        value += kWords[rng() % std::size(kWords)];
      }
    }
    if (rng() % 8 == 0) value += ' ';
    const std::string kHead = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n";
    std::string body;
    switch (round % 4) {
      case 0: body = "v=0\r\no=" + value + "\r\ns=-\r\nt=0 0\r\n"; break;
      case 1: body = kHead + "c=" + value + "\r\nt=0 0\r\n"; break;
      case 2: body = kHead + "c=IN IP4 10.0.0.1\r\nt=" + value + "\r\n"; break;
      default: body = kHead + "c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=" + value + "\r\n"; break;
    }
    const auto near_the_end = parse(body);
    const std::string longer = body + tail;
    const auto with_more_after = parse(longer);
    ASSERT_EQ(fields_of(near_the_end), fields_of(with_more_after)) << body;
    parsed += near_the_end.has_value();
  }
  EXPECT_GT(parsed, 1000);  // the random lines reach the accepting paths too
}

// --- writer ----------------------------------------------------------------------

TEST(SdpWriter, WritesRfc4566OrderAndParsesBack) {
  SdpWriter w;
  w.origin("ue", 42, 7, "2001:db8::5")
      .session_name("")
      .connection("2001:db8::5")
      .bandwidth("AS", 41)
      .timing()
      .media("audio", 50000, "RTP/AVP", "97 98")
      .bandwidth("TIAS", 23850)
      .attribute("rtpmap", "97 AMR-WB/16000")
      .attribute("fmtp", "97 octet-align=1")
      .attribute("rtpmap", "98 telephone-event/16000")
      .direction(Direction::RecvOnly);
  const std::string expected =
      "v=0\r\n"
      "o=ue 42 7 IN IP6 2001:db8::5\r\n"
      "s=-\r\n"
      "c=IN IP6 2001:db8::5\r\n"
      "b=AS:41\r\n"
      "t=0 0\r\n"
      "m=audio 50000 RTP/AVP 97 98\r\n"
      "b=TIAS:23850\r\n"
      "a=rtpmap:97 AMR-WB/16000\r\n"
      "a=fmtp:97 octet-align=1\r\n"
      "a=rtpmap:98 telephone-event/16000\r\n"
      "a=recvonly\r\n";
  EXPECT_EQ(w.text(), expected);

  const std::string text = w.take();
  auto s = parse(text);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->origin.username, "ue");
  EXPECT_EQ(s->origin.session_id, "42");
  EXPECT_EQ(s->origin.session_version, "7");
  EXPECT_EQ(s->origin.addr_type, "IP6");
  EXPECT_EQ(s->connection->type, AddressType::IP6);
  EXPECT_EQ(s->bandwidths[0].value, 41u);
  const Media& m = s->media[0];
  EXPECT_EQ(m.port, 50000);
  EXPECT_EQ(m.rtpmap(97)->encoding, "AMR-WB");
  EXPECT_EQ(m.fmtp(97), "octet-align=1");
  EXPECT_EQ(m.bandwidths[0].type, "TIAS");
  EXPECT_EQ(m.direction(Direction::SendRecv), Direction::RecvOnly);
}

TEST(SdpWriter, Ipv4AndTiming) {
  SdpWriter w;
  w.origin("-", 1, 2, "192.0.2.1").session_name("talk").connection("192.0.2.1").timing(3034423619, 3042462419);
  w.media("audio", 0, "RTP/AVP", "0").attribute("ptime", "20");
  auto s = parse(w.text());
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->origin.addr_type, "IP4");
  EXPECT_EQ(s->session_name, "talk");
  EXPECT_EQ(s->timing, "3034423619 3042462419");
  EXPECT_EQ(s->connection->type, AddressType::IP4);
  EXPECT_EQ(s->media[0].port, 0);
  EXPECT_EQ(s->media[0].ptime(), 20u);
}

}  // namespace
}  // namespace imsflow::sdp

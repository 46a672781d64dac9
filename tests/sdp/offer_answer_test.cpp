// RFC 3264 offer/answer and the codec rules behind it (RFC 3551 static
// payload types, RFC 4867 AMR octet-align and mode-set), on the SIPp bodies
// and on offers written for these tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/codec.hpp"
#include "sdp/offer_answer.hpp"
#include "sdp/precondition.hpp"
#include "sdp/session.hpp"
#include "sdp_test_support.hpp"
#include "shared_data.hpp"

namespace imsflow::sdp {
namespace {

using test_support::body_of;
using test_support::Sdp;

std::vector<std::string> formats_of(const Media& m) {
  return std::vector<std::string>(m.formats.begin(), m.formats.end());
}

std::vector<int> agreed_payload_types(const MediaAgreement& a) {
  std::vector<int> out;
  for (const AgreedCodec& c : a.codecs) out.push_back(c.payload_type);
  return out;
}

/// An audio offer with one m= line: the formats and the a= lines given.
std::string audio_offer(std::string_view formats, std::string_view attributes, std::string_view session_attrs = "") {
  return "v=0\r\no=offerer 10 10 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
         std::string(session_attrs) + "m=audio 40000 RTP/AVP " + std::string(formats) + "\r\n" +
         std::string(attributes);
}

LocalMedia ue_with(std::vector<Codec> codecs) {
  LocalMedia l;
  l.address = "192.0.2.99";
  l.audio_port = 50010;
  l.codecs = std::move(codecs);
  return l;
}

// --- codec rules -------------------------------------------------------------

TEST(Codec, StaticPayloadTypesWithoutRtpmap) {
  const Sdp s(audio_offer("0 8 18 9 31 96", ""));
  const Media& m = s->media[0];
  auto pcmu = effective_rtpmap(m, "0");
  ASSERT_TRUE(pcmu);
  EXPECT_EQ(pcmu->encoding, "PCMU");
  EXPECT_EQ(pcmu->clock_rate, 8000u);
  EXPECT_EQ(effective_rtpmap(m, "8")->encoding, "PCMA");
  EXPECT_EQ(effective_rtpmap(m, "18")->encoding, "G729");
  EXPECT_EQ(effective_rtpmap(m, "9")->encoding, "G722");
  EXPECT_EQ(effective_rtpmap(m, "9")->clock_rate, 8000u);  // RFC 3551's rate for G.722
  EXPECT_EQ(effective_rtpmap(m, "31")->encoding, "H261");
  EXPECT_EQ(effective_rtpmap(m, "31")->clock_rate, 90000u);
  EXPECT_FALSE(effective_rtpmap(m, "96"));  // dynamic, and no a=rtpmap
  EXPECT_FALSE(effective_rtpmap(m, "*"));
  EXPECT_FALSE(effective_rtpmap(m, "128"));
}

TEST(Codec, RtpmapOverridesTheStaticTable) {
  const Sdp s(audio_offer("31", "a=rtpmap:31 LPC\r\n"));
  auto map = effective_rtpmap(s->media[0], "31");
  ASSERT_TRUE(map);
  EXPECT_EQ(map->encoding, "LPC");
  EXPECT_EQ(map->clock_rate, 0u);
}

TEST(Codec, AmrParameters) {
  AmrParameters none = parse_amr_fmtp("");
  EXPECT_TRUE(none.valid);
  EXPECT_FALSE(none.octet_align);
  EXPECT_EQ(none.mode_set, 0);

  AmrParameters p = parse_amr_fmtp("mode-set=0,2,4,7; octet-align=1;mode-change-capability=2");
  EXPECT_TRUE(p.valid);
  EXPECT_TRUE(p.octet_align);
  EXPECT_EQ(p.mode_set, (1 << 0) | (1 << 2) | (1 << 4) | (1 << 7));

  EXPECT_FALSE(parse_amr_fmtp("octet-align=0").octet_align);
  EXPECT_FALSE(parse_amr_fmtp("octet-align=2").valid);
  EXPECT_FALSE(parse_amr_fmtp("octet-align").valid);
  EXPECT_FALSE(parse_amr_fmtp("mode-set=0,x").valid);
  EXPECT_FALSE(parse_amr_fmtp("mode-set=9").valid);
  EXPECT_FALSE(parse_amr_fmtp("mode-set=").valid);
  EXPECT_EQ(parse_amr_fmtp("MODE-SET=8").mode_set, 1 << 8);

  // crc, robust-sorting and interleaving exist only in octet-aligned mode.
  EXPECT_TRUE(parse_amr_fmtp("crc=1").octet_align);
  EXPECT_TRUE(parse_amr_fmtp("crc=1").crc);
  EXPECT_TRUE(parse_amr_fmtp("robust-sorting=1").octet_align);
  EXPECT_EQ(parse_amr_fmtp("interleaving=4").interleaving, 4u);
  EXPECT_TRUE(parse_amr_fmtp("interleaving=4").octet_align);
  EXPECT_FALSE(parse_amr_fmtp("crc=0").octet_align);
  EXPECT_FALSE(parse_amr_fmtp("interleaving=0").valid);
}

// UEs in the field quote AMR values (a=fmtp:100 mode-set="0,1,2"); the
// numbers inside count, the quotes do not.
TEST(Codec, AmrParametersQuoted) {
  AmrParameters p = parse_amr_fmtp("mode-set=\"0,2,4,7\"; octet-align=\"1\"");
  EXPECT_TRUE(p.valid);
  EXPECT_TRUE(p.octet_align);
  EXPECT_EQ(p.mode_set, (1 << 0) | (1 << 2) | (1 << 4) | (1 << 7));
  EXPECT_EQ(parse_amr_fmtp("mode-set=\" 8 \"").mode_set, 1 << 8);
  EXPECT_FALSE(parse_amr_fmtp("mode-set=\"\"").valid);
  EXPECT_FALSE(parse_amr_fmtp("mode-set=\"0,9\"").valid);
  // An unbalanced quote is a malformed value, not a quoted one.
  EXPECT_FALSE(parse_amr_fmtp("mode-set=\"0,1").valid);
  // A ';' inside quotes stays in its item.
  EXPECT_FALSE(parse_amr_fmtp("mode-set=\"0;1\";octet-align=1").valid);
  EXPECT_TRUE(parse_amr_fmtp("mode-set=\"0;1\";octet-align=1").octet_align);

  // Quoted and unquoted spellings of one format agree, and the answer keeps
  // to the common modes.
  const RtpMap wb{116, "AMR-WB", 16000, 1};
  EXPECT_TRUE(compatible(wb, "mode-set=\"0,1,2\"", Codec::amr_wb(116, "mode-set=2")));
  EXPECT_FALSE(compatible(wb, "mode-set=\"0,1\"", Codec::amr_wb(116, "mode-set=2")));
  EXPECT_EQ(answer_fmtp("mode-set=\"0,1,2\";max-red=0", Codec::amr_wb(116, "mode-set=1,2,8")), "mode-set=1,2;max-red=0");
}

TEST(Codec, AmrOctetAlignMustMatch) {
  const RtpMap wb{116, "AMR-WB", 16000, 1};
  EXPECT_TRUE(compatible(wb, "mode-change-capability=2;max-red=0", Codec::amr_wb()));
  EXPECT_FALSE(compatible(wb, "octet-align=1", Codec::amr_wb()));
  EXPECT_TRUE(compatible(wb, "octet-align=1", Codec::amr_wb(116, "octet-align=1")));
  EXPECT_FALSE(compatible(wb, "", Codec::amr_wb(116, "octet-align=1")));
  EXPECT_TRUE(compatible(wb, "octet-align=0", Codec::amr_wb()));  // 0 is the default
  // A frame CRC is one more thing both ends must do.
  EXPECT_FALSE(compatible(wb, "octet-align=1;crc=1", Codec::amr_wb(116, "octet-align=1")));
  EXPECT_TRUE(compatible(wb, "crc=1", Codec::amr_wb(116, "octet-align=1;crc=1")));
  EXPECT_FALSE(compatible(wb, "octet-align=yes", Codec::amr_wb()));
}

TEST(Codec, AmrModeSetOverlap) {
  const RtpMap nb{97, "AMR", 8000, 1};
  EXPECT_TRUE(compatible(nb, "mode-set=0,2,4,7", Codec::amr(97, "mode-set=2,7")));
  EXPECT_TRUE(compatible(nb, "mode-set=7", Codec::amr(97, "")));  // no restriction here
  EXPECT_TRUE(compatible(nb, "", Codec::amr(97, "mode-set=7")));
  EXPECT_FALSE(compatible(nb, "mode-set=0,1", Codec::amr(97, "mode-set=7")));
  EXPECT_FALSE(compatible(nb, "mode-set=8", Codec::amr()));  // AMR has modes 0-7 only
  EXPECT_TRUE(compatible(RtpMap{98, "AMR-WB", 16000, 1}, "mode-set=8", Codec::amr_wb()));
}

TEST(Codec, EncodingClockAndChannels) {
  EXPECT_TRUE(compatible(RtpMap{0, "pcmu", 8000, 1}, "", Codec::pcmu()));  // names are case-insensitive
  EXPECT_FALSE(compatible(RtpMap{0, "PCMU", 16000, 1}, "", Codec::pcmu()));
  EXPECT_FALSE(compatible(RtpMap{0, "PCMU", 8000, 2}, "", Codec::pcmu()));
  EXPECT_FALSE(compatible(RtpMap{116, "AMR", 16000, 1}, "", Codec::amr()));
  EXPECT_FALSE(compatible(RtpMap{8, "PCMA", 8000, 1}, "", Codec::pcmu()));
}

TEST(Codec, AnswerFmtpNarrowsTheModeSet) {
  EXPECT_EQ(answer_fmtp("mode-set=0,2,4,7;max-red=0", Codec::amr(97, "mode-set=2,7")), "mode-set=2,7;max-red=0");
  EXPECT_EQ(answer_fmtp("max-red=0", Codec::amr(97, "mode-set=2,7")), "mode-set=2,7;max-red=0");
  EXPECT_EQ(answer_fmtp("", Codec::amr(97, "mode-set=2")), "mode-set=2");
  EXPECT_EQ(answer_fmtp("mode-change-capability=2;max-red=0", Codec::amr_wb()), "mode-change-capability=2;max-red=0");
  EXPECT_EQ(answer_fmtp("0-15", Codec::telephone_event()), "0-15");
}

// --- build_answer ------------------------------------------------------------

TEST(BuildAnswer, VolteInviteAnsweredByAmrWbUe) {
  const Sdp offer(body_of("invite_sdp.sip"));
  LocalMedia ue = ue_with({Codec::amr_wb(), Codec::amr(), Codec::telephone_event()});
  auto answer = build_answer(*offer, ue);
  ASSERT_TRUE(answer) << answer.error().reason;
  EXPECT_TRUE(answer->negotiation.ok());
  ASSERT_EQ(answer->negotiation.media.size(), 1u);
  const MediaAgreement& agreed = answer->negotiation.media[0];
  EXPECT_TRUE(agreed.accepted);
  EXPECT_EQ(agreed.media, "audio");
  ASSERT_EQ(agreed.codecs.size(), 2u);
  EXPECT_EQ(agreed.codecs[0].payload_type, 116);
  EXPECT_EQ(agreed.codecs[0].encoding, "AMR-WB");
  EXPECT_EQ(agreed.codecs[0].clock_rate, 16000u);
  EXPECT_EQ(agreed.codecs[1].payload_type, 111);
  EXPECT_EQ(agreed.codecs[1].encoding, "telephone-event");
  EXPECT_EQ(agreed.codecs[1].clock_rate, 16000u);
  EXPECT_EQ(agreed.answer_direction, Direction::SendRecv);

  const Sdp a(answer->sdp);
  EXPECT_EQ(a->origin.address, "192.0.2.99");
  EXPECT_EQ(a->connection->address, "192.0.2.99");
  EXPECT_EQ(a->timing, "0 0");
  ASSERT_EQ(a->media.size(), 1u);
  const Media& m = a->media[0];
  EXPECT_EQ(m.port, 50010);
  EXPECT_EQ(formats_of(m), (std::vector<std::string>{"116", "111"}));
  EXPECT_EQ(m.rtpmap(116)->encoding, "AMR-WB");
  EXPECT_EQ(m.rtpmap(116)->clock_rate, 16000u);
  EXPECT_EQ(m.rtpmap(111)->encoding, "telephone-event");
  EXPECT_EQ(m.rtpmap(111)->clock_rate, 16000u);
  EXPECT_EQ(m.fmtp(116), "mode-change-capability=2;max-red=0");
  EXPECT_EQ(m.fmtp(111), "0-15");
  EXPECT_EQ(m.ptime(), 20u);
  EXPECT_EQ(m.direction(a->direction()), Direction::SendRecv);

  // The answer judged against its offer agrees with what build_answer said.
  Negotiation n = negotiate(*offer, *a);
  ASSERT_TRUE(n.ok()) << n.reason;
  EXPECT_EQ(agreed_payload_types(n.media[0]), (std::vector<int>{116, 111}));
}

TEST(BuildAnswer, SippOfferWithBothAmrFormats) {
  // 116/118 bandwidth-efficient, 107/96 octet-aligned, DTMF at 16000 and 8000.
  const Sdp offer(body_of("invite_sdp_sipp.sip"));
  auto answer = build_answer(*offer, ue_with({Codec::amr_wb(), Codec::amr(), Codec::telephone_event()}));
  ASSERT_TRUE(answer) << answer.error().reason;
  EXPECT_EQ(agreed_payload_types(answer->negotiation.media[0]), (std::vector<int>{116, 118, 111}));
  const Sdp a(answer->sdp);
  EXPECT_EQ(formats_of(a->media[0]), (std::vector<std::string>{"116", "118", "111"}));

  // A UE set to octet-aligned AMR-WB picks 107, and DTMF stays at 16000.
  auto aligned = build_answer(*offer, ue_with({Codec::amr_wb(97, "octet-align=1"), Codec::telephone_event()}));
  ASSERT_TRUE(aligned) << aligned.error().reason;
  EXPECT_EQ(agreed_payload_types(aligned->negotiation.media[0]), (std::vector<int>{107, 111}));

  // A narrowband-only UE answers AMR with telephone-event at 8000.
  auto narrow = build_answer(*offer, ue_with({Codec::amr(), Codec::telephone_event(101, 8000)}));
  ASSERT_TRUE(narrow) << narrow.error().reason;
  EXPECT_EQ(agreed_payload_types(narrow->negotiation.media[0]), (std::vector<int>{118, 110}));
  const Sdp na(narrow->sdp);
  EXPECT_EQ(na->media[0].rtpmap(110)->clock_rate, 8000u);
}

TEST(BuildAnswer, DirectionIsMirrored) {
  struct Case {
    const char* offer_attr;
    const char* session_attr;
    Direction local;
    Direction expected;
  } cases[] = {
      {"a=sendonly\r\n", "", Direction::SendRecv, Direction::RecvOnly},
      {"a=recvonly\r\n", "", Direction::SendRecv, Direction::SendOnly},
      {"a=inactive\r\n", "", Direction::SendRecv, Direction::Inactive},
      {"a=sendrecv\r\n", "", Direction::SendRecv, Direction::SendRecv},
      {"", "", Direction::SendRecv, Direction::SendRecv},                    // no attribute: sendrecv
      {"", "a=sendonly\r\n", Direction::SendRecv, Direction::RecvOnly},      // session level
      {"a=sendrecv\r\n", "a=sendonly\r\n", Direction::SendRecv, Direction::SendRecv},  // media wins
      {"a=sendrecv\r\n", "", Direction::RecvOnly, Direction::RecvOnly},     // a listening UE
      {"a=sendonly\r\n", "", Direction::SendOnly, Direction::Inactive},     // neither can receive
      {"a=recvonly\r\n", "", Direction::RecvOnly, Direction::Inactive},
      {"a=sendonly\r\n", "", Direction::RecvOnly, Direction::RecvOnly},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.session_attr) + "|" + c.offer_attr + "|" + std::string(direction_name(c.local)));
    const Sdp offer(audio_offer("0", c.offer_attr, c.session_attr));
    LocalMedia ue = ue_with({Codec::pcmu()});
    ue.direction = c.local;
    auto answer = build_answer(*offer, ue);
    ASSERT_TRUE(answer) << answer.error().reason;
    EXPECT_EQ(answer->negotiation.media[0].answer_direction, c.expected);
    const Sdp a(answer->sdp);
    EXPECT_EQ(a->media[0].direction(a->direction()), c.expected);
    EXPECT_TRUE(negotiate(*offer, *a).ok());
  }
}

TEST(BuildAnswer, OctetAlignMismatchIsNoCommonCodec) {
  const Sdp offer(audio_offer("107", "a=rtpmap:107 AMR-WB/16000/1\r\na=fmtp:107 octet-align=1\r\n"));
  auto answer = build_answer(*offer, ue_with({Codec::amr_wb(), Codec::telephone_event()}));
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().failure, OfferAnswerFailure::NoCommonCodec);
  EXPECT_NE(answer.error().reason.find("codec or media mismatch"), std::string::npos) << answer.error().reason;
  EXPECT_NE(answer.error().reason.find("AMR-WB/16000"), std::string::npos) << answer.error().reason;
  ASSERT_EQ(answer.error().media.size(), 1u);
  EXPECT_FALSE(answer.error().media[0].accepted);
  EXPECT_EQ(answer.error().media[0].reason, "no common codec");
}

TEST(BuildAnswer, ModeSetOverlapAndNonOverlap) {
  const std::string attrs = "a=rtpmap:97 AMR/8000\r\na=fmtp:97 mode-set=0,2,4,7;max-red=0\r\n";
  const Sdp offer(audio_offer("97", attrs));
  auto overlap = build_answer(*offer, ue_with({Codec::amr(118, "mode-set=2,7")}));
  ASSERT_TRUE(overlap) << overlap.error().reason;
  const Sdp a(overlap->sdp);
  EXPECT_EQ(a->media[0].fmtp(97), "mode-set=2,7;max-red=0");  // only the modes both allow
  EXPECT_TRUE(negotiate(*offer, *a).ok());

  auto disjoint = build_answer(*offer, ue_with({Codec::amr(118, "mode-set=1,3")}));
  ASSERT_FALSE(disjoint);
  EXPECT_EQ(disjoint.error().failure, OfferAnswerFailure::NoCommonCodec);
}

TEST(BuildAnswer, StaticPayloadTypesWithoutRtpmap) {
  const Sdp offer(audio_offer("18 8 0", "a=ptime:20\r\n"));
  auto answer = build_answer(*offer, ue_with({Codec::pcmu(), Codec::pcma()}));
  ASSERT_TRUE(answer) << answer.error().reason;
  // The offer's order, not the local preference order.
  EXPECT_EQ(agreed_payload_types(answer->negotiation.media[0]), (std::vector<int>{8, 0}));
  const Sdp a(answer->sdp);
  EXPECT_EQ(formats_of(a->media[0]), (std::vector<std::string>{"8", "0"}));
  EXPECT_EQ(a->media[0].rtpmap(8)->encoding, "PCMA");  // static mappings are written out too
  EXPECT_EQ(a->media[0].rtpmap(0)->encoding, "PCMU");
  EXPECT_FALSE(a->media[0].fmtp(0));
  Negotiation n = negotiate(*offer, *a);
  ASSERT_TRUE(n.ok()) << n.reason;
  EXPECT_EQ(n.media[0].codecs[0].encoding, "PCMA");
}

TEST(BuildAnswer, NoCommonCodec) {
  const Sdp offer(audio_offer("0 18", ""));
  auto answer = build_answer(*offer, ue_with({Codec::amr_wb(), Codec::amr(), Codec::telephone_event()}));
  ASSERT_FALSE(answer);
  const Negotiation& n = answer.error();
  EXPECT_FALSE(n.ok());
  EXPECT_EQ(n.failure, OfferAnswerFailure::NoCommonCodec);
  EXPECT_NE(n.reason.find("codec or media mismatch"), std::string::npos) << n.reason;
  EXPECT_NE(n.reason.find("PCMU/8000"), std::string::npos) << n.reason;
  EXPECT_NE(n.reason.find("G729/8000"), std::string::npos) << n.reason;

  // telephone-event alone is not a voice codec.
  const Sdp dtmf_only(audio_offer("101", "a=rtpmap:101 telephone-event/8000\r\n"));
  auto none = build_answer(*dtmf_only, ue_with({Codec::pcmu(), Codec::telephone_event(101, 8000)}));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().failure, OfferAnswerFailure::NoCommonCodec);
}

TEST(BuildAnswer, RejectedStreamsGetPortZero) {
  constexpr std::string_view text =
      "v=0\r\n"
      "o=offerer 10 10 IN IP4 192.0.2.1\r\n"
      "s=-\r\n"
      "c=IN IP4 192.0.2.1\r\n"
      "t=0 0\r\n"
      "m=audio 0 RTP/AVP 0\r\n"
      "m=audio 40000 RTP/AVP 0\r\n"
      "m=video 40002 RTP/AVP 31 34\r\n"
      "m=message 40004 TCP/MSRP *\r\n";
  const Sdp offer(text);
  auto answer = build_answer(*offer, ue_with({Codec::pcmu()}));
  ASSERT_TRUE(answer) << answer.error().reason;
  const auto& media = answer->negotiation.media;
  ASSERT_EQ(media.size(), 4u);
  EXPECT_FALSE(media[0].accepted);
  EXPECT_EQ(media[0].reason, "rejected in the offer");
  EXPECT_TRUE(media[1].accepted);
  EXPECT_FALSE(media[2].accepted);
  EXPECT_EQ(media[2].reason, "no common codec");
  EXPECT_FALSE(media[3].accepted);

  const Sdp a(answer->sdp);
  ASSERT_EQ(a->media.size(), 4u);  // one m= line per offered one (RFC 3264 §6)
  EXPECT_EQ(a->media[0].port, 0);
  EXPECT_EQ(a->media[1].port, 50010);
  EXPECT_EQ(a->media[2].port, 0);
  EXPECT_EQ(a->media[2].media, "video");
  EXPECT_EQ(formats_of(a->media[2]), (std::vector<std::string>{"31", "34"}));
  EXPECT_EQ(a->media[3].port, 0);
  EXPECT_EQ(a->media[3].proto, "TCP/MSRP");

  Negotiation n = negotiate(*offer, *a);
  ASSERT_TRUE(n.ok()) << n.reason;
  EXPECT_FALSE(n.media[0].accepted);
  EXPECT_TRUE(n.media[1].accepted);
  EXPECT_EQ(n.media[2].reason, "rejected in the answer (port 0)");
}

TEST(BuildAnswer, RepeatsTheOfferTimingAndStatesLocalPtime) {
  std::string text = audio_offer("0", "a=ptime:20\r\n");
  text.replace(text.find("t=0 0"), 5, "t=3034423619 3042462419");
  const Sdp offer(text);
  LocalMedia ue = ue_with({Codec::pcmu()});
  ue.ptime = 40;
  auto answer = build_answer(*offer, ue);
  ASSERT_TRUE(answer) << answer.error().reason;
  const Sdp a(answer->sdp);
  EXPECT_EQ(a->timing, "3034423619 3042462419");
  EXPECT_EQ(a->media[0].ptime(), 40u);
}

TEST(BuildAnswer, ExtraAttributesAndNoMedia) {
  const Sdp offer(body_of("invite_sdp.sip"));
  QosTable table;
  table.update_from_peer(read_preconditions(offer->media[0]));
  auto answer = build_answer(*offer, ue_with({Codec::amr_wb(), Codec::telephone_event()}), table.attributes(true));
  ASSERT_TRUE(answer) << answer.error().reason;
  const Sdp a(answer->sdp);
  MediaPreconditions pre = read_preconditions(a->media[0]);
  EXPECT_TRUE(pre.error.empty()) << pre.error;
  EXPECT_EQ(pre.current.size(), 2u);
  EXPECT_EQ(pre.desired.size(), 2u);
  EXPECT_EQ(pre.confirm.size(), 1u);

  const Sdp empty("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n");
  auto none = build_answer(*empty, ue_with({Codec::pcmu()}));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().failure, OfferAnswerFailure::NoMedia);
}

// --- build_offer ---------------------------------------------------------------

TEST(BuildOffer, ListsEveryLocalCodec) {
  LocalMedia ue = ue_with({Codec::amr_wb(), Codec::amr(), Codec::telephone_event(), Codec::pcmu()});
  ue.direction = Direction::SendOnly;
  ue.ptime = 20;
  const std::string sdp = build_offer(ue, {"curr:qos local none", "sendrecv-not-a-direction"});
  const Sdp s(sdp);
  ASSERT_EQ(s->media.size(), 1u);
  const Media& m = s->media[0];
  EXPECT_EQ(m.port, 50010);
  EXPECT_EQ(formats_of(m), (std::vector<std::string>{"116", "118", "111", "0"}));
  EXPECT_EQ(m.rtpmap(116)->encoding, "AMR-WB");
  EXPECT_EQ(m.rtpmap(118)->encoding, "AMR");
  EXPECT_EQ(m.rtpmap(111)->clock_rate, 16000u);
  EXPECT_FALSE(m.rtpmap(0));  // static: no rtpmap needed
  EXPECT_EQ(effective_rtpmap(m, "0")->encoding, "PCMU");
  EXPECT_EQ(m.fmtp(116), "mode-change-capability=2;max-red=0");
  EXPECT_EQ(m.fmtp(111), "0-15");
  EXPECT_EQ(m.attribute("curr")->value, "qos local none");
  ASSERT_NE(m.attribute("sendrecv-not-a-direction"), nullptr);
  EXPECT_EQ(m.ptime(), 20u);
  EXPECT_EQ(m.direction(s->direction()), Direction::SendOnly);
}

TEST(BuildOffer, OfferAnswerRoundTrip) {
  LocalMedia mo = ue_with({Codec::amr_wb(), Codec::amr(), Codec::telephone_event()});
  const Sdp offer(build_offer(mo));
  LocalMedia mt = ue_with({Codec::amr(), Codec::telephone_event(100, 8000)});
  mt.audio_port = 60000;
  auto answer = build_answer(*offer, mt);
  ASSERT_TRUE(answer) << answer.error().reason;
  // The MO offers DTMF only at 16000, so it cannot ride along with AMR at 8000.
  EXPECT_EQ(agreed_payload_types(answer->negotiation.media[0]), (std::vector<int>{118}));
  Negotiation n = negotiate(*offer, *Sdp(answer->sdp));
  ASSERT_TRUE(n.ok()) << n.reason;
  EXPECT_EQ(n.media[0].codecs[0].encoding, "AMR");
}

// --- negotiate ---------------------------------------------------------------

TEST(Negotiate, VolteInviteAnd183) {
  Negotiation n = negotiate(*Sdp(body_of("invite_sdp.sip")), *Sdp(body_of("183_session_progress_sdp.sip")));
  ASSERT_TRUE(n.ok()) << n.reason;
  EXPECT_EQ(n.failure, OfferAnswerFailure::None);
  EXPECT_TRUE(n.reason.empty());
  ASSERT_EQ(n.media.size(), 1u);
  EXPECT_TRUE(n.media[0].accepted);
  EXPECT_EQ(n.media[0].media, "audio");
  EXPECT_EQ(agreed_payload_types(n.media[0]), (std::vector<int>{116, 111}));
  EXPECT_EQ(n.media[0].codecs[0].encoding, "AMR-WB");
  EXPECT_EQ(n.media[0].offer_direction, Direction::SendRecv);
  EXPECT_EQ(n.media[0].answer_direction, Direction::SendRecv);
}

const std::string kOffer = audio_offer("116 111",
                                       "a=rtpmap:116 AMR-WB/16000/1\r\n"
                                       "a=fmtp:116 mode-change-capability=2;max-red=0\r\n"
                                       "a=rtpmap:111 telephone-event/16000\r\n"
                                       "a=sendrecv\r\n");

std::string answer_with(std::string_view formats, std::string_view attributes) {
  return "v=0\r\no=answerer 20 20 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 50000 RTP/AVP " +
         std::string(formats) + "\r\n" + std::string(attributes);
}

TEST(Negotiate, AnswerMayAddAFormatTheOfferLacked) {
  Negotiation n = negotiate(*Sdp(kOffer), *Sdp(answer_with("116 0 111",
                                                                "a=rtpmap:116 AMR-WB/16000/1\r\n"
                                                                "a=rtpmap:111 telephone-event/16000\r\n")));
  ASSERT_TRUE(n.ok()) << n.reason;
  EXPECT_EQ(agreed_payload_types(n.media[0]), (std::vector<int>{116, 111}));  // PCMU left out
}

TEST(Negotiate, AnswerWithOnlyFormatsNotInTheOffer) {
  Negotiation n = negotiate(*Sdp(kOffer), *Sdp(answer_with("0 8", "")));
  EXPECT_FALSE(n.ok());
  EXPECT_EQ(n.failure, OfferAnswerFailure::AnswerNotInOffer);
  EXPECT_NE(n.reason.find("codec or media mismatch"), std::string::npos) << n.reason;
  EXPECT_NE(n.reason.find("m= line 1"), std::string::npos) << n.reason;

  // The offer's number reused for another codec is not the offered format.
  Negotiation remapped = negotiate(*Sdp(kOffer), *Sdp(answer_with("116", "a=rtpmap:116 opus/48000/2\r\n")));
  EXPECT_EQ(remapped.failure, OfferAnswerFailure::AnswerNotInOffer);
}

TEST(Negotiate, RenumberedDynamicPayloadType) {
  Negotiation n = negotiate(*Sdp(kOffer), *Sdp(answer_with("100 101",
                                                                "a=rtpmap:100 AMR-WB/16000/1\r\n"
                                                                "a=rtpmap:101 telephone-event/16000\r\n")));
  ASSERT_TRUE(n.ok()) << n.reason;
  EXPECT_EQ(agreed_payload_types(n.media[0]), (std::vector<int>{100, 101}));
  EXPECT_EQ(n.media[0].codecs[0].encoding, "AMR-WB");
}

TEST(Negotiate, MediaLineCountMismatch) {
  const std::string two = answer_with("116", "a=rtpmap:116 AMR-WB/16000/1\r\n") + "m=video 50002 RTP/AVP 31\r\n";
  Negotiation n = negotiate(*Sdp(kOffer), *Sdp(two));
  EXPECT_EQ(n.failure, OfferAnswerFailure::MediaCountMismatch);
  EXPECT_NE(n.reason.find("2 m= lines"), std::string::npos) << n.reason;
  EXPECT_TRUE(n.media.empty());

  std::string video = answer_with("31", "");
  video.replace(video.find("m=audio"), 7, "m=video");
  Negotiation kind = negotiate(*Sdp(kOffer), *Sdp(video));
  EXPECT_EQ(kind.failure, OfferAnswerFailure::MediaCountMismatch);
  EXPECT_NE(kind.reason.find("video"), std::string::npos) << kind.reason;
}

TEST(Negotiate, DirectionMismatch) {
  struct Case {
    const char* offered;
    const char* answered;
    bool ok;
  } cases[] = {
      {"sendonly", "sendonly", false}, {"sendonly", "sendrecv", false}, {"sendonly", "recvonly", true},
      {"sendonly", "inactive", true},  {"recvonly", "recvonly", false}, {"recvonly", "sendonly", true},
      {"inactive", "sendrecv", false}, {"inactive", "inactive", true},  {"sendrecv", "sendonly", true},
      {"sendrecv", "recvonly", true},  {"sendrecv", "inactive", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.offered) + " answered " + c.answered);
    const Sdp offer(audio_offer("0", "a=" + std::string(c.offered) + "\r\n"));
    const Sdp answer(answer_with("0", "a=" + std::string(c.answered) + "\r\n"));
    Negotiation n = negotiate(*offer, *answer);
    EXPECT_EQ(n.ok(), c.ok) << n.reason;
    if (!c.ok) {
      EXPECT_EQ(n.failure, OfferAnswerFailure::DirectionMismatch);
      EXPECT_NE(n.reason.find(c.answered), std::string::npos) << n.reason;
    }
  }
}

TEST(Negotiate, AmrOctetAlignAndModeSetBetweenOfferAndAnswer) {
  const std::string offer = audio_offer("97", "a=rtpmap:97 AMR/8000\r\na=fmtp:97 mode-set=0,2\r\n");
  Negotiation aligned =
      negotiate(*Sdp(offer), *Sdp(answer_with("97", "a=rtpmap:97 AMR/8000\r\na=fmtp:97 octet-align=1\r\n")));
  EXPECT_EQ(aligned.failure, OfferAnswerFailure::NoCommonCodec);
  EXPECT_NE(aligned.reason.find("codec or media mismatch"), std::string::npos) << aligned.reason;
  EXPECT_NE(aligned.reason.find("octet-aligned"), std::string::npos) << aligned.reason;

  Negotiation disjoint =
      negotiate(*Sdp(offer), *Sdp(answer_with("97", "a=rtpmap:97 AMR/8000\r\na=fmtp:97 mode-set=7\r\n")));
  EXPECT_EQ(disjoint.failure, OfferAnswerFailure::NoCommonCodec);
  EXPECT_NE(disjoint.reason.find("mode-set"), std::string::npos) << disjoint.reason;

  Negotiation subset =
      negotiate(*Sdp(offer), *Sdp(answer_with("97", "a=rtpmap:97 AMR/8000\r\na=fmtp:97 mode-set=2\r\n")));
  EXPECT_TRUE(subset.ok()) << subset.reason;

  // A renumbered octet-aligned answer finds the octet-aligned offered format.
  const Sdp sipp(body_of("invite_sdp_sipp.sip"));
  Negotiation renumbered = negotiate(
      *sipp, *Sdp(answer_with("99", "a=rtpmap:99 AMR-WB/16000/1\r\na=fmtp:99 octet-align=1\r\n")));
  ASSERT_TRUE(renumbered.ok()) << renumbered.reason;
  EXPECT_EQ(agreed_payload_types(renumbered.media[0]), (std::vector<int>{99}));
}

TEST(Negotiate, RejectionsAndDtmfOnly) {
  std::string port_zero = answer_with("116", "");
  port_zero.replace(port_zero.find("50000"), 5, "0");
  Negotiation rejected = negotiate(*Sdp(kOffer), *Sdp(port_zero));
  EXPECT_EQ(rejected.failure, OfferAnswerFailure::NoCommonCodec);
  EXPECT_NE(rejected.reason.find("codec or media mismatch"), std::string::npos);
  ASSERT_EQ(rejected.media.size(), 1u);
  EXPECT_EQ(rejected.media[0].reason, "rejected in the answer (port 0)");

  Negotiation dtmf = negotiate(*Sdp(kOffer), *Sdp(answer_with("111", "a=rtpmap:111 telephone-event/16000\r\n")));
  EXPECT_EQ(dtmf.failure, OfferAnswerFailure::NoCommonCodec);
  EXPECT_EQ(dtmf.media[0].reason, "no common codec");
  EXPECT_FALSE(dtmf.media[0].accepted);
}

TEST(Negotiate, NonRtpMediaMatchByFormat) {
  const std::string offer = kOffer + "m=message 40004 TCP/MSRP *\r\n";
  const std::string answer = answer_with("116", "a=rtpmap:116 AMR-WB/16000/1\r\n") + "m=message 50004 TCP/MSRP *\r\n";
  Negotiation n = negotiate(*Sdp(offer), *Sdp(answer));
  ASSERT_TRUE(n.ok()) << n.reason;
  ASSERT_EQ(n.media.size(), 2u);
  EXPECT_TRUE(n.media[1].accepted);
  EXPECT_EQ(n.media[1].codecs[0].encoding, "*");
}

TEST(Negotiate, NoMedia) {
  const std::string empty = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n";
  Negotiation n = negotiate(*Sdp(empty), *Sdp(empty));
  EXPECT_EQ(n.failure, OfferAnswerFailure::NoMedia);
}

}  // namespace
}  // namespace imsflow::sdp

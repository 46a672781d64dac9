// QoS preconditions (RFC 3312, RFC 4032): the curr/des/conf grammar, when
// one SDP says its preconditions are met, and the segmented status table a
// UE keeps across the TS 24.229 VoLTE ladder INVITE → 183 → PRACK → UPDATE.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "sdp/offer_answer.hpp"
#include "sdp/precondition.hpp"
#include "sdp/session.hpp"
#include "sdp_test_support.hpp"
#include "shared_data.hpp"

namespace imsflow::sdp {
namespace {

using test_support::body_of;
using test_support::Sdp;

/// One audio m= section carrying the given precondition lines.
std::string sdp_with(std::string_view lines) {
  return "v=0\r\no=ue 5 5 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n"
         "m=audio 49000 RTP/AVP 116\r\na=rtpmap:116 AMR-WB/16000\r\n" +
         std::string(lines) + "a=sendrecv\r\n";
}

// --- the three lines ------------------------------------------------------------

TEST(PreconditionGrammar, Curr) {
  auto c = parse_curr("qos local none");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->type, "qos");
  EXPECT_EQ(c->status, StatusType::Local);
  EXPECT_EQ(c->direction, QosDirection::None);

  auto e2e = parse_curr("qos e2e sendrecv");
  ASSERT_TRUE(e2e);
  EXPECT_EQ(e2e->status, StatusType::E2E);
  EXPECT_EQ(e2e->direction, QosDirection::SendRecv);

  auto spaced = parse_curr("  qos   remote\tsend ");
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->status, StatusType::Remote);
  EXPECT_EQ(spaced->direction, QosDirection::Send);

  auto upper = parse_curr("QOS LOCAL RECV");  // the tags are case-insensitive literals
  ASSERT_TRUE(upper);
  EXPECT_EQ(upper->type, "QOS");
  EXPECT_EQ(upper->direction, QosDirection::Recv);

  auto other_type = parse_curr("sec e2e sendrecv");  // precondition-type is any token
  ASSERT_TRUE(other_type);
  EXPECT_EQ(other_type->type, "sec");

  for (const char* bad : {"", "qos", "qos local", "qos local none extra", "qos nearby none", "qos local both",
                          "qos mandatory local sendrecv"}) {
    EXPECT_FALSE(parse_curr(bad)) << bad;
  }
}

TEST(PreconditionGrammar, Des) {
  auto d = parse_des("qos mandatory local sendrecv");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, "qos");
  EXPECT_EQ(d->strength, Strength::Mandatory);
  EXPECT_EQ(d->status, StatusType::Local);
  EXPECT_EQ(d->direction, QosDirection::SendRecv);

  struct Case {
    const char* text;
    Strength strength;
  } strengths[] = {{"qos optional remote sendrecv", Strength::Optional},
                   {"qos none e2e send", Strength::None},
                   {"qos failure local recv", Strength::Failure},
                   {"qos unknown e2e sendrecv", Strength::Unknown},
                   {"qos Mandatory remote none", Strength::Mandatory}};
  for (const Case& c : strengths) {
    auto parsed = parse_des(c.text);
    ASSERT_TRUE(parsed) << c.text;
    EXPECT_EQ(parsed->strength, c.strength) << c.text;
  }

  for (const char* bad : {"", "qos mandatory local", "qos mandatory local sendrecv now", "qos must local sendrecv",
                          "qos mandatory here sendrecv", "qos mandatory local sideways", "qos local sendrecv"}) {
    EXPECT_FALSE(parse_des(bad)) << bad;
  }
}

TEST(PreconditionGrammar, Conf) {
  auto c = parse_conf("qos remote sendrecv");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->type, "qos");
  EXPECT_EQ(c->status, StatusType::Remote);
  EXPECT_EQ(c->direction, QosDirection::SendRecv);
  EXPECT_EQ(parse_conf("qos e2e recv")->direction, QosDirection::Recv);
  for (const char* bad : {"", "qos remote", "qos remote sendrecv please", "qos far sendrecv", "qos remote loud"}) {
    EXPECT_FALSE(parse_conf(bad)) << bad;
  }
}

TEST(PreconditionGrammar, Names) {
  EXPECT_EQ(status_type_name(StatusType::E2E), "e2e");
  EXPECT_EQ(status_type_name(StatusType::Local), "local");
  EXPECT_EQ(status_type_name(StatusType::Remote), "remote");
  EXPECT_EQ(strength_name(Strength::Mandatory), "mandatory");
  EXPECT_EQ(strength_name(Strength::Optional), "optional");
  EXPECT_EQ(strength_name(Strength::None), "none");
  EXPECT_EQ(strength_name(Strength::Failure), "failure");
  EXPECT_EQ(strength_name(Strength::Unknown), "unknown");
  EXPECT_EQ(qos_direction_name(QosDirection::None), "none");
  EXPECT_EQ(qos_direction_name(QosDirection::Send), "send");
  EXPECT_EQ(qos_direction_name(QosDirection::Recv), "recv");
  EXPECT_EQ(qos_direction_name(QosDirection::SendRecv), "sendrecv");

  EXPECT_TRUE(covers(QosDirection::SendRecv, QosDirection::Send));
  EXPECT_TRUE(covers(QosDirection::Send, QosDirection::Send));
  EXPECT_TRUE(covers(QosDirection::None, QosDirection::None));
  EXPECT_FALSE(covers(QosDirection::Send, QosDirection::SendRecv));
  EXPECT_FALSE(covers(QosDirection::Recv, QosDirection::Send));
  EXPECT_FALSE(covers(QosDirection::None, QosDirection::Recv));
}

// --- reading one m= section ------------------------------------------------------

TEST(ReadPreconditions, SippInviteAnd183) {
  const Sdp invite(body_of("invite_sdp.sip"));
  MediaPreconditions offer = invite.preconditions();
  EXPECT_TRUE(offer.error.empty()) << offer.error;
  EXPECT_FALSE(offer.empty());
  ASSERT_EQ(offer.current.size(), 2u);
  EXPECT_EQ(offer.current[0].status, StatusType::Local);
  EXPECT_EQ(offer.current[0].direction, QosDirection::None);
  EXPECT_EQ(offer.current[1].status, StatusType::Remote);
  ASSERT_EQ(offer.desired.size(), 2u);
  EXPECT_EQ(offer.desired[0].strength, Strength::Mandatory);
  EXPECT_EQ(offer.desired[0].status, StatusType::Local);
  EXPECT_EQ(offer.desired[1].strength, Strength::Optional);
  EXPECT_EQ(offer.desired[1].status, StatusType::Remote);
  EXPECT_TRUE(offer.confirm.empty());

  const Sdp progress(body_of("183_session_progress_sdp.sip"));
  MediaPreconditions answer = progress.preconditions();
  EXPECT_TRUE(answer.error.empty()) << answer.error;
  ASSERT_EQ(answer.confirm.size(), 1u);
  EXPECT_EQ(answer.confirm[0].status, StatusType::Remote);
  EXPECT_EQ(answer.confirm[0].direction, QosDirection::SendRecv);
  EXPECT_EQ(answer.current[0].direction, QosDirection::SendRecv);
}

TEST(ReadPreconditions, MalformedLineIsReportedAndTheRestKept) {
  const Sdp s(
      sdp_with("a=curr:qos local none\r\na=des:qos maybe local sendrecv\r\na=des:qos mandatory local sendrecv\r\n"
               "a=conf:qos\r\n"));
  MediaPreconditions p = s.preconditions();
  EXPECT_NE(p.error.find("a=des:qos maybe local sendrecv"), std::string::npos) << p.error;  // the first bad one
  EXPECT_EQ(p.current.size(), 1u);
  EXPECT_EQ(p.desired.size(), 1u);
  EXPECT_TRUE(p.confirm.empty());
}

TEST(ReadPreconditions, NoLinesMeansNothingToWaitFor) {
  const Sdp s(sdp_with(""));
  MediaPreconditions p = s.preconditions();
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(p.met());
  EXPECT_FALSE(p.failed());
}

// --- met() on one SDP, through the VoLTE ladder ------------------------------------

TEST(PreconditionsMet, VolteLadderOnTheWire) {
  // INVITE (MO): nothing reserved yet; its own segment is mandatory.
  const Sdp invite(body_of("invite_sdp.sip"));
  EXPECT_FALSE(invite.preconditions().met());

  // 183 (MT): its segment is up, the MO's is not, and both are mandatory.
  const Sdp progress(body_of("183_session_progress_sdp.sip"));
  EXPECT_FALSE(progress.preconditions().met());

  // UPDATE (MO) once its bearer is up: its mandatory local segment is covered
  // and the optional remote one does not hold the call.
  const Sdp update(sdp_with("a=curr:qos local sendrecv\r\n"
                            "a=curr:qos remote none\r\n"
                            "a=des:qos mandatory local sendrecv\r\n"
                            "a=des:qos optional remote sendrecv\r\n"));
  EXPECT_TRUE(update.preconditions().met());

  // 200 OK to the UPDATE (MT): both segments up.
  const Sdp ok(sdp_with("a=curr:qos local sendrecv\r\n"
                        "a=curr:qos remote sendrecv\r\n"
                        "a=des:qos mandatory local sendrecv\r\n"
                        "a=des:qos mandatory remote sendrecv\r\n"));
  EXPECT_TRUE(ok.preconditions().met());
}

TEST(PreconditionsMet, PartialDirectionsAndStatusTypes) {
  const Sdp half(sdp_with("a=curr:qos local send\r\na=des:qos mandatory local sendrecv\r\n"));
  EXPECT_FALSE(half.preconditions().met());
  const Sdp send_only(sdp_with("a=curr:qos local send\r\na=des:qos mandatory local send\r\n"));
  EXPECT_TRUE(send_only.preconditions().met());
  // A curr line for another status type does not count.
  const Sdp other_status(sdp_with("a=curr:qos remote sendrecv\r\na=des:qos mandatory local sendrecv\r\n"));
  EXPECT_FALSE(other_status.preconditions().met());
  // No curr line at all for a mandatory des: nothing is reserved.
  const Sdp missing(sdp_with("a=des:qos mandatory e2e sendrecv\r\n"));
  EXPECT_FALSE(missing.preconditions().met());
  const Sdp e2e(sdp_with("a=curr:qos e2e sendrecv\r\na=des:qos mandatory e2e sendrecv\r\n"));
  EXPECT_TRUE(e2e.preconditions().met());
  // The latest curr line for a segment is the one that counts.
  const Sdp later(
      sdp_with("a=curr:qos local none\r\na=curr:qos local sendrecv\r\na=des:qos mandatory local sendrecv\r\n"));
  EXPECT_TRUE(later.preconditions().met());
}

TEST(PreconditionsMet, FailureStrength) {
  const Sdp failed(sdp_with("a=curr:qos local sendrecv\r\na=des:qos failure local sendrecv\r\n"));
  MediaPreconditions p = failed.preconditions();
  EXPECT_TRUE(p.failed());
  EXPECT_FALSE(p.met());  // even with resources in place
  const Sdp optional_only(sdp_with("a=curr:qos local none\r\na=des:qos optional local sendrecv\r\n"));
  EXPECT_FALSE(optional_only.preconditions().failed());
  EXPECT_TRUE(optional_only.preconditions().met());
}

// --- the status table ------------------------------------------------------------

TEST(QosTable, DefaultAndAttributes) {
  QosTable t;
  EXPECT_EQ(t.local.current, QosDirection::None);
  EXPECT_EQ(t.local.desired, QosDirection::SendRecv);
  EXPECT_EQ(t.local.strength, Strength::Mandatory);
  EXPECT_EQ(t.remote.strength, Strength::Mandatory);
  EXPECT_FALSE(t.met());
  EXPECT_EQ(t.attributes(), (std::vector<std::string>{"curr:qos local none", "curr:qos remote none",
                                                      "des:qos mandatory local sendrecv",
                                                      "des:qos mandatory remote sendrecv"}));
  t.remote.strength = Strength::Optional;
  t.local.current = QosDirection::Send;
  EXPECT_EQ(t.attributes(true), (std::vector<std::string>{"curr:qos local send", "curr:qos remote none",
                                                          "des:qos mandatory local sendrecv",
                                                          "des:qos optional remote sendrecv",
                                                          "conf:qos remote sendrecv"}));
}

TEST(QosTable, MtSideOfTheVolteLadder) {
  // The MT UE reads the INVITE's offer.
  QosTable mt;
  const Sdp invite(body_of("invite_sdp.sip"));
  mt.update_from_peer(invite.preconditions());
  EXPECT_EQ(mt.remote.current, QosDirection::None);
  EXPECT_EQ(mt.local.current, QosDirection::None);
  // The MO's "des mandatory local" is about our remote segment; its
  // "optional remote" (our local) cannot lower our own mandatory.
  EXPECT_EQ(mt.remote.strength, Strength::Mandatory);
  EXPECT_EQ(mt.local.strength, Strength::Mandatory);
  EXPECT_FALSE(mt.confirm_requested_by_peer);
  EXPECT_FALSE(mt.met());

  // Its own bearer comes up; it answers in the 183 and asks for confirmation.
  mt.local.current = QosDirection::SendRecv;
  EXPECT_FALSE(mt.met());  // the MO's segment is still down
  const std::vector<std::string> in_183 = mt.attributes(true);
  EXPECT_EQ(in_183, (std::vector<std::string>{"curr:qos local sendrecv", "curr:qos remote none",
                                              "des:qos mandatory local sendrecv", "des:qos mandatory remote sendrecv",
                                              "conf:qos remote sendrecv"}));
  // These are the lines the recorded 183 carries.
  const Sdp progress(body_of("183_session_progress_sdp.sip"));
  for (const std::string& line : in_183) {
    EXPECT_NE(progress.text.find("a=" + line + "\r\n"), std::string::npos) << line;
  }

  // The MO's UPDATE says its segment is up: now alerting may start.
  const Sdp update(sdp_with("a=curr:qos local sendrecv\r\n"
                            "a=curr:qos remote sendrecv\r\n"
                            "a=des:qos mandatory local sendrecv\r\n"
                            "a=des:qos mandatory remote sendrecv\r\n"));
  mt.update_from_peer(update.preconditions());
  EXPECT_EQ(mt.remote.current, QosDirection::SendRecv);
  EXPECT_TRUE(mt.met());
  EXPECT_EQ(mt.attributes()[1], "curr:qos remote sendrecv");
}

TEST(QosTable, MoSideOfTheVolteLadder) {
  // The MO UE offered mandatory local / optional remote (the INVITE above).
  QosTable mo;
  mo.remote.strength = Strength::Optional;
  const Sdp progress(body_of("183_session_progress_sdp.sip"));
  mo.update_from_peer(progress.preconditions());
  EXPECT_EQ(mo.remote.current, QosDirection::SendRecv);  // the MT's "local sendrecv"
  EXPECT_EQ(mo.local.current, QosDirection::None);
  EXPECT_EQ(mo.remote.strength, Strength::Mandatory);    // upgraded by the answer
  EXPECT_TRUE(mo.confirm_requested_by_peer);
  EXPECT_FALSE(mo.met());

  mo.local.current = QosDirection::SendRecv;  // its own bearer is up
  EXPECT_TRUE(mo.met());
  // What it puts in the UPDATE, written and read back by the MT.
  LocalMedia ue;
  const Sdp update(build_offer(ue, mo.attributes()));
  MediaPreconditions p = update.preconditions();
  EXPECT_TRUE(p.error.empty()) << p.error;
  EXPECT_TRUE(p.met());
  QosTable mt;
  mt.local.current = QosDirection::SendRecv;
  mt.update_from_peer(p);
  EXPECT_TRUE(mt.met());
}

TEST(QosTable, LocalAndRemoteAndSendAndRecvSwap) {
  QosTable t;
  const Sdp peer(sdp_with("a=curr:qos local send\r\na=curr:qos remote recv\r\n"));
  t.update_from_peer(peer.preconditions());
  // The peer sends on its own segment: on ours that is the receiving direction.
  EXPECT_EQ(t.remote.current, QosDirection::Recv);
  // The peer reports it receives on our segment: we send there.
  EXPECT_EQ(t.local.current, QosDirection::Send);

  QosTable d;
  d.local.desired = QosDirection::None;
  d.remote.desired = QosDirection::None;
  const Sdp wants(sdp_with("a=des:qos mandatory remote send\r\na=des:qos mandatory local recv\r\n"));
  d.update_from_peer(wants.preconditions());
  EXPECT_EQ(d.local.desired, QosDirection::Recv);
  EXPECT_EQ(d.remote.desired, QosDirection::Send);
}

TEST(QosTable, PeerOwnsItsSegmentButOnlyAddsToOurs) {
  QosTable t;
  const Sdp up(sdp_with("a=curr:qos local sendrecv\r\n"));
  t.update_from_peer(up.preconditions());
  EXPECT_EQ(t.remote.current, QosDirection::SendRecv);
  const Sdp lost(sdp_with("a=curr:qos local none\r\n"));  // RFC 4032: resources can be lost
  t.update_from_peer(lost.preconditions());
  EXPECT_EQ(t.remote.current, QosDirection::None);

  t.local.current = QosDirection::Send;
  const Sdp unaware(sdp_with("a=curr:qos remote none\r\n"));
  t.update_from_peer(unaware.preconditions());
  EXPECT_EQ(t.local.current, QosDirection::Send);  // we know our own segment better
}

TEST(QosTable, StrengthUpgradesButNeverDowngrades) {
  QosTable t;
  t.local.strength = Strength::Optional;
  t.remote.strength = Strength::Mandatory;
  const Sdp peer(sdp_with("a=des:qos mandatory remote sendrecv\r\na=des:qos optional local sendrecv\r\n"));
  t.update_from_peer(peer.preconditions());
  EXPECT_EQ(t.local.strength, Strength::Mandatory);   // optional → mandatory
  EXPECT_EQ(t.remote.strength, Strength::Mandatory);  // not lowered to optional

  QosTable n;
  n.local.strength = Strength::None;
  const Sdp optional(sdp_with("a=des:qos optional remote sendrecv\r\n"));
  n.update_from_peer(optional.preconditions());
  EXPECT_EQ(n.local.strength, Strength::Optional);  // none → optional

  QosTable u;
  u.local.strength = Strength::Optional;
  const Sdp unknown(sdp_with("a=des:qos unknown remote sendrecv\r\n"));
  u.update_from_peer(unknown.preconditions());
  EXPECT_EQ(u.local.strength, Strength::Optional);
}

TEST(QosTable, FailureStrengthSticks) {
  QosTable t;
  t.local.current = QosDirection::SendRecv;
  t.remote.current = QosDirection::SendRecv;
  EXPECT_TRUE(t.met());
  const Sdp failure(sdp_with("a=des:qos failure local sendrecv\r\n"));
  t.update_from_peer(failure.preconditions());
  EXPECT_EQ(t.remote.strength, Strength::Failure);
  EXPECT_FALSE(t.met());
  const Sdp mandatory(sdp_with("a=des:qos mandatory local sendrecv\r\n"));
  t.update_from_peer(mandatory.preconditions());
  EXPECT_EQ(t.remote.strength, Strength::Failure);
  EXPECT_FALSE(t.met());
  EXPECT_EQ(t.attributes()[3], "des:qos failure remote sendrecv");
}

TEST(QosTable, OptionalAndNoneSegmentsDoNotHoldTheCall) {
  QosTable t;
  t.local.current = QosDirection::SendRecv;
  t.remote.strength = Strength::Optional;
  EXPECT_TRUE(t.met());
  t.remote.strength = Strength::None;
  EXPECT_TRUE(t.met());
  t.local.current = QosDirection::Recv;
  EXPECT_FALSE(t.met());  // our own segment is mandatory and half up
}

TEST(QosTable, IgnoresE2eAndOtherTypes) {
  QosTable t;
  t.local.strength = Strength::Optional;
  const Sdp peer(sdp_with("a=curr:qos e2e sendrecv\r\n"
                          "a=des:qos mandatory e2e sendrecv\r\n"
                          "a=curr:sec local sendrecv\r\n"
                          "a=des:sec mandatory remote sendrecv\r\n"
                          "a=conf:sec remote sendrecv\r\n"));
  t.update_from_peer(peer.preconditions());
  EXPECT_EQ(t.remote.current, QosDirection::None);
  EXPECT_EQ(t.local.current, QosDirection::None);
  EXPECT_EQ(t.local.strength, Strength::Optional);
  EXPECT_FALSE(t.confirm_requested_by_peer);

  const Sdp upper(sdp_with("a=curr:QOS local sendrecv\r\n"));  // "qos" in any case
  t.update_from_peer(upper.preconditions());
  EXPECT_EQ(t.remote.current, QosDirection::SendRecv);
}

}  // namespace
}  // namespace imsflow::sdp

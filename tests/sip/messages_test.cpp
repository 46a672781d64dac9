// Real IMS messages: every file in tests/data/messages (recorded here with
// SIPp) and ../shared/messages/public (cut from Open5GS/Kamailio captures)
// parses, reads back the values checked by hand below, and round-trips.
#include <gtest/gtest.h>

#include "sdp/session.hpp"
#include "shared_data.hpp"
#include "sip/builder.hpp"
#include "sip/parser.hpp"

namespace imsflow::sip {
namespace {

std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".sip") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void expect_valid_and_round_trips(const std::filesystem::path& file) {
  SCOPED_TRACE(file.filename().string());
  const std::string bytes = test::read_file(file);
  Message m;
  auto r = parse(bytes, m);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(*r, bytes.size());
  EXPECT_EQ(m.bytes(), bytes);
  EXPECT_EQ(m.trailing_bytes(), 0u);
  EXPECT_TRUE(m.defects().empty() || file.filename().string().rfind("11-", 0) == 0);
  EXPECT_EQ(MessageBuilder::copy_of(m).serialize(), bytes);  // byte for byte
  if (m.content_type() && m.content_type()->value == "application/sdp") {
    auto sdp = sdp::parse(m.body());
    EXPECT_TRUE(sdp) << sdp.error().describe();
  }
  // Stream framing agrees with the datagram parse.
  EXPECT_TRUE(parse(bytes, ParseMode::Stream));
}

TEST(RecordedMessages, SippFilesParseAndRoundTrip) {
  const auto files = files_in(test::data_dir() / "messages");
  ASSERT_EQ(files.size(), 9u);
  for (const auto& f : files) expect_valid_and_round_trips(f);
}

TEST(RecordedMessages, PublicImsFilesParseAndRoundTrip) {
  IMSFLOW_REQUIRE_SHARED("messages/public");
  const auto files = files_in(test::shared_dir() / "messages/public");
  ASSERT_EQ(files.size(), 26u);
  for (const auto& f : files) expect_valid_and_round_trips(f);
}

Message load(const std::filesystem::path& p, std::string& storage) {
  storage = test::read_file(p);
  Message m;
  auto r = parse(storage, m);
  EXPECT_TRUE(r) << p;
  return m;
}

TEST(RecordedMessages, ImsInviteTypedValues) {
  std::string buf;
  Message m = load(test::data_dir() / "messages/invite_sdp.sip", buf);
  EXPECT_EQ(m.request_uri().user, "+15551230002");
  EXPECT_EQ(m.request_uri().param("user"), "phone");
  EXPECT_EQ(m.top_via()->branch, "z9hG4bK-14080-1-0");
  EXPECT_EQ(m.top_via()->rport(), "");
  EXPECT_EQ(m.routes().first()->uri.port, 5060);
  EXPECT_TRUE(m.routes().first()->uri.params.has("lr"));
  EXPECT_EQ(m.from()->tag(), "14080SIPpTag001");
  EXPECT_EQ(m.to()->uri.kind, UriScheme::Tel);
  EXPECT_EQ(m.call_id(), "1-14080@127.0.0.1");
  EXPECT_EQ(m.cseq()->method, Method::Invite);
  const NameAddr* contact = m.contacts().first();
  ASSERT_NE(contact, nullptr);
  EXPECT_EQ(unquote(*contact->param("+g.3gpp.icsi-ref")), "urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel");
  EXPECT_EQ(unquote(*contact->param("+sip.instance")), "<urn:gsma:imei:35209900-176148-0>");
  EXPECT_EQ(m.name_addrs(HeaderId::PAssertedIdentity).first()->uri.user, "+15551230001");
  EXPECT_EQ(m.param_values(HeaderId::PPreferredService).first()->value, "urn:urn-7:3gpp-service.ims.icsi.mmtel");
  EXPECT_EQ(m.param_values(HeaderId::AcceptContact).first()->value, "*");
  const ParamValue* pani = m.param_values(HeaderId::PAccessNetworkInfo).first();
  EXPECT_EQ(pani->value, "3GPP-E-UTRAN-FDD");
  EXPECT_EQ(pani->param("utran-cell-id-3gpp"), "0010100010019B01");
  EXPECT_TRUE(m.lists(HeaderId::Supported, "100rel"));
  EXPECT_TRUE(m.lists(HeaderId::Supported, "precondition"));
  EXPECT_TRUE(m.lists(HeaderId::Allow, "UPDATE"));
  EXPECT_EQ(m.content_length(), 386u);
  EXPECT_EQ(m.body().size(), 386u);
}

TEST(RecordedMessages, ReliableProvisionalAndPrack) {
  std::string a, b, c;
  Message r183 = load(test::data_dir() / "messages/183_session_progress_sdp.sip", a);
  EXPECT_EQ(r183.status_code(), 183);
  EXPECT_TRUE(r183.lists(HeaderId::Require, "100rel"));
  EXPECT_EQ(r183.rseq(), 1u);
  EXPECT_TRUE(r183.to()->tag());
  Message prack = load(test::data_dir() / "messages/prack.sip", b);
  EXPECT_EQ(prack.method(), Method::Prack);
  ASSERT_TRUE(prack.rack());
  EXPECT_EQ(prack.rack()->rseq, *r183.rseq());
  EXPECT_EQ(prack.rack()->cseq, r183.cseq()->number);
  EXPECT_EQ(prack.rack()->method, Method::Invite);
  Message r180 = load(test::data_dir() / "messages/180_ringing_reliable.sip", c);
  EXPECT_EQ(r180.status_code(), 180);
  EXPECT_TRUE(r180.rseq());
}

TEST(RecordedMessages, PublicImsTypedValues) {
  IMSFLOW_REQUIRE_SHARED("messages/public");
  const auto dir = test::shared_dir() / "messages/public";
  std::string buf;
  Message challenge = load(dir / "02-ims-401-aka-challenge-security-server.sip", buf);
  EXPECT_EQ(challenge.status_code(), 401);
  EXPECT_EQ(challenge.reason_phrase(), "Unauthorized - Challenging the UE");
  const Credentials* www = challenge.credentials(HeaderId::WwwAuthenticate).first();
  ASSERT_NE(www, nullptr);
  EXPECT_EQ(www->param("algorithm"), "AKAv1-MD5");
  EXPECT_EQ(www->param("nonce"), "oJRMdf88TwhTovkQqh8QT8bi9GyPQoAAfzu5uEt8P/Y=");
  const ParamValue* sec = challenge.param_values(HeaderId::SecurityServer).first();
  EXPECT_EQ(sec->value, "ipsec-3gpp");
  EXPECT_EQ(sec->param("spi-c"), "100");
  EXPECT_EQ(sec->param("ealg"), "null");
  EXPECT_EQ(challenge.paths().first()->uri.user, "term");
  EXPECT_EQ(challenge.top_via()->received(), "192.168.101.5");
  EXPECT_EQ(challenge.top_via()->rport(), "5060");

  std::string buf2;
  Message invite = load(dir / "10-ims-invite-mo-preconditions-pcscf-to-scscf.sip", buf2);
  EXPECT_EQ(invite.request_uri().user, "0398765432100;phone-context=0498765432100");
  EXPECT_EQ(invite.vias().size(), 2u);
  EXPECT_EQ(invite.vias()[1].rport(), "6401");
  EXPECT_EQ(invite.record_routes().first()->uri.param("did"), "078.654");
  EXPECT_EQ(invite.from()->uri.kind, UriScheme::Tel);
  EXPECT_EQ(invite.icid_value(), "4956537F000001547600007C00000000");
  EXPECT_EQ(invite.session_expires()->value, "1800");
  EXPECT_EQ(invite.param_values(HeaderId::Accept).size(), 2u);
  EXPECT_EQ(invite.tokens(HeaderId::PEarlyMedia).first()->text, "supported");
  EXPECT_EQ(invite.max_forwards(), 69u);

  std::string buf3;
  Message prack = load(dir / "13-ims-prack.sip", buf3);
  EXPECT_EQ(prack.routes().size(), 4u);
  EXPECT_TRUE(prack.lists(HeaderId::ProxyRequire, "sec-agree"));
  EXPECT_EQ(prack.rack()->rseq, 1u);
  EXPECT_EQ(prack.param_values(HeaderId::SecurityVerify).first()->param("alg"), "hmac-sha-1-96");

  std::string buf4;
  Message cancel = load(dir / "23-ims-cancel-forked-branch.sip", buf4);
  const ParamValue* reason = cancel.reasons().first();
  ASSERT_NE(reason, nullptr);
  EXPECT_EQ(reason->value, "SIP");
  EXPECT_EQ(reason->param("cause"), "200");
  EXPECT_EQ(unquote(*reason->param("text")), "Call completed elsewhere");

  std::string buf5;
  Message mt = load(dir / "11-ims-invite-mt-scscf-to-pcscf.sip", buf5);
  ASSERT_EQ(mt.defects().size(), 1u);  // P-Asserted-Identity: <sip:0498765432100@<null>>
  EXPECT_EQ(mt.defects()[0].header, HeaderId::PAssertedIdentity);
  EXPECT_EQ(mt.record_routes().size(), 3u);
}

}  // namespace
}  // namespace imsflow::sip

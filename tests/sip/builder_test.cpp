#include "sip/builder.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "shared_data.hpp"
#include "sip/parser.hpp"

namespace imsflow::sip {
namespace {

const std::string kInvite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfirst\r\n"
    "Record-Route: <sip:p1.example.com;lr>\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Timestamp: 54\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

// Parsed messages point into their buffer: keep every buffer alive.
Message parsed(std::string text) {
  static std::deque<std::string> buffers;
  const std::string& bytes = buffers.emplace_back(std::move(text));
  Message m;
  auto r = parse(bytes, m);
  EXPECT_TRUE(r) << (r ? "" : r.error().describe());
  return m;
}

TEST(Builder, ResponseCopiesTheMandatoryHeadersAndAddsToTag) {
  Message invite = parsed(kInvite);
  const std::string ok = MessageBuilder::response_to(invite, 200, "as83kd9").serialize();
  Message r = parsed(ok);
  EXPECT_EQ(r.status_code(), 200);
  EXPECT_EQ(r.reason_phrase(), "OK");
  ASSERT_EQ(r.vias().size(), 2u);
  EXPECT_EQ(r.vias()[0].branch, "z9hG4bK776asdhds");
  EXPECT_EQ(r.vias()[1].branch, "z9hG4bKfirst");
  EXPECT_EQ(r.from()->tag(), "1928301774");
  EXPECT_EQ(r.to()->tag(), "as83kd9");
  EXPECT_EQ(r.to()->display_name, "Bob");
  EXPECT_EQ(r.call_id(), invite.call_id());
  EXPECT_EQ(r.cseq()->number, 314159u);
  EXPECT_EQ(r.cseq()->method, Method::Invite);
  EXPECT_EQ(r.record_routes().size(), 1u);  // 2xx to INVITE keeps Record-Route (§12.1.1)
  EXPECT_FALSE(r.find(HeaderId::Timestamp));
  EXPECT_FALSE(r.find(HeaderId::Contact));
  EXPECT_FALSE(r.find(HeaderId::MaxForwards));
  EXPECT_EQ(r.content_length(), 0u);
}

TEST(Builder, TryingHasNoToTagButKeepsTimestamp) {
  Message invite = parsed(kInvite);
  Message r = parsed(MessageBuilder::response_to(invite, 100, "ignored").serialize());
  EXPECT_EQ(r.reason_phrase(), "Trying");
  EXPECT_FALSE(r.to()->tag());
  EXPECT_EQ(r.find(HeaderId::Timestamp)->value, "54");
  EXPECT_FALSE(r.find(HeaderId::RecordRoute));
}

TEST(Builder, ExistingToTagIsKept) {
  std::string in_dialog = kInvite;
  in_dialog.replace(in_dialog.find("To: Bob <sip:bob@biloxi.example.com>"), 36, "To: <sip:bob@biloxi.example.com>;tag=old");
  Message m = parsed(in_dialog);
  Message r = parsed(MessageBuilder::response_to(m, 486, "new", "Busy Here Now").serialize());
  EXPECT_EQ(r.to()->tag(), "old");
  EXPECT_EQ(r.reason_phrase(), "Busy Here Now");
  EXPECT_FALSE(r.find(HeaderId::RecordRoute));  // not for a failure
}

TEST(Builder, RequestFromScratchWithBody) {
  const std::string sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n";
  std::string text = MessageBuilder::request("INVITE", "sip:bob@example.com")
                         .add(HeaderId::Via, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1")
                         .add(HeaderId::From, "<sip:alice@example.com>;tag=a")
                         .add(HeaderId::To, "<sip:bob@example.com>")
                         .add(HeaderId::CallId, "c1")
                         .add(HeaderId::CSeq, "1 INVITE")
                         .add("X-Custom", "yes")
                         .set_body("application/sdp", sdp)
                         .serialize();
  Message m = parsed(text);
  EXPECT_EQ(m.method(), Method::Invite);
  EXPECT_EQ(m.content_length(), sdp.size());
  EXPECT_EQ(m.body(), sdp);
  EXPECT_EQ(m.content_type()->value, "application/sdp");
  EXPECT_EQ(m.find("x-custom")->value, "yes");
}

TEST(Builder, AddRemoveReplaceAndUnmodifiedCopy) {
  Message invite = parsed(kInvite);
  EXPECT_EQ(MessageBuilder::copy_of(invite).serialize(), kInvite);

  MessageBuilder b = MessageBuilder::copy_of(invite);
  b.add_first(HeaderId::Via, "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKproxy");
  b.replace(HeaderId::MaxForwards, "69");
  EXPECT_EQ(b.remove(HeaderId::RecordRoute), 1u);
  EXPECT_EQ(b.remove("timestamp"), 1u);
  EXPECT_EQ(b.remove(HeaderId::Route), 0u);
  Message m = parsed(b.serialize());
  EXPECT_EQ(m.vias().size(), 3u);
  EXPECT_EQ(m.vias()[0].branch, "z9hG4bKproxy");
  EXPECT_EQ(m.max_forwards(), 69u);
  EXPECT_FALSE(m.find(HeaderId::RecordRoute));
  EXPECT_FALSE(m.find(HeaderId::Timestamp));
  // Max-Forwards stays where it was: after the Vias.
  EXPECT_EQ(m.headers()[3].id, HeaderId::MaxForwards);
  EXPECT_EQ(b.value(HeaderId::MaxForwards), "69");
}

TEST(Builder, FoldedAndCompactHeadersSurviveACopy) {
  const std::string odd =
      "OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:a@b>\r\n  ;tag=1\r\nt: <sip:c@d>\r\n"
      "i: x\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n";
  Message m = parsed(odd);
  EXPECT_EQ(MessageBuilder::copy_of(m).serialize(), odd);
  MessageBuilder b = MessageBuilder::copy_of(m);
  b.add(HeaderId::Supported, "100rel");
  Message again = parsed(b.serialize());
  EXPECT_EQ(again.from()->tag(), "1");
  EXPECT_TRUE(again.lists(HeaderId::Supported, "100rel"));
}

TEST(Builder, DefaultReasonPhrases) {
  EXPECT_EQ(default_reason_phrase(183), "Session Progress");
  EXPECT_EQ(default_reason_phrase(420), "Bad Extension");
  EXPECT_EQ(default_reason_phrase(481), "Call/Transaction Does Not Exist");
  EXPECT_EQ(default_reason_phrase(580), "Precondition Failure");
  EXPECT_EQ(default_reason_phrase(799), "Unknown");
}

}  // namespace
}  // namespace imsflow::sip

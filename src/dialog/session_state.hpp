// The user agent's private state: one Dialog per To-tag, the Session that
// owns them, and the small helpers the UserAgent's files share. Included
// only by src/dialog/*.cpp.
#pragma once

#include <algorithm>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "dialog/user_agent.hpp"
#include "sdp/session.hpp"
#include "sip/builder.hpp"
#include "sip/parser.hpp"
#include "sip/uri.hpp"
#include "util/ascii.hpp"
#include "util/hex.hpp"
#include "util/splitmix.hpp"

namespace imsflow::dialog {

namespace internal {



// A dialog is found by Call-ID and our own tag (RFC 3261 §12: with the
// remote tag, which a UAS session of ours holds only once).
inline std::uint64_t dialog_hash(std::string_view call_id, std::string_view local_tag) {
  const std::hash<std::string_view> h;
  return h(call_id) ^ (h(local_tag) * 0x9E3779B97F4A7C15ull);
}

using sip::endpoint_of;
using sip::uri_of;

// Adds the "Name: value\r\n" lines of `extra`, then the SDP body (or a zero
// Content-Length), and serializes.
inline std::string finish_message(sip::MessageBuilder& b, std::string_view extra, std::string_view sdp) {
  while (!extra.empty()) {
    const std::size_t eol = extra.find("\r\n");
    const std::string_view line = extra.substr(0, eol);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) b.add(line.substr(0, colon), ascii::trim_lws(line.substr(colon + 1)));
    if (eol == std::string_view::npos) break;
    extra.remove_prefix(eol + 2);
  }
  if (!sdp.empty()) {
    b.set_body("application/sdp", sdp);
  } else {
    b.add(sip::HeaderId::ContentLength, "0");
  }
  return b.serialize();
}

inline bool has_sdp(const sip::Message& m) { return !m.body().empty(); }

inline SessionEvent session_event(SessionEventKind kind, SessionId session, TimePoint at) {
  SessionEvent e;
  e.kind = kind;
  e.session = session;
  e.at = at;
  return e;
}

inline OfferAnswer offer(SdpCarrier in, bool settled = true) {
  return OfferAnswer{OfferAnswerPhase::LocalOffer, in, SdpCarrier::None, settled};
}

inline OfferAnswer offer_received(SdpCarrier in) {
  return OfferAnswer{OfferAnswerPhase::RemoteOffer, in, SdpCarrier::None, true};
}

inline OfferAnswer completed(const OfferAnswer& before, SdpCarrier answer_in, bool settled = true) {
  return OfferAnswer{OfferAnswerPhase::Complete, before.offer_in, answer_in, settled};
}

// The Min-SE value of a message ("90" or "90;param"), 0 when absent.
inline std::uint32_t min_se_of(const sip::Message& m) {
  const sip::HeaderField* f = m.find(sip::HeaderId::MinSE);
  if (!f) return 0;
  const auto v = ascii::parse_uint(ascii::trim_lws(f->value.substr(0, f->value.find(';'))), 0xFFFFFFFFull);
  return v ? static_cast<std::uint32_t>(*v) : 0;
}


}  // namespace internal

/// One dialog: confirmed, or early (one per To-tag of a forked INVITE).
struct UserAgent::Dialog {
  std::string remote_tag;
  std::string remote_target;            // Contact URI of the peer
  std::vector<std::string> route_set;   // name-addr values, in the order requests carry them
  bool rseq_seen = false;
  std::uint32_t last_rseq = 0;          // UAC: the last reliable provisional PRACKed
  bool answered = false;                // UAC: a 2xx came on this dialog
  bool prack_done = false;              // UAC: a PRACK on this dialog got its 200
  bool peer_answer_seen = false;        // UAC: a reliable provisional here carried the answer
  bool have_remote_cseq = false;
  std::uint32_t remote_cseq = 0;        // RFC 3261 §12.2.2: per dialog
  std::string ack;                      // UAC: the ACK for its 2xx, resent on retransmissions
  sip::Endpoint ack_destination;
  OfferAnswer oa;                       // RFC 3264 state of this dialog
  OfferAnswer oa_before_update;         // restored when our UPDATE offer fails
};

struct UserAgent::ReliableProvisional {
  enum class Sdp : std::uint8_t { None, Offer, Answer };
  int status = 0;
  std::uint32_t rseq = 0;
  std::string bytes;
  bool has_body = false;
  Sdp sdp = Sdp::None;  // what its body is to the offer/answer exchange
};

struct UserAgent::Session {
  std::uint32_t generation = 0;
  SessionRole role = SessionRole::Uac;
  SessionState state = SessionState::Terminated;
  std::string call_id;
  std::string local_tag;
  std::string local_party;    // From (UAC) / To (UAS) value without tag
  std::string remote_party;   // To (UAC) / From (UAS) value, the remote tag included for the UAS
  std::string request_uri;    // UAC: of the INVITE
  std::uint32_t local_cseq = 0;
  std::uint32_t invite_cseq = 0;
  sip::Endpoint next_hop;     // UAC: where the INVITE went
  std::vector<std::string> initial_route;
  std::string invite_branch;
  std::string invite_via;     // UAC: for CANCEL, which copies it
  std::string invite_extra;   // UAC: the INVITE's headers but Session-Expires/Min-SE (kept for a 422 retry)
  bool invite_offer = false;  // UAC: the INVITE carried an offer
  std::uint32_t se_sent = 0;      // UAC: Session-Expires of the INVITE (0: none)
  std::uint32_t min_se_sent = 0;  // UAC: Min-SE of the INVITE
  std::uint8_t retries_422 = 0;
  txn::TransactionId invite_txn;
  std::vector<Dialog> dialogs;
  std::size_t confirmed = SIZE_MAX;  // index into dialogs of the kept one
  bool provisional_seen = false;
  bool cancel_wanted = false;
  bool timer_c_fired = false;  // the CANCEL is Timer C's, not the user's
  bool cancel_sent = false;
  // UAS
  std::vector<std::string> vias, record_routes;
  std::string to_value, from_value, cseq_value;
  bool peer_allows_100rel = false;
  bool peer_requires_100rel = false;
  std::uint32_t next_rseq = 0;
  std::optional<ReliableProvisional> unacked;
  std::deque<ReliableProvisional> queued;
  Duration rel_interval{};
  std::string final_2xx;
  Duration interval_2xx{};
  sip::Endpoint response_to;
  sip::Endpoint local;
  bool final_sent = false;
  bool failure_reported = false;  // a Failed event went out; the BYE's answer then ends it quietly
  // offer/answer and preconditions (RFC 3264, 3311, 3312)
  std::string local_sdp;          // our last offer or answer
  bool preconditions = false;     // an SDP of this session carried a=des lines
  sdp::QosTable qos;
  bool local_qos_ready = false;
  bool qos_update_sent = false;
  bool held_alerting = false;     // UAS: a 180 waits for the preconditions
  std::string update_sdp;         // the offer of our UPDATE in progress
  std::string update_dialog;      // UAC early: the fork our UPDATE goes to
  bool update_pending = false;    // our offer is out, unanswered
  std::string pending_answer;     // UAS: a 2xx held until the SDP-carrying 18x is PRACKed
  bool answer_held = false;
  bool bye_wanted = false;        // hung up between our 2xx (INVITE or re-INVITE) and its ACK
  bool reinvite = false;          // the 2xx in flight answers a re-INVITE (either role)
  bool update_retry = false;      // our offer met glare and waits to go again
  std::string update_extra;       // headers of our UPDATE (a session refresh)
  // session timer (RFC 4028)
  std::uint32_t session_interval = 0;  // seconds; 0: no session timer
  bool we_refresh = false;
  bool peer_supports_timer = false;
  SessionTimes times;
  TimePoint deadline[kSlots];
};


}  // namespace imsflow::dialog

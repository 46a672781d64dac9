#include "dialog/user_agent.hpp"

#include <algorithm>
#include <cstdio>

#include "sdp/session.hpp"
#include "sip/builder.hpp"
#include "sip/parser.hpp"
#include "sip/uri.hpp"
#include "util/ascii.hpp"
#include "util/hex.hpp"

namespace imsflow::dialog {

namespace {


// A dialog is found by Call-ID and our own tag (RFC 3261 §12: with the
// remote tag, which a UAS session of ours holds only once).
std::uint64_t dialog_hash(std::string_view call_id, std::string_view local_tag) {
  const std::hash<std::string_view> h;
  return h(call_id) ^ (h(local_tag) * 0x9E3779B97F4A7C15ull);
}

// The URI inside a name-addr value ("<sip:p1;lr>" → "sip:p1;lr").
std::string_view uri_of(std::string_view name_addr) {
  const std::size_t open = name_addr.find('<');
  if (open == std::string_view::npos) return ascii::trim_lws(name_addr.substr(0, name_addr.find(';')));
  const std::size_t close = name_addr.find('>', open);
  return name_addr.substr(open + 1, close == std::string_view::npos ? std::string_view::npos : close - open - 1);
}

// The endpoint a URI with an IP host names (its transport parameter, or the
// fallback's transport); nullopt for host names, which need DNS.
std::optional<sip::Endpoint> endpoint_of(std::string_view uri_text, sip::Transport fallback) {
  auto uri = sip::parse_uri(uri_text);
  if (!uri || !uri->is_sip()) return std::nullopt;
  auto ip = sip::IpAddress::parse(uri->host);
  if (!ip) return std::nullopt;
  sip::Transport t = fallback;
  if (auto tp = uri->param("transport")) {
    if (auto named = sip::transport_from_name(*tp)) t = *named;
  }
  return sip::Endpoint{t, *ip, static_cast<std::uint16_t>(uri->has_port ? uri->port : 5060)};
}

// Adds the "Name: value\r\n" lines of `extra`, then the SDP body (or a zero
// Content-Length), and serializes.
std::string finish_message(sip::MessageBuilder& b, std::string_view extra, std::string_view sdp) {
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

bool has_sdp(const sip::Message& m) { return !m.body().empty(); }

OfferAnswer offer(SdpCarrier in, bool settled = true) {
  return OfferAnswer{OfferAnswerPhase::LocalOffer, in, SdpCarrier::None, settled};
}

OfferAnswer offer_received(SdpCarrier in) {
  return OfferAnswer{OfferAnswerPhase::RemoteOffer, in, SdpCarrier::None, true};
}

OfferAnswer completed(const OfferAnswer& before, SdpCarrier answer_in, bool settled = true) {
  return OfferAnswer{OfferAnswerPhase::Complete, before.offer_in, answer_in, settled};
}

// The Min-SE value of a message ("90" or "90;param"), 0 when absent.
std::uint32_t min_se_of(const sip::Message& m) {
  const sip::HeaderField* f = m.find(sip::HeaderId::MinSE);
  if (!f) return 0;
  const auto v = ascii::parse_uint(ascii::trim_lws(f->value.substr(0, f->value.find(';'))), 0xFFFFFFFFull);
  return v ? static_cast<std::uint32_t>(*v) : 0;
}

}  // namespace

std::string_view to_string(OfferAnswerPhase p) {
  switch (p) {
    case OfferAnswerPhase::NoOffer: return "no offer";
    case OfferAnswerPhase::LocalOffer: return "local offer";
    case OfferAnswerPhase::RemoteOffer: return "remote offer";
    case OfferAnswerPhase::Complete: return "complete";
  }
  return "?";
}

std::string_view to_string(SdpCarrier c) {
  switch (c) {
    case SdpCarrier::None: return "none";
    case SdpCarrier::Invite: return "INVITE";
    case SdpCarrier::ReliableProvisional: return "reliable 18x";
    case SdpCarrier::Final2xx: return "2xx";
    case SdpCarrier::Ack: return "ACK";
    case SdpCarrier::Prack: return "PRACK";
    case SdpCarrier::PrackResponse: return "200 (PRACK)";
    case SdpCarrier::Update: return "UPDATE";
    case SdpCarrier::UpdateResponse: return "200 (UPDATE)";
  }
  return "?";
}

std::string_view to_string(SessionState s) {
  switch (s) {
    case SessionState::Calling: return "calling";
    case SessionState::Early: return "early";
    case SessionState::Answered: return "answered";
    case SessionState::Confirmed: return "confirmed";
    case SessionState::Terminating: return "terminating";
    case SessionState::Terminated: return "terminated";
  }
  return "?";
}

std::string_view to_string(SessionEventKind k) {
  switch (k) {
    case SessionEventKind::Incoming: return "incoming";
    case SessionEventKind::Progress: return "progress";
    case SessionEventKind::PrackDone: return "prack-done";
    case SessionEventKind::Answered: return "answered";
    case SessionEventKind::Confirmed: return "confirmed";
    case SessionEventKind::Failed: return "failed";
    case SessionEventKind::Ended: return "ended";
    case SessionEventKind::Updated: return "updated";
    case SessionEventKind::PreconditionsMet: return "preconditions-met";
  }
  return "?";
}

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
  bool bye_wanted = false;        // UAS: hung up between the 2xx and its ACK
  bool reinvite = false;          // UAS: the 2xx in flight answers a re-INVITE
  bool update_retry = false;      // our offer met glare and waits to go again
  std::string update_extra;       // headers of our UPDATE (a session refresh)
  // session timer (RFC 4028)
  std::uint32_t session_interval = 0;  // seconds; 0: no session timer
  bool we_refresh = false;
  bool peer_supports_timer = false;
  SessionTimes times;
  TimePoint deadline[kSlots];
};

UserAgent::UserAgent(UserAgentConfig config, SessionObserver& observer)
    : config_(std::move(config)),
      observer_(observer),
      layer_(*this, config_.timers, config_.seed * 7919 + 1),
      profile_(sip::ElementProfile::ims_default()),
      rng_(config_.seed) {
  if (config_.aor.empty()) config_.aor = "sip:" + config_.user + "@" + config_.local.to_string();
  for (const std::string& tag : config_.supported) supported_ += (supported_.empty() ? "" : ", ") + tag;
  profile_.forwards_requests = false;  // a UA: Max-Forwards 0 is still for us
  sessions_.emplace_back();            // index 0 is "no session"
}

UserAgent::~UserAgent() = default;

std::string UserAgent::random_token(std::size_t hex_digits) {
  std::string out;
  while (out.size() < hex_digits) {
    std::uint64_t z = (rng_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    append_hex(out, z);
  }
  out.resize(hex_digits);
  return out;
}

std::string UserAgent::via_value(const std::string& branch, sip::Transport transport) const {
  std::string v = "SIP/2.0/";
  v.append(sip::transport_name(transport)).push_back(' ');
  v.append(config_.local.to_string()).append(";branch=").append(branch).append(";rport");
  return v;
}

std::string UserAgent::contact_value() const {
  std::string c = "<sip:" + config_.user + "@" + config_.local.to_string();
  if (config_.local.transport != sip::Transport::Udp) {
    c.append(";transport=");
    for (char ch : sip::transport_name(config_.local.transport)) c.push_back(ascii::to_lower(ch));
  }
  c.push_back('>');
  return c;
}

// --- sessions ----------------------------------------------------------------

SessionId UserAgent::create_session(SessionRole role) {
  std::uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(sessions_.size());
    sessions_.emplace_back();
  }
  Session& s = sessions_[index];
  const std::uint32_t generation = s.generation + 1 == 0 ? 1 : s.generation + 1;
  s = Session{};
  s.generation = generation;
  s.role = role;
  s.state = SessionState::Calling;
  std::fill(std::begin(s.deadline), std::end(s.deadline), TimePoint::max());
  ++live_;
  return SessionId{index, generation};
}

UserAgent::Session* UserAgent::find(SessionId id) {
  if (!id || id.index >= sessions_.size()) return nullptr;
  Session& s = sessions_[id.index];
  return (s.generation == id.generation && s.state != SessionState::Terminated) ? &s : nullptr;
}

const UserAgent::Session* UserAgent::find(SessionId id) const { return const_cast<UserAgent*>(this)->find(id); }

UserAgent::Session* UserAgent::find_by_dialog(std::string_view call_id, std::string_view local_tag) {
  auto index = by_dialog_.find(dialog_hash(call_id, local_tag), [&](std::uint32_t i) {
    const Session& s = sessions_[i];
    return s.state != SessionState::Terminated && s.call_id == call_id && s.local_tag == local_tag;
  });
  return index ? &sessions_[*index] : nullptr;
}

UserAgent::Session* UserAgent::find_by_origin(std::string_view call_id, std::string_view remote_tag) {
  auto index = by_origin_.find(dialog_hash(call_id, remote_tag), [&](std::uint32_t i) {
    const Session& s = sessions_[i];
    return s.state != SessionState::Terminated && s.role == SessionRole::Uas && s.call_id == call_id &&
           !s.dialogs.empty() && s.dialogs.front().remote_tag == remote_tag;
  });
  return index ? &sessions_[*index] : nullptr;
}

UserAgent::Dialog* UserAgent::dialog_for(Session& s, std::string_view remote_tag) {
  for (Dialog& d : s.dialogs) {
    if (d.remote_tag == remote_tag) return &d;
  }
  return nullptr;
}

std::optional<SessionState> UserAgent::state(SessionId id) const {
  if (const Session* s = find(id)) return s->state;
  return std::nullopt;
}

const sdp::QosTable* UserAgent::qos(SessionId id) const {
  const Session* s = find(id);
  return s && s->preconditions ? &s->qos : nullptr;
}

const SessionTimes* UserAgent::times(SessionId id) const {
  const Session* s = find(id);
  return s ? &s->times : nullptr;
}

std::string_view UserAgent::call_id(SessionId id) const {
  const Session* s = find(id);
  return s ? std::string_view(s->call_id) : std::string_view();
}

std::optional<OfferAnswer> UserAgent::offer_answer(SessionId id, std::string_view remote_tag) const {
  Session* s = const_cast<UserAgent*>(this)->find(id);
  if (!s) return std::nullopt;
  const Dialog* d = remote_tag.empty() ? const_cast<UserAgent*>(this)->current_dialog(*s)
                                       : const_cast<UserAgent*>(this)->dialog_for(*s, remote_tag);
  if (!d) return std::nullopt;
  return d->oa;
}

std::uint64_t UserAgent::next_random() {
  rng_ = rng_ * 6364136223846793005ull + 1442695040888963407ull;
  return rng_ >> 33;
}

std::vector<std::string> UserAgent::dialogs(SessionId id) const {
  std::vector<std::string> tags;
  if (const Session* s = find(id)) {
    for (const Dialog& d : s->dialogs) tags.push_back(d.remote_tag);
  }
  return tags;
}

void UserAgent::emit(SessionEvent e) { observer_.on_session_event(e); }

void UserAgent::drop(std::string reason) {
  // Bounded: malformed traffic at load must not grow memory.
  if (dropped_.size() >= 1000) dropped_.erase(dropped_.begin(), dropped_.begin() + 500);
  dropped_.push_back(std::move(reason));
}

void UserAgent::release(Session& s) {
  const SessionId id{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation};
  by_dialog_.erase(dialog_hash(s.call_id, s.local_tag), id.index);
  if (s.role == SessionRole::Uas && !s.dialogs.empty()) {
    by_origin_.erase(dialog_hash(s.call_id, s.dialogs.front().remote_tag), id.index);
    // RFC 3262 §3: a reliable provisional still unPRACKed when the final
    // response went out stays answerable: its PRACK (perhaps already on the
    // way) gets 200, not 481, while the INVITE server transaction lives.
    if (s.unacked && !s.reinvite && layer_.state(s.invite_txn)) {
      std::string key = s.call_id;
      key.push_back('\n');
      key.append(s.local_tag);
      owners_.set(s.invite_txn, TxnOwner{{}, TxnPurpose::LingeringPrack, key});
      lingering_[std::move(key)] =
          LingeringProvisional{s.dialogs.front().remote_tag, s.unacked->rseq, s.invite_cseq};
    }
  }
  s.unacked.reset();
  s.state = SessionState::Terminated;
  std::fill(std::begin(s.deadline), std::end(s.deadline), TimePoint::max());
  // Keep the slot's text short-lived: a load run recycles millions of sessions.
  s.dialogs.clear();
  s.dialogs.shrink_to_fit();
  s.queued.clear();
  free_.push_back(id.index);
  --live_;
}

void UserAgent::fail(Session& s, int status, std::string cause, TimePoint now) {
  const SessionId id{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation};
  SessionEvent e;
  e.kind = SessionEventKind::Failed;
  e.session = id;
  e.at = now;
  e.status = status;
  e.cause = std::move(cause);
  release(s);
  emit(std::move(e));
}

void UserAgent::end(Session& s, std::string cause, TimePoint now) {
  const SessionId id{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation};
  SessionEvent e;
  e.kind = SessionEventKind::Ended;
  e.session = id;
  e.at = now;
  e.cause = std::move(cause);
  release(s);
  emit(std::move(e));
}

// --- timers ------------------------------------------------------------------------

void UserAgent::arm(Session& s, Slot slot, TimePoint when) {
  s.deadline[slot] = when;
  timers_.push(when, static_cast<std::uint32_t>(&s - sessions_.data()), s.generation, slot);
}

void UserAgent::disarm(Session& s, Slot slot) { s.deadline[slot] = TimePoint::max(); }

std::optional<TimePoint> UserAgent::next_deadline() const {
  auto mine = timers_.next_deadline();
  auto theirs = layer_.next_deadline();
  if (!mine) return theirs;
  if (!theirs) return mine;
  return std::min(*mine, *theirs);
}

void UserAgent::receive(std::string_view bytes, const sip::Endpoint& remote, const sip::Endpoint& local,
                        TimePoint now) {
  layer_.receive(bytes, remote, local, now);
  prune_timers();
}

void UserAgent::prune_timers() {
  // Keep next_deadline() exact: drop cancelled entries from the top.
  while (const txn::TimerEntry* top = timers_.top()) {
    const Session* s = find(SessionId{top->index, top->generation});
    if (s && s->deadline[top->slot] == top->when) break;
    timers_.pop();
  }
}

void UserAgent::advance(TimePoint now) {
  layer_.advance(now);
  while (auto e = timers_.pop_due(now)) {
    const SessionId id{e->index, e->generation};
    Session* s = find(id);
    if (!s || s->deadline[e->slot] != e->when) continue;
    s->deadline[e->slot] = TimePoint::max();
    fire(id, static_cast<Slot>(e->slot), now);
  }
  prune_timers();
}

void UserAgent::fire(SessionId id, Slot slot, TimePoint now) {
  Session* s = find(id);
  if (!s) return;
  const auto& timers = config_.timers;
  switch (slot) {
    case kRel1xxRetransmit:
      if (!s->unacked || s->final_sent) return;
      layer_.send_stateless({s->local, s->response_to, s->unacked->bytes});
      s->rel_interval *= 2;  // RFC 3262 §3: doubling, with no T2 cap (PRACK retransmits by itself)
      arm(*s, kRel1xxRetransmit, now + s->rel_interval);
      return;
    case kRel1xxGiveUp: {
      // RFC 3262 §3: unPRACKed for 64·T1, the INVITE is rejected with a 5xx.
      if (!s->unacked || s->final_sent) return;
      disarm(*s, kRel1xxRetransmit);
      s->final_sent = true;
      layer_.send_response(s->invite_txn, 504,
                           build_response(*s, 504, {}, false, "Reason: SIP;cause=504;text=\"reliable provisional response not PRACKed\"\r\n"),
                           now);
      fail(*s, 504, "stalled at the provisional stage: reliable provisional never PRACKed (PRACK missing)", now);
      return;
    }
    case k2xxRetransmit:
      if (s->state != SessionState::Answered) return;
      layer_.send_stateless({s->local, s->response_to, s->final_2xx});
      s->interval_2xx = std::min(s->interval_2xx * 2, timers.t2);
      arm(*s, k2xxRetransmit, now + s->interval_2xx);
      return;
    case k2xxGiveUp: {
      // RFC 3261 §13.3.1.4: no ACK within 64·T1, the dialog is ended with BYE.
      if (s->state != SessionState::Answered || s->dialogs.empty()) return;
      disarm(*s, k2xxRetransmit);
      send_bye(*s, s->dialogs.front(), now, "Reason: SIP;cause=408;text=\"no ACK for 2xx\"");
      s->state = SessionState::Terminating;
      s->failure_reported = true;
      SessionEvent e;
      e.kind = SessionEventKind::Failed;
      e.session = id;
      e.at = now;
      e.status = 200;
      e.cause = "200 OK without ACK: no ACK within 64*T1, released with BYE";
      emit(std::move(e));
      return;
    }
    case kQosReady:
      set_local_qos_ready(id, now);
      return;
    case kCancelGiveUp:
      if (s->role != SessionRole::Uac || s->state == SessionState::Confirmed) return;
      layer_.abandon(s->invite_txn, now);
      fail(*s, 408, "no final response to the CANCELled INVITE within 64*T1", now);
      return;
    case kSessionTimer:
      if (s->state != SessionState::Confirmed || s->session_interval == 0) return;
      if (s->we_refresh) {
        // RFC 4028 §7.4/§9: refresh at half the interval, with UPDATE (no offer).
        if (s->update_pending || s->update_retry) {
          arm(*s, kSessionTimer, now + std::chrono::seconds(1));
          return;
        }
        s->update_sdp.clear();
        s->update_extra = session_expires_header(*s);
        s->update_pending = true;
        send_update(*s, now);
        return;
      }
      // RFC 4028 §10: no refresh before the session expired: BYE.
      if (Dialog* d = current_dialog(*s)) {
        s->state = SessionState::Terminating;
        send_bye(*s, *d, now, "Reason: SIP;cause=408;text=\"session timer expired\"");
      }
      return;
    case kUpdateRetry:
      if (s->update_retry) {
        s->update_retry = false;
        s->update_pending = true;
        send_update(*s, now);
      }
      return;
    default:
      return;
  }
}

// --- building ------------------------------------------------------------------------

std::string UserAgent::build_request(Session& s, Dialog& d, std::string_view method, std::uint32_t cseq,
                                     const std::string& branch, std::string_view extra,
                                     std::string_view body) const {
  const sip::Endpoint hop = next_hop(s, d);
  auto b = sip::MessageBuilder::request(method, d.remote_target.empty() ? std::string_view(s.request_uri)
                                                                         : std::string_view(d.remote_target));
  b.add(sip::HeaderId::Via, via_value(branch, hop.transport));
  b.add(sip::HeaderId::MaxForwards, "70");
  for (const std::string& r : d.route_set) b.add(sip::HeaderId::Route, r);
  b.add(sip::HeaderId::From, s.local_party + ";tag=" + s.local_tag);
  std::string to = s.remote_party;
  if (s.role == SessionRole::Uac && !d.remote_tag.empty()) to += ";tag=" + d.remote_tag;
  b.add(sip::HeaderId::To, to);
  b.add(sip::HeaderId::CallId, s.call_id);
  b.add(sip::HeaderId::CSeq, std::to_string(cseq) + " " + std::string(method));
  if (method != "ACK" && method != "INVITE" && method != "CANCEL" && !supported_.empty()) {
    b.add(sip::HeaderId::Supported, supported_);  // RFC 4028 §7.1 asks for it on each request
  }
  return finish_message(b, extra, body);
}

sip::Endpoint UserAgent::next_hop(const Session& s, const Dialog& d) const {
  const sip::Transport fallback = s.role == SessionRole::Uac ? s.next_hop.transport : s.response_to.transport;
  if (!d.route_set.empty()) {
    if (auto e = endpoint_of(uri_of(d.route_set.front()), fallback)) return *e;
  } else if (!d.remote_target.empty()) {
    if (auto e = endpoint_of(d.remote_target, fallback)) return *e;
  }
  return s.role == SessionRole::Uac ? s.next_hop : s.response_to;
}

std::string UserAgent::build_response(const Session& s, int status, std::string_view sdp, bool with_contact,
                                      std::string_view extra) const {
  auto b = sip::MessageBuilder::response(status);
  for (const std::string& v : s.vias) b.add(sip::HeaderId::Via, v);
  if (status >= 101 && status < 300) {
    for (const std::string& rr : s.record_routes) b.add(sip::HeaderId::RecordRoute, rr);
  }
  b.add(sip::HeaderId::From, s.from_value);
  b.add(sip::HeaderId::To, s.to_value + ";tag=" + s.local_tag);
  b.add(sip::HeaderId::CallId, s.call_id);
  b.add(sip::HeaderId::CSeq, s.cseq_value);
  if (with_contact) {
    b.add(sip::HeaderId::Contact, contact_value());
    b.add(sip::HeaderId::Allow, config_.allow);
  }
  return finish_message(b, extra, sdp);
}

void UserAgent::respond_in_txn(txn::TransactionId server, const sip::Message& request, int status, TimePoint now,
                               std::string_view body, std::string_view extra_name, std::string_view extra_value) {
  // In-dialog requests answer with the To-tag they carry; out-of-dialog
  // refusals (481, 420 …) need one of their own (RFC 3261 §8.2.6.2).
  const bool has_tag = request.to() && request.to()->tag();
  const std::string tag = has_tag ? std::string() : random_token(10);
  auto b = txn::build_response(request, status, current_remote_, tag);
  if (!extra_name.empty()) b.add(extra_name, extra_value);
  if (!body.empty()) {
    b.set_body("application/sdp", body);
  } else {
    b.add(sip::HeaderId::ContentLength, "0");
  }
  layer_.send_response(server, status, b.serialize(), now);
}

// --- UAC -----------------------------------------------------------------------------------

SessionId UserAgent::call(const CallRequest& request, TimePoint now) {
  const SessionId id = create_session(SessionRole::Uac);
  Session& s = sessions_[id.index];
  s.call_id = random_token(16) + "@" + config_.local.host_text();
  s.local_tag = random_token(10);
  s.local_party = "<" + config_.aor + ">";
  s.remote_party = "<" + request.target + ">";
  s.request_uri = request.target;
  s.next_hop = request.next_hop;
  s.initial_route = request.route;
  s.local_cseq = 0;
  s.times.invite = now;
  by_dialog_.insert(dialog_hash(s.call_id, s.local_tag), id.index);

  std::string extra = "Contact: " + contact_value() + "\r\nAllow: " + config_.allow + "\r\n";
  if (!supported_.empty()) extra += "Supported: " + supported_ + "\r\n";
  if (config_.require_100rel) extra += "Require: 100rel\r\n";
  for (const auto& [name, value] : request.headers) extra += name + ": " + value + "\r\n";
  if (!config_.user_agent.empty()) extra += "User-Agent: " + config_.user_agent + "\r\n";
  s.invite_extra = std::move(extra);
  if (config_.session_expires != 0) {
    // RFC 4028 §7.1: never a Session-Expires below our own Min-SE.
    s.min_se_sent = config_.min_se;
    s.se_sent = std::max(config_.session_expires, config_.min_se);
  }
  s.local_sdp = request.sdp_offer;
  s.invite_offer = !request.sdp_offer.empty();
  send_invite(s, now);
  s.preconditions = request.sdp_offer.find("a=des:") != std::string::npos;
  if (s.preconditions && config_.local_qos_ready_after) arm(s, kQosReady, now + *config_.local_qos_ready_after);
  return id;
}

void UserAgent::send_invite(Session& s, TimePoint now) {
  // A new INVITE transaction of this session: the first, or a retry after
  // 422 (RFC 4028 §7.3: same Call-ID and tag, new CSeq and branch).
  const SessionId id{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation};
  s.local_cseq = s.invite_cseq = s.local_cseq + 1;
  s.invite_branch = layer_.new_branch();
  Dialog pseudo;  // the INVITE's own route: a preloaded set, no remote target yet
  pseudo.route_set = s.initial_route;
  std::string extra = s.invite_extra;
  if (s.se_sent != 0) {
    extra += "Session-Expires: " + std::to_string(s.se_sent) + "\r\n";
    extra += "Min-SE: " + std::to_string(s.min_se_sent) + "\r\n";
  }
  std::string bytes = build_request(s, pseudo, "INVITE", s.invite_cseq, s.invite_branch, extra,
                                    s.invite_offer ? std::string_view(s.local_sdp) : std::string_view());
  s.invite_via = via_value(s.invite_branch, s.next_hop.transport);
  txn::OutgoingRequest out{sip::Method::Invite, s.invite_branch, std::move(bytes), config_.local, s.next_hop};
  out.source.transport = s.next_hop.transport;
  s.invite_txn = layer_.send_request(std::move(out), now);
  owners_.set(s.invite_txn, TxnOwner{id, TxnPurpose::Invite, {}});
}

bool UserAgent::retry_after_422(Session& s, const sip::Message& r, TimePoint now) {
  // RFC 4028 §7.3: retry with the Session-Expires raised to the 422's Min-SE,
  // which the new INVITE's Min-SE carries too. Only when that really raises
  // it (a peer repeating a Min-SE we met would loop), and a few times at most.
  const std::uint32_t floor = min_se_of(r);
  if (floor == 0 || floor <= s.se_sent || s.retries_422 >= 3 || s.cancel_wanted) return false;
  ++s.retries_422;
  s.se_sent = floor;
  s.min_se_sent = std::max(s.min_se_sent, floor);
  owners_.erase(s.invite_txn);  // the old transaction acks the 422 and ends by itself
  s.dialogs.clear();
  s.confirmed = SIZE_MAX;
  s.provisional_seen = false;
  s.state = SessionState::Calling;
  send_invite(s, now);
  return true;
}

void UserAgent::on_response(txn::TransactionId client, const sip::Message& r, TimePoint now) {
  const TxnOwner* found = owners_.find(client);
  if (!found) return;
  const TxnOwner owner = *found;
  Session* s = find(owner.session);
  if (!s) return;
  switch (owner.purpose) {
    case TxnPurpose::Invite:
      on_invite_response(*s, r, now);
      return;
    case TxnPurpose::Prack:
      if (r.status_code() >= 200 && r.status_code() < 300) {
        if (!s->times.reliability_done) s->times.reliability_done = now;
        if (Dialog* d = dialog_for(*s, owner.remote_tag)) {
          d->prack_done = true;
          // Our answer rode this PRACK: the early offer/answer is settled.
          if (d->oa.phase == OfferAnswerPhase::Complete && d->oa.answer_in == SdpCarrier::Prack) d->oa.settled = true;
        }
        SessionEvent e;
        e.kind = SessionEventKind::PrackDone;
        e.session = owner.session;
        e.at = now;
        e.status = r.status_code();
        e.remote_tag = owner.remote_tag;
        e.rseq = 0;
        emit(std::move(e));
        if (Session* again = find(owner.session)) maybe_send_qos_update(*again, now);
      }
      return;
    case TxnPurpose::Update: {
      const int status = r.status_code();
      if (status < 200) return;
      if (status == 491) {
        // RFC 3261 §14.1 glare: the owner of the Call-ID (the dialog's UAC)
        // waits 2.1-4 s, the other side 0-2 s, in units of 10 ms.
        const bool owner_of_call_id = s->role == SessionRole::Uac;
        const std::uint64_t r10 = rng_ = rng_ * 6364136223846793005ull + 1442695040888963407ull;
        const auto units = owner_of_call_id ? 210 + (r10 >> 33) % 191 : (r10 >> 33) % 201;
        // Our offer was refused, so it is no longer outstanding: an UPDATE
        // from the peer during the wait is answered, not met with 491.
        s->update_pending = false;
        s->update_retry = true;
        if (Dialog* d = dialog_for(*s, owner.remote_tag); d && !s->update_sdp.empty()) d->oa = d->oa_before_update;
        arm(*s, kUpdateRetry, now + std::chrono::milliseconds(10 * units));
        return;
      }
      s->update_pending = false;
      s->update_extra.clear();
      if (Dialog* d = dialog_for(*s, owner.remote_tag); d && !s->update_sdp.empty() &&
                                                        d->oa.phase == OfferAnswerPhase::LocalOffer &&
                                                        d->oa.offer_in == SdpCarrier::Update) {
        // RFC 3311 §5.2: a refused offer leaves the session as it was.
        d->oa = status < 300 ? completed(d->oa, SdpCarrier::UpdateResponse) : d->oa_before_update;
      }
      if ((status == 408 || status == 481) && s->state == SessionState::Confirmed) {
        if (Dialog* d = current_dialog(*s)) {
          s->state = SessionState::Terminating;
          send_bye(*s, *d, now, "Reason: SIP;cause=" + std::to_string(status));
        }
        return;
      }
      if (status >= 300) return;
      if (auto c = r.contacts().first()) {
        if (Dialog* d = dialog_for(*s, owner.remote_tag)) d->remote_target = std::string(c->uri.raw);  // target refresh
      }
      if (!s->update_sdp.empty()) s->local_sdp = s->update_sdp;
      if (s->session_interval != 0 && s->state == SessionState::Confirmed) start_session_timer(*s, now);
      read_peer_preconditions(*s, r.body());
      SessionEvent e;
      e.kind = SessionEventKind::Updated;
      e.session = owner.session;
      e.at = now;
      e.status = status;
      e.remote_tag = owner.remote_tag;
      e.body = r.body();
      emit(e);
      if (Session* again = find(owner.session)) check_preconditions(*again, now);
      return;
    }
    case TxnPurpose::Bye:
      if (r.status_code() < 200) return;
      if (s->role == SessionRole::Uac && s->confirmed != SIZE_MAX &&
          owner.remote_tag != s->dialogs[s->confirmed].remote_tag)
        return;  // the BYE of a fork we did not keep
      if (s->failure_reported) {
        release(*s);
      } else {
        end(*s, "released with BYE", now);
      }
      return;
    default:
      return;
  }
}

UserAgent::Dialog& UserAgent::add_uac_dialog(Session& s, std::string_view remote_tag) {
  Dialog nd;
  nd.remote_tag = std::string(remote_tag);
  // Each early dialog starts where the INVITE left the exchange.
  if (s.invite_offer) nd.oa = offer(SdpCarrier::Invite);
  s.dialogs.push_back(std::move(nd));
  return s.dialogs.back();
}

void UserAgent::on_invite_response(Session& s, const sip::Message& r, TimePoint now) {
  const SessionId id{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation};
  const int status = r.status_code();
  const std::string_view tag = r.to() && r.to()->tag() ? *r.to()->tag() : std::string_view();
  if (status < 200) {
    if (!s.times.first_provisional) s.times.first_provisional = now;
    if (status > 100 && !s.times.first_18x) s.times.first_18x = now;
    s.provisional_seen = true;
    const bool reliable = r.lists(sip::HeaderId::Require, "100rel");
    if (reliable && !r.rseq()) {
      drop("reliable provisional without RSeq (RFC 3262 §7.1), discarded");
      return;
    }
    Dialog* d = nullptr;
    if (!tag.empty()) {
      d = dialog_for(s, tag);
      if (!d) {
        // A new early dialog: one per To-tag, so each fork has its own.
        d = &add_uac_dialog(s, tag);
        if (auto c = r.contacts().first()) d->remote_target = std::string(c->uri.raw);
        for (const sip::NameAddr& rr : r.record_routes()) d->route_set.insert(d->route_set.begin(), std::string(rr.raw));
      }
      if (s.state == SessionState::Calling) s.state = SessionState::Early;
    }
    if (reliable && d) {
      const std::uint32_t rseq = *r.rseq();
      if (d->rseq_seen && rseq <= d->last_rseq) return;        // a retransmission: already PRACKed
      if (d->rseq_seen && rseq != d->last_rseq + 1) return;    // out of order: wait for the missing one
      if (config_.faults.drop_prack_once) {
        // As if this PRACK were lost: the UAS's retransmission gets it.
        config_.faults.drop_prack_once = false;
        return;
      }
      d->rseq_seen = true;
      d->last_rseq = rseq;
      // RFC 3262 §5 / RFC 3261 §13.2.1: the SDP of a reliable 18x answers
      // the INVITE's offer, or is the offer when the INVITE had none (the
      // PRACK then answers). Once complete, a body here is a repeat.
      bool offer_here = false;
      if (has_sdp(r)) {
        if (d->oa.phase == OfferAnswerPhase::LocalOffer && d->oa.offer_in == SdpCarrier::Invite) {
          d->oa = completed(d->oa, SdpCarrier::ReliableProvisional);
          d->peer_answer_seen = true;
          read_peer_preconditions(s, r.body());
        } else if (d->oa.phase == OfferAnswerPhase::NoOffer) {
          d->oa = offer_received(SdpCarrier::ReliableProvisional);
          offer_here = true;
          read_peer_preconditions(s, r.body());
        }
      }
      SessionEvent e;
      e.kind = SessionEventKind::Progress;
      e.session = id;
      e.at = now;
      e.status = status;
      e.reliable = true;
      e.rseq = rseq;
      e.remote_tag = d->remote_tag;
      e.body = r.body();
      emit(e);
      std::optional<std::string> answer;
      if (offer_here) answer = answer_for(id, r.body());
      Session* again = find(id);
      if (!again) return;
      Dialog* dd = dialog_for(*again, tag);
      if (!dd) return;
      if (offer_here && (!answer || answer->empty())) {
        // No answer to give: the PRACK could not carry one (RFC 3262 §5), so
        // there is none and the call is given up.
        drop("offer in a reliable " + std::to_string(status) + " with no answer to give: the call is cancelled");
        hang_up(id, now);
        return;
      }
      if (offer_here && !config_.faults.no_prack) {
        again->local_sdp = *answer;
        dd->oa = completed(dd->oa, SdpCarrier::Prack, /*settled=*/false);  // settled by the PRACK's 200
      }
      send_prack(*again, *dd, r, answer ? std::string_view(*answer) : std::string_view(), now);
    } else {
      SessionEvent e;
      e.kind = SessionEventKind::Progress;
      e.session = id;
      e.at = now;
      e.status = status;
      e.remote_tag = std::string(tag);
      e.body = r.body();
      emit(e);
    }
    Session* again = find(id);
    if (again && again->cancel_wanted && !again->cancel_sent) send_cancel(*again, now);
    return;
  }
  if (status < 300) {
    if (tag.empty()) {
      drop("2xx to INVITE without a To-tag, discarded");
      return;
    }
    Dialog* d = dialog_for(s, tag);
    if (!d) d = &add_uac_dialog(s, tag);
    // The 2xx fixes the dialog's target and route set (RFC 3261 §12.1.2).
    if (auto c = r.contacts().first()) d->remote_target = std::string(c->uri.raw);
    d->route_set.clear();
    for (const sip::NameAddr& rr : r.record_routes()) d->route_set.insert(d->route_set.begin(), std::string(rr.raw));
    if (d->answered) {
      // A retransmission: our ACK was lost, send it again.
      if (!d->ack.empty()) {
        sip::Endpoint from = config_.local;
        from.transport = d->ack_destination.transport;
        layer_.send_stateless({from, d->ack_destination, d->ack});
      }
      return;
    }
    d->answered = true;
    // RFC 3261 §13.2.1: the 2xx answers the INVITE's offer, or, when no
    // offer was made yet, is the offer and the ACK answers it.
    bool offer_here = false;
    if (has_sdp(r)) {
      if (d->oa.phase == OfferAnswerPhase::LocalOffer && d->oa.offer_in == SdpCarrier::Invite) {
        d->oa = completed(d->oa, SdpCarrier::Final2xx);
        read_peer_preconditions(s, r.body());
      } else if (d->oa.phase == OfferAnswerPhase::NoOffer) {
        d->oa = offer_received(SdpCarrier::Final2xx);
        offer_here = true;
      }
    }
    const std::size_t index = static_cast<std::size_t>(d - s.dialogs.data());
    if (s.confirmed != SIZE_MAX) {
      // Another fork answered too: ACK it and release it (RFC 3261 §13.2.2.4).
      std::optional<std::string> answer;
      if (offer_here) answer = answer_for(id, r.body());
      Session* again = find(id);
      if (!again) return;
      send_ack(*again, again->dialogs[index], now, answer ? std::string_view(*answer) : std::string_view());
      send_bye(*again, again->dialogs[index], now);
      return;
    }
    s.confirmed = index;
    s.times.final_response = now;
    if (const sip::ParamValue* se = r.session_expires()) {
      if (auto n = ascii::parse_uint(se->value, 0xFFFFFFFFull); n && *n > 0) {
        s.session_interval = static_cast<std::uint32_t>(*n);
        const auto refresher = se->param("refresher");
        s.we_refresh = !refresher || ascii::iequals(*refresher, "uac");
      }
    }
    s.state = SessionState::Answered;
    SessionEvent e;
    e.kind = SessionEventKind::Answered;
    e.session = id;
    e.at = now;
    e.status = status;
    e.remote_tag = std::string(tag);
    e.body = r.body();
    emit(e);
    std::optional<std::string> answer;
    if (offer_here) answer = answer_for(id, r.body());
    Session* again = find(id);
    if (!again) return;
    if (config_.faults.no_ack) return;
    Dialog& kept = again->dialogs[index];
    const bool unanswerable = offer_here && (!answer || answer->empty());
    if (offer_here && !unanswerable) {
      again->local_sdp = *answer;
      kept.oa = completed(kept.oa, SdpCarrier::Ack);
    }
    send_ack(*again, kept, now, offer_here && !unanswerable ? std::string_view(*answer) : std::string_view());
    again->times.ack = now;
    again->state = SessionState::Confirmed;
    if (unanswerable) {
      // RFC 3261 §13.2.2.4: an offer in the 2xx we cannot answer: the ACK
      // goes (without an answer) and the dialog ends at once.
      again->state = SessionState::Terminating;
      again->failure_reported = true;
      send_bye(*again, kept, now, "Reason: SIP;cause=488;text=\"no answer to the offer in the 2xx\"");
      SessionEvent f;
      f.kind = SessionEventKind::Failed;
      f.session = id;
      f.at = now;
      f.status = 488;
      f.remote_tag = std::string(tag);
      f.cause = "offer in the 2xx with no answer to give: ACKed and released with BYE";
      emit(std::move(f));
      return;
    }
    if (again->session_interval != 0) start_session_timer(*again, now);
    SessionEvent c;
    c.kind = SessionEventKind::Confirmed;
    c.session = id;
    c.at = now;
    c.status = status;
    c.remote_tag = std::string(tag);
    emit(std::move(c));
    if (Session* s3 = find(id); s3 && s3->cancel_wanted) send_bye(*s3, s3->dialogs[index], now);
    return;
  }
  // A final failure: the transaction has ACKed it.
  if (s.state == SessionState::Answered || s.state == SessionState::Confirmed) return;  // after a 2xx (fork)
  if (status == 422 && retry_after_422(s, r, now)) return;
  std::string cause;
  if (s.cancel_sent && status == 487) {
    cause = "cancelled by the caller";
  } else {
    cause = "rejected with " + std::to_string(status);
    if (!r.reason_phrase().empty()) cause += " " + std::string(r.reason_phrase());
  }
  fail(s, status, std::move(cause), now);
}

void UserAgent::send_prack(Session& s, Dialog& d, const sip::Message& provisional, std::string_view body,
                           TimePoint now) {
  if (config_.faults.no_prack) return;
  const SessionId id{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation};
  // RFC 3262 §7.2: RAck = RSeq, CSeq number, CSeq method of the provisional.
  if (auto c = provisional.contacts().first()) d.remote_target = std::string(c->uri.raw);
  const std::string rack =
      "RAck: " + std::to_string(*provisional.rseq()) + " " + std::to_string(provisional.cseq()->number) + " INVITE\r\n";
  const std::uint32_t cseq = ++s.local_cseq;
  const std::string branch = layer_.new_branch();
  const sip::Endpoint hop = next_hop(s, d);
  std::string bytes = build_request(s, d, "PRACK", cseq, branch, rack, body);
  txn::OutgoingRequest out{sip::Method::Prack, branch, std::move(bytes), config_.local, hop};
  out.source.transport = hop.transport;
  const txn::TransactionId t = layer_.send_request(std::move(out), now);
  owners_.set(t, TxnOwner{id, TxnPurpose::Prack, d.remote_tag});
}

void UserAgent::send_ack(Session& s, Dialog& d, TimePoint, std::string_view body) {
  // The ACK for a 2xx is a transaction of its own (RFC 3261 §13.2.2.4): a new
  // branch, the INVITE's CSeq number; it carries the answer when the 2xx
  // carried the offer, and so does each resend.
  const std::string branch = layer_.new_branch();
  d.ack = build_request(s, d, "ACK", s.invite_cseq, branch, {}, body);
  d.ack_destination = next_hop(s, d);
  sip::Endpoint from = config_.local;
  from.transport = d.ack_destination.transport;
  layer_.send_stateless({from, d.ack_destination, d.ack});
}

void UserAgent::send_cancel(Session& s, TimePoint now) {
  // The layer builds it from the INVITE as sent (same top Via, transport
  // and destination, RFC 3261 §9.1).
  const txn::TransactionId t = layer_.send_cancel(s.invite_txn, now);
  if (!t) return;
  s.cancel_sent = true;
  owners_.set(t, TxnOwner{SessionId{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation},
                                    TxnPurpose::Cancel, {}});
  // §9.1: no final response 64·T1 after the CANCEL: the INVITE is given up.
  arm(s, kCancelGiveUp, now + config_.timers.timeout_64t1());
}

void UserAgent::send_bye(Session& s, Dialog& d, TimePoint now, std::string_view reason_header) {
  const std::uint32_t cseq = ++s.local_cseq;
  const std::string branch = layer_.new_branch();
  const sip::Endpoint hop = next_hop(s, d);
  std::string extra;
  if (!reason_header.empty()) extra = std::string(reason_header) + "\r\n";
  std::string bytes = build_request(s, d, "BYE", cseq, branch, extra, {});
  txn::OutgoingRequest out{sip::Method::Bye, branch, std::move(bytes), config_.local, hop};
  out.source.transport = hop.transport;
  const txn::TransactionId t = layer_.send_request(std::move(out), now);
  owners_.set(t, TxnOwner{SessionId{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation},
                                    TxnPurpose::Bye, d.remote_tag});
}

void UserAgent::hang_up(SessionId id, TimePoint now) {
  Session* s = find(id);
  if (!s) return;
  if (s->role == SessionRole::Uac) {
    if (s->state == SessionState::Confirmed && s->confirmed != SIZE_MAX) {
      s->state = SessionState::Terminating;
      send_bye(*s, s->dialogs[s->confirmed], now);  // its 200 reports Ended
      return;
    }
    if (s->state == SessionState::Calling || s->state == SessionState::Early) {
      s->cancel_wanted = true;
      if (s->provisional_seen && !s->cancel_sent) send_cancel(*s, now);
    }
    return;
  }
  if (s->state == SessionState::Confirmed && !s->dialogs.empty()) {
    s->state = SessionState::Terminating;
    send_bye(*s, s->dialogs.front(), now);
    return;
  }
  if (s->state == SessionState::Answered) {
    s->bye_wanted = true;  // RFC 3261 §15: the BYE waits for the ACK
    return;
  }
  if (!s->final_sent) reject(id, 480, now);
}

// --- UAS --------------------------------------------------------------------------------------

void UserAgent::on_request(txn::TransactionId server, const sip::Message& request, const sip::Endpoint& remote,
                           const sip::Endpoint& local, TimePoint now) {
  current_remote_ = remote;
  const sip::NameAddr* to = request.to();
  const bool in_dialog = to && to->tag();
  if (request.method() == sip::Method::Ack) {
    if (!in_dialog) return;
    Session* s = find_by_dialog(request.call_id(), *to->tag());
    if (!s || s->role != SessionRole::Uas) {
      drop("ACK for an unknown dialog, discarded");
      return;
    }
    if (s->state != SessionState::Answered) return;  // a retransmitted ACK
    disarm(*s, k2xxRetransmit);
    disarm(*s, k2xxGiveUp);
    s->state = SessionState::Confirmed;
    if (!s->dialogs.empty()) {
      Dialog& d = s->dialogs.front();
      if (d.oa.phase == OfferAnswerPhase::LocalOffer && d.oa.offer_in == SdpCarrier::Final2xx) {
        // RFC 3261 §13.2.1: our 2xx made the offer; the ACK answers it.
        if (has_sdp(request)) {
          d.oa = completed(d.oa, SdpCarrier::Ack);
          read_peer_preconditions(*s, request.body());
        } else {
          drop("ACK without the answer to the offer in our 2xx");
        }
      }
    }
    if (s->session_interval != 0) start_session_timer(*s, now);
    if (s->reinvite) {
      s->reinvite = false;  // the ACK of a re-INVITE: the session was already up
      return;
    }
    s->times.ack = now;
    if (s->bye_wanted && !s->dialogs.empty()) {
      s->state = SessionState::Terminating;
      send_bye(*s, s->dialogs.front(), now);
    }
    SessionEvent e;
    e.kind = SessionEventKind::Confirmed;
    e.session = SessionId{static_cast<std::uint32_t>(s - sessions_.data()), s->generation};
    e.at = now;
    e.status = 200;
    e.remote_tag = s->dialogs.empty() ? std::string() : s->dialogs.front().remote_tag;
    e.body = request.body();  // the answer, when our 2xx made the offer
    emit(std::move(e));
    return;
  }
  if (in_dialog) return on_in_dialog_request(server, request, now);
  if (request.method() == sip::Method::Invite) return on_invite(server, request, remote, local, now);
  // Out-of-dialog requests other than INVITE: OPTIONS gets 200 (a keep-alive
  // ping), PRACK/BYE/UPDATE without a dialog 481, the rest 405.
  switch (request.method()) {
    case sip::Method::Options:
      respond_in_txn(server, request, 200, now, {}, "Allow", config_.allow);
      return;
    case sip::Method::Prack:
    case sip::Method::Bye:
    case sip::Method::Update:
      respond_in_txn(server, request, 481, now);
      return;
    default:
      respond_in_txn(server, request, 405, now, {}, "Allow", config_.allow);
      return;
  }
}

void UserAgent::on_invite(txn::TransactionId server, const sip::Message& invite, const sip::Endpoint& remote,
                          const sip::Endpoint& local, TimePoint now) {
  if (auto refusal = sip::check_request(invite, profile_)) {
    auto b = sip::MessageBuilder::response_to(invite, refusal->status, random_token(10));
    if (!refusal->unsupported.empty()) {
      std::string list;
      for (const std::string& tag : refusal->unsupported) list += (list.empty() ? "" : ", ") + tag;
      b.add(sip::HeaderId::Unsupported, list);
    }
    b.add(sip::HeaderId::ContentLength, "0");
    layer_.send_response(server, refusal->status, b.serialize(), now);
    return;
  }
  const sip::ParamValue* se = invite.session_expires();
  std::uint32_t interval = 0;
  if (se) interval = static_cast<std::uint32_t>(ascii::parse_uint(se->value, 0xFFFFFFFFull).value_or(0));
  if (se && interval < config_.min_se) {
    // RFC 4028 §8.1: too brief; 422 says the least we take.
    auto b = sip::MessageBuilder::response_to(invite, 422, random_token(10));
    b.add(sip::HeaderId::MinSE, std::to_string(config_.min_se));
    b.add(sip::HeaderId::ContentLength, "0");
    layer_.send_response(server, 422, b.serialize(), now);
    return;
  }
  const std::string_view from_tag = invite.from() && invite.from()->tag() ? *invite.from()->tag() : std::string_view();
  if (const Session* other = find_by_origin(invite.call_id(), from_tag);
      other && other->invite_txn != server && other->invite_cseq == invite.cseq()->number &&
      layer_.state(other->invite_txn)) {
    // RFC 3261 §8.2.2.2: the same request (From-tag, Call-ID, CSeq) on
    // another transaction, while the first is still in progress: a copy
    // that came another way (a forking proxy's two branches meeting here).
    respond_in_txn(server, invite, 482, now);
    return;
  }
  const SessionId id = create_session(SessionRole::Uas);
  Session& s = sessions_[id.index];
  s.invite_txn = server;
  s.peer_supports_timer = invite.lists(sip::HeaderId::Supported, "timer") || invite.lists(sip::HeaderId::Require, "timer");
  s.session_interval = se ? interval : config_.session_expires;
  if (!se && s.session_interval != 0) {
    // RFC 4028 §9: never below the Min-SE the request carries.
    if (const sip::HeaderField* min_se = invite.find(sip::HeaderId::MinSE)) {
      const auto floor = ascii::parse_uint(ascii::trim_lws(min_se->value.substr(0, min_se->value.find(';'))), 0xFFFFFFFFull);
      if (floor && *floor > s.session_interval) s.session_interval = static_cast<std::uint32_t>(*floor);
    }
  }
  if (s.session_interval != 0) {
    // The refresher the UAC asked for, else the UAC when it can (RFC 4028 §9);
    // a UAC without timer support cannot refresh, so the UAS does.
    const auto asked = se ? se->param("refresher") : std::nullopt;
    const bool uac_refreshes = s.peer_supports_timer && (asked ? ascii::iequals(*asked, "uac") : true);
    s.we_refresh = !uac_refreshes;
  }
  s.call_id = std::string(invite.call_id());
  s.local_tag = random_token(10);
  s.local = local;
  s.response_to = layer_.response_destination(server).value_or(remote);
  s.invite_cseq = invite.cseq()->number;
  s.times.invite = now;
  for (const sip::HeaderField& f : invite.headers()) {
    switch (f.id) {
      case sip::HeaderId::RecordRoute: s.record_routes.emplace_back(f.value); break;
      case sip::HeaderId::From: s.from_value = std::string(f.value); break;
      case sip::HeaderId::To: s.to_value = std::string(f.value); break;
      case sip::HeaderId::CSeq: s.cseq_value = std::string(f.value); break;
      default: break;
    }
  }
  // Responses carry every via-parm, the top one with received/rport filled in.
  const auto vias = invite.vias();
  for (std::size_t i = 0; i < vias.size(); ++i)
    s.vias.push_back(i == 0 ? txn::response_top_via(vias[0], remote) : std::string(vias[i].raw));
  s.local_party = s.to_value;
  s.remote_party = s.from_value;  // carries the remote tag already
  s.peer_requires_100rel = invite.lists(sip::HeaderId::Require, "100rel");
  s.peer_allows_100rel = s.peer_requires_100rel || invite.lists(sip::HeaderId::Supported, "100rel");
  s.next_rseq = static_cast<std::uint32_t>(1 + (rng_ % 0x7FFFFFFF) / 2);  // random start, room to grow (RFC 3262 §3)
  Dialog d;
  d.have_remote_cseq = true;
  d.remote_cseq = invite.cseq()->number;
  d.remote_tag = std::string(from_tag);
  if (has_sdp(invite)) d.oa = offer_received(SdpCarrier::Invite);
  if (auto c = invite.contacts().first()) d.remote_target = std::string(c->uri.raw);
  for (const sip::NameAddr& rr : invite.record_routes()) d.route_set.emplace_back(rr.raw);
  s.dialogs.push_back(std::move(d));
  by_dialog_.insert(dialog_hash(s.call_id, s.local_tag), id.index);
  by_origin_.insert(dialog_hash(s.call_id, from_tag), id.index);
  owners_.set(server, TxnOwner{id, TxnPurpose::Invite, {}});
  layer_.set_local_tag(server, s.local_tag);  // the 200 to a CANCEL carries it too (RFC 3261 §9.2)
  read_peer_preconditions(s, invite.body());
  if (s.preconditions && config_.local_qos_ready_after) arm(s, kQosReady, now + *config_.local_qos_ready_after);
  SessionEvent e;
  e.kind = SessionEventKind::Incoming;
  e.session = id;
  e.at = now;
  e.body = invite.body();
  emit(std::move(e));
}

bool UserAgent::send_provisional(SessionId id, int status, std::string_view sdp, TimePoint now) {
  Session* s = find(id);
  if (!s || s->role != SessionRole::Uas || s->final_sent || status <= 100 || status >= 200) return false;
  if (s->preconditions && status == 180 && !s->qos.met()) {
    // RFC 3312 §6: no alerting until the preconditions are met.
    s->held_alerting = true;
    return true;
  }
  if (!s->times.first_provisional) s->times.first_provisional = now;
  if (!s->times.first_18x) s->times.first_18x = now;
  s->state = SessionState::Early;
  const bool reliable = s->peer_requires_100rel || (s->peer_allows_100rel && config_.reliable_provisionals);
  Dialog& d = s->dialogs.front();
  ReliableProvisional::Sdp role = ReliableProvisional::Sdp::None;
  if (reliable && !sdp.empty()) {
    // RFC 3261 §13.2.1, RFC 3262 §5: the answer to the INVITE's offer, or
    // our offer when it had none; with the exchange done (or our offer still
    // out), nothing: a second SDP would contradict the first.
    if (d.oa.phase == OfferAnswerPhase::RemoteOffer && d.oa.offer_in == SdpCarrier::Invite) {
      role = ReliableProvisional::Sdp::Answer;
      d.oa = completed(d.oa, SdpCarrier::ReliableProvisional, /*settled=*/false);  // settled by its PRACK
    } else if (d.oa.phase == OfferAnswerPhase::NoOffer) {
      role = ReliableProvisional::Sdp::Offer;
      d.oa = offer(SdpCarrier::ReliableProvisional, /*settled=*/false);
    } else {
      sdp = {};
    }
  }
  std::string with_qos;
  if (s->preconditions && !sdp.empty()) {
    with_qos = sdp::rewrite_preconditions(sdp, s->qos.attributes());
    sdp = with_qos;
  }
  if (!sdp.empty()) s->local_sdp = std::string(sdp);
  if (!reliable) {
    layer_.send_response(s->invite_txn, status, build_response(*s, status, sdp, true, {}), now);
  } else {
    ReliableProvisional rp;
    rp.status = status;
    rp.rseq = s->next_rseq++;
    rp.has_body = !sdp.empty();
    rp.sdp = role;
    rp.bytes = build_response(*s, status, sdp, true, "Require: 100rel\r\nRSeq: " + std::to_string(rp.rseq));
    // RFC 3262 §3: no second reliable provisional while one is unPRACKed.
    if (s->unacked) {
      s->queued.push_back(std::move(rp));
    } else {
      send_reliable(*s, std::move(rp), now);
    }
  }
  SessionEvent e;
  e.kind = SessionEventKind::Progress;
  e.session = id;
  e.at = now;
  e.status = status;
  e.reliable = reliable;
  e.remote_tag = s->dialogs.front().remote_tag;
  e.body = sdp;
  emit(std::move(e));
  return true;
}

void UserAgent::send_reliable(Session& s, ReliableProvisional rp, TimePoint now) {
  layer_.send_response(s.invite_txn, rp.status, rp.bytes, now);
  s.unacked = std::move(rp);
  s.rel_interval = config_.timers.t1;
  arm(s, kRel1xxRetransmit, now + config_.timers.t1);
  arm(s, kRel1xxGiveUp, now + config_.timers.timeout_64t1());
}

bool UserAgent::answer(SessionId id, std::string_view sdp, TimePoint now) {
  Session* s = find(id);
  if (!s || s->role != SessionRole::Uas || s->final_sent || s->answer_held) return false;
  if (s->unacked && s->unacked->has_body) {
    // RFC 3262 §3: no 2xx before the reliable provisional carrying the SDP
    // is PRACKed; the answer goes out with the PRACK's 200.
    s->answer_held = true;
    s->pending_answer = std::string(sdp);
    return true;
  }
  // RFC 3261 §13.2.1: what the 2xx's SDP is depends on the exchange so far.
  Dialog& d = s->dialogs.front();
  if (d.oa.phase == OfferAnswerPhase::RemoteOffer || d.oa.phase == OfferAnswerPhase::NoOffer) {
    // The answer to the INVITE's offer, or our offer: the app's SDP, else the
    // last one we sent (an unreliable 18x's preview). It must have one.
    if (sdp.empty()) sdp = s->local_sdp;
    if (sdp.empty()) return false;
    d.oa = d.oa.phase == OfferAnswerPhase::RemoteOffer ? completed(d.oa, SdpCarrier::Final2xx)
                                                       : offer(SdpCarrier::Final2xx);
  } else {
    // Complete in a reliable 18x and its PRACK (or an exchange of ours
    // still open): the 2xx carries no SDP (RFC 6337 §3.1.1).
    sdp = {};
  }
  s->final_sent = true;
  disarm(*s, kRel1xxRetransmit);
  disarm(*s, kRel1xxGiveUp);
  s->queued.clear();
  s->held_alerting = false;
  if (!sdp.empty()) s->local_sdp = std::string(sdp);
  std::string extra;
  if (s->session_interval != 0) {
    extra = session_expires_header(*s);
    if (s->peer_supports_timer) extra += "Require: timer\r\n";
  }
  s->final_2xx = build_response(*s, 200, sdp, true, extra);
  layer_.send_response(s->invite_txn, 200, s->final_2xx, now);
  s->state = SessionState::Answered;
  s->times.final_response = now;
  s->interval_2xx = config_.timers.t1;
  // 2xx retransmission is the UAS core's (RFC 6026), on any transport: a
  // later hop may be UDP (RFC 3261 §13.3.1.4).
  arm(*s, k2xxRetransmit, now + config_.timers.t1);
  arm(*s, k2xxGiveUp, now + config_.timers.timeout_64t1());
  SessionEvent e;
  e.kind = SessionEventKind::Answered;
  e.session = id;
  e.at = now;
  e.status = 200;
  e.remote_tag = s->dialogs.front().remote_tag;
  e.body = sdp;
  emit(std::move(e));
  return true;
}

bool UserAgent::reject(SessionId id, int status, TimePoint now, std::string_view reason_header) {
  Session* s = find(id);
  if (!s || s->role != SessionRole::Uas || s->final_sent || status < 300) return false;
  s->final_sent = true;
  std::string extra;
  if (!reason_header.empty()) extra = std::string(reason_header) + "\r\n";
  layer_.send_response(s->invite_txn, status, build_response(*s, status, {}, false, extra), now);
  fail(*s, status, "rejected with " + std::to_string(status), now);
  return true;
}

void UserAgent::on_prack(Session& s, txn::TransactionId server, const sip::Message& prack, TimePoint now) {
  const auto& rack = prack.rack();
  if (!s.unacked || !rack || rack->rseq != s.unacked->rseq || rack->cseq != s.invite_cseq ||
      rack->method != sip::Method::Invite) {
    // RFC 3262 §3: a PRACK that matches no unacknowledged provisional gets 481.
    respond_in_txn(server, prack, 481, now);
    return;
  }
  const SessionId id{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation};
  std::string answer;
  if (s.unacked->sdp == ReliableProvisional::Sdp::Offer) {
    // RFC 3262 §5: our 18x made the offer, so this PRACK's body is the answer.
    Dialog& d = s.dialogs.front();
    if (has_sdp(prack)) {
      d.oa = completed(d.oa, SdpCarrier::Prack);
      read_peer_preconditions(s, prack.body());
    } else {
      drop("PRACK without the answer to the offer in our reliable provisional");
    }
  } else if (has_sdp(prack)) {
    // Otherwise a body is a new offer, answered in the PRACK's 200.
    if (refuse_offer_while_open(s, s.dialogs.front(), server, prack, now)) return;
    read_peer_preconditions(s, prack.body());
    auto a = answer_for(id, prack.body());
    Session* again = find(id);
    if (!again) return;
    if (!a || a->empty()) {
      respond_in_txn(server, prack, 488, now);
      return;
    }
    answer = std::move(*a);
    again->local_sdp = answer;
    Dialog& d = again->dialogs.front();
    d.oa = completed(offer_received(SdpCarrier::Prack), SdpCarrier::PrackResponse);
    return on_prack_acknowledged(*again, server, prack, answer, now);
  }
  on_prack_acknowledged(s, server, prack, answer, now);
}

void UserAgent::on_prack_acknowledged(Session& s, txn::TransactionId server, const sip::Message& prack,
                                      std::string_view answer, TimePoint now) {
  respond_in_txn(server, prack, 200, now, answer);
  const std::uint32_t rseq = s.unacked->rseq;
  if (s.unacked->sdp == ReliableProvisional::Sdp::Answer) {
    // RFC 3311 §5.1: the answer in our 18x is acknowledged; UPDATE may follow.
    Dialog& d = s.dialogs.front();
    if (d.oa.answer_in == SdpCarrier::ReliableProvisional) d.oa.settled = true;
  }
  s.unacked.reset();
  disarm(s, kRel1xxRetransmit);
  disarm(s, kRel1xxGiveUp);
  if (!s.times.reliability_done) s.times.reliability_done = now;
  const SessionId id{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation};
  SessionEvent e;
  e.kind = SessionEventKind::PrackDone;
  e.session = id;
  e.at = now;
  e.rseq = rseq;
  e.remote_tag = s.dialogs.front().remote_tag;
  emit(std::move(e));
  Session* again = find(id);
  if (again && again->answer_held) {
    again->answer_held = false;
    const std::string sdp = std::move(again->pending_answer);
    this->answer(id, sdp, now);
    return;
  }
  if (again && !again->unacked && !again->queued.empty() && !again->final_sent) {
    ReliableProvisional next = std::move(again->queued.front());
    again->queued.pop_front();
    send_reliable(*again, std::move(next), now);
  }
}

bool UserAgent::on_lingering_prack(txn::TransactionId server, const sip::Message& prack, TimePoint now) {
  // RFC 3262 §3: the session ended with its final response, but this
  // provisional was still outstanding: its PRACK is acknowledged with 200.
  std::string key(prack.call_id());
  key.push_back('\n');
  key.append(*prack.to()->tag());
  const auto it = lingering_.find(key);
  if (it == lingering_.end()) return false;
  const std::string_view from_tag = prack.from() && prack.from()->tag() ? *prack.from()->tag() : std::string_view();
  const auto& rack = prack.rack();
  const LingeringProvisional& l = it->second;
  if (from_tag != l.remote_tag || !rack || rack->rseq != l.rseq || rack->cseq != l.invite_cseq ||
      rack->method != sip::Method::Invite)
    return false;
  respond_in_txn(server, prack, 200, now);
  return true;
}

void UserAgent::on_in_dialog_request(txn::TransactionId server, const sip::Message& request, TimePoint now) {
  Session* s = find_by_dialog(request.call_id(), *request.to()->tag());
  if (!s) {
    if (request.method() == sip::Method::Prack && on_lingering_prack(server, request, now)) return;
    respond_in_txn(server, request, 481, now);
    return;
  }
  // RFC 3261 §12: the dialog is Call-ID, local tag and remote tag.
  const std::string_view remote_tag = request.from() && request.from()->tag() ? *request.from()->tag() : std::string_view();
  Dialog* d = dialog_for(*s, remote_tag);
  if (!d) {
    respond_in_txn(server, request, 481, now);
    return;
  }
  // §12.2.2: a lower CSeq than the last one in this dialog is out of order.
  if (d->have_remote_cseq && request.cseq()->number < d->remote_cseq) {
    respond_in_txn(server, request, 500, now);
    return;
  }
  d->have_remote_cseq = true;
  d->remote_cseq = request.cseq()->number;
  switch (request.method()) {
    case sip::Method::Prack:
      if (s->role != SessionRole::Uas) {
        respond_in_txn(server, request, 481, now);
        return;
      }
      on_prack(*s, server, request, now);
      return;
    case sip::Method::Bye: {
      respond_in_txn(server, request, 200, now);
      if (s->role == SessionRole::Uac && s->confirmed != SIZE_MAX && d != &s->dialogs[s->confirmed]) {
        // A fork we did not keep ends itself; the call goes on.
        s->dialogs.erase(s->dialogs.begin() + (d - s->dialogs.data()));
        if (s->confirmed > static_cast<std::size_t>(d - s->dialogs.data())) --s->confirmed;
        return;
      }
      if (s->role == SessionRole::Uas && !s->final_sent) {
        // §15.1.2: the caller left an early dialog; the INVITE still needs its final answer.
        s->final_sent = true;
        layer_.send_response(s->invite_txn, 487, build_response(*s, 487, {}, false, {}), now);
      }
      disarm(*s, k2xxRetransmit);
      disarm(*s, k2xxGiveUp);
      end(*s, "released by the peer with BYE", now);
      return;
    }
    case sip::Method::Invite:
      on_reinvite(*s, *d, server, request, now);
      return;
    case sip::Method::Update:
      on_update(*s, *d, server, request, now);
      return;
    case sip::Method::Options:
      respond_in_txn(server, request, 200, now, {}, "Allow", config_.allow);
      return;
    default:
      respond_in_txn(server, request, 405, now, {}, "Allow", config_.allow);
      return;
  }
}

// --- UPDATE and preconditions -------------------------------------------------------------

UserAgent::Dialog* UserAgent::current_dialog(Session& s) {
  if (s.dialogs.empty()) return nullptr;
  if (s.role == SessionRole::Uac && s.confirmed != SIZE_MAX) return &s.dialogs[s.confirmed];
  if (!s.update_dialog.empty()) {
    if (Dialog* d = dialog_for(s, s.update_dialog)) return d;
  }
  return &s.dialogs.back();  // UAC early: the latest fork; UAS: its one dialog
}

void UserAgent::read_peer_preconditions(Session& s, std::string_view body) {
  if (body.empty()) return;
  auto parsed = sdp::parse(body);
  if (!parsed) return;
  for (const sdp::Media& m : parsed->media) {
    if (m.media != "audio") continue;
    const sdp::MediaPreconditions p = sdp::read_preconditions(m);
    if (p.empty()) return;
    s.preconditions = true;
    s.qos.update_from_peer(p);
    return;
  }
}

bool UserAgent::update(SessionId id, std::string_view sdp, TimePoint now) {
  Session* s = find(id);
  if (!s || s->update_pending || s->update_retry || !current_dialog(*s) || s->state == SessionState::Calling)
    return false;
  if (!sdp.empty()) {
    // RFC 3311 §5.1/§5.2: no offer while one is open in the dialog, and in an
    // early dialog none before its offer/answer completed and settled.
    const bool early = s->state == SessionState::Early;
    auto may_offer = [early](const Dialog& d) {
      if (early) return d.oa.phase == OfferAnswerPhase::Complete && d.oa.settled;
      return d.oa.phase != OfferAnswerPhase::LocalOffer && d.oa.phase != OfferAnswerPhase::RemoteOffer;
    };
    Dialog* d = current_dialog(*s);
    if (!may_offer(*d)) {
      // UAC with forks: another early dialog may be ready.
      d = nullptr;
      if (early && s->role == SessionRole::Uac) {
        for (Dialog& other : s->dialogs)
          if (may_offer(other)) d = &other;
      }
      if (!d) return false;
      s->update_dialog = d->remote_tag;
    }
  }
  s->update_sdp = std::string(sdp);
  s->update_pending = true;
  send_update(*s, now);
  return true;
}

void UserAgent::send_update(Session& s, TimePoint now) {
  Dialog* d = current_dialog(s);
  if (!d) return;
  const std::uint32_t cseq = ++s.local_cseq;
  const std::string branch = layer_.new_branch();
  const sip::Endpoint hop = next_hop(s, *d);
  std::string bytes = build_request(s, *d, "UPDATE", cseq, branch,
                                    "Contact: " + contact_value() + "\r\n" + s.update_extra, s.update_sdp);
  if (!s.update_sdp.empty()) {
    d->oa_before_update = d->oa;
    d->oa = offer(SdpCarrier::Update);
  }
  txn::OutgoingRequest out{sip::Method::Update, branch, std::move(bytes), config_.local, hop};
  out.source.transport = hop.transport;
  const txn::TransactionId t = layer_.send_request(std::move(out), now);
  owners_.set(t, TxnOwner{SessionId{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation},
                                    TxnPurpose::Update, d->remote_tag});
}

void UserAgent::set_local_qos_ready(SessionId id, TimePoint now) {
  Session* s = find(id);
  if (!s || s->local_qos_ready) return;
  s->local_qos_ready = true;
  s->qos.local.current = sdp::QosDirection::SendRecv;
  disarm(*s, kQosReady);
  if (s->role == SessionRole::Uac) {
    maybe_send_qos_update(*s, now);
  } else {
    check_preconditions(*s, now);
  }
}

void UserAgent::maybe_send_qos_update(Session& s, TimePoint now) {
  // The UE tells the peer its resources are ready once the early dialog's
  // offer/answer is done (the answer came reliably and was PRACKed).
  if (s.role != SessionRole::Uac || !s.preconditions || !s.local_qos_ready || s.qos_update_sent ||
      s.update_pending || s.local_sdp.empty())
    return;
  // On the dialog whose answer came reliably and was PRACKed (RFC 3311 §5.1).
  Dialog* ready = nullptr;
  for (Dialog& d : s.dialogs) {
    if (d.peer_answer_seen && d.prack_done) ready = &d;
  }
  if (!ready) return;
  s.update_dialog = ready->remote_tag;
  s.qos_update_sent = true;
  s.update_sdp = sdp::rewrite_preconditions(s.local_sdp, s.qos.attributes());
  s.update_pending = true;
  send_update(s, now);
}

void UserAgent::check_preconditions(Session& s, TimePoint now) {
  if (!s.preconditions || s.times.preconditions_met || !s.qos.met()) return;
  s.times.preconditions_met = now;
  const SessionId id{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation};
  SessionEvent e;
  e.kind = SessionEventKind::PreconditionsMet;
  e.session = id;
  e.at = now;
  if (Dialog* d = current_dialog(s)) e.remote_tag = d->remote_tag;
  emit(std::move(e));
  Session* again = find(id);
  if (again && again->held_alerting && !again->final_sent) {
    again->held_alerting = false;
    send_provisional(id, 180, {}, now);
  }
}

std::optional<std::string> UserAgent::answer_for(SessionId id, std::string_view offer) {
  if (auto a = observer_.answer_offer(id, offer)) return a;
  const Session* s = find(id);
  if (!s || s->local_sdp.empty()) return std::nullopt;
  return s->preconditions ? sdp::rewrite_preconditions(s->local_sdp, s->qos.attributes()) : s->local_sdp;
}

bool UserAgent::refuse_offer_while_open(const Session& s, const Dialog& d, txn::TransactionId server,
                                        const sip::Message& request, TimePoint now) {
  // Our own offer unanswered, in any request or response: glare (491).
  if (d.oa.phase == OfferAnswerPhase::LocalOffer || (s.update_pending && !s.update_sdp.empty())) {
    respond_in_txn(server, request, 491, now);
    return true;
  }
  // The peer's offer not answered yet: 500, to retry in 0-10 s.
  if (d.oa.phase == OfferAnswerPhase::RemoteOffer) {
    respond_in_txn(server, request, 500, now, {}, "Retry-After", std::to_string(next_random() % 11));
    return true;
  }
  return false;
}

void UserAgent::on_update(Session& s, Dialog& d, txn::TransactionId server, const sip::Message& update,
                          TimePoint now) {
  const SessionId id{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation};
  const std::string remote_tag = d.remote_tag;
  if (!has_sdp(update)) {
    // A target or session refresh without an offer (RFC 3311, RFC 4028 §10).
    if (s.session_interval != 0 && update.session_expires()) {
      std::string value = session_expires_header(s);
      value = value.substr(17, value.size() - 19);  // drop "Session-Expires: " and CRLF
      respond_in_txn(server, update, 200, now, {}, "Session-Expires", value);
      if (s.state == SessionState::Confirmed) start_session_timer(s, now);
      return;
    }
    respond_in_txn(server, update, 200, now);
    return;
  }
  // RFC 3311 §5.2.
  if (refuse_offer_while_open(s, d, server, update, now)) return;
  read_peer_preconditions(s, update.body());
  if (s.preconditions && s.qos.remote.strength == sdp::Strength::Failure) {
    respond_in_txn(server, update, 200, now, s.local_sdp);
    d.oa = completed(offer_received(SdpCarrier::Update), SdpCarrier::UpdateResponse);
    if (!s.final_sent) reject(id, 580, now, "Warning: 399 imsflow \"preconditions failed\"");
    return;
  }
  auto a = answer_for(id, update.body());
  Session* again = find(id);
  if (!again) return;
  Dialog* dd = dialog_for(*again, remote_tag);
  if (!dd) return;
  if (!a || a->empty()) {
    respond_in_txn(server, update, 488, now);
    return;
  }
  const std::string answer = std::move(*a);
  again->local_sdp = answer;
  dd->oa = completed(offer_received(SdpCarrier::Update), SdpCarrier::UpdateResponse);
  if (auto c = update.contacts().first()) dd->remote_target = std::string(c->uri.raw);  // RFC 3311: a target refresh
  respond_in_txn(server, update, 200, now, answer, "Contact", contact_value());
  SessionEvent e;
  e.kind = SessionEventKind::Updated;
  e.session = id;
  e.at = now;
  e.status = 200;
  e.remote_tag = remote_tag;
  e.body = answer;
  emit(e);
  if (Session* s3 = find(id)) check_preconditions(*s3, now);
}

void UserAgent::on_reinvite(Session& s, Dialog& d, txn::TransactionId server, const sip::Message& invite,
                            TimePoint now) {
  // RFC 3261 §14.2: a re-INVITE while an offer is open is refused like an
  // UPDATE (491 for ours, 500 for theirs); otherwise it is answered, and its
  // 2xx is retransmitted until the ACK like the first one.
  if (has_sdp(invite) && refuse_offer_while_open(s, d, server, invite, now)) return;
  if (s.update_pending || s.state != SessionState::Confirmed || s.role != SessionRole::Uas ||
      d.oa.phase == OfferAnswerPhase::LocalOffer || d.oa.phase == OfferAnswerPhase::RemoteOffer) {
    respond_in_txn(server, invite, s.update_pending ? 491 : 500, now, {}, "Retry-After", "1");
    return;
  }
  const SessionId id{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation};
  const std::string remote_tag = d.remote_tag;
  std::string answer;
  OfferAnswer next;
  if (has_sdp(invite)) {
    read_peer_preconditions(s, invite.body());
    auto a = answer_for(id, invite.body());
    if (!find(id)) return;
    if (!a || a->empty()) {
      respond_in_txn(server, invite, 488, now);
      return;
    }
    answer = std::move(*a);
    next = completed(offer_received(SdpCarrier::Invite), SdpCarrier::Final2xx);
  } else {
    answer = s.local_sdp;  // an offerless re-INVITE: our current SDP is the offer, the ACK answers
    next = answer.empty() ? d.oa : offer(SdpCarrier::Final2xx);
  }
  Session& ss = *find(id);
  Dialog* dd = dialog_for(ss, remote_tag);
  if (!dd) return;
  dd->oa = next;
  if (auto c = invite.contacts().first()) dd->remote_target = std::string(c->uri.raw);
  ss.local_sdp = answer;
  auto b = txn::build_response(invite, 200, current_remote_, {});
  b.add(sip::HeaderId::Contact, contact_value());
  if (ss.session_interval != 0) {
    std::string value = session_expires_header(ss);
    b.add(sip::HeaderId::SessionExpires, value.substr(17, value.size() - 19));
  }
  if (!answer.empty()) {
    b.set_body("application/sdp", answer);
  } else {
    b.add(sip::HeaderId::ContentLength, "0");
  }
  ss.final_2xx = b.serialize();
  ss.invite_txn = server;
  layer_.send_response(server, 200, ss.final_2xx, now);
  ss.state = SessionState::Answered;
  ss.reinvite = true;
  ss.interval_2xx = config_.timers.t1;
  arm(ss, k2xxRetransmit, now + config_.timers.t1);
  arm(ss, k2xxGiveUp, now + config_.timers.timeout_64t1());
  disarm(ss, kSessionTimer);
}

std::string UserAgent::session_expires_header(const Session& s) const {
  // The refresher is named from the dialog's UAC/UAS roles, not ours.
  const bool uac_refreshes = (s.role == SessionRole::Uac) == s.we_refresh;
  return "Session-Expires: " + std::to_string(s.session_interval) + (uac_refreshes ? ";refresher=uac" : ";refresher=uas") +
         "\r\n";
}

void UserAgent::start_session_timer(Session& s, TimePoint now) {
  const auto interval = std::chrono::seconds(s.session_interval);
  if (s.we_refresh) {
    arm(s, kSessionTimer, now + interval / 2);
  } else {
    // RFC 4028 §10: BYE at the interval minus the lesser of 32 s and a third.
    arm(s, kSessionTimer, now + interval - std::min<Duration>(std::chrono::seconds(32), interval / 3));
  }
}

void UserAgent::on_cancel(txn::TransactionId invite_server, const sip::Message&, TimePoint now) {
  const TxnOwner* owner = owners_.find(invite_server);
  if (!owner) return;
  Session* s = find(owner->session);
  if (!s || s->final_sent) return;
  s->final_sent = true;
  layer_.send_response(s->invite_txn, 487, build_response(*s, 487, {}, false, {}), now);
  fail(*s, 487, "cancelled by the caller", now);
}

void UserAgent::on_timeout(txn::TransactionId txn, txn::TimeoutTimer timer, TimePoint now) {
  const TxnOwner* found = owners_.find(txn);
  if (!found) return;
  const TxnOwner owner = *found;
  Session* s = find(owner.session);
  if (!s) return;
  switch (owner.purpose) {
    case TxnPurpose::Invite:
      if (timer == txn::TimeoutTimer::C) {
        s->cancel_wanted = true;
        if (!s->cancel_sent) send_cancel(*s, now);
        return;
      }
      if (timer == txn::TimeoutTimer::CancelUnanswered) {
        fail(*s, 408, "no final response: Timer C fired and the CANCEL got no 487", now);
        return;
      }
      if (s->role == SessionRole::Uac && (s->state == SessionState::Calling || s->state == SessionState::Early)) {
        fail(*s, 408,
             s->provisional_seen ? "no final response before the INVITE transaction timed out"
                                 : "no useful progress after INVITE: nothing answered before Timer B",
             now);
      }
      return;
    case TxnPurpose::Bye:
      if (s->role == SessionRole::Uac && s->confirmed != SIZE_MAX &&
          owner.remote_tag != s->dialogs[s->confirmed].remote_tag)
        return;
      if (s->failure_reported) {
        release(*s);
      } else {
        end(*s, "BYE not answered (Timer F)", now);
      }
      return;
    case TxnPurpose::Update:
      // RFC 3261 §12.2.1.2 / RFC 4028 §10: a timed-out in-dialog request ends the dialog.
      if (Dialog* d = dialog_for(*s, owner.remote_tag); d && d->oa.phase == OfferAnswerPhase::LocalOffer &&
                                                        d->oa.offer_in == SdpCarrier::Update)
        d->oa = d->oa_before_update;
      s->update_pending = false;
      s->update_retry = false;
      if (s->state == SessionState::Confirmed) {
        if (Dialog* d = current_dialog(*s)) {
          s->state = SessionState::Terminating;
          send_bye(*s, *d, now, "Reason: SIP;cause=408;text=\"UPDATE timed out\"");
        }
      }
      return;
    default:
      return;
  }
}

void UserAgent::on_stray_response(const sip::Message& response, const sip::Endpoint& remote, TimePoint) {
  // RFC 6026 §8.1: dropped; only noted.
  drop("response " + std::to_string(response.status_code()) + " matches no transaction (from " + remote.to_string() + ")");
}

void UserAgent::on_dropped(std::string_view reason, const sip::Endpoint& remote, TimePoint) {
  drop(std::string(reason) + " (from " + remote.to_string() + ")");
}

void UserAgent::on_terminated(txn::TransactionId id, TimePoint) {
  const TxnOwner* found = owners_.find(id);
  if (!found) return;
  const TxnOwner owner = *found;
  owners_.erase(id);
  if (owner.purpose == TxnPurpose::LingeringPrack) {
    lingering_.erase(owner.remote_tag);  // the INVITE server transaction is over
    return;
  }
  // RFC 3261 §13.2.2.4: early dialogs that got no 2xx end with the INVITE
  // transaction (64·T1 after the first 2xx).
  Session* s = find(owner.session);
  if (!s || owner.purpose != TxnPurpose::Invite || s->role != SessionRole::Uac || s->confirmed == SIZE_MAX) return;
  const std::string kept = s->dialogs[s->confirmed].remote_tag;
  std::erase_if(s->dialogs, [](const Dialog& d) { return !d.answered; });
  for (std::size_t i = 0; i < s->dialogs.size(); ++i)
    if (s->dialogs[i].remote_tag == kept) s->confirmed = i;
}

// --- transport errors ----------------------------------------------------------------------

void UserAgent::transport_failed(const txn::Transmit& what, std::string_view why, TimePoint now) {
  // A transaction's message: the layer ends it and on_transport_error()
  // fails the session.
  const std::uint64_t before = layer_.stats().transport_errors;
  layer_.transport_failed(what, why, now);
  if (layer_.stats().transport_errors == before) {
    // Sent by this core outside a transaction (the ACK for a 2xx, a 2xx or
    // reliable 18x resent after its transaction): traced by Call-ID and our
    // tag, From for our requests, To for our responses.
    const auto mode = sip::is_reliable(what.destination.transport) ? sip::ParseMode::Stream : sip::ParseMode::Datagram;
    if (sip::parse(what.bytes, scratch_, mode)) {
      const sip::NameAddr* ours = scratch_.is_request() ? scratch_.from() : scratch_.to();
      if (ours && ours->tag()) {
        if (Session* s = find_by_dialog(scratch_.call_id(), *ours->tag())) transport_failure(*s, why, now);
      }
    }
  }
  prune_timers();
}

void UserAgent::on_transport_error(txn::TransactionId txn, std::string_view why, TimePoint now) {
  const TxnOwner* found = owners_.find(txn);
  if (!found) return;
  const TxnOwner owner = *found;
  Session* s = find(owner.session);
  if (!s) return;
  // The BYE of a fork we did not keep: the call goes on.
  if (owner.purpose == TxnPurpose::Bye && s->role == SessionRole::Uac && s->confirmed != SIZE_MAX &&
      owner.remote_tag != s->dialogs[s->confirmed].remote_tag)
    return;
  // A response of the INVITE server transaction itself: that transaction
  // ends now, with nothing more to send on it.
  if (s->role == SessionRole::Uas && owner.purpose == TxnPurpose::Invite && txn == s->invite_txn) s->final_sent = true;
  transport_failure(*s, why, now);
}

void UserAgent::transport_failure(Session& s, std::string_view why, TimePoint now) {
  // RFC 3261 §8.1.3.1: as a 503 from the next hop. There is no one to tell
  // (no BYE or CANCEL would get through), so the session just ends.
  std::string cause = "transport error: " + std::string(why);
  if (s.role == SessionRole::Uas && !s.final_sent && layer_.state(s.invite_txn)) {
    // The INVITE still needs its final response, or its transaction would
    // wait for ever; it goes the way the peer's requests came.
    s.final_sent = true;
    layer_.send_response(s.invite_txn, 500,
                         build_response(s, 500, {}, false, "Reason: SIP;cause=503;text=\"transport error\"\r\n"), now);
  }
  if (s.state == SessionState::Confirmed || s.state == SessionState::Terminating) {
    if (s.failure_reported) {
      release(s);
    } else {
      end(s, std::move(cause), now);
    }
    return;
  }
  fail(s, 503, std::move(cause), now);
}

}  // namespace imsflow::dialog

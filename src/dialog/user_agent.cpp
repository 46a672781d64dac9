// The user agent core: sessions table, timers, message building, and the
// transaction layer's callbacks that are not specific to one side.
#include "dialog/user_agent.hpp"

#include "dialog/session_state.hpp"

namespace imsflow::dialog {

using namespace internal;

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
    append_hex(out, splitmix64(rng_));
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
  c.append(config_.contact_params);
  return c;
}

txn::TransactionId UserAgent::send_standalone(txn::OutgoingRequest request, TimePoint now) {
  const txn::TransactionId id = layer_.send_request(std::move(request), now);
  if (id) owners_.set(id, TxnOwner{SessionId{}, TxnPurpose::Standalone, {}});
  return id;
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
  ++dropped_count_;
  if (dropped_.size() >= 1000) dropped_.erase(dropped_.begin(), dropped_.begin() + 500);
  dropped_.push_back(std::move(reason));
}

txn::TransactionStats UserAgent::transaction_stats() const {
  txn::TransactionStats stats = layer_.stats();
  stats.retransmissions_sent += sent_again_.total();
  stats.response_retransmissions_received += received_again_.total();
  stats.sent_again.merge(sent_again_);
  stats.received_again.merge(received_again_);
  return stats;
}

UserAgent::Dialog* UserAgent::kept_dialog(Session& s) {
  if (s.role == SessionRole::Uac) return s.confirmed == SIZE_MAX ? nullptr : &s.dialogs[s.confirmed];
  return s.dialogs.empty() ? nullptr : &s.dialogs.front();
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

void UserAgent::fail(Session& s, int status, std::string cause, TimePoint now, std::uint32_t retry_after_s) {
  const SessionId id{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation};
  SessionEvent e = session_event(SessionEventKind::Failed, id, now);
  e.status = status;
  e.cause = std::move(cause);
  e.retry_after_s = retry_after_s;
  release(s);
  emit(std::move(e));
}

void UserAgent::end(Session& s, std::string cause, TimePoint now) {
  const SessionId id{static_cast<std::uint32_t>(&s - sessions_.data()), s.generation};
  SessionEvent e = session_event(SessionEventKind::Ended, id, now);
  e.cause = std::move(cause);
  release(s);
  emit(std::move(e));
}

// --- timers ------------------------------------------------------------------------

void UserAgent::arm(Session& s, Slot slot, TimePoint now, Duration delay) {
  s.deadline[slot] = now + delay;
  timers_.push(now, delay, static_cast<std::uint32_t>(&s - sessions_.data()), s.generation, slot);
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
      sent_again_.add_response(s->unacked->status, sip::Method::Invite);
      layer_.send_stateless({s->local, s->response_to, s->unacked->bytes});
      s->rel_interval *= 2;  // RFC 3262 §3: doubling, with no T2 cap (PRACK retransmits by itself)
      arm(*s, kRel1xxRetransmit, now, s->rel_interval);
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
      sent_again_.add_response(200, sip::Method::Invite);
      layer_.send_stateless({s->local, s->response_to, s->final_2xx});
      s->interval_2xx = std::min(s->interval_2xx * 2, timers.t2);
      arm(*s, k2xxRetransmit, now, s->interval_2xx);
      return;
    case k2xxGiveUp: {
      // RFC 3261 §13.3.1.4: no ACK within 64·T1, the dialog is ended with BYE.
      Dialog* kept = kept_dialog(*s);
      if (s->state != SessionState::Answered || !kept) return;
      disarm(*s, k2xxRetransmit);
      send_bye(*s, *kept, now, "Reason: SIP;cause=408;text=\"no ACK for 2xx\"");
      s->state = SessionState::Terminating;
      s->failure_reported = true;
      SessionEvent e = session_event(SessionEventKind::Failed, id, now);
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
          arm(*s, kSessionTimer, now, std::chrono::seconds(1));
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
  if (owner.purpose == TxnPurpose::Standalone) {
    const std::string why = std::string("Timer ") + txn::timer_letter(timer) + ": no final response";
    return observer_.on_standalone_failure(txn, why, now);
  }
  Session* s = find(owner.session);
  if (!s) return;
  switch (owner.purpose) {
    case TxnPurpose::Invite:
      if (timer == txn::TimeoutTimer::C) {
        s->cancel_wanted = true;
        s->timer_c_fired = true;
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
  if (owner.purpose == TxnPurpose::Standalone) return observer_.on_standalone_failure(txn, why, now);
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

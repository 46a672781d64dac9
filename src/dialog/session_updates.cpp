// Offers after the first: UPDATE (RFC 3311) with glare, preconditions
// (RFC 3312), re-INVITE, and session timers (RFC 4028).
#include "dialog/session_state.hpp"

namespace imsflow::dialog {

using namespace internal;

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
  SessionEvent e = session_event(SessionEventKind::PreconditionsMet, id, now);
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
  SessionEvent e = session_event(SessionEventKind::Updated, id, now);
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
  // The caller answers a re-INVITE (a refresh, hold, codec change) on the
  // dialog it kept; a fork it released has no session to change.
  if (s.update_pending || s.state != SessionState::Confirmed || kept_dialog(s) != &d ||
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
  // The 2xx is retransmitted by this core (RFC 3261 §13.3.1.4) to where the
  // re-INVITE's responses go, from where it arrived.
  ss.response_to = layer_.response_destination(server).value_or(current_remote_);
  ss.local = layer_.local_endpoint(server).value_or(ss.local);
  if (ss.role == SessionRole::Uas) ss.invite_txn = server;
  layer_.send_response(server, 200, ss.final_2xx, now);
  ss.state = SessionState::Answered;
  ss.reinvite = true;
  ss.interval_2xx = config_.timers.t1;
  arm(ss, k2xxRetransmit, now, config_.timers.t1);
  arm(ss, k2xxGiveUp, now, config_.timers.timeout_64t1());
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
    arm(s, kSessionTimer, now, interval / 2);
  } else {
    // RFC 4028 §10: BYE at the interval minus the lesser of 32 s and a third.
    arm(s, kSessionTimer, now, interval - std::min<Duration>(std::chrono::seconds(32), interval / 3));
  }
}


}  // namespace imsflow::dialog

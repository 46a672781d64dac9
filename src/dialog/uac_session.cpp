// The calling side of INVITE sessions: INVITE, one early dialog per To-tag,
// PRACK per reliable provisional (RFC 3262), ACK for every 2xx, CANCEL, BYE.
#include "dialog/session_state.hpp"
#include "sip/status.hpp"

namespace imsflow::dialog {

using namespace internal;

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
  if (s.preconditions && config_.local_qos_ready_after) arm(s, kQosReady, now, *config_.local_qos_ready_after);
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
  if (owner.purpose == TxnPurpose::Standalone) return observer_.on_standalone_response(client, r, now);
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
        SessionEvent e = session_event(SessionEventKind::PrackDone, owner.session, now);
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
        arm(*s, kUpdateRetry, now, std::chrono::milliseconds(10 * units));
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
      SessionEvent e = session_event(SessionEventKind::Updated, owner.session, now);
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
      if (d->rseq_seen && rseq <= d->last_rseq) {  // a retransmission: already PRACKed
        received_again_.add_response(status, sip::Method::Invite);
        return;
      }
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
      SessionEvent e = session_event(SessionEventKind::Progress, id, now);
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
      SessionEvent e = session_event(SessionEventKind::Progress, id, now);
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
      received_again_.add_response(status, sip::Method::Invite);
      if (!d->ack.empty()) {
        sent_again_.add_request(sip::Method::Ack);
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
    SessionEvent e = session_event(SessionEventKind::Answered, id, now);
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
      SessionEvent f = session_event(SessionEventKind::Failed, id, now);
      f.status = 488;
      f.remote_tag = std::string(tag);
      f.cause = "offer in the 2xx with no answer to give: ACKed and released with BYE";
      emit(std::move(f));
      return;
    }
    if (again->session_interval != 0) start_session_timer(*again, now);
    SessionEvent c = session_event(SessionEventKind::Confirmed, id, now);
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
    if (s.timer_c_fired) {
      cause = s.times.first_18x ? "no final response before Timer C: CANCELled, 487"
                                : "no useful progress after INVITE: nothing beyond 100 Trying before Timer C; "
                                  "CANCELled, 487";
    } else {
      cause = "cancelled by the caller";
    }
  } else {
    cause = "rejected with " + std::to_string(status);
    if (!r.reason_phrase().empty()) cause += " " + std::string(r.reason_phrase());
    if (const std::string_view likely = sip::likely_cause(status); !likely.empty()) cause += ": " + std::string(likely);
  }
  // RFC 3261 §20.33: how long the caller should leave the callee alone.
  std::uint32_t retry_after = 0;
  if (const sip::ParamValue* ra = r.retry_after())
    retry_after = static_cast<std::uint32_t>(ascii::parse_uint(ra->value, 86400).value_or(0));
  fail(s, status, std::move(cause), now, retry_after);
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
  arm(s, kCancelGiveUp, now, config_.timers.timeout_64t1());
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
    // Our 2xx to the peer's re-INVITE awaits its ACK: the BYE waits for it.
    if (s->state == SessionState::Answered && s->reinvite) s->bye_wanted = true;
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


}  // namespace imsflow::dialog

// The answering side of INVITE sessions: reliable provisionals with RSeq
// (RFC 3262), 2xx until ACK, PRACK matching, and in-dialog requests.
#include "dialog/session_state.hpp"

#include <utility>

namespace imsflow::dialog {

using namespace internal;

// --- UAS --------------------------------------------------------------------------------------

void UserAgent::on_request(txn::TransactionId server, const sip::Message& request, const sip::Endpoint& remote,
                           const sip::Endpoint& local, TimePoint now) {
  current_remote_ = remote;
  const sip::NameAddr* to = request.to();
  const bool in_dialog = to && to->tag();
  if (request.method() == sip::Method::Ack) {
    if (!in_dialog) return;
    Session* s = find_by_dialog(request.call_id(), *to->tag());
    if (!s || (s->role != SessionRole::Uas && !s->reinvite)) {
      drop("ACK for an unknown dialog, discarded");
      return;
    }
    if (s->state != SessionState::Answered) return;  // a retransmitted ACK
    disarm(*s, k2xxRetransmit);
    disarm(*s, k2xxGiveUp);
    s->state = SessionState::Confirmed;
    if (Dialog* kept = kept_dialog(*s)) {
      Dialog& d = *kept;
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
    const bool reinvite = std::exchange(s->reinvite, false);
    if (!reinvite) s->times.ack = now;
    if (s->bye_wanted) {
      if (Dialog* kept = kept_dialog(*s)) {
        s->state = SessionState::Terminating;
        send_bye(*s, *kept, now);
      }
    }
    if (reinvite) return;  // the ACK of a re-INVITE: the session was already up
    SessionEvent e = session_event(SessionEventKind::Confirmed, SessionId{static_cast<std::uint32_t>(s - sessions_.data()), s->generation}, now);
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
  if (s.preconditions && config_.local_qos_ready_after) arm(s, kQosReady, now, *config_.local_qos_ready_after);
  SessionEvent e = session_event(SessionEventKind::Incoming, id, now);
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
  SessionEvent e = session_event(SessionEventKind::Progress, id, now);
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
  arm(s, kRel1xxRetransmit, now, config_.timers.t1);
  arm(s, kRel1xxGiveUp, now, config_.timers.timeout_64t1());
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
  arm(*s, k2xxRetransmit, now, config_.timers.t1);
  arm(*s, k2xxGiveUp, now, config_.timers.timeout_64t1());
  SessionEvent e = session_event(SessionEventKind::Answered, id, now);
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
  SessionEvent e = session_event(SessionEventKind::PrackDone, id, now);
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


}  // namespace imsflow::dialog

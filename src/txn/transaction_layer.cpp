#include "txn/transaction_layer.hpp"

#include <algorithm>

#include "sip/builder.hpp"
#include "sip/parser.hpp"
#include "util/ascii.hpp"
#include "util/hex.hpp"
#include "util/splitmix.hpp"

namespace imsflow::txn {

namespace {

constexpr std::size_t kUdpSizeLimit = 1300;  // RFC 3261 §18.1.1 (path MTU 1500 minus headroom)


void append_lower(std::string& out, std::string_view s) {
  for (char c : s) out.push_back(ascii::to_lower(c));
}

void append_method(std::string& out, sip::Method m, std::string_view text) {
  if (m == sip::Method::Unknown) {
    out.append(text);
  } else {
    out.append(sip::method_name(m));
  }
}

// Rewrites the transport of the top Via in `bytes` ("SIP/2.0/UDP" → TCP).
bool switch_top_via_to_tcp(std::string& bytes, sip::Message& scratch) {
  if (!sip::parse(bytes, scratch, sip::ParseMode::Datagram)) return false;
  const sip::Via* via = scratch.top_via();
  if (!via || !ascii::iequals(via->transport, "UDP")) return false;
  const std::size_t at = static_cast<std::size_t>(via->transport.data() - bytes.data());
  bytes.replace(at, 3, "TCP");
  return true;
}

}  // namespace

std::string_view to_string(TransactionState s) {
  switch (s) {
    case TransactionState::Calling: return "Calling";
    case TransactionState::Trying: return "Trying";
    case TransactionState::Proceeding: return "Proceeding";
    case TransactionState::Completed: return "Completed";
    case TransactionState::Confirmed: return "Confirmed";
    case TransactionState::Accepted: return "Accepted";
    case TransactionState::Terminated: return "Terminated";
  }
  return "?";
}

char timer_letter(TimeoutTimer t) {
  switch (t) {
    case TimeoutTimer::B: return 'B';
    case TimeoutTimer::C: return 'C';
    case TimeoutTimer::F: return 'F';
    case TimeoutTimer::H: return 'H';
    case TimeoutTimer::CancelUnanswered: return 'X';
  }
  return '?';
}

// --- keys (RFC 3261 §17.1.3, §17.2.3) ---------------------------------------

std::string server_transaction_key(const sip::Message& request, sip::Method as_method) {
  std::string key;
  server_transaction_key(request, as_method, key);
  return key;
}

void server_transaction_key(const sip::Message& request, sip::Method as_method, std::string& key) {
  key.clear();
  const sip::Via* via = request.top_via();
  if (!via || !request.cseq()) return;
  const sip::Method method = as_method;
  if (via->has_magic_cookie()) {
    // The branch is compared case-sensitively, sent-by case-insensitively.
    key.reserve(via->branch.size() + via->host.size() + 16);
    key.append(via->branch).push_back('|');
    append_lower(key, via->host);
    key.push_back(':');
    key.append(std::to_string(via->has_port ? via->port : 0)).push_back('|');
    append_method(key, method, request.cseq()->method_text);
    return;
  }
  // RFC 2543 peers: Request-URI, tags, Call-ID, CSeq number and top Via. The
  // To-tag is left out for INVITE/ACK, since the ACK carries the tag of the
  // response while the INVITE had none.
  key.append("2543|");
  if (method != sip::Method::Ack && method != sip::Method::Invite) {
    if (const sip::NameAddr* to = request.to()) key.append(to->tag().value_or("")).push_back('|');
  }
  key.append(request.request_uri().raw).push_back('|');
  if (const sip::NameAddr* from = request.from()) key.append(from->tag().value_or(""));
  key.push_back('|');
  key.append(request.call_id()).push_back('|');
  key.append(std::to_string(request.cseq()->number)).push_back('|');
  key.append(via->raw).push_back('|');
  append_method(key, method, request.cseq()->method_text);
}

std::string server_transaction_key(const sip::Message& request) {
  const sip::Method m = request.method() == sip::Method::Ack ? sip::Method::Invite : request.method();
  return server_transaction_key(request, m);
}

std::string client_transaction_key(const sip::Message& response) {
  std::string key;
  client_transaction_key(response, key);
  return key;
}

void client_transaction_key(const sip::Message& response, std::string& key) {
  key.clear();
  const sip::Via* via = response.top_via();
  if (!via || !response.cseq() || via->branch.empty()) return;
  key.append(via->branch).push_back('|');
  append_method(key, response.cseq()->method, response.cseq()->method_text);
}

sip::Endpoint response_destination(const sip::Message& request, const sip::Endpoint& remote) {
  if (sip::is_reliable(remote.transport)) return remote;  // back on the connection it came on
  // RFC 3261 §18.2.1/§18.2.2: the address is the packet's source (what
  // "received" records); a received or rport value that came on the wire
  // was written by the sender and is not trusted. RFC 3581: with rport, the
  // source port too; without, the sent-by port.
  sip::Endpoint to = remote;
  const sip::Via* via = request.top_via();
  if (via && !via->rport()) to.port = via->has_port ? via->port : 5060;
  return to;
}

std::string response_top_via(const sip::Via& via, const sip::Endpoint& remote) {
  // RFC 3261 §18.2.1: received when sent-by is not the source address;
  // RFC 3581 §4: received and rport=<source port> when rport was asked for.
  std::string out(via.raw);
  const auto rport = via.rport();
  const auto sent_by = sip::IpAddress::parse(via.host);
  const bool add_received = rport || !sent_by || !(*sent_by == remote.address);
  if (add_received && !via.received()) out += ";received=" + remote.address.to_string();
  if (rport && rport->empty()) {
    // Fill the empty "rport" in place, keeping the parameter order.
    for (std::size_t at = out.find(';'); at != std::string::npos; at = out.find(';', at + 1)) {
      std::size_t name = at + 1;
      while (name < out.size() && ascii::is_lws(out[name])) ++name;
      std::size_t end = name;
      while (end < out.size() && ascii::is_token(out[end])) ++end;
      if (ascii::iequals(std::string_view(out).substr(name, end - name), "rport")) {
        out.insert(end, "=" + std::to_string(remote.port));
        break;
      }
    }
  }
  return out;
}

sip::MessageBuilder build_response(const sip::Message& request, int status, const sip::Endpoint& remote,
                                   std::string_view to_tag) {
  auto b = sip::MessageBuilder::response_to(request, status, to_tag);
  if (request.top_via() && !sip::is_reliable(remote.transport)) {
    // One via-parm per Via line, the top one with received/rport filled in.
    b.remove(sip::HeaderId::Via);
    const auto vias = request.vias();
    for (std::size_t i = vias.size(); i-- > 0;) {
      b.add_first(sip::HeaderId::Via, i == 0 ? response_top_via(vias[0], remote) : std::string(vias[i].raw));
    }
  }
  return b;
}

// --- retransmission counts -----------------------------------------------------

void MessageTypeCounts::add(std::string_view type, std::uint64_t n) {
  for (auto& [name, count] : items_) {
    if (name == type) {
      count += n;
      return;
    }
  }
  items_.emplace_back(std::string(type), n);
}

void MessageTypeCounts::add_response(int status, sip::Method method) {
  std::string type = std::to_string(status);
  type.append(" (").append(sip::method_name(method)).append(")");
  add(type);
}

void MessageTypeCounts::merge(const MessageTypeCounts& other) {
  for (const auto& [name, count] : other.items_) add(name, count);
}

std::uint64_t MessageTypeCounts::total() const {
  std::uint64_t n = 0;
  for (const auto& item : items_) n += item.second;
  return n;
}

std::string MessageTypeCounts::describe() const {
  if (items_.empty()) return "none";
  std::string out;
  for (const auto& [name, count] : items_) {
    if (!out.empty()) out.append(", ");
    out.append(name).append(" ").append(std::to_string(count));
  }
  return out;
}

// --- the layer ----------------------------------------------------------------

// Each retransmission is counted in the totals and by message type at once,
// so the two cannot disagree.
void TransactionLayer::request_sent_again(sip::Method method) {
  ++stats_.retransmissions_sent;
  stats_.sent_again.add_request(method);
}
void TransactionLayer::response_sent_again(int status, sip::Method method) {
  ++stats_.retransmissions_sent;
  stats_.sent_again.add_response(status, method);
}
void TransactionLayer::request_received_again(sip::Method method) {
  ++stats_.request_retransmissions_received;
  stats_.received_again.add_request(method);
}
void TransactionLayer::response_received_again(int status, sip::Method method) {
  ++stats_.response_retransmissions_received;
  stats_.received_again.add_response(status, method);
}

TransactionLayer::TransactionLayer(TransactionUser& user, TimerConfig config, std::uint64_t branch_seed)
    : user_(user), config_(config), branch_state_(branch_seed) {
  slots_.emplace_back();  // slot 0 is never used, so an index of 0 with generation 0 means "none"
}

std::string TransactionLayer::new_branch() {
  // Reproducible from the seed, and unique per call.
  std::string branch = "z9hG4bK";
  append_hex(branch, splitmix64(branch_state_));
  return branch;
}

TransactionId TransactionLayer::create(TransactionKind kind, sip::Method method, std::string_view key) {
  std::uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Transaction& t = slots_[index];
  const std::uint32_t generation = t.generation + 1 == 0 ? 1 : t.generation + 1;
  // Field by field rather than `t = Transaction{}`: clear() keeps each
  // string's buffer, so a reused slot allocates nothing for its messages.
  t.generation = generation;
  t.kind = kind;
  t.state = TransactionState::Terminated;
  t.method = method;
  t.reliable = false;
  t.timer_c_fired = false;
  t.last_status = 0;
  t.request.clear();
  t.last_response.clear();
  t.ack.clear();
  t.local_tag.clear();
  t.cancel_key.clear();
  t.cancellable = false;
  t.local = {};
  t.remote = {};
  t.interval = {};
  std::fill(std::begin(t.deadline), std::end(t.deadline), TimePoint::max());
  index_.insert(hash_key(key), index);
  t.key.assign(key);
  ++live_;
  return TransactionId{index, generation};
}

TransactionLayer::Transaction* TransactionLayer::find(TransactionId id) {
  if (!id || id.index >= slots_.size()) return nullptr;
  Transaction& t = slots_[id.index];
  return (t.generation == id.generation && t.state != TransactionState::Terminated) ? &t : nullptr;
}

const TransactionLayer::Transaction* TransactionLayer::find(TransactionId id) const {
  return const_cast<TransactionLayer*>(this)->find(id);
}

TransactionId TransactionLayer::lookup(std::string_view key) const {
  if (key.empty()) return {};
  auto slot = index_.find(hash_key(key), [&](std::uint32_t i) {
    return slots_[i].state != TransactionState::Terminated && slots_[i].key == key;
  });
  if (!slot) return {};
  return TransactionId{*slot, slots_[*slot].generation};
}

std::optional<TransactionState> TransactionLayer::state(TransactionId id) const {
  if (const Transaction* t = find(id)) return t->state;
  return std::nullopt;
}

std::optional<TransactionKind> TransactionLayer::kind(TransactionId id) const {
  if (const Transaction* t = find(id)) return t->kind;
  return std::nullopt;
}

std::optional<sip::Endpoint> TransactionLayer::response_destination(TransactionId server) const {
  if (const Transaction* t = find(server); t && (t->kind == TransactionKind::ServerInvite ||
                                               t->kind == TransactionKind::ServerNonInvite))
    return t->remote;
  return std::nullopt;
}

std::optional<sip::Endpoint> TransactionLayer::local_endpoint(TransactionId server) const {
  if (const Transaction* t = find(server)) return t->local;
  return std::nullopt;
}

void TransactionLayer::arm(TransactionId id, Slot slot, TimePoint now, Duration delay) {
  Transaction& t = slots_[id.index];
  t.deadline[slot] = now + delay;
  timers_.push(now, delay, id.index, id.generation, slot);
}

void TransactionLayer::terminate(TransactionId id, TimePoint now) {
  Transaction* t = find(id);
  if (!t) return;
  t->state = TransactionState::Terminated;
  index_.erase(hash_key(t->key), id.index);
  if (t->cancellable) cancel_index_.erase(hash_key(cancel_match_key(*t)), id.index);
  t->cancellable = false;
  // Give the memory back: a million ended transactions must not keep their text.
  std::string().swap(t->key);
  std::string().swap(t->request);
  std::string().swap(t->last_response);
  std::string().swap(t->ack);
  std::string().swap(t->local_tag);
  std::string().swap(t->cancel_key);
  free_.push_back(id.index);
  --live_;
  user_.on_terminated(id, now);
}

void TransactionLayer::emit(const Transaction& t, const std::string& bytes) {
  out_.push_back(Transmit{t.local, t.remote, bytes});
}

void TransactionLayer::emit(const sip::Endpoint& from, const sip::Endpoint& to, std::string bytes) {
  out_.push_back(Transmit{from, to, std::move(bytes)});
}

void TransactionLayer::take_transmits(std::vector<Transmit>& out) {
  if (out.empty()) {
    out.swap(out_);
  } else {
    for (Transmit& t : out_) out.push_back(std::move(t));
  }
  out_.clear();
}

void TransactionLayer::send_stateless(Transmit message) { out_.push_back(std::move(message)); }

// --- client side ------------------------------------------------------------------

TransactionId TransactionLayer::send_request(OutgoingRequest request, TimePoint now) {
  if (request.method == sip::Method::Ack || request.branch.empty()) return {};
  if (request.destination.transport == sip::Transport::Udp && request.bytes.size() > kUdpSizeLimit &&
      switch_top_via_to_tcp(request.bytes, scratch_message_)) {
    request.destination.transport = sip::Transport::Tcp;
    request.source.transport = sip::Transport::Tcp;
    ++stats_.switched_to_tcp;
  }
  // Its own scratch: send_request runs inside user callbacks of receive(),
  // which may still hold key_scratch_.
  std::string& key = request_key_scratch_;
  key.assign(request.branch);
  key.push_back('|');
  key.append(sip::method_name(request.method));
  if (lookup(key)) return {};  // the same branch twice is a user error
  const bool invite = request.method == sip::Method::Invite;
  const TransactionId id = create(invite ? TransactionKind::ClientInvite : TransactionKind::ClientNonInvite,
                                  request.method, key);
  Transaction& t = slots_[id.index];
  t.state = invite ? TransactionState::Calling : TransactionState::Trying;
  t.reliable = sip::is_reliable(request.destination.transport);
  t.local = request.source;
  t.remote = request.destination;
  t.request = std::move(request.bytes);
  emit(t, t.request);
  if (!t.reliable) {
    t.interval = config_.t1;
    arm(id, kRetransmit, now, config_.t1);  // Timer A or E
  }
  arm(id, kTimeout, now, config_.timeout_64t1());  // Timer B or F
  return id;
}

std::string TransactionLayer::build_non_2xx_ack(const Transaction& t, const sip::Message& response) const {
  // RFC 3261 §17.1.1.3: Request-URI, Call-ID, From, top Via and Route of the
  // INVITE; To of the response; CSeq number of the INVITE with method ACK.
  sip::Message& invite = const_cast<sip::Message&>(scratch_message_);
  if (!sip::parse(t.request, invite, sip::ParseMode::Datagram)) return {};
  auto ack = sip::MessageBuilder::request("ACK", invite.request_uri().raw);
  if (const sip::HeaderField* via = invite.find(sip::HeaderId::Via)) {
    // Only the top via-parm, even when the INVITE's first Via line held several.
    ack.add(sip::HeaderId::Via, invite.top_via()->raw.empty() ? via->value : invite.top_via()->raw);
  }
  ack.add(sip::HeaderId::MaxForwards, "70");
  for (const sip::HeaderField& f : invite.headers()) {
    if (f.id == sip::HeaderId::Route) ack.add(sip::HeaderId::Route, f.value);
  }
  if (const sip::HeaderField* from = invite.find(sip::HeaderId::From)) ack.add(sip::HeaderId::From, from->value);
  if (const sip::HeaderField* to = response.find(sip::HeaderId::To)) ack.add(sip::HeaderId::To, to->value);
  ack.add(sip::HeaderId::CallId, invite.call_id());
  ack.add(sip::HeaderId::CSeq, std::to_string(invite.cseq()->number) + " ACK");
  ack.add(sip::HeaderId::ContentLength, "0");
  return ack.serialize();
}

void TransactionLayer::on_response(const sip::Message& msg, const sip::Endpoint& remote, TimePoint now) {
  ++stats_.responses_received;
  client_transaction_key(msg, key_scratch_);
  const TransactionId id = lookup(key_scratch_);
  Transaction* t = find(id);
  if (!t || (t->kind != TransactionKind::ClientInvite && t->kind != TransactionKind::ClientNonInvite)) {
    ++stats_.stray_responses;
    user_.on_stray_response(msg, remote, now);
    return;
  }
  const int status = msg.status_code();
  const bool provisional = status < 200;
  if (t->kind == TransactionKind::ClientInvite) {
    switch (t->state) {
      case TransactionState::Calling:
      case TransactionState::Proceeding:
        disarm(*t, kRetransmit);
        if (provisional) {
          if (t->state == TransactionState::Calling) {
            t->state = TransactionState::Proceeding;
            disarm(*t, kTimeout);  // Timer B covers only Calling
            if (config_.timer_c.count() > 0) arm(id, kTimeout, now, config_.timer_c);
          } else if (status > 100 && !t->timer_c_fired && config_.timer_c.count() > 0 &&
                     now + config_.timer_c >= t->deadline[kTimeout] + std::chrono::seconds(1)) {
            // RFC 3261 §16.7: reset by each 101-199. At most once a second, so a
            // flood of provisionals cannot grow the timer heap without bound.
            arm(id, kTimeout, now, config_.timer_c);
          }
        } else if (status < 300) {
          // RFC 6026 §7.2: Accepted, so 2xx retransmissions and forks reach the user.
          t->state = TransactionState::Accepted;
          disarm(*t, kTimeout);
          arm(id, kCleanup, now, config_.timeout_64t1());  // Timer M
        } else {
          t->state = TransactionState::Completed;
          disarm(*t, kTimeout);
          t->ack = build_non_2xx_ack(*t, msg);
          if (!t->ack.empty()) emit(*t, t->ack);
          arm(id, kCleanup, now, (t->reliable ? Duration::zero() : config_.timer_d));  // Timer D
        }
        user_.on_response(id, msg, now);
        return;
      case TransactionState::Accepted:
        if (status >= 200 && status < 300) {
          user_.on_response(id, msg, now);  // a 2xx retransmission or another fork's 2xx
        } else {
          response_received_again(status, t->method);
        }
        return;
      case TransactionState::Completed:
        if (status >= 300) {
          response_received_again(status, t->method);
          if (!t->ack.empty()) {  // the final was retransmitted: our ACK was lost
            request_sent_again(sip::Method::Ack);
            emit(*t, t->ack);
          }
        }
        return;
      default:
        return;
    }
  }
  // non-INVITE client (§17.1.2.2)
  switch (t->state) {
    case TransactionState::Trying:
    case TransactionState::Proceeding:
      if (provisional) {
        t->state = TransactionState::Proceeding;
      } else {
        t->state = TransactionState::Completed;
        disarm(*t, kRetransmit);
        disarm(*t, kTimeout);
        arm(id, kCleanup, now, (t->reliable ? Duration::zero() : config_.t4));  // Timer K
      }
      user_.on_response(id, msg, now);
      return;
    default:
      response_received_again(msg.status_code(), t->method);
      return;
  }
}

TransactionId TransactionLayer::send_cancel(TransactionId invite, TimePoint now) {
  // RFC 3261 §9.1: from the INVITE as it went out (after any switch to
  // TCP): Request-URI, Call-ID, To, From, CSeq number and the top Via, Route
  // too; sent where the INVITE went.
  const Transaction* t = find(invite);
  if (!t || t->kind != TransactionKind::ClientInvite || t->state != TransactionState::Proceeding) return {};
  if (!sip::parse(t->request, scratch_message_, sip::ParseMode::Datagram)) return {};
  const sip::Message& m = scratch_message_;
  auto b = sip::MessageBuilder::request("CANCEL", m.request_uri().raw);
  b.add(sip::HeaderId::Via, m.top_via()->raw);
  b.add(sip::HeaderId::MaxForwards, "70");
  for (const sip::HeaderField& f : m.headers()) {
    if (f.id == sip::HeaderId::Route) b.add(sip::HeaderId::Route, f.value);
  }
  if (const sip::HeaderField* f = m.find(sip::HeaderId::From)) b.add(sip::HeaderId::From, f->value);
  if (const sip::HeaderField* f = m.find(sip::HeaderId::To)) b.add(sip::HeaderId::To, f->value);
  b.add(sip::HeaderId::CallId, m.call_id());
  b.add(sip::HeaderId::CSeq, std::to_string(m.cseq()->number) + " CANCEL");
  b.add(sip::HeaderId::ContentLength, "0");
  OutgoingRequest out{sip::Method::Cancel, std::string(m.top_via()->branch), b.serialize(), t->local, t->remote};
  return send_request(std::move(out), now);
}

void TransactionLayer::abandon(TransactionId id, TimePoint now) { terminate(id, now); }

// --- server side ------------------------------------------------------------------

void TransactionLayer::on_request(const sip::Message& msg, const sip::Endpoint& remote, const sip::Endpoint& local,
                                  TimePoint now) {
  ++stats_.requests_received;
  const sip::Method method = msg.method();
  if (method == sip::Method::Cancel) return on_cancel(msg, remote, local, now);

  server_transaction_key(msg, msg.method() == sip::Method::Ack ? sip::Method::Invite : msg.method(), key_scratch_);
  const TransactionId id = lookup(key_scratch_);
  if (Transaction* t = find(id)) {
    if (method == sip::Method::Ack) {
      if (t->kind != TransactionKind::ServerInvite) return;
      if (t->state == TransactionState::Completed) {
        // §17.2.1: the ACK for our non-2xx; absorb it and linger for Timer I.
        t->state = TransactionState::Confirmed;
        disarm(*t, kRetransmit);
        disarm(*t, kTimeout);
        arm(id, kCleanup, now, (t->reliable ? Duration::zero() : config_.t4));
      } else if (t->state == TransactionState::Accepted) {
        user_.on_request({}, msg, remote, local, now);  // RFC 6026: the ACK for a 2xx is the user's
      }
      return;
    }
    // A retransmitted request: answer with the last response, if any.
    request_received_again(method);
    if (!t->last_response.empty() && t->state != TransactionState::Accepted &&
        t->state != TransactionState::Confirmed) {
      response_sent_again(t->last_status, t->method);
      emit(*t, t->last_response);
    }
    return;
  }
  if (method == sip::Method::Ack) {
    user_.on_request({}, msg, remote, local, now);  // ACK for a 2xx, past any transaction
    return;
  }
  const bool invite = method == sip::Method::Invite;
  const TransactionId nid =
      create(invite ? TransactionKind::ServerInvite : TransactionKind::ServerNonInvite, method, key_scratch_);
  Transaction& t = slots_[nid.index];
  t.state = invite ? TransactionState::Proceeding : TransactionState::Trying;
  t.reliable = sip::is_reliable(remote.transport);
  t.local = local;
  t.remote = txn::response_destination(msg, remote);
  // Indexed for CANCEL (§9.2). With the magic cookie the match key is the
  // key without its method; an RFC 2543 key of an INVITE leaves out the
  // To-tag, which a CANCEL's own key has, so that one is kept apart.
  if (const sip::Via* via = msg.top_via(); via && !via->has_magic_cookie()) {
    std::string as_cancel = server_transaction_key(msg, sip::Method::Cancel);
    as_cancel.resize(as_cancel.rfind('|') + 1);
    t.cancel_key = std::move(as_cancel);
  }
  t.cancellable = true;
  cancel_index_.insert(hash_key(cancel_match_key(t)), nid.index);
  if (invite && config_.send_100_trying) {
    auto trying = build_response(msg, 100, remote, {});
    trying.add(sip::HeaderId::ContentLength, "0");
    t.last_response = trying.serialize();
    t.last_status = 100;
    emit(t, t.last_response);
  }
  user_.on_request(nid, msg, remote, local, now);
}

std::string_view TransactionLayer::cancel_match_key(const Transaction& t) {
  if (!t.cancel_key.empty()) return t.cancel_key;
  const std::string_view key = t.key;
  return key.substr(0, key.rfind('|') + 1);
}

TransactionId TransactionLayer::lookup_cancelled(std::string_view match_key) const {
  if (match_key.empty()) return {};
  auto slot = cancel_index_.find(hash_key(match_key), [&](std::uint32_t i) {
    const Transaction& t = slots_[i];
    return t.cancellable && t.state != TransactionState::Terminated && cancel_match_key(t) == match_key;
  });
  if (!slot) return {};
  return TransactionId{*slot, slots_[*slot].generation};
}

void TransactionLayer::on_cancel(const sip::Message& cancel, const sip::Endpoint& remote, const sip::Endpoint& local,
                                 TimePoint now) {
  server_transaction_key(cancel, sip::Method::Cancel, key_scratch_);
  if (Transaction* t = find(lookup(key_scratch_))) {
    // A retransmitted CANCEL.
    request_received_again(sip::Method::Cancel);
    if (!t->last_response.empty()) {
      response_sent_again(t->last_status, sip::Method::Cancel);
      emit(*t, t->last_response);
    }
    return;
  }
  // §9.2: the CANCEL matches the server transaction whose §17.2.3 key is its
  // own but for the method, whatever that method is (the ACK and CANCEL
  // never are: neither is indexed).
  const std::string_view own = key_scratch_;
  const TransactionId target_id = lookup_cancelled(own.substr(0, own.rfind('|') + 1));
  const TransactionId cancel_id = create(TransactionKind::ServerNonInvite, sip::Method::Cancel, key_scratch_);
  {
    Transaction& t = slots_[cancel_id.index];
    t.state = TransactionState::Trying;
    t.reliable = sip::is_reliable(remote.transport);
    t.local = local;
    t.remote = txn::response_destination(cancel, remote);
  }
  const Transaction* target = find(target_id);
  const bool pending = target && target->kind == TransactionKind::ServerInvite &&
                       target->state == TransactionState::Proceeding;
  // §9.2: the 200 carries the To-tag of the cancelled request's responses.
  const int status = target ? 200 : 481;
  auto response = build_response(cancel, status, remote, target ? std::string_view(target->local_tag) : std::string_view());
  response.add(sip::HeaderId::ContentLength, "0");
  send_response(cancel_id, status, response.serialize(), now);
  if (pending) user_.on_cancel(target_id, cancel, now);
}

bool TransactionLayer::set_local_tag(TransactionId server, std::string_view tag) {
  Transaction* t = find(server);
  if (!t || (t->kind != TransactionKind::ServerInvite && t->kind != TransactionKind::ServerNonInvite)) return false;
  t->local_tag = std::string(tag);
  return true;
}

void TransactionLayer::transport_failed(const Transmit& what, std::string_view why, TimePoint now) {
  // Parsed into scratch_message_, which the user may reuse through
  // send_cancel(): the key is taken before any callback.
  const auto mode = sip::is_reliable(what.destination.transport) ? sip::ParseMode::Stream : sip::ParseMode::Datagram;
  if (!sip::parse(what.bytes, scratch_message_, mode)) return;
  const sip::Message& m = scratch_message_;
  if (!m.cseq() || !m.top_via()) return;
  TransactionId id;
  if (m.is_request()) {
    if (m.method() == sip::Method::Ack) return;  // no transaction waits on an ACK
    client_transaction_key(m, key_scratch_);
    id = lookup(key_scratch_);
    const Transaction* t = find(id);
    // §17.1.4: only a request still waiting for its final response.
    if (!t || (t->kind != TransactionKind::ClientInvite && t->kind != TransactionKind::ClientNonInvite) ||
        (t->state != TransactionState::Calling && t->state != TransactionState::Trying &&
         t->state != TransactionState::Proceeding))
      return;
  } else {
    server_transaction_key(m, m.cseq()->method, key_scratch_);
    id = lookup(key_scratch_);
    const Transaction* t = find(id);
    if (!t || (t->kind != TransactionKind::ServerInvite && t->kind != TransactionKind::ServerNonInvite)) return;
  }
  ++stats_.transport_errors;
  user_.on_transport_error(id, why, now);  // while the handle is live, as for a timeout
  terminate(id, now);
  prune_timers();
}

bool TransactionLayer::send_response(TransactionId server, int status, std::string bytes, TimePoint now) {
  Transaction* t = find(server);
  if (!t || (t->kind != TransactionKind::ServerInvite && t->kind != TransactionKind::ServerNonInvite)) return false;
  if (t->state != TransactionState::Proceeding && t->state != TransactionState::Trying) return false;
  t->last_status = status;
  t->last_response = std::move(bytes);
  emit(*t, t->last_response);
  if (status < 200) {
    if (t->kind == TransactionKind::ServerNonInvite) t->state = TransactionState::Proceeding;
    return true;
  }
  if (t->kind == TransactionKind::ServerInvite) {
    if (status < 300) {
      // RFC 6026 §7.1: Accepted absorbs INVITE retransmissions for Timer L
      // while the user retransmits the 2xx.
      t->state = TransactionState::Accepted;
      arm(server, kCleanup, now, config_.timeout_64t1());  // Timer L
    } else {
      t->state = TransactionState::Completed;
      if (!t->reliable) {
        t->interval = config_.t1;
        arm(server, kRetransmit, now, config_.t1);  // Timer G
      }
      arm(server, kTimeout, now, config_.timeout_64t1());  // Timer H
    }
    return true;
  }
  t->state = TransactionState::Completed;
  arm(server, kCleanup, now, (t->reliable ? Duration::zero() : config_.timeout_64t1()));  // Timer J
  return true;
}

// --- timers -------------------------------------------------------------------------

void TransactionLayer::fire(TransactionId id, Slot slot, TimePoint now) {
  Transaction* t = find(id);
  if (!t) return;
  t->deadline[slot] = TimePoint::max();
  switch (slot) {
    case kRetransmit: {
      const bool server = t->kind == TransactionKind::ServerInvite;
      if (server)
        response_sent_again(t->last_status, t->method);
      else
        request_sent_again(t->method);
      emit(*t, server ? t->last_response : t->request);
      // Timer A doubles without bound; E doubles up to T2 (and stays at T2
      // once a provisional came); G doubles up to T2.
      if (t->kind == TransactionKind::ClientNonInvite && t->state == TransactionState::Proceeding) {
        t->interval = config_.t2;
      } else if (t->kind == TransactionKind::ClientInvite) {
        t->interval *= 2;
      } else {
        t->interval = std::min(t->interval * 2, config_.t2);
      }
      arm(id, kRetransmit, now, t->interval);
      return;
    }
    case kTimeout: {
      TimeoutTimer which = TimeoutTimer::F;
      if (t->kind == TransactionKind::ClientInvite) {
        which = t->state == TransactionState::Calling ? TimeoutTimer::B : TimeoutTimer::C;
      } else if (t->kind == TransactionKind::ServerInvite) {
        which = TimeoutTimer::H;
      }
      ++stats_.timeouts;
      if (which == TimeoutTimer::C && t->timer_c_fired) which = TimeoutTimer::CancelUnanswered;
      if (which == TimeoutTimer::C) {
        // Timer C does not end the transaction at once: the user sends
        // CANCEL, and the 487 ends it. Without one in another 64·T1, it ends.
        t->timer_c_fired = true;
        arm(id, kTimeout, now, config_.timeout_64t1());
        user_.on_timeout(id, which, now);
        return;
      }
      // The user hears of the timeout first, while the handle is still live.
      user_.on_timeout(id, which, now);
      terminate(id, now);
      return;
    }
    case kCleanup:
      terminate(id, now);  // Timer D, I, J, K, L, M
      return;
    default:
      return;
  }
}

bool TransactionLayer::timer_live(const TimerEntry& e) const {
  const Transaction* t = find(TransactionId{e.index, e.generation});
  return t && t->deadline[e.slot] == e.when;  // else cancelled or re-armed
}

void TransactionLayer::prune_timers() {
  while (const TimerEntry* top = timers_.top()) {
    if (timer_live(*top)) return;
    timers_.pop();
  }
}

void TransactionLayer::advance(TimePoint now) {
  while (auto e = timers_.pop_due(now)) {
    if (!timer_live(*e)) continue;
    fire(TransactionId{e->index, e->generation}, static_cast<Slot>(e->slot), now);
  }
  prune_timers();
}

// --- input --------------------------------------------------------------------------

void TransactionLayer::receive(std::string_view bytes, const sip::Endpoint& remote, const sip::Endpoint& local,
                               TimePoint now) {
  const auto mode = sip::is_reliable(remote.transport) ? sip::ParseMode::Stream : sip::ParseMode::Datagram;
  auto parsed = sip::parse(bytes, inbound_, mode);
  if (!parsed) {
    ++stats_.dropped;
    user_.on_dropped(parsed.error().describe(), remote, now);
    return;
  }
  receive_message(inbound_, remote, local, now);
}

void TransactionLayer::receive_message(const sip::Message& msg, const sip::Endpoint& remote,
                                       const sip::Endpoint& local, TimePoint now) {
  if (msg.is_request()) {
    on_request(msg, remote, local, now);
  } else {
    on_response(msg, remote, now);
  }
  prune_timers();
}

}  // namespace imsflow::txn

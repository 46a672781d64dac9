#include "analyze/analyzer.hpp"

#include <algorithm>
#include <utility>

#include "analyze/open_call.hpp"
#include "sip/header_id.hpp"
#include "util/ascii.hpp"
#include "util/splitmix.hpp"

namespace imsflow::analyze {

namespace {

constexpr std::int64_t kSweepEveryNs = 1'000'000'000;
/// Calls with more sightings than this index them by message key; smaller
/// ones find the previous sighting of a message by a scan.
constexpr std::size_t kScanSightings = 48;
/// Sightings kept of a Call-ID that has no INVITE (yet).
constexpr std::size_t kNonInviteKept = 16;

// The identity of a message is hashed, not stored: each part is hashed on
// its own (strings with their length, so ("ab","c") and ("a","bc") differ)
// and folded in with a multiply-rotate step.
class KeyHash {
 public:
  void add(std::string_view s) { add(internal::hash_text(s) ^ s.size()); }
  void add(std::uint64_t v) {
    h_ = (h_ ^ v) * 0x9E3779B97F4A7C15ULL;
    h_ ^= h_ >> 29;
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 0x243F6A8885A308D3ULL;
};

// A FlatIndex probes with the low bits: mix the key first.
std::uint64_t index_hash(std::uint64_t key) {
  std::uint64_t k = key;
  return splitmix64(k);
}

bool is_sdp(const sip::Message& m) {
  if (m.body().empty()) return false;
  const sip::ParamValue* ct = m.content_type();
  if (ct == nullptr) return m.body().substr(0, 2) == "v=";
  std::string_view v = ct->value;
  return v.size() >= 15 && ascii::iequals(v.substr(0, 15), "application/sdp");
}

// The facts every sighting has, interned into the call's pool, and the
// message's identity. Bodies and rarer headers are keep_details' part.
void fill_sighting(internal::OpenCall& c, internal::Sighting& s, const trace::SipPacket& p, const sip::Message& m,
                   std::uint64_t call_id_hash) {
  s.time_ns = p.timestamp_ns;
  s.frame = p.frame;
  s.request = m.is_request();
  s.transport = static_cast<std::uint8_t>(p.transport);
  std::string_view method_text;
  if (m.cseq()) {
    s.cseq = m.cseq()->number;
    s.method = m.cseq()->method;
    method_text = m.cseq()->method_text;
  }
  if (m.is_request()) {
    s.method = m.method();
    method_text = m.method_text();
  } else {
    s.status = static_cast<std::int16_t>(m.status_code());
    s.reason_phrase = c.strings.intern(m.reason_phrase());
  }
  s.method_text = c.strings.intern(method_text);
  std::string_view to_tag;
  if (const sip::NameAddr* to = m.to()) {
    if (auto tag = to->tag()) {
      to_tag = *tag;
      s.flags |= internal::kHasToTag;
    }
  }
  s.to_tag = c.strings.intern(to_tag);
  const auto vias = m.vias();
  s.via_count = static_cast<std::uint8_t>(std::min<std::size_t>(vias.size(), 255));
  std::string_view branch;
  if (!vias.empty()) branch = vias.back().branch.empty() ? vias.back().raw : vias.back().branch;
  s.branch = c.strings.intern(branch);
  if (auto rseq = m.rseq()) {
    s.rseq = *rseq;
    s.flags |= internal::kHasRSeq;
  }
  if (m.rack()) {
    s.rack_rseq = m.rack()->rseq;
    s.rack_cseq = m.rack()->cseq;
    s.flags |= internal::kHasRAck;
  }
  if (m.lists(sip::HeaderId::Supported, "100rel")) s.flags |= internal::kSupports100rel;
  if (m.lists(sip::HeaderId::Require, "100rel")) s.flags |= internal::kRequires100rel;
  if (m.lists(sip::HeaderId::Supported, "precondition")) s.flags |= internal::kSupportsPrecondition;
  if (m.lists(sip::HeaderId::Require, "precondition")) s.flags |= internal::kRequiresPrecondition;
  if (is_sdp(m)) {
    s.flags |= internal::kHasSdp;
    const std::string_view body = m.body();
    if (body.find("a=curr:") != std::string_view::npos || body.find("a=des:") != std::string_view::npos)
      s.flags |= internal::kSdpHasPreconditions;
  }
  KeyHash h;
  h.add(call_id_hash);
  h.add(s.request ? 1u : 2u);
  if (s.request) h.add(method_text);
  else h.add(static_cast<std::uint64_t>(s.status));
  h.add(method_text);
  h.add(static_cast<std::uint64_t>(s.cseq));
  h.add(branch);
  h.add(to_tag);
  h.add(static_cast<std::uint64_t>(s.rseq));
  // 100 Trying is hop-by-hop (each proxy sends its own): told apart by the top Via.
  if (s.status == 100 && !vias.empty()) h.add(vias.front().branch);
  s.key = h.value();
}

// An offer or an answer can only be in these (RFC 3261 §13.2.1, RFC 3262
// §5, RFC 3311 §5): the INVITE, PRACK, ACK and UPDATE requests, and the
// 1xx/2xx to INVITE and UPDATE. Bodies of other messages are not kept.
bool may_carry_offer_or_answer(const internal::Sighting& s) {
  using sip::Method;
  if (s.request)
    return s.method == Method::Invite || s.method == Method::Prack || s.method == Method::Ack ||
           s.method == Method::Update;
  return (s.method == Method::Invite || s.method == Method::Update) && s.status > 100 && s.status < 300;
}

// What only some sightings keep: the SDP (first sighting of an offer or
// answer, one copy per distinct body), the route sets the route check reads,
// Reason / Warning / Retry-After / Unsupported, and the first INVITE's
// From, To and Request-URI (on the call).
void keep_details(internal::OpenCall& c, internal::Sighting& s, const sip::Message& m) {
  if (s.has(internal::kHasSdp) && s.kind == CopyKind::Original && may_carry_offer_or_answer(s)) {
    const std::string_view body = m.body();
    for (std::size_t i = c.sdps.size(); i-- > 0;) {
      if (c.sdps[i] == body) {
        s.sdp = static_cast<std::uint32_t>(i);
        break;
      }
    }
    if (s.sdp == internal::kNone) {
      s.sdp = static_cast<std::uint32_t>(c.sdps.size());
      c.sdps.emplace_back(body);
    }
  }
  internal::SightingExtras x;
  bool any = false;
  // Record-Route of the INVITE and its responses (the dialog's route set,
  // RFC 3261 §12.1); Route of in-dialog requests as their UA sent them.
  if (s.method == sip::Method::Invite) {
    for (const sip::NameAddr& r : m.record_routes()) x.record_routes.push_back(c.strings.intern(r.uri.raw));
  }
  if (s.request && s.has(internal::kHasToTag) && s.via_count == 1 && s.kind == CopyKind::Original) {
    for (const sip::NameAddr& r : m.routes()) x.routes.push_back(c.strings.intern(r.uri.raw));
  }
  any = !x.record_routes.empty() || !x.routes.empty();
  if (!m.reasons().empty()) {
    std::string joined;
    for (const sip::ParamValue& r : m.reasons()) {
      if (!joined.empty()) joined += ", ";
      joined += r.raw;
    }
    x.reason_header = c.strings.intern(joined);
    any = true;
  }
  if (const sip::Warning* w = m.warnings().first()) {
    const std::string text =
        std::to_string(w->code) + " " + std::string(w->agent) + " \"" + std::string(w->text) + "\"";
    x.warning = c.strings.intern(text);
    any = true;
  }
  if (const sip::ParamValue* ra = m.retry_after()) {
    x.retry_after = c.strings.intern(ra->value);
    any = any || x.retry_after != 0;
  }
  for (const sip::Token& t : m.unsupported()) {
    x.unsupported = c.strings.intern(t.text);
    any = any || x.unsupported != 0;
    break;
  }
  if (any) {
    s.extras = static_cast<std::uint32_t>(c.extras.size());
    c.extras.push_back(std::move(x));
  }
  if (s.request && s.method == sip::Method::Invite && !s.has(internal::kHasToTag) && c.invite_sequence == 0) {
    c.invite_sequence = s.sequence;
    if (const sip::NameAddr* f = m.from()) c.from_uri = c.strings.intern(f->uri.raw);
    if (const sip::NameAddr* t = m.to()) c.to_uri = c.strings.intern(t->uri.raw);
    c.request_uri = c.strings.intern(m.request_uri().raw);
  }
}

// The latest sighting of message `key` in the call, or kNone.
std::uint32_t latest_of(const internal::OpenCall& c, std::uint64_t key) {
  if (c.latest_by_key) {
    return c.latest_by_key->find(index_hash(key), [&](std::uint32_t i) { return c.sightings[i].key == key; })
        .value_or(internal::kNone);
  }
  for (std::size_t i = c.sightings.size(); i-- > 0;)
    if (c.sightings[i].key == key) return static_cast<std::uint32_t>(i);
  return internal::kNone;
}

// Records sighting `i` as the latest of its message.
void note_latest(internal::OpenCall& c, std::uint32_t i) {
  if (!c.latest_by_key) return;
  const internal::Sighting& s = c.sightings[i];
  const std::uint64_t h = index_hash(s.key);
  if (s.previous != internal::kNone) c.latest_by_key->erase(h, s.previous);
  c.latest_by_key->insert(h, i);
}

// Links every sighting to the previous one of its message, and indexes a
// large call (after a merge reordered the sightings, or when it grows past
// the scan limit).
void relink(internal::OpenCall& c) {
  FlatIndex latest;
  for (std::uint32_t i = 0; i < c.sightings.size(); ++i) {
    internal::Sighting& s = c.sightings[i];
    const std::uint64_t h = index_hash(s.key);
    s.previous = latest.find(h, [&](std::uint32_t j) { return c.sightings[j].key == s.key; }).value_or(internal::kNone);
    if (s.previous != internal::kNone) latest.erase(h, s.previous);
    latest.insert(h, i);
  }
  if (c.sightings.size() > kScanSightings) c.latest_by_key = std::make_unique<FlatIndex>(std::move(latest));
  else c.latest_by_key.reset();
}

// Original, retransmission, copy or duplicate: against the earlier
// sightings of the same message, newest first.
void classify(const internal::OpenCall& c, internal::Sighting& s) {
  s.previous = latest_of(c, s.key);
  if (s.previous == internal::kNone) {
    s.kind = CopyKind::Original;
    return;
  }
  std::uint32_t on_hop = internal::kNone;
  for (std::uint32_t i = s.previous; i != internal::kNone && on_hop == internal::kNone; i = c.sightings[i].previous) {
    const internal::Sighting& o = c.sightings[i];
    if (o.src == s.src && o.dst == s.dst) on_hop = i;
  }
  if (on_hop != internal::kNone) {
    s.kind = s.time_ns - c.sightings[on_hop].time_ns < kDuplicateWindowNs ? CopyKind::Duplicate
                                                                            : CopyKind::Retransmission;
  } else {
    s.kind = CopyKind::Copy;
  }
}

}  // namespace

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::Established: return "established";
    case Outcome::Failed: return "failed";
    case Outcome::Cancelled: return "cancelled";
    case Outcome::Incomplete: return "incomplete";
    case Outcome::kCount: break;
  }
  return "?";
}

std::string_view diagnosis_name(DiagnosisCode c) {
  switch (c) {
    case DiagnosisCode::NoProgress: return "no_progress";
    case DiagnosisCode::PrackMissing: return "prack_missing";
    case DiagnosisCode::PrackLate: return "prack_late";
    case DiagnosisCode::AckMissing: return "ack_missing";
    case DiagnosisCode::Rejected: return "rejected";
    case DiagnosisCode::OfferAnswerMismatch: return "offer_answer_mismatch";
    case DiagnosisCode::RouteMismatch: return "route_mismatch";
    case DiagnosisCode::PreconditionNotMet: return "precondition_not_met";
    case DiagnosisCode::ReleasedAfterSetup: return "released_after_setup";
    case DiagnosisCode::kCount: break;
  }
  return "?";
}

std::string_view check_name(CheckId c) {
  switch (c) {
    case CheckId::OfferAnswer: return "offer_answer";
    case CheckId::SupportedRequire: return "supported_require";
    case CheckId::RSeqContinuity: return "rseq_continuity";
    case CheckId::ReliableProvisionalsPracked: return "reliable_provisionals_pracked";
    case CheckId::FinalBeforePrack: return "final_before_prack";
    case CheckId::AckAfter2xx: return "ack_after_2xx";
    case CheckId::RouteRecordRoute: return "route_record_route";
    case CheckId::Preconditions: return "preconditions";
    case CheckId::Retransmissions: return "retransmissions";
    case CheckId::ReasonWarning: return "reason_warning";
    case CheckId::kCount: break;
  }
  return "?";
}

std::string_view check_result_name(CheckResult r) {
  switch (r) {
    case CheckResult::Pass: return "pass";
    case CheckResult::Fail: return "fail";
    case CheckResult::Info: return "info";
  }
  return "?";
}

std::string_view copy_kind_name(CopyKind k) {
  switch (k) {
    case CopyKind::Original: return "original";
    case CopyKind::Retransmission: return "retransmission";
    case CopyKind::Copy: return "copy";
    case CopyKind::Duplicate: return "duplicate";
  }
  return "?";
}

Analyzer::Analyzer(CallSink sink, AnalyzerOptions options) : sink_(std::move(sink)), options_(options) {}
Analyzer::~Analyzer() = default;

std::uint32_t Analyzer::slot_for(std::string_view call_id, std::uint64_t id_hash, std::string_view icid) {
  std::uint32_t slot = by_call_id_
                           .find(id_hash,
                                 [&](std::uint32_t v) {
                                   if (!slots_[v]) return false;
                                   for (const std::string& id : slots_[v]->call_ids)
                                     if (id == call_id) return true;
                                   return false;
                                 })
                           .value_or(UINT32_MAX);
  if (!icid.empty()) {
    const auto joined =
        by_icid_.find(internal::hash_text(icid), [&](std::uint32_t v) { return slots_[v] && slots_[v]->icid == icid; });
    if (joined && slot != UINT32_MAX && *joined != slot) {
      // Two open calls turn out to be legs of one session.
      merge(*joined, slot);
      slot = *joined;
    } else if (joined && slot == UINT32_MAX) {
      slot = *joined;
      slots_[slot]->call_ids.emplace_back(call_id);
      by_call_id_.insert(id_hash, slot);
      ++totals_.joined_by_icid;
    }
  }
  if (slot == UINT32_MAX) {
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
      slots_[slot] = std::make_unique<internal::OpenCall>();
    } else {
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(std::make_unique<internal::OpenCall>());
    }
    slots_[slot]->live = true;
    slots_[slot]->call_ids.emplace_back(call_id);
    by_call_id_.insert(id_hash, slot);
    ++live_;
    totals_.peak_open_calls = std::max(totals_.peak_open_calls, live_);
  }
  internal::OpenCall& c = *slots_[slot];
  if (!icid.empty() && c.icid.empty()) {
    c.icid = std::string(icid);
    by_icid_.insert(internal::hash_text(icid), slot);
  }
  return slot;
}

void Analyzer::merge(std::uint32_t into, std::uint32_t from) {
  internal::OpenCall& a = *slots_[into];
  internal::OpenCall& b = *slots_[from];
  const auto leg_base = static_cast<std::uint32_t>(a.call_ids.size());
  const auto extras_base = static_cast<std::uint32_t>(a.extras.size());
  const auto sdp_base = static_cast<std::uint32_t>(a.sdps.size());
  for (const auto& alias : b.aliases)
    if (a.resolve(alias.first) == alias.first) a.aliases.push_back(alias);
  std::vector<std::uint32_t> node_map(b.nodes.size());
  for (std::size_t i = 0; i < b.nodes.size(); ++i) node_map[i] = a.node(b.nodes[i]);
  std::vector<internal::StrId> str_map(b.strings.size());
  for (internal::StrId i = 1; i < b.strings.size(); ++i) str_map[i] = a.strings.intern(b.strings.view(i));
  for (internal::SightingExtras& x : b.extras) {
    for (internal::StrId& r : x.routes) r = str_map[r];
    for (internal::StrId& r : x.record_routes) r = str_map[r];
    x.reason_header = str_map[x.reason_header];
    x.warning = str_map[x.warning];
    x.retry_after = str_map[x.retry_after];
    x.unsupported = str_map[x.unsupported];
    a.extras.push_back(std::move(x));
  }
  for (std::string& body : b.sdps) a.sdps.push_back(std::move(body));
  for (internal::Sighting& s : b.sightings) {
    s.src = node_map[s.src];
    s.dst = node_map[s.dst];
    s.leg += leg_base;
    s.method_text = str_map[s.method_text];
    s.reason_phrase = str_map[s.reason_phrase];
    s.to_tag = str_map[s.to_tag];
    s.branch = str_map[s.branch];
    if (s.extras != internal::kNone) s.extras += extras_base;
    if (s.sdp != internal::kNone) s.sdp += sdp_base;
    a.sightings.push_back(s);
  }
  std::sort(a.sightings.begin(), a.sightings.end(),
            [](const internal::Sighting& x, const internal::Sighting& y) { return x.sequence < y.sequence; });
  relink(a);
  for (std::string& id : b.call_ids) {
    const std::uint64_t h = internal::hash_text(id);
    by_call_id_.erase(h, from);
    by_call_id_.insert(h, into);
    a.call_ids.push_back(std::move(id));
  }
  if (!b.icid.empty()) by_icid_.erase(internal::hash_text(b.icid), from);
  if (b.first_ns < a.first_ns) a.first_method = str_map[b.first_method];
  if (b.invite_sequence != 0 && (a.invite_sequence == 0 || b.invite_sequence < a.invite_sequence)) {
    a.invite_sequence = b.invite_sequence;
    a.from_uri = str_map[b.from_uri];
    a.to_uri = str_map[b.to_uri];
    a.request_uri = str_map[b.request_uri];
  }
  a.first_ns = std::min(a.first_ns, b.first_ns);
  a.last_ns = std::max(a.last_ns, b.last_ns);
  a.has_invite = a.has_invite || b.has_invite;
  a.answered = a.answered || b.answered;
  a.ended = a.ended && b.ended;
  ++totals_.joined_by_icid;
  slots_[from].reset();
  free_slots_.push_back(from);
  --live_;
}

void Analyzer::add(const trace::SipPacket& p) {
  if (p.message == nullptr) return;
  const sip::Message& m = *p.message;
  ++totals_.messages;
  now_ns_ = std::max(now_ns_, p.timestamp_ns);
  if (next_sweep_ns_ == 0) next_sweep_ns_ = now_ns_ + kSweepEveryNs;
  if (now_ns_ >= next_sweep_ns_) {
    sweep(now_ns_, false);
    next_sweep_ns_ = now_ns_ + kSweepEveryNs;
  }

  const std::optional<std::string_view> icid = m.icid_value();
  const std::uint64_t call_id_hash = internal::hash_text(m.call_id());
  const std::uint32_t slot = slot_for(m.call_id(), call_id_hash, icid.value_or(std::string_view()));
  internal::OpenCall& c = *slots_[slot];

  // A Call-ID without an INVITE is only counted (by its first method), so
  // past its first few messages nothing more is kept of it: OPTIONS
  // keep-alives that reuse one Call-ID through a whole capture stay small.
  const sip::Method method = m.is_request() ? m.method() : m.cseq() ? m.cseq()->method : sip::Method::Unknown;
  if (!c.has_invite && method != sip::Method::Invite && c.sightings.size() >= kNonInviteKept) {
    c.last_ns = std::max(c.last_ns, p.timestamp_ns);
    if (!m.is_request() && m.status_code() >= 200) c.ended = true;
    return;
  }

  internal::Sighting s;
  fill_sighting(c, s, p, m, call_id_hash);
  s.sequence = ++sequence_;
  const internal::NodeKey from{p.source, p.source_port};
  if (p.transport != trace::Transport::Udp && m.is_request() && !m.vias().empty()) {
    // A request on a connection its sender opened: the connection's port is
    // ephemeral, the top Via names where the sender listens (RFC 3261 §18.1.1).
    const sip::Via& via = m.vias().front();
    const std::uint16_t port = via.has_port ? via.port : 5060;
    if (port != p.source_port && c.resolve(from) == from) {
      if (auto host = sip::IpAddress::parse(via.host); host && *host == p.source)
        c.aliases.emplace_back(from, internal::NodeKey{*host, port});
    }
  }
  s.src = c.node(c.resolve(from));
  s.dst = c.node(c.resolve({p.destination, p.destination_port}));
  for (std::uint32_t i = 0; i < c.call_ids.size(); ++i) {
    if (c.call_ids[i] == m.call_id()) {
      s.leg = i;
      break;
    }
  }
  classify(c, s);
  keep_details(c, s, m);

  if (c.sightings.empty()) {
    c.first_ns = s.time_ns;
    c.first_method = s.method_text;
  }
  c.last_ns = std::max(c.last_ns, s.time_ns);
  if (s.method == sip::Method::Invite) c.has_invite = true;
  if (s.request && s.method == sip::Method::Invite && !s.has(internal::kHasToTag)) c.ended = false;
  if (!s.request && s.status >= 200) {
    if (s.method == sip::Method::Bye) c.ended = c.ended_by_bye = true;
    if (s.method == sip::Method::Invite && s.status < 300) c.answered = true;
    // After a 401/407 the UA may take a while (a password) to send the
    // INVITE with credentials: the call stays open until the quiet timeout.
    if (s.method == sip::Method::Invite && s.status >= 300 && !c.answered && s.status != 401 && s.status != 407)
      c.ended = true;
    if (!c.has_invite) c.ended = true;
  }
  // Calls are small and many are open at once: grow by half, not double.
  if (c.sightings.size() == c.sightings.capacity()) c.sightings.reserve(c.sightings.size() * 3 / 2 + 4);
  c.sightings.push_back(s);
  const auto index = static_cast<std::uint32_t>(c.sightings.size() - 1);
  if (c.latest_by_key) note_latest(c, index);
  else if (c.sightings.size() > kScanSightings) relink(c);
}

void Analyzer::sweep(std::int64_t now_ns, bool all) {
  for (std::uint32_t slot = 0; slot < slots_.size(); ++slot) {
    const auto& c = slots_[slot];
    if (!c || !c->live) continue;
    const std::int64_t quiet = now_ns - c->last_ns;
    if (all) {
      finalize(slot, false);
    } else if (c->ended && quiet >= (c->ended_by_bye ? options_.ended_linger_ns : options_.failed_linger_ns)) {
      finalize(slot, false);
    } else if (quiet >= options_.quiet_timeout_ns) {
      finalize(slot, true);
    }
  }
}

void Analyzer::finalize(std::uint32_t slot, bool by_timeout) {
  std::unique_ptr<internal::OpenCall> c = std::move(slots_[slot]);
  for (const std::string& id : c->call_ids) by_call_id_.erase(internal::hash_text(id), slot);
  if (!c->icid.empty()) by_icid_.erase(internal::hash_text(c->icid), slot);
  free_slots_.push_back(slot);
  --live_;
  if (!c->has_invite) {
    ++totals_.non_invite[c->first_method == 0 ? std::string("?") : c->str(c->first_method)];
    return;
  }
  CallAnalysis a = internal::build_call(*c, now_ns_, options_.keep_messages);
  a.ended_by_timeout = by_timeout;
  if (by_timeout) ++totals_.finalized_by_timeout;
  ++totals_.calls;
  c.reset();
  if (sink_) sink_(a);
}

void Analyzer::finish() { sweep(now_ns_, true); }

const CallAnalysis* CaptureAnalysis::find(std::string_view call_id) const {
  for (const CallAnalysis& c : calls)
    for (const std::string& id : c.call_ids)
      if (id == call_id) return &c;
  return nullptr;
}

namespace {

template <class Read>
Result<CaptureAnalysis, trace::CaptureError> analyze_with(Read&& read, AnalyzerOptions options) {
  CaptureAnalysis out;
  Analyzer analyzer([&out](CallAnalysis& c) { out.calls.push_back(std::move(c)); }, options);
  trace::Decoder decoder([&analyzer](const trace::SipPacket& p) { analyzer.add(p); });
  auto r = read(decoder);
  if (!r) return Unexpected{r.error()};
  analyzer.finish();
  out.totals = analyzer.totals();
  out.skipped = decoder.skipped();
  out.read_error = r->read_error;
  return out;
}

}  // namespace

Result<CaptureAnalysis, trace::CaptureError> analyze_capture(const std::string& path, AnalyzerOptions options) {
  return analyze_with([&](trace::Decoder& d) { return trace::read_capture(path, d); }, options);
}

Result<CaptureAnalysis, trace::CaptureError> analyze_capture_bytes(std::string_view file, AnalyzerOptions options) {
  return analyze_with([&](trace::Decoder& d) { return trace::read_capture_bytes(file, d); }, options);
}

}  // namespace imsflow::analyze

#include "analyze/analyzer.hpp"

#include <algorithm>
#include <utility>

#include "analyze/open_call.hpp"
#include "sip/header_id.hpp"

namespace imsflow::analyze {

namespace {

constexpr std::int64_t kSweepEveryNs = 1'000'000'000;

// FNV-1a, 64 bits: the identity of a message is hashed, not stored.
class Fnv {
 public:
  void add(std::string_view s) {
    for (char c : s) byte(static_cast<unsigned char>(c));
    byte(0xFF);  // separator: ("ab","c") and ("a","bc") differ
  }
  void add(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<unsigned char>(v >> (i * 8)));
  }
  std::uint64_t value() const { return h_; }

 private:
  void byte(unsigned char b) {
    h_ ^= b;
    h_ *= 0x100000001b3ULL;
  }
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

std::string uri_text(const sip::Uri& u) { return std::string(u.raw); }

// Tolerance for a real-world defect: UEs write AMR parameters quoted
// (a=fmtp:100 mode-set="0,1,2"), which RFC 4867's grammar does not allow;
// the quotes are dropped so the offer/answer check judges the values.
void unquote_fmtp(std::string& sdp) {
  std::size_t pos = 0;
  while ((pos = sdp.find("a=fmtp:", pos)) != std::string::npos) {
    std::size_t end = sdp.find('\n', pos);
    if (end == std::string::npos) end = sdp.size();
    for (std::size_t i = pos; i < end;) {
      if (sdp[i] == '"') {
        sdp.erase(i, 1);
        --end;
      } else {
        ++i;
      }
    }
    pos = end;
  }
}

bool is_sdp(const sip::Message& m) {
  if (m.body().empty()) return false;
  const sip::ParamValue* ct = m.content_type();
  if (ct == nullptr) return m.body().substr(0, 2) == "v=";
  std::string_view v = ct->value;
  return v.size() >= 15 && (v.substr(0, 15) == "application/sdp" || v.substr(0, 15) == "Application/SDP" ||
                            v.substr(0, 15) == "application/SDP");
}

void fill_sighting(internal::Sighting& s, const trace::SipPacket& p, const sip::Message& m) {
  s.time_ns = p.timestamp_ns;
  s.frame = p.frame;
  s.request = m.is_request();
  s.transport = static_cast<std::uint8_t>(p.transport);
  if (m.cseq()) {
    s.cseq = m.cseq()->number;
    s.method = m.cseq()->method;
    s.method_text = std::string(m.cseq()->method_text);
  }
  if (m.is_request()) {
    s.method = m.method();
    s.method_text = std::string(m.method_text());
  } else {
    s.status = m.status_code();
    s.reason_phrase = std::string(m.reason_phrase());
  }
  if (const sip::NameAddr* to = m.to()) {
    if (auto tag = to->tag()) {
      s.to_tag = std::string(*tag);
      s.flags |= internal::kHasToTag;
    }
  }
  const auto vias = m.vias();
  s.via_count = static_cast<std::uint8_t>(std::min<std::size_t>(vias.size(), 255));
  if (!vias.empty()) s.branch = std::string(vias.back().branch.empty() ? vias.back().raw : vias.back().branch);
  s.rseq = m.rseq();
  if (m.rack()) {
    s.rack_rseq = m.rack()->rseq;
    s.rack_cseq = m.rack()->cseq;
  }
  if (m.lists(sip::HeaderId::Supported, "100rel")) s.flags |= internal::kSupports100rel;
  if (m.lists(sip::HeaderId::Require, "100rel")) s.flags |= internal::kRequires100rel;
  if (m.lists(sip::HeaderId::Supported, "precondition")) s.flags |= internal::kSupportsPrecondition;
  if (m.lists(sip::HeaderId::Require, "precondition")) s.flags |= internal::kRequiresPrecondition;
  if (is_sdp(m)) {
    s.flags |= internal::kHasSdp;
    s.sdp = std::string(m.body());
    unquote_fmtp(s.sdp);
  }
  for (const sip::NameAddr& r : m.routes()) s.routes.push_back(uri_text(r.uri));
  for (const sip::NameAddr& r : m.record_routes()) s.record_routes.push_back(uri_text(r.uri));
  for (const sip::ParamValue& r : m.reasons()) {
    if (!s.reason_header.empty()) s.reason_header += ", ";
    s.reason_header += std::string(r.raw);
  }
  if (const sip::Warning* w = m.warnings().first()) {
    s.warning = std::to_string(w->code) + " " + std::string(w->agent) + " \"" + std::string(w->text) + "\"";
  }
  if (const sip::ParamValue* ra = m.retry_after()) s.retry_after = std::string(ra->value);
  for (const sip::Token& t : m.unsupported()) s.unsupported.emplace_back(t.text);
  if (m.is_request() && m.method() == sip::Method::Invite && s.to_tag.empty()) {
    if (const sip::NameAddr* f = m.from()) s.from_uri = uri_text(f->uri);
    if (const sip::NameAddr* t = m.to()) s.to_uri = uri_text(t->uri);
    s.request_uri = uri_text(m.request_uri());
  }
  Fnv h;
  h.add(m.call_id());
  h.add(s.request ? 1u : 2u);
  h.add(s.request ? s.method_text : std::to_string(s.status));
  h.add(s.method_text);
  h.add(static_cast<std::uint64_t>(s.cseq));
  h.add(s.branch);
  h.add(s.to_tag);
  h.add(static_cast<std::uint64_t>(s.rseq.value_or(0)));
  // 100 Trying is hop-by-hop (each proxy sends its own): told apart by the top Via.
  if (s.status == 100 && !vias.empty()) h.add(vias.front().branch);
  s.key = h.value();
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

std::uint32_t Analyzer::slot_for(std::string_view call_id, std::string_view icid) {
  std::uint32_t slot = UINT32_MAX;
  if (auto it = by_call_id_.find(std::string(call_id)); it != by_call_id_.end()) slot = it->second;
  if (!icid.empty()) {
    auto it = by_icid_.find(std::string(icid));
    if (it != by_icid_.end() && slot != UINT32_MAX && it->second != slot) {
      // Two open calls turn out to be legs of one session.
      merge(it->second, slot);
      slot = it->second;
    } else if (it != by_icid_.end() && slot == UINT32_MAX) {
      slot = it->second;
      slots_[slot]->call_ids.emplace_back(call_id);
      by_call_id_.emplace(std::string(call_id), slot);
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
    by_call_id_.emplace(std::string(call_id), slot);
    ++live_;
    totals_.peak_open_calls = std::max(totals_.peak_open_calls, live_);
  }
  internal::OpenCall& c = *slots_[slot];
  if (!icid.empty() && c.icid.empty()) {
    c.icid = std::string(icid);
    by_icid_.emplace(c.icid, slot);
  }
  return slot;
}

void Analyzer::merge(std::uint32_t into, std::uint32_t from) {
  internal::OpenCall& a = *slots_[into];
  internal::OpenCall& b = *slots_[from];
  const std::uint32_t leg_base = static_cast<std::uint32_t>(a.call_ids.size());
  std::vector<std::uint32_t> node_map(b.nodes.size());
  for (std::size_t i = 0; i < b.nodes.size(); ++i) node_map[i] = a.node(b.nodes[i]);
  for (internal::Sighting& s : b.sightings) {
    s.src = node_map[s.src];
    s.dst = node_map[s.dst];
    s.leg += leg_base;
    a.sightings.push_back(std::move(s));
  }
  std::sort(a.sightings.begin(), a.sightings.end(),
            [](const internal::Sighting& x, const internal::Sighting& y) { return x.sequence < y.sequence; });
  for (auto& [key, seen] : b.seen) {
    for (internal::HopSeen& h : seen.hops) {
      h.src = node_map[h.src];
      h.dst = node_map[h.dst];
    }
    a.seen.emplace(key, std::move(seen));
  }
  for (std::string& id : b.call_ids) {
    by_call_id_[id] = into;
    a.call_ids.push_back(std::move(id));
  }
  if (!b.icid.empty() && b.icid != a.icid) by_icid_.erase(b.icid);
  a.first_ns = std::min(a.first_ns, b.first_ns);
  a.last_ns = std::max(a.last_ns, b.last_ns);
  a.has_invite = a.has_invite || b.has_invite;
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
  const std::uint32_t slot = slot_for(m.call_id(), icid.value_or(std::string_view()));
  internal::OpenCall& c = *slots_[slot];

  internal::Sighting s;
  fill_sighting(s, p, m);
  s.sequence = ++sequence_;
  s.src = c.node({p.source, p.source_port});
  s.dst = c.node({p.destination, p.destination_port});
  for (std::uint32_t i = 0; i < c.call_ids.size(); ++i) {
    if (c.call_ids[i] == m.call_id()) {
      s.leg = i;
      break;
    }
  }

  // Original, retransmission, copy or duplicate.
  auto [it, fresh] = c.seen.try_emplace(s.key);
  internal::MessageSeen& seen = it->second;
  if (fresh) {
    seen.first_ns = s.time_ns;
    seen.hops.push_back({s.src, s.dst, s.time_ns});
    s.kind = CopyKind::Original;
  } else {
    internal::HopSeen* hop = nullptr;
    for (internal::HopSeen& h : seen.hops)
      if (h.src == s.src && h.dst == s.dst) hop = &h;
    if (hop != nullptr) {
      s.kind = s.time_ns - hop->last_ns < kDuplicateWindowNs ? CopyKind::Duplicate : CopyKind::Retransmission;
      hop->last_ns = s.time_ns;
    } else {
      s.kind = CopyKind::Copy;
      s.hop_delay_ns = s.time_ns - seen.first_ns;
      seen.hops.push_back({s.src, s.dst, s.time_ns});
    }
  }

  if (c.sightings.empty()) {
    c.first_ns = s.time_ns;
    c.first_method = s.method_text;
  }
  c.last_ns = std::max(c.last_ns, s.time_ns);
  if (s.method == sip::Method::Invite) c.has_invite = true;
  if (s.request && s.method == sip::Method::Invite && s.to_tag.empty()) c.ended = false;
  if (!s.request && s.status >= 200) {
    if (s.method == sip::Method::Bye) c.ended = c.ended_by_bye = true;
    if (s.method == sip::Method::Invite && s.status >= 300) {
      bool answered = false;
      for (const internal::Sighting& o : c.sightings)
        if (!o.request && o.method == sip::Method::Invite && o.status >= 200 && o.status < 300) answered = true;
      // After a 401/407 the UA may take a while (a password) to send the
      // INVITE with credentials: the call stays open until the quiet timeout.
      if (!answered && s.status != 401 && s.status != 407) c.ended = true;
    }
    if (!c.has_invite) c.ended = true;
  }
  if (s.kind != CopyKind::Original) {
    // Copies keep only what the checks read from them.
    s.sdp.clear();
    s.sdp.shrink_to_fit();
  }
  c.sightings.push_back(std::move(s));
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
  for (const std::string& id : c->call_ids) {
    auto it = by_call_id_.find(id);
    if (it != by_call_id_.end() && it->second == slot) by_call_id_.erase(it);
  }
  if (!c->icid.empty()) {
    auto it = by_icid_.find(c->icid);
    if (it != by_icid_.end() && it->second == slot) by_icid_.erase(it);
  }
  free_slots_.push_back(slot);
  --live_;
  if (!c->has_invite) {
    ++totals_.non_invite[c->first_method.empty() ? std::string("?") : c->first_method];
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

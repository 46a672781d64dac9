// Procedure checks and diagnoses of one call: the engineer's reading of the
// ladder, in the order the seed gives ("start with INVITE and follow the
// dialog through provisional responses to the final ACK; check whether PRACK
// is expected and whether it completes"). Each diagnosis names the messages
// and times it rests on and carries the seed's where-to-inspect and next step.
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <memory>

#include "analyze/invite_facts.hpp"
#include "sdp/codec.hpp"
#include "sdp/offer_answer.hpp"
#include "sdp/precondition.hpp"
#include "sdp/session.hpp"

namespace imsflow::analyze::internal {

namespace {

// The seed's troubleshooting table, row by row.
struct SeedRow {
  const char* cause;
  const char* where;
  const char* next;
};
constexpr SeedRow kNoProgressRow{"Routing, IMS reachability, or policy blocks the session before it advances.",
                                 "INVITE and the first returned response.",
                                 "Check whether the dialog is routed into the expected IMS path."};
constexpr SeedRow kProvisionalRow{
    "Reliable provisional handling, early media negotiation, or downstream service behavior is broken.",
    "183, PRACK, and the gap before final success.", "Check whether reliable provisional signaling was completed."};
constexpr SeedRow kNoStabilizeRow{"ACK is missing or later bearer or media handling is broken.",
                                  "200 OK, ACK, and the next service-specific branch.",
                                  "Separate SIP dialog success from later media or bearer failure."};
constexpr SeedRow kMediaRow{"Codec or media mismatch breaks the session.",
                            "SDP offer / answer in the INVITE, provisional responses and 200 OK.",
                            "Check whether media negotiation matches the expected service."};
constexpr SeedRow kRouteRow{"Unexpected route changes make later in-dialog requests fail.",
                            "Route / Record-Route in the INVITE, its responses and the in-dialog requests.",
                            "Check whether the dialog is routed through the expected IMS entities."};
constexpr SeedRow kFeatureRow{"The UE or network expects a feature that the other side does not handle cleanly.",
                              "Supported / Require in the INVITE and responses.",
                              "Check which option tags each side supports and requires."};
constexpr SeedRow kTargetRow{"Wrong target causes routing or service mismatch.",
                             "Request-URI / called party in the INVITE.", "Check the target identity of the INVITE."};
constexpr SeedRow kBearerRow{"Policy and bearer context could not support the service (QoS preconditions not met).",
                             "a=curr/des/conf in the SDP of the INVITE, 183 and UPDATE, and when 180/200 came.",
                             "Check the dedicated bearer setup for the call, then the precondition exchange."};

Diagnosis make(DiagnosisCode code, std::string explanation, const SeedRow& row) {
  Diagnosis d;
  d.code = code;
  d.explanation = std::move(explanation);
  d.likely_cause = row.cause;
  d.where_to_inspect = row.where;
  d.next_step = row.next;
  return d;
}

// What a final status most likely means, in the seed's terms.
struct RejectCause {
  std::string cause;
  SeedRow row;
};
RejectCause reject_cause(int status, const OpenCall& call, const Sighting& final, bool prack_missing,
                         const std::string& offered) {
  const StrId unsupported = call.extra(final, &SightingExtras::unsupported);
  const StrId retry_after = call.extra(final, &SightingExtras::retry_after);
  switch (status) {
    case 403:
      return {"policy blocks the session (403 Forbidden)", kNoProgressRow};
    case 404:
    case 484:
    case 604:
      return {"wrong target: the called party is unknown or incomplete", kTargetRow};
    case 408:
    case 480:
      return {"IMS reachability: the called side did not answer or is not reachable", kNoProgressRow};
    case 504:
      if (prack_missing) return {"reliable provisional handling is broken (no PRACK, the UAS gave up)", kProvisionalRow};
      return {"IMS reachability: a server downstream timed out", kNoProgressRow};
    case 486:
    case 600:
      return {"the called user is busy (a user decision, not a network fault)",
              {"The called user is busy.", "The final response and who sent it.",
               "None on the network side; the user may retry later."}};
    case 487:
      return {"the INVITE was terminated before an answer", kNoProgressRow};
    case 488:
    case 606:
      return {"codec or media mismatch" + (offered.empty() ? std::string() : " (the offer had " + offered + ")"),
              kMediaRow};
    case 420:
    case 421:
      return {"an option tag one side requires is not supported" +
                  (unsupported == 0 ? std::string() : " (Unsupported: " + call.str(unsupported) + ")"),
              kFeatureRow};
    case 500:
    case 503:
      return {"overload or server failure in the IMS path" +
                  (retry_after == 0 ? std::string() : " (Retry-After: " + call.str(retry_after) + " s)"),
              {"A server in the IMS path is overloaded or failing.", "The response and the node that sent it.",
               "Check that node's load and logs; retry after Retry-After."}};
    case 580:
      return {"QoS preconditions could not be met", kBearerRow};
    case 401:
    case 407:
      return {"an authentication challenge that was not answered", kNoProgressRow};
    case 481:
      return {"the dialog or transaction was unknown where the request arrived", kRouteRow};
    default:
      break;
  }
  if (status >= 600) return {"a global refusal by the called side", kNoProgressRow};
  if (status >= 500) return {"a server failure in the IMS path", kNoProgressRow};
  return {"the request was refused by the called side or the IMS path", kNoProgressRow};
}

std::string codec_list(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& c : v) s += (s.empty() ? "" : ", ") + c;
  return s;
}

std::vector<std::string> codecs_of(const sdp::Session& s) {
  std::vector<std::string> out;
  for (const sdp::Media& m : s.media) {
    if (m.media != "audio") continue;
    for (std::string_view fmt : m.formats) {
      auto map = sdp::effective_rtpmap(m, fmt);
      std::string name = map ? std::string(map->encoding) + "/" + std::to_string(map->clock_rate) : std::string(fmt);
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
  }
  return out;
}

// Route URIs compared by host and port (parameters and user parts differ
// harmlessly between what a proxy writes and what a UA copies).
std::string route_host(std::string_view uri) {
  std::size_t colon = uri.find(':');
  if (colon != std::string_view::npos && colon < 5) uri.remove_prefix(colon + 1);
  if (auto at = uri.find('@'); at != std::string_view::npos) uri.remove_prefix(at + 1);
  std::size_t end = uri.find_first_of(";?>");
  std::string h(uri.substr(0, end));
  for (char& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return h;
}
bool same_route(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (route_host(a[i]) != route_host(b[i])) return false;
  return true;
}
void drop_host(std::vector<std::string>& routes, const std::string& ip) {
  std::erase_if(routes, [&](const std::string& r) {
    std::string h = route_host(r);
    if (!h.empty() && h.front() == '[') h = h.substr(1, h.find(']') == std::string::npos ? h.npos : h.find(']') - 1);
    else if (auto c = h.rfind(':'); c != std::string::npos && h.find(':') == c) h.resize(c);
    return h == ip;
  });
}
std::string route_text(const std::vector<std::string>& v) {
  if (v.empty()) return "none";
  std::string s;
  for (const std::string& r : v) s += (s.empty() ? "<" : ", <") + r + ">";
  return s;
}

// QoS precondition state of the session, both segments from the caller's
// point of view ("A" its access, "B" the callee's), directions as the
// caller sees them (RFC 3312 §5).
struct QosState {
  unsigned current_a = 0, current_b = 0;  // QosDirection bits
  unsigned mandatory_a = 0, mandatory_b = 0;
  bool any_mandatory = false;
  bool failure = false;
  bool met() const {
    return !failure && (current_a & mandatory_a) == mandatory_a && (current_b & mandatory_b) == mandatory_b;
  }
};
unsigned swap_dir(sdp::QosDirection d) {
  unsigned v = static_cast<unsigned>(d);
  return ((v & 1) << 1) | ((v & 2) >> 1);
}
void apply_sdp(QosState& q, const sdp::Session& s, bool from_caller) {
  for (const sdp::Media& m : s.media) {
    if (m.media != "audio") continue;
    const sdp::MediaPreconditions p = sdp::read_preconditions(m);
    for (const sdp::CurrentStatus& c : p.current) {
      if (c.status == sdp::StatusType::E2E) continue;
      const bool writer_local = c.status == sdp::StatusType::Local;
      const bool segment_a = from_caller ? writer_local : !writer_local;
      const unsigned dir = from_caller ? static_cast<unsigned>(c.direction) : swap_dir(c.direction);
      // The writer is the authority on its own segment; the other side only adds.
      if (writer_local) {
        (segment_a ? q.current_a : q.current_b) = dir;
      } else {
        (segment_a ? q.current_a : q.current_b) |= dir;
      }
    }
    for (const sdp::DesiredStatus& d : p.desired) {
      if (d.status == sdp::StatusType::E2E) continue;
      if (d.strength == sdp::Strength::Failure) q.failure = true;
      if (d.strength != sdp::Strength::Mandatory) continue;
      q.any_mandatory = true;
      const bool writer_local = d.status == sdp::StatusType::Local;
      const bool segment_a = from_caller ? writer_local : !writer_local;
      const unsigned dir = from_caller ? static_cast<unsigned>(d.direction) : swap_dir(d.direction);
      (segment_a ? q.mandatory_a : q.mandatory_b) |= dir;
    }
    break;  // the first audio stream
  }
}

class Checker {
 public:
  Checker(const InviteFacts& f, CallAnalysis& out) : f_(f), c_(*f.call), v_(f.call->sightings), out_(out) {}

  void run() {
    offer_answer();
    supported_require();
    reliable_provisionals();
    ack_after_2xx();
    routes();
    preconditions();
    retransmissions();
    reason_warning();
    diagnose();
  }

 private:
  void check(CheckId id, CheckResult r, std::string detail) { out_.checks.push_back({id, r, std::move(detail)}); }
  // Each kept body is parsed once, however many checks read it.
  using ParsedSdp = Result<sdp::Session, sdp::SdpError>;
  const ParsedSdp& parsed(const Sighting& s) {
    if (parsed_.empty()) parsed_.resize(c_.sdps.size());
    std::unique_ptr<ParsedSdp>& p = parsed_[s.sdp];
    if (!p) p = std::make_unique<ParsedSdp>(sdp::parse(c_.sdp(s)));
    return *p;
  }
  std::string name_at(std::size_t i) const { return short_name(c_, v_[i]) + " at " + at(f_, v_[i].time_ns); }
  bool from_caller(const Sighting& s) const {
    // Requests from the caller's side carry its From-tag; here: the INVITE's
    // direction on the first hop, or the response direction reversed.
    if (!f_.first_hop_known) return s.request;
    if (s.src == f_.caller) return true;
    if (s.dst == f_.caller) return false;
    return s.request;
  }

  // --- offer / answer ---------------------------------------------------
  void offer_answer() {
    if (!f_.last_invite) return;
    const Sighting& invite = v_[*f_.last_invite];
    std::optional<std::size_t> offer, answer;
    if (invite.has(kHasSdp)) {
      offer = *f_.last_invite;
      for (std::size_t i = 0; i < v_.size(); ++i) {
        const Sighting& s = v_[i];
        if (f_.is_response_to_invite(s) && s.status > 100 && s.status < 300 && c_.has_sdp_text(s)) {
          answer = i;
          break;
        }
      }
    } else {
      for (std::size_t i = 0; i < v_.size(); ++i) {
        const Sighting& s = v_[i];
        if (!offer && f_.is_response_to_invite(s) && s.status > 100 && s.status < 300 && c_.has_sdp_text(s) &&
            (s.has(kHasRSeq) || s.status >= 200))
          offer = i;
        else if (offer && s.request && (s.method == sip::Method::Prack || s.method == sip::Method::Ack) &&
                 s.leg == f_.leg && c_.has_sdp_text(s)) {
          answer = i;
          break;
        }
      }
    }
    OfferAnswerFacts& oa = out_.offer_answer;
    if (!offer) {
      check(CheckId::OfferAnswer, CheckResult::Info, "no SDP offer captured for the INVITE");
      return;
    }
    oa.offer_in = label_kind(v_[*offer]);
    const auto& offer_sdp = parsed(v_[*offer]);
    if (!offer_sdp) {
      check(CheckId::OfferAnswer, CheckResult::Fail, "the offer in " + oa.offer_in + " is not valid SDP: " +
                                                         offer_sdp.error().describe());
      return;
    }
    oa.offered_codecs = codecs_of(*offer_sdp);
    if (!answer) {
      check(CheckId::OfferAnswer, CheckResult::Info,
            "offer in " + oa.offer_in + " (" + codec_list(oa.offered_codecs) + "); no answer captured");
      return;
    }
    oa.answer_in = label_kind(v_[*answer]);
    const auto& answer_sdp = parsed(v_[*answer]);
    if (!answer_sdp) {
      check(CheckId::OfferAnswer, CheckResult::Fail, "the answer in " + oa.answer_in + " is not valid SDP: " +
                                                         answer_sdp.error().describe());
      return;
    }
    oa.answered_codecs = codecs_of(*answer_sdp);
    const sdp::Negotiation n = sdp::negotiate(*offer_sdp, *answer_sdp);
    for (const sdp::MediaAgreement& m : n.media)
      for (const sdp::AgreedCodec& c : m.codecs) {
        std::string name = c.encoding + "/" + std::to_string(c.clock_rate);
        if (std::find(oa.common_codecs.begin(), oa.common_codecs.end(), name) == oa.common_codecs.end())
          oa.common_codecs.push_back(name);
      }
    if (!n.ok()) {
      oa.failure = n.reason;
      mismatch_ = "answer in " + name_at(*answer) + " does not agree with the offer in " + name_at(*offer) + ": " +
                  n.reason;
      check(CheckId::OfferAnswer, CheckResult::Fail, mismatch_);
      return;
    }
    check(CheckId::OfferAnswer, CheckResult::Pass,
          "offer in " + oa.offer_in + ", answer in " + oa.answer_in + "; common: " + codec_list(oa.common_codecs));
    // Later offers in UPDATE, answered in its 2xx.
    for (std::size_t i = 0; i < v_.size(); ++i) {
      const Sighting& u = v_[i];
      if (!u.request || u.method != sip::Method::Update || !c_.has_sdp_text(u) || u.leg != f_.leg) continue;
      for (std::size_t j = i + 1; j < v_.size(); ++j) {
        const Sighting& r = v_[j];
        if (r.request || r.method != sip::Method::Update || r.cseq != u.cseq || r.leg != u.leg || !c_.has_sdp_text(r))
          continue;
        const auto& o = parsed(u);
        const auto& a = parsed(r);
        if (o && a) {
          const sdp::Negotiation un = sdp::negotiate(*o, *a);
          if (!un.ok() && mismatch_.empty()) {
            mismatch_ = "answer in " + name_at(j) + " (UPDATE) does not agree with the offer in UPDATE at " +
                        at(f_, u.time_ns) + ": " + un.reason;
            check(CheckId::OfferAnswer, CheckResult::Fail, mismatch_);
          }
        }
        break;
      }
    }
  }
  std::string label_kind(const Sighting& s) const {
    if (s.request) return c_.str(s.method_text);
    return std::to_string(s.status) + " (" + c_.str(s.method_text) + ")";
  }

  // --- Supported / Require ------------------------------------------------
  void supported_require() {
    if (!f_.last_invite) return;
    const Sighting& inv = v_[*f_.last_invite];
    std::string detail = "INVITE Supported:";
    detail += inv.has(kSupports100rel) ? " 100rel" : "";
    detail += inv.has(kSupportsPrecondition) ? " precondition" : "";
    if (inv.has(kRequires100rel) || inv.has(kRequiresPrecondition)) {
      detail += "; Require:";
      detail += inv.has(kRequires100rel) ? " 100rel" : "";
      detail += inv.has(kRequiresPrecondition) ? " precondition" : "";
    }
    const bool offers_100rel = inv.has(kSupports100rel) || inv.has(kRequires100rel);
    const bool offers_precondition = inv.has(kSupportsPrecondition) || inv.has(kRequiresPrecondition);
    CheckResult r = CheckResult::Pass;
    for (std::size_t i = 0; i < v_.size(); ++i) {
      const Sighting& s = v_[i];
      if (!f_.is_response_to_invite(s) || s.kind != CopyKind::Original) continue;
      if (s.has(kRequires100rel) && !offers_100rel) {
        r = CheckResult::Fail;
        detail += "; " + name_at(i) + " requires 100rel the INVITE did not offer";
      }
      if (s.has(kRequiresPrecondition) && !offers_precondition) {
        r = CheckResult::Fail;
        detail += "; " + name_at(i) + " requires precondition the INVITE did not offer";
      }
      if (s.status == 420 || s.status == 421) {
        r = CheckResult::Fail;
        const StrId unsupported = c_.extra(s, &SightingExtras::unsupported);
        detail += "; " + name_at(i) + (unsupported == 0 ? "" : " (Unsupported: " + c_.str(unsupported) + ")");
      }
    }
    check(CheckId::SupportedRequire, r, detail);
  }

  // --- reliable provisionals: RSeq, PRACK ---------------------------------
  void reliable_provisionals() {
    if (f_.reliable.empty()) return;
    // RSeq continuity per To-tag (RFC 3262 §3: +1 for each new reliable 1xx).
    std::string rseq_problem;
    for (std::size_t a = 0; a < f_.reliable.size(); ++a) {
      for (std::size_t b = a + 1; b < f_.reliable.size(); ++b) {
        const Sighting& x = v_[f_.reliable[a]];
        const Sighting& y = v_[f_.reliable[b]];
        if (x.to_tag != y.to_tag) continue;
        if (y.rseq != x.rseq + 1 && rseq_problem.empty())
          rseq_problem = name_at(f_.reliable[b]) + " has RSeq " + std::to_string(y.rseq) + " after RSeq " +
                         std::to_string(x.rseq);
        break;
      }
    }
    for (std::size_t i = 0; i < v_.size(); ++i) {
      const Sighting& p = v_[i];
      if (!p.request || p.method != sip::Method::Prack || p.leg != f_.leg || !p.has(kHasRAck)) continue;
      bool matches = false;
      for (std::size_t r : f_.reliable)
        if (v_[r].rseq == p.rack_rseq && p.rack_cseq == f_.cseq) matches = true;
      if (!matches && rseq_problem.empty())
        rseq_problem = name_at(i) + " has RAck " + std::to_string(p.rack_rseq) + " " +
                       std::to_string(p.rack_cseq) + " matching no reliable provisional";
    }
    check(CheckId::RSeqContinuity, rseq_problem.empty() ? CheckResult::Pass : CheckResult::Fail,
          rseq_problem.empty() ? "RSeq and RAck consistent" : rseq_problem);

    std::string detail;
    bool all_ok = true;
    for (std::size_t r : f_.reliable) {
      const Sighting& rel = v_[r];
      // The 1xx as the caller got it, and its first PRACK.
      const std::size_t shown = first_copy_at_caller(rel.key, r);
      std::optional<std::size_t> prack;
      for (std::size_t i = 0; i < v_.size(); ++i) {
        const Sighting& p = v_[i];
        // Matched on RSeq and dialog: a wrong CSeq in RAck is rseq_continuity's finding.
        if (p.request && p.method == sip::Method::Prack && p.leg == f_.leg && p.has(kHasRAck) &&
            p.rack_rseq == rel.rseq && (p.to_tag == 0 || p.to_tag == rel.to_tag)) {
          if (!prack || (f_.on_first_hop(p) && !f_.on_first_hop(v_[*prack])) ||
              (f_.on_first_hop(p) == f_.on_first_hop(v_[*prack]) && p.time_ns < v_[*prack].time_ns))
            prack = i;
        }
      }
      std::uint32_t retransmitted_before = 0;
      for (const Sighting& s : v_)
        if (s.key == rel.key && s.kind == CopyKind::Retransmission &&
            (!prack || s.time_ns < v_[*prack].time_ns))
          ++retransmitted_before;
      const std::string what = short_name(c_, rel) + " RSeq " + std::to_string(rel.rseq);
      if (!detail.empty()) detail += "; ";
      if (!prack) {
        const bool judged = f_.final_response.has_value() || f_.capture_end_ns - rel.time_ns >= kAnswerGraceNs;
        if (!judged) {
          detail += what + " at " + at(f_, v_[shown].time_ns) + ": capture ends before its PRACK";
          continue;
        }
        all_ok = false;
        detail += what + " at " + at(f_, v_[shown].time_ns) + " never PRACKed";
        if (unpracked_.empty()) {
          unpracked_ = what + " sent at " + at(f_, rel.time_ns);
          if (retransmitted_before > 0)
            unpracked_ += " and retransmitted " + std::to_string(retransmitted_before) + " times";
          unpracked_ += " was never PRACKed";
          if (f_.final_response)
            unpracked_ += "; the INVITE ended with " + name_at(*f_.final_response);
        }
        continue;
      }
      const std::int64_t delay = v_[*prack].time_ns - v_[shown].time_ns;
      detail += what + " PRACKed " + fmt_ms(delay) + " after it";
      if (retransmitted_before > 0 || delay > kT1Ns) {
        all_ok = false;
        detail += retransmitted_before > 0 ? " (after " + std::to_string(retransmitted_before) + " retransmissions)"
                                           : " (later than T1)";
        if (late_.empty()) {
          late_ = "PRACK for " + what + " came at " + at(f_, v_[*prack].time_ns) + ", " + fmt_ms(delay) +
                  " after the " + short_name(c_, rel) + " (" + at(f_, v_[shown].time_ns) + ")";
          if (retransmitted_before > 0)
            late_ += ", which had been retransmitted " + std::to_string(retransmitted_before) + " times";
        }
      }
      // A 2xx to the INVITE before this PRACK was answered.
      if (f_.first_2xx && v_[*f_.first_2xx].to_tag == rel.to_tag && v_[*f_.first_2xx].time_ns < v_[*prack].time_ns)
        final_before_prack_ = name_at(*f_.first_2xx) + " came before the PRACK for " + what + " (" +
                              at(f_, v_[*prack].time_ns) + ")";
    }
    check(CheckId::ReliableProvisionalsPracked, all_ok ? CheckResult::Pass : CheckResult::Fail, detail);
    check(CheckId::FinalBeforePrack, final_before_prack_.empty() ? CheckResult::Pass : CheckResult::Fail,
          final_before_prack_.empty() ? "no final response before a pending PRACK" : final_before_prack_);
  }
  std::size_t first_copy_at_caller(std::uint64_t key, std::size_t fallback) const {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < v_.size(); ++i)
      if (v_[i].key == key && f_.on_first_hop(v_[i]) && (!best || v_[i].time_ns < v_[*best].time_ns)) best = i;
    return best.value_or(fallback);
  }
  static std::string fmt_ms(std::int64_t ns) {
    char b[40];
    char* end = std::to_chars(b, b + sizeof b, static_cast<double>(ns) / 1e6, std::chars_format::fixed, 1).ptr;
    return std::string(b, end) + " ms";
  }

  // --- ACK after 2xx ---------------------------------------------------
  void ack_after_2xx() {
    if (!f_.first_2xx) return;
    const Sighting& ok = v_[*f_.first_2xx];
    if (f_.ack) {
      check(CheckId::AckAfter2xx, CheckResult::Pass,
            "ACK " + fmt_ms(v_[*f_.ack].time_ns - ok.time_ns) + " after " + name_at(*f_.first_2xx));
      return;
    }
    std::uint32_t retrans = 0;
    for (const Sighting& s : v_)
      if (s.key == ok.key && s.kind == CopyKind::Retransmission) ++retrans;
    if (f_.outcome == Outcome::Incomplete) {
      check(CheckId::AckAfter2xx, CheckResult::Info, "capture ends before the ACK for " + name_at(*f_.first_2xx));
      return;
    }
    no_ack_ = name_at(*f_.first_2xx) + (retrans ? " (retransmitted " + std::to_string(retrans) + " times)" : "") +
              " got no ACK";
    if (f_.bye) no_ack_ += "; " + name_at(*f_.bye) + " ended the dialog";
    check(CheckId::AckAfter2xx, CheckResult::Fail, no_ack_);
  }

  // --- Route / Record-Route ----------------------------------------------
  // The route set of the dialog (RFC 3261 §12.1): for the caller, the
  // Record-Route of the response that made the dialog, reversed; for the
  // callee, the INVITE's Record-Route. An in-dialog request as its UA sent
  // it (one Via) must carry exactly that set as Route.
  void routes() {
    if (!f_.last_invite) return;
    std::string problem;
    std::size_t checked = 0;
    for (std::size_t i = 0; i < v_.size(); ++i) {
      const Sighting& r = v_[i];
      if (!r.request || r.leg != f_.leg || r.via_count != 1 || r.to_tag == 0 || r.kind != CopyKind::Original)
        continue;
      if (r.method == sip::Method::Cancel || (r.method == sip::Method::Ack && r.branch == f_.branch)) continue;
      if (r.method == sip::Method::Invite || r.method == sip::Method::Ack || r.method == sip::Method::Prack ||
          r.method == sip::Method::Update || r.method == sip::Method::Bye || r.method == sip::Method::Info) {
        std::vector<std::string> expected;
        bool known = false;
        if (from_caller(r)) {
          // The response of this dialog as the caller received it.
          for (const Sighting& s : v_) {
            if (f_.is_response_to_invite(s) && s.to_tag == r.to_tag && s.status > 100 && s.status < 300 &&
                s.via_count == 1 && s.time_ns <= r.time_ns) {
              expected = c_.record_routes(s);
              std::reverse(expected.begin(), expected.end());
              known = true;
              if (s.status >= 200) break;
            }
          }
        } else {
          // The INVITE as the callee received it: the copy with the most Vias.
          const Sighting* deepest = nullptr;
          for (const Sighting& s : v_)
            if (s.request && s.method == sip::Method::Invite && s.leg == f_.leg && s.cseq == f_.cseq &&
                (!deepest || s.via_count > deepest->via_count))
              deepest = &s;
          if (deepest && deepest->dst == r.src) {
            expected = c_.record_routes(*deepest);
            known = true;
          }
        }
        if (!known) continue;
        ++checked;
        // The sender may itself be on the route set (an SBC or proxy at the
        // edge of the capture that record-routed itself): it consumes its
        // own entries before sending, so those are left out on both sides.
        const std::string self = f_.call->nodes[r.src].address.to_string();
        drop_host(expected, self);
        const std::vector<std::string> sent = c_.routes(r);
        std::vector<std::string> actual = sent;
        drop_host(actual, self);
        if (!same_route(actual, expected) && problem.empty())
          problem = name_at(i) + " carried Route " + route_text(sent) + " but the dialog's Record-Route gives " +
                    route_text(expected);
      }
    }
    // An in-dialog request refused as unknown points the same way.
    if (problem.empty()) {
      for (std::size_t i = 0; i < v_.size(); ++i) {
        const Sighting& s = v_[i];
        if (!s.request && s.status == 481 && s.leg == f_.leg && s.kind == CopyKind::Original &&
            s.method != sip::Method::Cancel) {
          problem = name_at(i) + " answered the in-dialog " + c_.str(s.method_text);
          break;
        }
      }
    }
    if (checked == 0 && problem.empty()) return;
    route_problem_ = problem;
    check(CheckId::RouteRecordRoute, problem.empty() ? CheckResult::Pass : CheckResult::Fail,
          problem.empty() ? std::to_string(checked) + " in-dialog request(s) followed the Record-Route set" : problem);
  }

  // --- preconditions -------------------------------------------------------
  void preconditions() {
    if (!f_.last_invite || !c_.has_sdp_text(v_[*f_.last_invite])) return;
    QosState q;
    bool parsed_any = false;
    std::optional<std::size_t> met_at;
    std::optional<std::size_t> checked_at;
    // Preconditions bind the answerer only when the INVITE requires them or
    // the answerer takes part (RFC 3312 §11: Supported alone lets it ignore them).
    bool engaged = v_[*f_.last_invite].has(kRequiresPrecondition);
    for (std::size_t i = 0; i < v_.size(); ++i) {
      const Sighting& s = v_[i];
      if (s.leg != f_.leg || s.kind != CopyKind::Original) continue;
      if (!from_caller(s) && (s.has(kRequiresPrecondition) || s.has(kSdpHasPreconditions)))
        engaged = true;
      if (c_.has_sdp_text(s) && (s.method == sip::Method::Invite || s.method == sip::Method::Prack ||
                             s.method == sip::Method::Update || s.method == sip::Method::Ack)) {
        if (const auto& sd = parsed(s)) {
          apply_sdp(q, *sd, from_caller(s));
          parsed_any = true;
          if (q.any_mandatory && q.met() && !met_at) met_at = i;
        }
      }
      if (!q.any_mandatory) continue;
      // Alerting or answering while a mandatory precondition is unmet.
      if (engaged && f_.is_response_to_invite(s) && (s.status == 180 || (s.status >= 200 && s.status < 300)) &&
          !q.met() && !checked_at)
        checked_at = i;
    }
    if (!parsed_any || !q.any_mandatory) {
      if (f_.final_status == 580)
        precondition_ = "the INVITE was rejected with " + name_at(*f_.final_response) + " (Precondition Failure)";
      if (!precondition_.empty()) check(CheckId::Preconditions, CheckResult::Fail, precondition_);
      return;
    }
    if (!engaged && f_.final_status != 580) {
      check(CheckId::Preconditions, CheckResult::Info,
            "the offer asks for QoS preconditions; the answerer did not take part (Supported only)");
      return;
    }
    if (checked_at) {
      precondition_ = name_at(*checked_at) + " came while the mandatory QoS preconditions of the offer were not met";
    } else if (f_.final_status == 580) {
      precondition_ = "the INVITE was rejected with " + name_at(*f_.final_response) + " (Precondition Failure)";
    }
    std::string detail = precondition_;
    if (detail.empty())
      detail = met_at ? "mandatory QoS preconditions met at " + name_at(*met_at)
                      : "mandatory QoS preconditions not (yet) met when the capture of the call ends";
    check(CheckId::Preconditions, precondition_.empty() ? (met_at ? CheckResult::Pass : CheckResult::Info)
                                                        : CheckResult::Fail,
          detail);
  }

  // --- retransmissions, Reason, Warning -----------------------------------
  void retransmissions() {
    std::vector<std::pair<std::string, int>> counts;
    for (const Sighting& s : v_) {
      if (s.kind != CopyKind::Retransmission) continue;
      const std::string n = label_kind(s);
      auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& p) { return p.first == n; });
      if (it == counts.end()) counts.emplace_back(n, 1);
      else ++it->second;
    }
    if (counts.empty()) {
      check(CheckId::Retransmissions, CheckResult::Pass, "no retransmissions");
      return;
    }
    std::string d;
    for (const auto& [n, c] : counts) d += (d.empty() ? "" : ", ") + n + " x" + std::to_string(c);
    check(CheckId::Retransmissions, CheckResult::Info, "retransmitted: " + d);
  }

  void reason_warning() {
    std::string d;
    for (std::size_t i = 0; i < v_.size(); ++i) {
      const Sighting& s = v_[i];
      if (s.kind != CopyKind::Original) continue;
      if (s.extras == kNone) continue;
      const std::string reason = c_.str(c_.extra(s, &SightingExtras::reason_header));
      const std::string warning = c_.str(c_.extra(s, &SightingExtras::warning));
      if (!reason.empty()) d += (d.empty() ? "" : "; ") + name_at(i) + " Reason: " + reason;
      if (!warning.empty()) d += (d.empty() ? "" : "; ") + name_at(i) + " Warning: " + warning;
      if (s.request && s.method == sip::Method::Bye && s.leg == f_.leg && !release_.has_value() &&
          abnormal_release(reason))
        release_ = i;
    }
    if (!d.empty()) check(CheckId::ReasonWarning, CheckResult::Info, d);
  }
  // A Reason that is not a normal clearing: a Q.850 cause other than 16/31,
  // a SIP cause other than 200, or words that point at media or the bearer.
  static bool abnormal_release(const std::string& reason) {
    if (reason.empty()) return false;
    std::string r = reason;
    for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* word : {"media", "bearer", "rtp", "qos", "loss", "timeout", "radio"})
      if (r.find(word) != std::string::npos) return true;
    const std::size_t q = r.find("q.850");
    if (q != std::string::npos) {
      const std::size_t c = r.find("cause=", q);
      if (c != std::string::npos) {
        const int cause = std::atoi(r.c_str() + c + 6);
        return cause != 16 && cause != 31;
      }
    }
    const std::size_t sip = r.find("sip");
    if (sip != std::string::npos) {
      const std::size_t c = r.find("cause=", sip);
      if (c != std::string::npos) return std::atoi(r.c_str() + c + 6) != 200;
    }
    return false;
  }

  // --- diagnoses -----------------------------------------------------------
  bool progressed() const {
    for (const Sighting& s : v_)
      if (f_.is_response_to_invite(s) && s.status > 100) {
        if (s.status < 300) return true;
        if (s.status != 408 && s.status != 487 && s.status != 504) return true;
      }
    return false;
  }

  void diagnose() {
    std::vector<Diagnosis>& d = out_.diagnoses;
    const bool stalled_end = f_.outcome == Outcome::Cancelled ||
                             (f_.outcome == Outcome::Failed && !f_.first_2xx) ||
                             (f_.outcome == Outcome::Incomplete && f_.invite &&
                              f_.capture_end_ns - v_[*f_.invite].time_ns >= kProgressGraceNs);
    if (f_.invite && stalled_end && !progressed()) {
      std::string e = "INVITE at " + at(f_, v_[*f_.invite].time_ns) + " got ";
      e += f_.first_response && v_[*f_.first_response].status == 100
               ? "only 100 Trying (" + at(f_, v_[*f_.first_response].time_ns) + ")"
               : std::string("no response");
      if (f_.cancel) e += "; CANCEL at " + at(f_, v_[*f_.cancel].time_ns);
      if (f_.final_response) e += "; final " + name_at(*f_.final_response);
      else e += "; no final response in the capture";
      d.push_back(make(DiagnosisCode::NoProgress, e, kNoProgressRow));
    }
    if (!unpracked_.empty()) d.push_back(make(DiagnosisCode::PrackMissing, unpracked_, kProvisionalRow));
    if (!late_.empty()) d.push_back(make(DiagnosisCode::PrackLate, late_, kProvisionalRow));
    if (!no_ack_.empty()) d.push_back(make(DiagnosisCode::AckMissing, no_ack_, kNoStabilizeRow));
    if (f_.outcome == Outcome::Failed && !f_.first_2xx && f_.final_response) {
      const Sighting& fin = v_[*f_.final_response];
      const RejectCause rc =
          reject_cause(fin.status, c_, fin, !unpracked_.empty(), codec_list(out_.offer_answer.offered_codecs));
      const std::string warning = c_.str(c_.extra(fin, &SightingExtras::warning));
      const std::string reason = c_.str(c_.extra(fin, &SightingExtras::reason_header));
      std::string e = "INVITE at " + at(f_, f_.last_invite ? v_[*f_.last_invite].time_ns : f_.t0) +
                      " rejected with " + name_at(*f_.final_response) + ": " + rc.cause;
      if (!warning.empty()) e += "; Warning: " + warning;
      if (!reason.empty()) e += "; Reason: " + reason;
      Diagnosis x = make(DiagnosisCode::Rejected, e, rc.row);
      x.status = fin.status;
      x.likely_cause = rc.cause + ". " + rc.row.cause;
      d.push_back(std::move(x));
    }
    if (!mismatch_.empty()) d.push_back(make(DiagnosisCode::OfferAnswerMismatch, mismatch_, kMediaRow));
    if (!route_problem_.empty()) d.push_back(make(DiagnosisCode::RouteMismatch, route_problem_, kRouteRow));
    if (!precondition_.empty()) d.push_back(make(DiagnosisCode::PreconditionNotMet, precondition_, kBearerRow));
    if (f_.outcome == Outcome::Established && release_) {
      const Sighting& bye = v_[*release_];
      std::string e = "established at " + at(f_, v_[*f_.ack].time_ns) + " (ACK), then " + name_at(*release_) +
                      " with Reason: " + c_.str(c_.extra(bye, &SightingExtras::reason_header));
      d.push_back(make(DiagnosisCode::ReleasedAfterSetup, e, kNoStabilizeRow));
    }
  }

  const InviteFacts& f_;
  const OpenCall& c_;
  const std::vector<Sighting>& v_;
  CallAnalysis& out_;
  std::string mismatch_, unpracked_, late_, no_ack_, route_problem_, precondition_, final_before_prack_;
  std::optional<std::size_t> release_;
  std::vector<std::unique_ptr<ParsedSdp>> parsed_;  // by OpenCall::sdps index
};

}  // namespace

void run_checks(const InviteFacts& f, CallAnalysis& out) { Checker(f, out).run(); }

}  // namespace imsflow::analyze::internal

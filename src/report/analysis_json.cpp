#include "report/analysis_json.hpp"

#include <nlohmann/json.hpp>
#include <ostream>

namespace imsflow::report {

namespace {

using nlohmann::json;

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json percentiles_json(const analyze::Percentiles& p) {
  if (p.count == 0)
    return json{{"count", 0}, {"p50", nullptr}, {"p90", nullptr}, {"p99", nullptr}, {"mean", nullptr}, {"max", nullptr}};
  return json{{"count", p.count}, {"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"mean", p.mean}, {"max", p.max}};
}

json call_object(const analyze::CallAnalysis& c) {
  json j;
  j["call_id"] = c.call_ids.empty() ? std::string() : c.call_ids.front();
  j["call_ids"] = c.call_ids;
  j["icid"] = c.icid.empty() ? json(nullptr) : json(c.icid);
  j["from"] = c.from;
  j["to"] = c.to;
  j["request_uri"] = c.request_uri;
  j["outcome"] = std::string(analyze::outcome_name(c.outcome));
  j["final_status"] = c.final_status ? json(c.final_status) : json(nullptr);
  j["final_reason"] = c.final_reason;
  json codes = json::array();
  json details = json::array();
  for (const analyze::Diagnosis& d : c.diagnoses) {
    codes.push_back(std::string(analyze::diagnosis_name(d.code)));
    details.push_back({{"code", std::string(analyze::diagnosis_name(d.code))},
                       {"status", d.status ? json(d.status) : json(nullptr)},
                       {"explanation", d.explanation},
                       {"likely_cause", d.likely_cause},
                       {"where_to_inspect", d.where_to_inspect},
                       {"next_step", d.next_step}});
  }
  j["diagnoses"] = codes;
  j["diagnosis_details"] = details;
  j["setup_ms"] = opt(c.setup_ms);
  j["pdd_ms"] = opt(c.pdd_ms);
  j["ack_delay_ms"] = opt(c.ack_delay_ms);
  j["start"] = static_cast<double>(c.start_ns) / 1e9;
  j["duration_ms"] = static_cast<double>(c.end_ns - c.start_ns) / 1e6;
  j["ended_by_timeout"] = c.ended_by_timeout;
  json phases = json::array();
  for (const analyze::Phase& p : c.phases)
    phases.push_back({{"name", p.name}, {"start_ms", opt(p.start_ms)}, {"end_ms", opt(p.end_ms)},
                      {"duration_ms", opt(p.duration_ms())}});
  j["phases"] = phases;
  json nodes = json::array();
  for (std::size_t i = 0; i < c.nodes.size(); ++i)
    nodes.push_back({{"address", c.nodes[i]}, {"role", i < c.node_roles.size() ? c.node_roles[i] : "node"}});
  j["nodes"] = nodes;
  json messages = json::array();
  for (const analyze::CapturedMessage& m : c.messages) {
    json mj{{"t", static_cast<double>(m.time_ns - c.start_ns) / 1e6},
            {"frame", m.frame},
            {"src", c.nodes[m.src]},
            {"dst", c.nodes[m.dst]},
            {"label", m.label},
            {"retransmission", m.kind == analyze::CopyKind::Retransmission},
            {"kind", std::string(analyze::copy_kind_name(m.kind))},
            {"transport", m.transport},
            {"leg", m.leg},
            {"transaction", m.transaction}};
    if (m.kind == analyze::CopyKind::Copy) mj["hop_delay_ms"] = static_cast<double>(m.hop_delay_ns) / 1e6;
    messages.push_back(std::move(mj));
  }
  j["messages"] = messages;
  json txns = json::array();
  for (const analyze::Transaction& t : c.transactions)
    txns.push_back({{"method", t.method},
                    {"cseq", t.cseq},
                    {"branch", t.branch},
                    {"leg", t.leg},
                    {"statuses", t.statuses},
                    {"final_status", t.final_status ? json(t.final_status) : json(nullptr)},
                    {"request_retransmissions", t.request_retransmissions},
                    {"response_retransmissions", t.response_retransmissions}});
  j["transactions"] = txns;
  json dialogs = json::array();
  for (const analyze::Dialog& d : c.dialogs)
    dialogs.push_back({{"to_tag", d.to_tag},
                       {"first_status", d.first_status},
                       {"final_status", d.final_status ? json(d.final_status) : json(nullptr)},
                       {"reliable", d.reliable},
                       {"acked", d.acked}});
  j["dialogs"] = dialogs;
  json hops = json::array();
  for (const analyze::HopStats& h : c.hops)
    hops.push_back({{"src", c.nodes[h.src]},
                    {"dst", c.nodes[h.dst]},
                    {"messages", h.messages},
                    {"retransmissions", h.retransmissions},
                    {"copies", h.copies},
                    {"mean_copy_delay_ms", opt(h.mean_copy_delay_ms)}});
  j["hops"] = hops;
  const analyze::OfferAnswerFacts& oa = c.offer_answer;
  j["offer_answer"] = {{"offer_in", oa.offer_in.empty() ? json(nullptr) : json(oa.offer_in)},
                       {"answer_in", oa.answer_in.empty() ? json(nullptr) : json(oa.answer_in)},
                       {"offered_codecs", oa.offered_codecs},
                       {"answered_codecs", oa.answered_codecs},
                       {"common_codecs", oa.common_codecs},
                       {"failure", oa.failure.empty() ? json(nullptr) : json(oa.failure)}};
  json checks = json::array();
  for (const analyze::Check& k : c.checks)
    checks.push_back({{"id", std::string(analyze::check_name(k.id))},
                      {"result", std::string(analyze::check_result_name(k.result))},
                      {"detail", k.detail}});
  j["checks"] = checks;
  j["retransmissions"] = c.retransmissions;
  j["copies"] = c.copies;
  return j;
}

json summary_object(const analyze::Summary& s, const CaptureFacts& facts) {
  json outcomes = json::object();
  for (std::size_t i = 0; i < static_cast<std::size_t>(analyze::Outcome::kCount); ++i) {
    const auto o = static_cast<analyze::Outcome>(i);
    outcomes[std::string(analyze::outcome_name(o))] = s.outcome(o);
  }
  json diagnoses = json::object();
  for (std::size_t i = 0; i < static_cast<std::size_t>(analyze::DiagnosisCode::kCount); ++i) {
    const auto c = static_cast<analyze::DiagnosisCode>(i);
    diagnoses[std::string(analyze::diagnosis_name(c))] = s.diagnosis(c);
  }
  json j{{"calls", s.calls()},
         {"outcomes", outcomes},
         {"diagnoses", diagnoses},
         {"calls_without_diagnosis", s.calls_without_diagnosis()},
         {"setup_ms", percentiles_json(s.setup())},
         {"pdd_ms", percentiles_json(s.pdd())}};
  if (facts.totals) {
    j["messages"] = facts.totals->messages;
    j["non_invite"] = facts.totals->non_invite;
    j["joined_by_icid"] = facts.totals->joined_by_icid;
    j["peak_open_calls"] = facts.totals->peak_open_calls;
  }
  json worst = json::array();
  for (const analyze::NotableCall& n : s.worst()) {
    json codes = json::array();
    for (analyze::DiagnosisCode c : n.diagnoses) codes.push_back(std::string(analyze::diagnosis_name(c)));
    worst.push_back({{"call_id", n.call_id},
                     {"outcome", std::string(analyze::outcome_name(n.outcome))},
                     {"final_status", n.final_status ? json(n.final_status) : json(nullptr)},
                     {"diagnoses", codes},
                     {"setup_ms", opt(n.setup_ms)}});
  }
  j["worst"] = worst;
  return j;
}

}  // namespace

std::string call_json(const analyze::CallAnalysis& call) {
  return call_object(call).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string summary_json(const analyze::Summary& summary, const CaptureFacts& facts) {
  return summary_object(summary, facts).dump(-1, ' ', false, json::error_handler_t::replace);
}

void JsonReportWriter::open() {
  if (opened_) return;
  out_ << "{\"calls\": [";
  opened_ = true;
}

void JsonReportWriter::add(const analyze::CallAnalysis& call) {
  open();
  out_ << (first_ ? "\n" : ",\n") << call_json(call);
  first_ = false;
}

void JsonReportWriter::finish(const analyze::Summary& summary, const CaptureFacts& facts) {
  open();
  out_ << (first_ ? "],\n" : "\n],\n");
  out_ << "\"summary\": " << summary_json(summary, facts) << ",\n";
  out_ << "\"skipped\": " << json(facts.skipped).dump() << ",\n";
  json capture{{"file", facts.file}, {"frames", facts.frames},
               {"read_error", facts.read_error.empty() ? json(nullptr) : json(facts.read_error)}};
  out_ << "\"capture\": " << capture.dump(-1, ' ', false, json::error_handler_t::replace) << "\n}\n";
}

}  // namespace imsflow::report

#include "report/analysis_text.hpp"

#include <cstdio>
#include <string_view>

namespace imsflow::report {

namespace {

std::string fixed(double v, int decimals = 1) {
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

std::string opt_ms(const std::optional<double>& v) { return v ? fixed(*v) + " ms" : std::string("-"); }

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string cut(std::string s, std::size_t width) {
  if (s.size() > width) {
    s.resize(width - 3);
    s += "...";
  }
  return s;
}

std::string csv_field(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string percentile_line(const char* name, const analyze::Percentiles& p) {
  if (p.count == 0) return std::string(name) + ": no calls with this figure\n";
  return std::string(name) + " (" + std::to_string(p.count) + " calls): p50 " + fixed(p.p50) + "  p90 " +
         fixed(p.p90) + "  p99 " + fixed(p.p99) + "  mean " + fixed(p.mean) + "  max " + fixed(p.max) + " ms\n";
}

}  // namespace

std::string render_summary(const analyze::Summary& s, const CaptureFacts& facts) {
  std::string out;
  out += "capture: " + facts.file;
  if (facts.frames) out += " (" + std::to_string(facts.frames) + " frames";
  if (facts.totals) out += ", " + std::to_string(facts.totals->messages) + " SIP messages";
  if (facts.frames) out += ")";
  out += "\n";
  if (!facts.read_error.empty()) out += "warning: reading stopped early: " + facts.read_error + "\n";
  out += "calls: " + std::to_string(s.calls());
  for (std::size_t i = 0; i < static_cast<std::size_t>(analyze::Outcome::kCount); ++i) {
    const auto o = static_cast<analyze::Outcome>(i);
    out += "   " + std::string(analyze::outcome_name(o)) + " " + std::to_string(s.outcome(o));
  }
  out += "\n";
  out += "diagnoses: ";
  bool any = false;
  for (std::size_t i = 0; i < static_cast<std::size_t>(analyze::DiagnosisCode::kCount); ++i) {
    const auto c = static_cast<analyze::DiagnosisCode>(i);
    if (s.diagnosis(c) == 0) continue;
    out += std::string(any ? "   " : "") + std::string(analyze::diagnosis_name(c)) + " " + std::to_string(s.diagnosis(c));
    any = true;
  }
  out += any ? "\n" : "none\n";
  out += "calls without diagnosis: " + std::to_string(s.calls_without_diagnosis()) + "\n";
  out += percentile_line("setup time (INVITE -> 2xx)", s.setup());
  out += percentile_line("post-dial delay (INVITE -> 18x)", s.pdd());
  if (!s.worst().empty()) {
    out += "worst calls:\n";
    for (const analyze::NotableCall& n : s.worst()) {
      std::string codes;
      for (analyze::DiagnosisCode c : n.diagnoses) codes += (codes.empty() ? "" : ",") + std::string(analyze::diagnosis_name(c));
      std::string line = "  " + pad(cut(n.call_id, 36), 36) + " " + pad(std::string(analyze::outcome_name(n.outcome)), 11) +
                         " " + pad(n.final_status ? std::to_string(n.final_status) : std::string("-"), 4) + " " +
                         pad(codes.empty() ? std::string("-") : codes, 24) + " setup " + opt_ms(n.setup_ms);
      out += line + "\n";
      if (!n.explanation.empty()) out += "      " + cut(n.explanation, 94) + "\n";
    }
  }
  if (facts.totals && !facts.totals->non_invite.empty()) {
    out += "Call-IDs without INVITE:";
    for (const auto& [method, n] : facts.totals->non_invite) out += " " + method + " " + std::to_string(n);
    out += "\n";
  }
  if (!facts.skipped.empty()) {
    out += "skipped:";
    std::string line;
    for (const auto& [reason, n] : facts.skipped) out += "\n  " + reason + ": " + std::to_string(n);
    out += "\n";
  }
  return out;
}

Ladder ladder_of(const analyze::CallAnalysis& call) {
  Ladder l;
  // Column names by the node's role on the INVITE's path: UE-A the caller,
  // UE-B the callee (UE-B2 … for forks), proxy-1 … in order of appearance,
  // node-1 … for the others.
  std::size_t callee = 0, proxy = 0, other = 0;
  for (std::size_t i = 0; i < call.nodes.size(); ++i) {
    const std::string role = i < call.node_roles.size() ? call.node_roles[i] : "node";
    std::string name;
    if (role == "caller") name = "UE-A";
    else if (role == "callee") name = ++callee == 1 ? std::string("UE-B") : "UE-B" + std::to_string(callee);
    else if (role == "proxy") name = "proxy-" + std::to_string(++proxy);
    else name = "node-" + std::to_string(++other);
    l.columns.push_back({name, call.nodes[i]});
  }
  for (const analyze::CapturedMessage& m : call.messages) {
    LadderRow r;
    r.at = std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(m.time_ns - call.start_ns));
    r.from = m.src;
    r.to = m.dst;
    r.label = m.label;
    switch (m.kind) {
      case analyze::CopyKind::Retransmission: r.note = "retransmission"; break;
      case analyze::CopyKind::Duplicate: r.note = "duplicate capture"; break;
      case analyze::CopyKind::Copy: r.note = "copy +" + fixed(static_cast<double>(m.hop_delay_ns) / 1e6, 3) + " ms"; break;
      case analyze::CopyKind::Original: break;
    }
    if (call.call_ids.size() > 1) r.note += (r.note.empty() ? "" : ", ") + std::string("leg ") + std::to_string(m.leg + 1);
    if (m.src == m.dst) r.note += (r.note.empty() ? "" : ", ") + m.label + " (to itself)";
    l.rows.push_back(std::move(r));
  }
  return l;
}

std::string render_call(const analyze::CallAnalysis& c) {
  std::string out;
  for (std::size_t i = 0; i < c.call_ids.size(); ++i)
    out += (i == 0 ? "Call-ID: " : "  leg " + std::to_string(i + 1) + ": ") + c.call_ids[i] + "\n";
  if (!c.icid.empty()) out += "icid-value: " + c.icid + "\n";
  if (!c.from.empty()) out += "From " + c.from + " To " + c.to + " (Request-URI " + c.request_uri + ")\n";
  out += "\n" + render_text(ladder_of(c)) + "\n";
  out += "outcome: " + std::string(analyze::outcome_name(c.outcome));
  if (c.final_status) out += " (final " + std::to_string(c.final_status) + " " + c.final_reason + ")";
  out += "\n";
  out += "setup " + opt_ms(c.setup_ms) + ", post-dial delay " + opt_ms(c.pdd_ms) + ", ACK delay " +
         opt_ms(c.ack_delay_ms) + "; " + std::to_string(c.retransmissions) + " retransmissions, " +
         std::to_string(c.copies) + " hop copies\n";
  out += "phases (ms from the INVITE):\n";
  for (std::size_t i = 0; i < c.phases.size(); ++i) {
    const analyze::Phase& p = c.phases[i];
    std::string line = "  " + std::to_string(i + 1) + ". " + pad(p.name, 22);
    if (p.start_ms && p.end_ms) {
      line += pad(fixed(*p.start_ms) + " -> " + fixed(*p.end_ms), 24) + " (" + fixed(*p.duration_ms()) + " ms)";
    } else if (p.start_ms) {
      line += fixed(*p.start_ms) + " -> (not completed)";
    } else {
      line += "-";
    }
    out += line + "\n";
  }
  if (c.hops.size() > 1) {
    out += "hops:\n";
    for (const analyze::HopStats& h : c.hops) {
      out += "  " + c.nodes[h.src] + " -> " + c.nodes[h.dst] + ": " + std::to_string(h.messages) + " messages";
      if (h.retransmissions) out += ", " + std::to_string(h.retransmissions) + " retransmissions";
      if (h.copies) out += ", " + std::to_string(h.copies) + " copies (mean +" + fixed(*h.mean_copy_delay_ms, 3) + " ms)";
      out += "\n";
    }
  }
  out += "checks:\n";
  for (const analyze::Check& k : c.checks)
    out += "  [" + std::string(analyze::check_result_name(k.result)) + "] " +
           pad(std::string(analyze::check_name(k.id)), 30) + k.detail + "\n";
  if (c.diagnoses.empty()) {
    out += "diagnoses: none\n";
  } else {
    out += "diagnoses:\n";
    for (const analyze::Diagnosis& d : c.diagnoses) {
      out += "  " + std::string(analyze::diagnosis_name(d.code)) + ": " + d.explanation + "\n";
      out += "    likely cause: " + d.likely_cause + "\n";
      out += "    where to inspect: " + d.where_to_inspect + "\n";
      out += "    next step: " + d.next_step + "\n";
    }
  }
  return out;
}

std::string csv_header() {
  return "call_id,legs,from,to,outcome,final_status,diagnoses,setup_ms,pdd_ms,ack_delay_ms,messages,retransmissions,"
         "copies,start_s,duration_ms,nodes,explanation\r\n";
}

std::string csv_row(const analyze::CallAnalysis& c) {
  auto num = [](const std::optional<double>& v) { return v ? fixed(*v, 3) : std::string(); };
  std::string codes;
  for (const analyze::Diagnosis& d : c.diagnoses) codes += (codes.empty() ? "" : ";") + std::string(analyze::diagnosis_name(d.code));
  std::string row;
  row += csv_field(c.call_ids.empty() ? "" : c.call_ids.front()) + ",";
  row += std::to_string(c.call_ids.size()) + ",";
  row += csv_field(c.from) + "," + csv_field(c.to) + ",";
  row += std::string(analyze::outcome_name(c.outcome)) + ",";
  row += (c.final_status ? std::to_string(c.final_status) : std::string()) + ",";
  row += csv_field(codes) + ",";
  row += num(c.setup_ms) + "," + num(c.pdd_ms) + "," + num(c.ack_delay_ms) + ",";
  row += std::to_string(c.messages.size()) + "," + std::to_string(c.retransmissions) + "," + std::to_string(c.copies) + ",";
  row += fixed(static_cast<double>(c.start_ns) / 1e9, 6) + ",";
  row += fixed(static_cast<double>(c.end_ns - c.start_ns) / 1e6, 3) + ",";
  row += std::to_string(c.nodes.size()) + ",";
  row += csv_field(c.diagnoses.empty() ? "" : c.diagnoses.front().explanation);
  return row + "\r\n";
}

}  // namespace imsflow::report

#include "report/analysis_html.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ostream>

namespace imsflow::report {

namespace {

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v, int decimals = 1) {
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

// Which arrows a diagnosis rests on, so the page can mark them: the final
// answer of a rejected call, retransmissions (of an un-PRACKed 1xx or an
// un-ACKed 2xx), the BYE of a call released after setup.
std::string mark_for(const analyze::CallAnalysis& c, const analyze::CapturedMessage& m) {
  for (const analyze::Diagnosis& d : c.diagnoses) {
    switch (d.code) {
      case analyze::DiagnosisCode::Rejected:
        if (!m.request && m.method == "INVITE" && m.status == c.final_status) return std::string(analyze::diagnosis_name(d.code));
        break;
      case analyze::DiagnosisCode::PrackMissing:
      case analyze::DiagnosisCode::PrackLate:
        if (!m.request && m.status > 100 && m.status < 200 && m.kind == analyze::CopyKind::Retransmission)
          return std::string(analyze::diagnosis_name(d.code));
        break;
      case analyze::DiagnosisCode::AckMissing:
        if (!m.request && m.method == "INVITE" && m.status >= 200 && m.status < 300) return std::string(analyze::diagnosis_name(d.code));
        break;
      case analyze::DiagnosisCode::ReleasedAfterSetup:
        if (m.request && m.method == "BYE") return std::string(analyze::diagnosis_name(d.code));
        break;
      case analyze::DiagnosisCode::NoProgress:
        if (m.request && (m.method == "INVITE" || m.method == "CANCEL")) return std::string(analyze::diagnosis_name(d.code));
        break;
      default:
        break;
    }
  }
  return {};
}

constexpr const char* kStyle = R"(body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}
.bar{display:inline-block;height:12px;background:#4a7;vertical-align:middle}.bad{background:#c44}
.diag{color:#a00}details{margin:.5em 0}summary{cursor:pointer}svg text{font:11px monospace}
#filter{width:30em;padding:3px})";

// filterCalls() shows the calls whose row contains the filter text and says
// how many; on load it runs once, opens the ladder of a page's only call,
// and marks the body data-ready="1" (the headless-browser test waits for it).
constexpr const char* kScript = R"(function filterCalls(){var q=document.getElementById('filter').value.toLowerCase();
var rows=document.querySelectorAll('#calls tr.call'),n=0;for(var i=0;i<rows.length;i++){
var on=rows[i].textContent.toLowerCase().indexOf(q)>=0;rows[i].style.display=on?'':'none';if(on)n++;}
document.getElementById('shown').textContent=n+' of '+rows.length+' calls';}
document.addEventListener('DOMContentLoaded',function(){filterCalls();
var ladders=document.querySelectorAll('#calls details');if(ladders.length==1)ladders[0].open=true;
document.body.setAttribute('data-ready','1');});)";

}  // namespace

std::string call_svg(const analyze::CallAnalysis& c) {
  // Columns wide enough that every label (with its diagnosis mark) fits over
  // its arrow: 11px monospace is about 7 px a character.
  constexpr int kCharPx = 7;
  int col = 190;
  for (const analyze::CapturedMessage& m : c.messages) {
    const int span = std::abs(static_cast<int>(m.dst) - static_cast<int>(m.src));
    if (span == 0) continue;
    const std::string mark = mark_for(c, m);
    const int chars = static_cast<int>(m.label.size() + (mark.empty() ? 0 : mark.size() + 3));
    col = std::max(col, (chars * kCharPx + 24 + span - 1) / span);
  }
  // The outer columns need only room for their address text.
  int edge = 60;
  for (const std::string& n : c.nodes) edge = std::max(edge, static_cast<int>(n.size()) * kCharPx / 2 + 8);
  const int left = 90, top = 40, row = 22;
  const int width = left + 2 * edge + static_cast<int>(std::max<std::size_t>(c.nodes.size(), 1) - 1) * col;
  const int height = top + static_cast<int>(c.messages.size()) * row + 20;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                  std::to_string(height) + "\">";
  s += "<defs><marker id=\"a\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" orient=\"auto\">"
       "<path d=\"M0,0 L8,4 L0,8 z\"/></marker></defs>";
  auto x_of = [&](std::size_t i) { return left + edge + static_cast<int>(i) * col; };
  for (std::size_t i = 0; i < c.nodes.size(); ++i) {
    const std::string role = i < c.node_roles.size() ? c.node_roles[i] : "node";
    s += "<text x=\"" + std::to_string(x_of(i)) + "\" y=\"14\" text-anchor=\"middle\">" + escape(role) + "</text>";
    s += "<text x=\"" + std::to_string(x_of(i)) + "\" y=\"28\" text-anchor=\"middle\">" + escape(c.nodes[i]) + "</text>";
    s += "<line x1=\"" + std::to_string(x_of(i)) + "\" y1=\"" + std::to_string(top) + "\" x2=\"" +
         std::to_string(x_of(i)) + "\" y2=\"" + std::to_string(height) + "\" stroke=\"#999\"/>";
  }
  for (std::size_t k = 0; k < c.messages.size(); ++k) {
    const analyze::CapturedMessage& m = c.messages[k];
    const int y = top + static_cast<int>(k) * row + 14;
    const std::string mark = mark_for(c, m);
    const char* color = !mark.empty() ? "#c00" : m.kind == analyze::CopyKind::Retransmission ? "#d80" : "#235";
    s += "<text x=\"2\" y=\"" + std::to_string(y) + "\">" + num(static_cast<double>(m.time_ns - c.start_ns) / 1e6, 3) +
         "</text>";
    const int x1 = x_of(m.src), x2 = x_of(m.dst);
    s += "<g><title>" + escape(m.label) + (mark.empty() ? "" : " - " + mark) + "</title>";
    s += "<line x1=\"" + std::to_string(x1) + "\" y1=\"" + std::to_string(y) + "\" x2=\"" + std::to_string(x2) +
         "\" y2=\"" + std::to_string(y) + "\" stroke=\"" + color + "\" marker-end=\"url(#a)\"" +
         (m.kind == analyze::CopyKind::Original ? "" : " stroke-dasharray=\"4 2\"") + "/>";
    s += "<text x=\"" + std::to_string((x1 + x2) / 2) + "\" y=\"" + std::to_string(y - 3) +
         "\" text-anchor=\"middle\" fill=\"" + color + "\">" + escape(m.label) +
         (mark.empty() ? "" : " [" + escape(mark) + "]") + "</text></g>";
  }
  return s + "</svg>";
}

void HtmlReportWriter::open() {
  if (opened_) return;
  out_ << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>imsflow analyze</title><style>"
       << kStyle << "</style><script>" << kScript << "</script></head><body>\n<h1>imsflow analyze</h1>\n"
       << "<p><input id=\"filter\" placeholder=\"filter calls (Call-ID, outcome, diagnosis)\" "
          "oninput=\"filterCalls()\"> <span id=\"shown\"></span></p>\n<table id=\"calls\"><tr><th>Call-ID</th><th>outcome</th><th>final</th>"
          "<th>diagnoses</th><th>setup ms</th><th>ladder</th></tr>\n";
  opened_ = true;
}

void HtmlReportWriter::add(const analyze::CallAnalysis& c) {
  open();
  ++count_;
  std::string codes;
  for (const analyze::Diagnosis& d : c.diagnoses) codes += (codes.empty() ? "" : " ") + std::string(analyze::diagnosis_name(d.code));
  out_ << "<tr class=\"call\"><td>" << escape(c.call_ids.empty() ? "" : c.call_ids.front()) << "</td><td>"
       << analyze::outcome_name(c.outcome) << "</td><td>" << (c.final_status ? std::to_string(c.final_status) : "")
       << "</td><td class=\"diag\">" << escape(codes) << "</td><td>" << (c.setup_ms ? num(*c.setup_ms) : "")
       << "</td><td><details><summary>show</summary>";
  for (const analyze::Diagnosis& d : c.diagnoses)
    out_ << "<p class=\"diag\"><b>" << analyze::diagnosis_name(d.code) << "</b>: " << escape(d.explanation)
         << "<br>where to inspect: " << escape(d.where_to_inspect) << "<br>next step: " << escape(d.next_step)
         << "</p>";
  out_ << call_svg(c) << "</details></td></tr>\n";
}

void HtmlReportWriter::finish(const analyze::Summary& s, const CaptureFacts& facts) {
  open();
  out_ << "</table>\n<h2>Summary</h2>\n<p>" << escape(facts.file) << ": " << s.calls() << " calls</p>\n<table>";
  const double total = s.calls() ? static_cast<double>(s.calls()) : 1.0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(analyze::Outcome::kCount); ++i) {
    const auto o = static_cast<analyze::Outcome>(i);
    const double w = 300.0 * static_cast<double>(s.outcome(o)) / total;
    out_ << "<tr><td>" << analyze::outcome_name(o) << "</td><td>" << s.outcome(o) << "</td><td><span class=\"bar"
         << (o == analyze::Outcome::Established ? "" : " bad") << "\" style=\"width:" << num(w, 0) << "px\"></span></td></tr>";
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(analyze::DiagnosisCode::kCount); ++i) {
    const auto c = static_cast<analyze::DiagnosisCode>(i);
    if (s.diagnosis(c) == 0) continue;
    const double w = 300.0 * static_cast<double>(s.diagnosis(c)) / total;
    out_ << "<tr><td class=\"diag\">" << analyze::diagnosis_name(c) << "</td><td>" << s.diagnosis(c)
         << "</td><td><span class=\"bar bad\" style=\"width:" << num(w, 0) << "px\"></span></td></tr>";
  }
  const analyze::Percentiles p = s.setup();
  out_ << "</table>\n<p>setup time p50 " << num(p.p50) << " ms, p90 " << num(p.p90) << " ms, p99 " << num(p.p99)
       << " ms (" << p.count << " calls)</p>\n";
  if (!facts.skipped.empty()) {
    out_ << "<h2>Skipped input</h2><table>";
    for (const auto& [reason, n] : facts.skipped) out_ << "<tr><td>" << escape(reason) << "</td><td>" << n << "</td></tr>";
    out_ << "</table>";
  }
  out_ << "</body></html>\n";
}

}  // namespace imsflow::report

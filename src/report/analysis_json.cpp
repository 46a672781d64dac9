#include "report/analysis_json.hpp"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

namespace imsflow::report {

namespace {

using nlohmann::json;

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json percentiles_json(const analyze::Percentiles& p) {
  if (p.count == 0)
    return json{{"count", 0}, {"p50", nullptr}, {"p90", nullptr}, {"p99", nullptr}, {"mean", nullptr}, {"max", nullptr}};
  return json{{"count", p.count}, {"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"mean", p.mean}, {"max", p.max}};
}

// JSON text written straight into a string, compact as json::dump(-1)
// writes it (no spaces, object keys in the order given: the callers list
// them sorted, as nlohmann's std::map orders them, so the output is the
// one the schema documents). A call is rendered for every call of a
// capture, with an object per captured message: building nlohmann::json
// trees for them cost ten times the analysis itself.
class JsonText {
 public:
  explicit JsonText(std::string& out) : out_(out) {}

  JsonText& begin_object() { return open('{'); }
  JsonText& end_object() { return close('}'); }
  JsonText& begin_array() { return open('['); }
  JsonText& end_array() { return close(']'); }
  JsonText& key(std::string_view k) {
    separate();
    quoted(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonText& value(std::string_view v) {
    separate();
    quoted(v);
    return *this;
  }
  JsonText& value(const std::string& v) { return value(std::string_view(v)); }
  JsonText& value(const char* v) { return value(std::string_view(v)); }
  JsonText& value(bool v) {
    separate();
    out_ += v ? "true" : "false";
    return *this;
  }
  JsonText& value(std::uint64_t v) {
    separate();
    char b[24];
    out_.append(b, std::to_chars(b, b + sizeof b, v).ptr);
    return *this;
  }
  JsonText& value(std::uint32_t v) { return value(static_cast<std::uint64_t>(v)); }
  JsonText& value(int v) {
    separate();
    char b[16];
    out_.append(b, std::to_chars(b, b + sizeof b, v).ptr);
    return *this;
  }
  // As nlohmann writes a double: the shortest text that reads back to the
  // same value, in fixed notation with ".0" when it is integral, in
  // exponent notation below 1e-4 or from 1e15 on.
  JsonText& value(double v) {
    separate();
    if (!std::isfinite(v)) {
      out_ += "null";
      return *this;
    }
    char b[64];
    const double a = std::fabs(v);
    const bool exponent = a != 0 && (a < 1e-4 || a >= 1e15);
    char* end = std::to_chars(b, b + sizeof b, v, exponent ? std::chars_format::scientific : std::chars_format::fixed).ptr;
    out_.append(b, end);
    if (!exponent && std::string_view(b, static_cast<std::size_t>(end - b)).find('.') == std::string_view::npos)
      out_ += ".0";
    return *this;
  }
  JsonText& null() {
    separate();
    out_ += "null";
    return *this;
  }
  JsonText& value(const std::optional<double>& v) { return v ? value(*v) : null(); }
  /// A number, or null when it is 0 (a status not seen).
  JsonText& status(int v) { return v ? value(v) : null(); }
  /// A string, or null when it is empty.
  JsonText& text_or_null(const std::string& v) { return v.empty() ? null() : value(v); }
  JsonText& strings(const std::vector<std::string>& v) {
    begin_array();
    for (const std::string& x : v) value(x);
    return end_array();
  }

 private:
  JsonText& open(char c) {
    separate();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  JsonText& close(char c) {
    out_ += c;
    first_.pop_back();
    return *this;
  }
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
  // RFC 8259 §7 escapes, as nlohmann writes them (\u00XX lowercase for the
  // other control characters); bytes that are not UTF-8 become U+FFFD, as
  // json::error_handler_t::replace does.
  void quoted(std::string_view s) {
    out_ += '"';
    std::size_t i = 0;
    while (i < s.size()) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x80) {
        const std::size_t n = utf8_length(s.substr(i));
        if (n == 0) {
          out_ += "\xEF\xBF\xBD";
          ++i;
        } else {
          out_.append(s.substr(i, n));
          i += n;
        }
        continue;
      }
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (c < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            out_ += "\\u00";
            out_ += kHex[c >> 4];
            out_ += kHex[c & 0xF];
          } else {
            out_ += static_cast<char>(c);
          }
      }
      ++i;
    }
    out_ += '"';
  }
  // The length of the well-formed UTF-8 sequence at the start of `s`
  // (RFC 3629 §4: no overlongs, no surrogates, nothing past U+10FFFF), 0 if none.
  static std::size_t utf8_length(std::string_view s) {
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const auto cont = [&](std::size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
      return i < s.size() && b(i) >= lo && b(i) <= hi;
    };
    const unsigned c = b(0);
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
    if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    return 0;
  }

  std::string& out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

// Keys in each object are listed in sorted order (see JsonText).
void write_call(JsonText& j, const analyze::CallAnalysis& c) {
  j.begin_object();
  j.key("ack_delay_ms").value(c.ack_delay_ms);
  j.key("call_id").value(c.call_ids.empty() ? std::string() : c.call_ids.front());
  j.key("call_ids").strings(c.call_ids);
  j.key("checks").begin_array();
  for (const analyze::Check& k : c.checks) {
    j.begin_object();
    j.key("detail").value(k.detail);
    j.key("id").value(analyze::check_name(k.id));
    j.key("result").value(analyze::check_result_name(k.result));
    j.end_object();
  }
  j.end_array();
  j.key("copies").value(c.copies);
  j.key("diagnoses").begin_array();
  for (const analyze::Diagnosis& d : c.diagnoses) j.value(analyze::diagnosis_name(d.code));
  j.end_array();
  j.key("diagnosis_details").begin_array();
  for (const analyze::Diagnosis& d : c.diagnoses) {
    j.begin_object();
    j.key("code").value(analyze::diagnosis_name(d.code));
    j.key("explanation").value(d.explanation);
    j.key("likely_cause").value(d.likely_cause);
    j.key("next_step").value(d.next_step);
    j.key("status").status(d.status);
    j.key("where_to_inspect").value(d.where_to_inspect);
    j.end_object();
  }
  j.end_array();
  j.key("dialogs").begin_array();
  for (const analyze::Dialog& d : c.dialogs) {
    j.begin_object();
    j.key("acked").value(d.acked);
    j.key("final_status").status(d.final_status);
    j.key("first_status").value(d.first_status);
    j.key("reliable").value(d.reliable);
    j.key("to_tag").value(d.to_tag);
    j.end_object();
  }
  j.end_array();
  j.key("duration_ms").value(static_cast<double>(c.end_ns - c.start_ns) / 1e6);
  j.key("ended_by_timeout").value(c.ended_by_timeout);
  j.key("final_reason").value(c.final_reason);
  j.key("final_status").status(c.final_status);
  j.key("from").value(c.from);
  j.key("hops").begin_array();
  for (const analyze::HopStats& h : c.hops) {
    j.begin_object();
    j.key("copies").value(h.copies);
    j.key("dst").value(c.nodes[h.dst]);
    j.key("mean_copy_delay_ms").value(h.mean_copy_delay_ms);
    j.key("messages").value(h.messages);
    j.key("retransmissions").value(h.retransmissions);
    j.key("src").value(c.nodes[h.src]);
    j.end_object();
  }
  j.end_array();
  j.key("icid").text_or_null(c.icid);
  j.key("messages").begin_array();
  for (const analyze::CapturedMessage& m : c.messages) {
    j.begin_object();
    j.key("dst").value(c.nodes[m.dst]);
    j.key("frame").value(m.frame);
    if (m.kind == analyze::CopyKind::Copy) j.key("hop_delay_ms").value(static_cast<double>(m.hop_delay_ns) / 1e6);
    j.key("kind").value(analyze::copy_kind_name(m.kind));
    j.key("label").value(m.label);
    j.key("leg").value(m.leg);
    j.key("retransmission").value(m.kind == analyze::CopyKind::Retransmission);
    j.key("src").value(c.nodes[m.src]);
    j.key("t").value(static_cast<double>(m.time_ns - c.start_ns) / 1e6);
    j.key("transaction").value(m.transaction);
    j.key("transport").value(m.transport);
    j.end_object();
  }
  j.end_array();
  j.key("nodes").begin_array();
  for (std::size_t i = 0; i < c.nodes.size(); ++i) {
    j.begin_object();
    j.key("address").value(c.nodes[i]);
    j.key("role").value(i < c.node_roles.size() ? c.node_roles[i] : std::string("node"));
    j.end_object();
  }
  j.end_array();
  const analyze::OfferAnswerFacts& oa = c.offer_answer;
  j.key("offer_answer").begin_object();
  j.key("answer_in").text_or_null(oa.answer_in);
  j.key("answered_codecs").strings(oa.answered_codecs);
  j.key("common_codecs").strings(oa.common_codecs);
  j.key("failure").text_or_null(oa.failure);
  j.key("offer_in").text_or_null(oa.offer_in);
  j.key("offered_codecs").strings(oa.offered_codecs);
  j.end_object();
  j.key("outcome").value(analyze::outcome_name(c.outcome));
  j.key("pdd_ms").value(c.pdd_ms);
  j.key("phases").begin_array();
  for (const analyze::Phase& p : c.phases) {
    j.begin_object();
    j.key("duration_ms").value(p.duration_ms());
    j.key("end_ms").value(p.end_ms);
    j.key("name").value(p.name);
    j.key("start_ms").value(p.start_ms);
    j.end_object();
  }
  j.end_array();
  j.key("request_uri").value(c.request_uri);
  j.key("retransmissions").value(c.retransmissions);
  j.key("setup_ms").value(c.setup_ms);
  j.key("start").value(static_cast<double>(c.start_ns) / 1e9);
  j.key("to").value(c.to);
  j.key("transactions").begin_array();
  for (const analyze::Transaction& t : c.transactions) {
    j.begin_object();
    j.key("branch").value(t.branch);
    j.key("cseq").value(t.cseq);
    j.key("final_status").status(t.final_status);
    j.key("leg").value(t.leg);
    j.key("method").value(t.method);
    j.key("request_retransmissions").value(t.request_retransmissions);
    j.key("response_retransmissions").value(t.response_retransmissions);
    j.key("statuses").begin_array();
    for (int st : t.statuses) j.value(st);
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.end_object();
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
  std::string out;
  JsonText j(out);
  write_call(j, call);
  return out;
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

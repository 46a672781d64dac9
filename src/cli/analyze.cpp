#include "cli/analyze.hpp"

#include <unistd.h>

#include <fstream>
#include <optional>
#include <ostream>

#include "analyze/analyzer.hpp"
#include "analyze/summary.hpp"
#include "report/analysis_html.hpp"
#include "report/analysis_json.hpp"
#include "report/analysis_text.hpp"
#include "trace/capture_reader.hpp"

namespace imsflow::cli {

int run_analyze(const AnalyzeOptions& o, std::ostream& out, std::ostream& err) {
  if (o.json && !o.ladder.empty()) {
    err << "imsflow analyze: --json and --ladder both write to standard output; choose one\n";
    return 2;
  }
  std::ofstream csv, html;
  if (!o.csv.empty()) {
    csv.open(o.csv, std::ios::binary | std::ios::trunc);
    if (!csv) {
      err << "imsflow analyze: cannot write " << o.csv << "\n";
      return 2;
    }
    csv << report::csv_header();
  }
  if (!o.html.empty()) {
    html.open(o.html, std::ios::binary | std::ios::trunc);
    if (!html) {
      err << "imsflow analyze: cannot write " << o.html << "\n";
      return 2;
    }
  }

  analyze::Summary summary;
  std::optional<report::JsonReportWriter> json;
  if (o.json) json.emplace(out);
  std::optional<report::HtmlReportWriter> page;
  if (html.is_open()) page.emplace(html);
  std::optional<analyze::CallAnalysis> wanted;

  analyze::AnalyzerOptions options;
  options.quiet_timeout_ns = static_cast<std::int64_t>(o.quiet_timeout_s * 1e9);
  // The summary alone needs no per-message records.
  options.keep_messages = o.json || !o.ladder.empty() || !o.csv.empty() || !o.html.empty();
  analyze::Analyzer analyzer(
      [&](analyze::CallAnalysis& call) {
        summary.add(call);
        if (json) json->add(call);
        if (csv.is_open()) csv << report::csv_row(call);
        if (page) page->add(call);
        if (!o.ladder.empty() && !wanted) {
          for (const std::string& id : call.call_ids)
            if (id == o.ladder) wanted = std::move(call);
        }
      },
      options);

  const bool progress = o.progress || isatty(STDERR_FILENO) == 1;
  std::uint64_t next_progress = 1'000'000;
  trace::Decoder* decoder_ptr = nullptr;
  trace::Decoder decoder([&](const trace::SipPacket& p) {
    analyzer.add(p);
    if (progress && analyzer.totals().messages >= next_progress) {
      next_progress += 1'000'000;
      err << "imsflow analyze: " << (decoder_ptr ? decoder_ptr->frames() : 0) << " frames, "
          << analyzer.totals().messages << " SIP messages, " << analyzer.totals().calls << " calls finished, "
          << analyzer.open_calls() << " open\n";
    }
  });
  decoder_ptr = &decoder;
  auto r = trace::read_capture(o.file, decoder);
  if (!r) {
    err << "imsflow analyze: " << r.error().describe() << "\n";
    return 2;
  }
  analyzer.finish();

  report::CaptureFacts facts;
  facts.file = o.file;
  facts.frames = r->frames;
  facts.totals = &analyzer.totals();
  facts.skipped = decoder.skipped().by_name();
  facts.read_error = r->read_error;
  if (!r->read_error.empty()) err << "imsflow analyze: warning: " << r->read_error << "\n";

  if (page) page->finish(summary, facts);
  if (json) json->finish(summary, facts);
  if ((csv.is_open() && !csv.flush()) || (html.is_open() && !html.flush())) {
    err << "imsflow analyze: writing an output file failed\n";
    return 2;
  }
  if (!o.ladder.empty()) {
    if (!wanted) {
      err << "imsflow analyze: no call with Call-ID " << o.ladder << " (and an INVITE) in " << o.file << "\n";
      return 1;
    }
    out << report::render_call(*wanted);
    return 0;
  }
  if (!o.json) out << report::render_summary(summary, facts);
  return 0;
}

}  // namespace imsflow::cli

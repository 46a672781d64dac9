// `imsflow analyze`: reads a capture, rebuilds every call and prints what
// went wrong with each, as a terminal summary, one call's ladder, JSON, CSV
// or an HTML page. The work is trace/ (decoding), analyze/ (facts) and
// report/ (layout); this file wires them and handles files.
#pragma once

#include <iosfwd>
#include <string>

namespace imsflow::cli {

struct AnalyzeOptions {
  std::string file;          // a pcap/pcapng path, "-" for standard input
  bool json = false;         // JSON on standard output instead of the summary
  std::string ladder;        // a Call-ID: print that call in full instead
  std::string csv;           // write one row per call here
  std::string html;          // write a self-contained page here
  double quiet_timeout_s = 300;  // finalize a call after this much silence
  bool progress = false;     // force progress lines on stderr (default: when stderr is a terminal)
};

/// Exit status: 0 the capture was analyzed (whatever the calls' outcomes),
/// 1 the --ladder Call-ID is not in the capture, 2 usage or I/O error (the
/// file is not a capture, an output cannot be written).
int run_analyze(const AnalyzeOptions& options, std::ostream& out, std::ostream& err);

}  // namespace imsflow::cli

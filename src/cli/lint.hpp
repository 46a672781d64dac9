// `imsflow lint`: the verdict on SIP messages in files, as a person or a
// script reads it. The checking itself is sip::parse, sip::check_request and
// sdp::parse; this file only wires them and prints.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imsflow::cli {

struct LintVerdict {
  bool valid = false;
  std::string reason;                    // empty when valid and nothing is due
  std::optional<std::uint32_t> offset;   // byte offset of the fault in the input
  std::string header;                    // the header at fault
  std::optional<int> response;           // the status a UAS would send
  std::vector<std::string> unsupported;  // with a 420
  std::vector<std::string> warnings;     // tolerated defects (malformed P- headers)
};

/// The verdict on one message (the whole input is one datagram or file).
LintVerdict lint_message(std::string_view bytes);

struct LintOptions {
  std::vector<std::string> files;  // "-" is standard input
  bool json = false;
};

/// Lints every file; returns the exit status (0 all valid, 1 any invalid,
/// 2 a file could not be read).
int run_lint(const LintOptions& options, std::ostream& out, std::ostream& err);

}  // namespace imsflow::cli

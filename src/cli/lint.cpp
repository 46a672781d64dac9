#include "cli/lint.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sdp/precondition.hpp"
#include "sdp/session.hpp"
#include "sip/builder.hpp"
#include "sip/parser.hpp"
#include "sip/verdict.hpp"

namespace imsflow::cli {

LintVerdict lint_message(std::string_view bytes) {
  LintVerdict v;
  sip::Message msg;
  auto parsed = sip::parse(bytes, msg, sip::ParseMode::Datagram);
  if (!parsed) {
    const sip::ParseError& e = parsed.error();
    v.reason = e.describe();
    v.offset = e.offset;
    v.header = std::string(e.header_name);
    v.response = sip::response_for(e);
    return v;
  }
  for (const sip::HeaderDefect& d : msg.defects()) {
    v.warnings.push_back(fmt::format("{}: expected {} at byte {} (kept as text)", sip::canonical_name(d.header),
                                     d.expected, d.offset));
  }
  // The body, when it is SDP.
  const sip::ParamValue* ct = msg.content_type();
  if (ct && ascii::iequals(ct->value, "application/sdp") && !msg.body().empty()) {
    const std::uint32_t body_at = msg.offset_in_input() + static_cast<std::uint32_t>(msg.body().data() - msg.bytes().data());
    auto sdp = sdp::parse(msg.body());
    std::string problem;
    std::uint32_t at = body_at;
    if (!sdp) {
      problem = sdp.error().describe();
      at += sdp.error().offset;
    } else {
      for (const sdp::Media& m : sdp->media) {
        auto pre = sdp::read_preconditions(m);
        if (!pre.error.empty()) {
          problem = "SDP precondition line: " + pre.error;
          break;
        }
      }
    }
    if (!problem.empty()) {
      v.reason = problem;
      v.offset = at;
      v.header = "Content-Type";
      if (msg.is_request()) v.response = 400;
      return v;
    }
  }
  v.valid = true;
  if (msg.is_request()) {
    if (auto required = sip::check_request(msg, sip::ElementProfile::ims_default())) {
      v.response = required->status;
      v.reason = required->reason;
      v.unsupported = required->unsupported;
    }
  }
  return v;
}

namespace {

std::string response_text(int status) {
  return fmt::format("{} {}", status, sip::default_reason_phrase(status));
}

std::optional<std::string> read_input(const std::string& file, std::string& error) {
  std::ostringstream buf;
  if (file == "-") {
    buf << std::cin.rdbuf();
    return buf.str();
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = fmt::format("cannot open '{}': {}", file, std::strerror(errno));
    return std::nullopt;
  }
  buf << in.rdbuf();
  if (in.bad()) {
    error = fmt::format("cannot read '{}'", file);
    return std::nullopt;
  }
  return buf.str();
}

}  // namespace

int run_lint(const LintOptions& options, std::ostream& out, std::ostream& err) {
  bool any_invalid = false;
  bool io_error = false;
  nlohmann::json results = nlohmann::json::array();
  for (const std::string& file : options.files) {
    std::string problem;
    auto bytes = read_input(file, problem);
    if (!bytes) {
      err << "imsflow lint: " << problem << '\n';
      io_error = true;
      continue;
    }
    const LintVerdict v = lint_message(*bytes);
    any_invalid |= !v.valid;
    if (options.json) {
      nlohmann::json j;
      j["file"] = file;
      j["verdict"] = v.valid ? "valid" : "invalid";
      j["reason"] = v.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.reason);
      j["offset"] = v.offset ? nlohmann::json(*v.offset) : nlohmann::json(nullptr);
      j["header"] = v.header.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.header);
      j["response"] = v.response ? nlohmann::json(*v.response) : nlohmann::json(nullptr);
      if (!v.unsupported.empty()) j["unsupported"] = v.unsupported;
      if (!v.warnings.empty()) j["warnings"] = v.warnings;
      results.push_back(std::move(j));
      continue;
    }
    if (v.valid) {
      out << file << ": valid";
      if (v.response) out << "; a UAS answers " << response_text(*v.response) << ": " << v.reason;
      for (const std::string& w : v.warnings) out << "; warning: " << w;
      out << '\n';
    } else {
      out << file << ": invalid: " << v.reason;
      if (v.response) out << " (a UAS answers " << response_text(*v.response) << ")";
      else out << " (a response is dropped, no answer is sent)";
      out << '\n';
    }
  }
  if (options.json) out << results.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  if (io_error) return 2;
  return any_invalid ? 1 : 0;
}

}  // namespace imsflow::cli

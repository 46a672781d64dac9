// Verdicts: is a message well formed, and if it is a request, what must the
// element that receives it answer (RFC 3261 §8.2 and §16.3, RFC 3262, RFC 4475).
// The wire answer is a separate mapping from the parse error, as STYLE.md asks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"
#include "sip/parser.hpp"

namespace imsflow::sip {

/// What the receiving element understands. The default is imsflow's IMS
/// element (UE / P-CSCF): SIP, SIPS and tel URIs; the VoLTE methods; 100rel,
/// precondition, timer, path, sec-agree …; SDP and the IMS XML bodies.
struct ElementProfile {
  std::vector<std::string> schemes;
  std::vector<std::string> methods;
  std::vector<std::string> option_tags;
  std::vector<std::string> body_types;
  bool forwards_requests = true;  // a proxy hop: Max-Forwards 0 gets 483

  static const ElementProfile& ims_default();
};

/// The response an element must send, with the reason and header it needs.
struct RequiredResponse {
  int status = 0;
  std::string reason;                  // why, in one sentence
  std::vector<std::string> unsupported;  // 420: the option tags for Unsupported
};

/// The status a UAS sends for a request that failed to parse, or nullopt when
/// none is due (responses are dropped, RFC 3261 §18.1.2; garbage gets nothing).
std::optional<int> response_for(const ParseError& e);

/// Checks a well-formed request against the element's capabilities, in the
/// order of RFC 3261 §16.3 (Max-Forwards) then §8.2.1–§8.2.3 (method, URI
/// scheme, Require/Proxy-Require, content). nullopt when it would be processed.
std::optional<RequiredResponse> check_request(const Message& request, const ElementProfile& profile);

}  // namespace imsflow::sip

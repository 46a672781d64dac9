#include "sip/status.hpp"

namespace imsflow::sip {

std::string_view likely_cause(int status) {
  switch (status) {
    case 400: return "malformed request";
    case 401:
    case 407: return "authentication required";
    case 403: return "refused by policy or identity (not registered, not allowed)";
    case 404: return "unknown callee: no such public identity";
    case 405: return "method not allowed there";
    case 408: return "no final answer in time somewhere on the path";
    case 420: return "an extension in Require is not supported";
    case 422: return "session interval too small";
    case 423: return "registration interval too brief";
    case 480: return "callee not registered or not reachable now";
    case 481: return "no such dialog or transaction";
    case 482: return "loop or merged request";
    case 483: return "too many hops: a routing loop";
    case 486:
    case 600: return "callee busy";
    case 487: return "cancelled before an answer";
    case 488:
    case 606: return "codec or media mismatch with the offer";
    case 491: return "offer glare: retry after a pause";
    case 500: return "server error (may name a Retry-After)";
    case 502: return "bad gateway: a downstream node answered nonsense";
    case 503: return "overload or service unavailable (see Retry-After)";
    case 504: return "timeout downstream (a reliable provisional never PRACKed, or no answer)";
    case 580: return "preconditions not met: QoS resources not reserved";
    case 603: return "declined by the callee";
    default: break;
  }
  if (status >= 600) return "global failure";
  if (status >= 500) return "server failure";
  if (status >= 400) return "request failure";
  if (status >= 300) return "redirection";
  return {};
}

}  // namespace imsflow::sip

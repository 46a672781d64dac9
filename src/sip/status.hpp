// What a final status usually means on the VoLTE path: the "likely cause"
// column of a troubleshooting table, for logs, the demo and the analyzer.
#pragma once

#include <string_view>

namespace imsflow::sip {

/// A short phrase for a final response status ("codec or media mismatch
/// with the offer" for 488); a class-level phrase for codes it does not
/// know, empty below 300.
std::string_view likely_cause(int status);

}  // namespace imsflow::sip

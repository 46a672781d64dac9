// Shared pieces of the benchmark binary: the sample messages and the entry
// points of the peer-library benchmarks (libosip2, sofia-sip), which live in
// their own files so their C headers stay out of the imsflow one.
#pragma once

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace imsflow::bench {

struct Sample {
  std::string name;   // file stem, e.g. "invite_sdp"
  std::string bytes;  // the whole file: start line, headers, empty line, body
};

/// Every file of tests/data/messages, sorted by name.
std::vector<Sample> load_messages();

/// The To-tag every build-200 benchmark adds, so the outputs have the same size.
inline constexpr const char* kToTag = "as83kd9";

// libosip2: osip_message_parse, then sdp_message_parse of the body.
void osip_parse_full(benchmark::State& state, const std::string& bytes);
// The same for one message: nullptr when it went through, else why not;
// `text_only` (if given) gets the headers kept as name/value text.
const char* osip_parse_full_once(const std::string& bytes, int* text_only = nullptr);
// libosip2: a 200 built from the parsed INVITE's typed headers, then osip_message_to_str.
void osip_build_200_from_invite(benchmark::State& state, const std::string& bytes);

// sofia-sip: msg_make with the extended SIP mclass, then sdp_parse of the body.
void sofia_parse_full(benchmark::State& state, const std::string& bytes);
// The same for one message, as osip_parse_full_once().
const char* sofia_parse_full_once(const std::string& bytes, int* text_only = nullptr);
// sofia-sip: the same parse with MSG_DO_EXTRACT_COPY (each header's text copied).
void sofia_parse_full_extract_copy(benchmark::State& state, const std::string& bytes);
// sofia-sip: a 200 built with sip_add_dup of the parsed INVITE's headers, then encoded.
void sofia_build_200_from_invite(benchmark::State& state, const std::string& bytes);

}  // namespace imsflow::bench

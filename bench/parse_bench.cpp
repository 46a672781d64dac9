// Parser, serializer and builder benchmarks over tests/data/messages, with the
// same work done by libosip2 and sofia-sip next to each imsflow figure
// (peer_osip_bench.cpp, peer_sofia_bench.cpp). BENCHMARKS.md has the figures.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "samples.hpp"
#include "sdp/session.hpp"
#include "sip/builder.hpp"
#include "sip/header_id.hpp"
#include "sip/parser.hpp"

namespace imsflow::bench {

std::vector<Sample> load_messages() {
  std::vector<Sample> out;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(IMSFLOW_TEST_DATA_DIR) / "messages")) {
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    out.push_back({e.path().stem().string(), s.str()});
  }
  std::sort(out.begin(), out.end(), [](const Sample& a, const Sample& b) { return a.name < b.name; });
  return out;
}

namespace {

/// Headers imsflow keeps only as text (unknown names and free-text grammars),
/// reported as a counter so the peers' equivalent counts can be set beside it.
std::size_t text_only_headers(const sip::Message& msg) {
  std::size_t n = 0;
  for (const sip::HeaderField& f : msg.headers()) {
    if (sip::header_info(f.id).grammar == sip::HeaderGrammar::Text) ++n;
  }
  return n;
}

/// Full parse of one message: start line, every header into its typed form,
/// and the SDP body. nullptr when it went through, else what failed.
[[gnu::always_inline]] inline const char* parse_full_once(const std::string& bytes, sip::Message& msg) {
  if (!sip::parse(bytes, msg)) return "sip::parse failed";
  if (msg.content_type() && !msg.body().empty()) {
    auto sdp = sdp::parse(msg.body());
    if (!sdp) return "sdp::parse failed";
    benchmark::DoNotOptimize(sdp);
  }
  benchmark::DoNotOptimize(msg);
  return nullptr;
}

void parse_full(benchmark::State& state, const std::string& bytes) {
  sip::Message msg;
  for (auto _ : state) {
    if (const char* why = parse_full_once(bytes, msg)) {
      state.SkipWithError(why);
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
  if (sip::parse(bytes, msg)) {
    state.counters["headers"] = static_cast<double>(msg.headers().size());
    state.counters["text_only"] = static_cast<double>(text_only_headers(msg));
  }
}

/// The two halves of parse_full, to see where its time goes.
void parse_sip_only(benchmark::State& state, const std::string& bytes) {
  sip::Message msg;
  for (auto _ : state) {
    if (!sip::parse(bytes, msg)) {
      state.SkipWithError("sip::parse failed");
      break;
    }
    benchmark::DoNotOptimize(msg);
  }
}

void parse_sdp_only(benchmark::State& state, const std::string& bytes) {
  sip::Message msg;
  if (!sip::parse(bytes, msg) || msg.body().empty()) {
    state.SkipWithError("no body to parse");
    return;
  }
  for (auto _ : state) {
    auto sdp = sdp::parse(msg.body());
    if (!sdp) {
      state.SkipWithError("sdp::parse failed");
      break;
    }
    benchmark::DoNotOptimize(sdp);
  }
}

/// Every message of tests/data/messages in turn, one iteration parsing them
/// all, as a proxy sees a mix rather than one message over and over. Against
/// the sum of the messages' own BM_ParseFull times it shows what moving from
/// one kind of message to the next costs (branch history, caches).
/// `parse_once(bytes)` is one library's full parse: nullptr, or what failed.
template <class ParseOnce>
void parse_full_mixed(benchmark::State& state, const std::vector<Sample>& samples, ParseOnce&& parse_once) {
  std::size_t bytes = 0;
  for (const Sample& s : samples) bytes += s.bytes.size();
  for (auto _ : state) {
    for (const Sample& s : samples) {
      if (const char* why = parse_once(s.bytes)) {
        state.SkipWithError(why);
        return;
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * samples.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void serialize_copy(benchmark::State& state, const std::string& bytes) {
  sip::Message msg;
  if (!sip::parse(bytes, msg)) {
    state.SkipWithError("sip::parse failed");
    return;
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    sip::MessageBuilder::copy_of(msg).serialize_to(out);
    benchmark::DoNotOptimize(out.data());
  }
  if (out != msg.bytes()) state.SkipWithError("the copy differs from the parsed bytes");
}

void build_200_from_invite(benchmark::State& state, const std::string& bytes) {
  sip::Message msg;
  if (!sip::parse(bytes, msg)) {
    state.SkipWithError("sip::parse failed");
    return;
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    sip::MessageBuilder::response_to(msg, 200, kToTag).serialize_to(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["out_bytes"] = static_cast<double>(out.size());
}

// Registered in this order so each message's figures sit together in the
// output: imsflow, sofia-sip, libosip2.
const bool registered = [] {
  const std::vector<Sample> samples = load_messages();
  benchmark::RegisterBenchmark("BM_ParseFullMixed", [samples](benchmark::State& state) {
    sip::Message msg;
    parse_full_mixed(state, samples, [&msg](const std::string& b) { return parse_full_once(b, msg); });
  });
  benchmark::RegisterBenchmark("BM_ParseFullMixed_sofia", [samples](benchmark::State& state) {
    parse_full_mixed(state, samples, [](const std::string& b) { return sofia_parse_full_once(b); });
  });
  benchmark::RegisterBenchmark("BM_ParseFullMixed_osip", [samples](benchmark::State& state) {
    parse_full_mixed(state, samples, [](const std::string& b) { return osip_parse_full_once(b); });
  });
  for (const Sample& s : samples) {
    benchmark::RegisterBenchmark(("BM_ParseFull/" + s.name).c_str(), parse_full, s.bytes);
    benchmark::RegisterBenchmark(("BM_ParseFull_sofia/" + s.name).c_str(), sofia_parse_full, s.bytes);
    benchmark::RegisterBenchmark(("BM_ParseFull_osip/" + s.name).c_str(), osip_parse_full, s.bytes);
    benchmark::RegisterBenchmark(("BM_SerializeCopy/" + s.name).c_str(), serialize_copy, s.bytes);
    if (s.name == "invite_sdp") {
      benchmark::RegisterBenchmark("BM_ParseSipOnly/invite_sdp", parse_sip_only, s.bytes);
      benchmark::RegisterBenchmark("BM_ParseSdpOnly/invite_sdp", parse_sdp_only, s.bytes);
      benchmark::RegisterBenchmark("BM_ParseFull_sofia_extract_copy/invite_sdp", sofia_parse_full_extract_copy,
                                   s.bytes);
      benchmark::RegisterBenchmark("BM_Build200FromInvite/invite_sdp", build_200_from_invite, s.bytes);
      benchmark::RegisterBenchmark("BM_Build200FromInvite_sofia/invite_sdp", sofia_build_200_from_invite, s.bytes);
      benchmark::RegisterBenchmark("BM_Build200FromInvite_osip/invite_sdp", osip_build_200_from_invite, s.bytes);
    }
  }
  return true;
}();

}  // namespace
}  // namespace imsflow::bench

BENCHMARK_MAIN();

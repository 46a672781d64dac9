// Parser, serializer and builder benchmarks over tests/data/messages.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sdp/session.hpp"
#include "sip/builder.hpp"
#include "sip/parser.hpp"

namespace {

using namespace imsflow;

struct Sample {
  std::string name;
  std::string bytes;
};

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

/// Full parse: start line, every header into its typed form, and the SDP body.
void parse_full(benchmark::State& state, const std::string& bytes) {
  sip::Message msg;
  for (auto _ : state) {
    auto r = sip::parse(bytes, msg);
    if (!r) state.SkipWithError("parse failed");
    if (msg.content_type() && !msg.body().empty()) {
      auto sdp = sdp::parse(msg.body());
      benchmark::DoNotOptimize(sdp);
    }
    benchmark::DoNotOptimize(msg);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}

void serialize_copy(benchmark::State& state, const std::string& bytes) {
  sip::Message msg;
  (void)sip::parse(bytes, msg);
  std::string out;
  for (auto _ : state) {
    out.clear();
    sip::MessageBuilder::copy_of(msg).serialize_to(out);
    benchmark::DoNotOptimize(out.data());
  }
}

void build_200_from_invite(benchmark::State& state, const std::string& bytes) {
  sip::Message msg;
  (void)sip::parse(bytes, msg);
  std::string out;
  for (auto _ : state) {
    out.clear();
    sip::MessageBuilder::response_to(msg, 200, "as83kd9").serialize_to(out);
    benchmark::DoNotOptimize(out.data());
  }
}

const bool registered = [] {
  for (const Sample& s : load_messages()) {
    benchmark::RegisterBenchmark(("BM_ParseFull/" + s.name).c_str(), parse_full, s.bytes);
    benchmark::RegisterBenchmark(("BM_SerializeCopy/" + s.name).c_str(), serialize_copy, s.bytes);
    if (s.name == "invite_sdp") benchmark::RegisterBenchmark("BM_Build200FromInvite/invite_sdp", build_200_from_invite, s.bytes);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();

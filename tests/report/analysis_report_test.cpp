// The renderers of an analysis: the ladder read back from a simulated call's
// capture is the ladder the simulator printed; the summary fits a terminal;
// JSON follows docs/analyze.schema.json; CSV has one row per call.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "analyze/analyzer.hpp"
#include "analyze/summary.hpp"
#include "cli/analyze.hpp"
#include "cli/sim.hpp"
#include "report/analysis_html.hpp"
#include "report/analysis_json.hpp"
#include "report/analysis_text.hpp"
#include "shared_data.hpp"

namespace imsflow::report {
namespace {

struct Simulated {
  std::string printed;  // what `imsflow sim` printed
  std::filesystem::path pcap;
};

Simulated simulate(const std::string& scenario) {
  const auto dir = std::filesystem::temp_directory_path() / ("imsflow-report-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Simulated s;
  s.pcap = dir / (scenario + ".pcap");
  cli::SimOptions o;
  o.scenario = scenario;
  o.pcap = s.pcap.string();
  std::ostringstream out, err;
  EXPECT_EQ(cli::run_sim(o, out, err), 0) << err.str();
  s.printed = out.str();
  return s;
}

// The ladder part of a text: the two header lines and the rows.
std::string ladder_part(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  bool in_ladder = false;
  while (std::getline(in, line)) {
    if (line.rfind("    time ms", 0) == 0) in_ladder = true;
    else if (in_ladder && line.empty()) break;
    if (in_ladder) out += line + "\n";
  }
  return out;
}

class ReadBack : public ::testing::TestWithParam<const char*> {};

TEST_P(ReadBack, LadderFromTheCaptureIsTheLadderSimPrinted) {
  const Simulated s = simulate(GetParam());
  auto a = analyze::analyze_capture(s.pcap.string());
  ASSERT_TRUE(a);
  ASSERT_EQ(a->calls.size(), 1u);
  const std::string drawn = render_text(ladder_of(a->calls[0]));
  // Retransmissions carry a note in the analysis that the simulator does not print.
  std::string without_notes;
  std::istringstream in(drawn);
  for (std::string line; std::getline(in, line);) {
    const std::size_t note = line.find("|  retransmission");
    if (note != std::string::npos) line.resize(note + 1);
    without_notes += line + "\n";
  }
  EXPECT_EQ(without_notes, ladder_part(s.printed));
}

INSTANTIATE_TEST_SUITE_P(Report, ReadBack,
                         ::testing::Values("100rel", "preconditions", "plain", "no-prack", "no-progress", "busy"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           std::string n = i.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(AnalysisText, SummaryFitsATerminal) {
  analyze::Summary summary;
  analyze::AnalyzerTotals totals;
  for (const char* scenario : {"100rel", "no-prack", "busy", "no-progress"}) {
    auto a = analyze::analyze_capture(simulate(scenario).pcap.string());
    ASSERT_TRUE(a);
    for (const auto& c : a->calls) summary.add(c);
  }
  CaptureFacts facts;
  facts.file = "x.pcap";
  facts.totals = &totals;
  facts.skipped = {{"non-SIP payload", 3}};
  const std::string text = render_summary(summary, facts);
  EXPECT_NE(text.find("calls: 4   established 1   failed 2   cancelled 1   incomplete 0"), std::string::npos) << text;
  EXPECT_NE(text.find("no_progress 1"), std::string::npos) << text;
  EXPECT_NE(text.find("prack_missing 1"), std::string::npos) << text;
  EXPECT_NE(text.find("rejected 2"), std::string::npos) << text;
  EXPECT_NE(text.find("non-SIP payload: 3"), std::string::npos) << text;
  std::istringstream in(text);
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line); ++lines) EXPECT_LE(line.size(), 110u) << line;
  EXPECT_LE(lines, 50u);
}

TEST(AnalysisText, CallShowsPhasesChecksAndTheSeedsAdvice) {
  auto a = analyze::analyze_capture(simulate("no-prack").pcap.string());
  ASSERT_TRUE(a);
  const std::string text = render_call(a->calls[0]);
  EXPECT_NE(text.find("outcome: failed (final 504"), std::string::npos) << text;
  EXPECT_NE(text.find("3. reliability handling"), std::string::npos) << text;
  EXPECT_NE(text.find("prack_missing: 183 Session Progress (INVITE) RSeq"), std::string::npos) << text;
  EXPECT_NE(text.find("where to inspect: 183, PRACK, and the gap before final success."), std::string::npos) << text;
  EXPECT_NE(text.find("next step: Check whether reliable provisional signaling was completed."), std::string::npos);
}

TEST(AnalysisJson, DocumentHasTheSchemaFields) {
  std::ostringstream out, err;
  cli::AnalyzeOptions o;
  o.file = simulate("no-ack").pcap.string();
  o.json = true;
  ASSERT_EQ(cli::run_analyze(o, out, err), 0) << err.str();
  const auto j = nlohmann::json::parse(out.str());
  ASSERT_TRUE(j.contains("summary") && j.contains("calls") && j.contains("skipped"));
  const auto& s = j["summary"];
  EXPECT_EQ(s["calls"], 1);
  EXPECT_EQ(s["outcomes"]["failed"], 1);
  EXPECT_EQ(s["diagnoses"]["ack_missing"], 1);
  for (const char* k : {"p50", "p90", "p99", "mean"}) EXPECT_TRUE(s["setup_ms"].contains(k)) << k;
  ASSERT_EQ(j["calls"].size(), 1u);
  const auto& c = j["calls"][0];
  EXPECT_EQ(c["outcome"], "failed");
  EXPECT_EQ(c["final_status"], 200);
  EXPECT_EQ(c["diagnoses"], nlohmann::json::array({"ack_missing"}));
  EXPECT_DOUBLE_EQ(c["setup_ms"].get<double>(), 60.0);
  EXPECT_DOUBLE_EQ(c["pdd_ms"].get<double>(), 20.0);
  ASSERT_GT(c["messages"].size(), 10u);
  const auto& m = c["messages"][0];
  for (const char* k : {"t", "src", "dst", "label", "retransmission"}) EXPECT_TRUE(m.contains(k)) << k;
  EXPECT_EQ(m["src"], "10.0.0.1:5060");
  EXPECT_EQ(m["label"], "INVITE +SDP");
  std::size_t retransmitted = 0;
  for (const auto& x : c["messages"]) retransmitted += x["retransmission"].get<bool>();
  EXPECT_EQ(retransmitted, 10u);  // the 200 OK again at 0.56, 1.56 … 31.56 s
}

TEST(AnalysisJson, SchemaFileListsTheRequiredFields) {
  std::ifstream in(std::filesystem::path(IMSFLOW_TEST_DATA_DIR) / "../../docs/analyze.schema.json");
  ASSERT_TRUE(in) << "docs/analyze.schema.json";
  const auto schema = nlohmann::json::parse(in);
  EXPECT_EQ(schema["required"], nlohmann::json::array({"calls", "summary", "skipped"}));
  const auto& call = schema["$defs"]["call"];
  for (const char* k : {"call_id", "outcome", "final_status", "diagnoses", "setup_ms", "pdd_ms", "messages"})
    EXPECT_TRUE(call["properties"].contains(k)) << k;
}

TEST(AnalysisCsv, OneRowPerCall) {
  const auto dir = std::filesystem::temp_directory_path() / ("imsflow-report-test-" + std::to_string(::getpid()));
  std::ostringstream out, err;
  cli::AnalyzeOptions o;
  o.file = simulate("busy").pcap.string();
  o.csv = (dir / "calls.csv").string();
  ASSERT_EQ(cli::run_analyze(o, out, err), 0) << err.str();
  const std::string csv = test::read_file(o.csv);
  EXPECT_EQ(csv.rfind(csv_header(), 0), 0u);
  std::size_t rows = 0;
  for (char c : csv) rows += c == '\n';
  EXPECT_EQ(rows, 2u);
  EXPECT_NE(csv.find(",failed,486,rejected,"), std::string::npos) << csv;
}

TEST(AnalyzeCommand, ExitStatus) {
  std::ostringstream out, err;
  cli::AnalyzeOptions o;
  o.file = "/nonexistent/x.pcap";
  EXPECT_EQ(cli::run_analyze(o, out, err), 2);
  o.file = simulate("plain").pcap.string();
  o.ladder = "no-such-call";
  EXPECT_EQ(cli::run_analyze(o, out, err), 1);
  o.ladder.clear();
  EXPECT_EQ(cli::run_analyze(o, out, err), 0);
}

TEST(AnalysisHtml, SelfContainedPageWithAnSvgPerCall) {
  const auto dir = std::filesystem::temp_directory_path() / ("imsflow-report-test-" + std::to_string(::getpid()));
  std::ostringstream out, err;
  cli::AnalyzeOptions o;
  o.file = simulate("no-prack").pcap.string();
  o.html = (dir / "calls.html").string();
  ASSERT_EQ(cli::run_analyze(o, out, err), 0) << err.str();
  const std::string page = test::read_file(o.html);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_NE(page.find("prack_missing"), std::string::npos);
  EXPECT_EQ(page.find("http://"), page.find("http://www.w3.org/2000/svg"));  // no network references
  EXPECT_EQ(page.find("https://"), std::string::npos);
}

// A call is written as JSON text directly (not through nlohmann trees):
// escapes, bytes that are not UTF-8, and numbers must still read back.
TEST(AnalysisJson, CallTextEscapesAndReadsBack) {
  analyze::CallAnalysis c;
  c.call_ids = {"esc@x"};
  c.nodes = {"10.0.0.1:5060", "[2001:db8::2]:5060"};
  c.node_roles = {"caller", "callee"};
  c.final_status = 486;
  c.final_reason = std::string("Busy \"Here\" \\ \x01\t\xC3\xA9 \xFF\xE2\x82", 22);
  c.setup_ms = 80.0;
  c.pdd_ms = 0.00001;
  c.start_ns = 1'704'067'200'123'456'789;
  c.end_ns = c.start_ns + 1'500'000;
  analyze::CapturedMessage m;
  m.time_ns = c.start_ns + 20'000'000;
  m.src = 1;
  m.dst = 0;
  m.label = "486 Busy Here (INVITE)";
  m.kind = analyze::CopyKind::Copy;
  m.hop_delay_ns = 2'500'000;
  c.messages.push_back(m);
  const std::string text = call_json(c);
  // Compact, as json::dump(-1) writes: no space after ':' or ','.
  EXPECT_EQ(text.find("\": "), std::string::npos) << text;
  EXPECT_EQ(text.find(", \""), std::string::npos) << text;
  EXPECT_NE(text.find("\"setup_ms\":80.0"), std::string::npos) << text;
  EXPECT_NE(text.find("\\u0001"), std::string::npos) << text;
  const auto j = nlohmann::json::parse(text);
  // The invalid bytes (a lone 0xFF, a cut 3-byte sequence) are U+FFFD each; é stays.
  EXPECT_EQ(j["final_reason"].get<std::string>(), "Busy \"Here\" \\ \x01\t\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(j["final_status"], 486);
  EXPECT_EQ(j["icid"], nullptr);
  EXPECT_DOUBLE_EQ(j["pdd_ms"].get<double>(), 0.00001);
  EXPECT_DOUBLE_EQ(j["start"].get<double>(), 1'704'067'200.123456789);
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 1.5);
  ASSERT_EQ(j["messages"].size(), 1u);
  EXPECT_EQ(j["messages"][0]["src"], "[2001:db8::2]:5060");
  EXPECT_EQ(j["messages"][0]["kind"], "copy");
  EXPECT_DOUBLE_EQ(j["messages"][0]["hop_delay_ms"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(j["messages"][0]["t"].get<double>(), 20.0);
  EXPECT_EQ(j["diagnoses"], nlohmann::json::array());
  // Keys in sorted order, as nlohmann wrote them before.
  EXPECT_EQ(text.rfind("{\"ack_delay_ms\":null,\"call_id\":\"esc@x\",", 0), 0u) << text;
}

// The chromium binary on PATH (Debian's package is `chromium`), or "".
std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    const std::string probe = std::string("command -v ") + name + " > /dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return name;
  }
  return {};
}

// Console output of a page in a headless Chromium log (--enable-logging=stderr):
// every console message and every uncaught exception is a "CONSOLE" line.
std::vector<std::string> console_lines(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);)
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos) out.push_back(line);
  return out;
}

// The page opens in a real browser: its script runs without a console
// error (it marks the body data-ready, counts the calls, opens the only
// ladder) and the rendered screenshot is a real picture.
TEST(AnalysisHtml, OpensInHeadlessChromiumWithoutConsoleErrors) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh installs it)";
  const auto dir = std::filesystem::temp_directory_path() / ("imsflow-report-chromium-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ostringstream out, err;
  cli::AnalyzeOptions o;
  o.file = simulate("no-prack").pcap.string();
  o.html = (dir / "calls.html").string();
  ASSERT_EQ(cli::run_analyze(o, out, err), 0) << err.str();
  // Its own profile directory, so parallel runs do not share a lock; a
  // timeout so a wedged browser fails the test instead of hanging it.
  const std::string browser = "timeout 60 " + chromium +
                              " --headless --disable-gpu --no-sandbox --no-first-run --enable-logging=stderr --v=0"
                              " --virtual-time-budget=2000 --user-data-dir=" + (dir / "profile").string();
  const auto run = [&](const std::string& args, const std::string& page, const std::string& name) {
    const std::string cmd = browser + " " + args + " file://" + page + " > " + (dir / (name + ".out")).string() +
                            " 2> " + (dir / (name + ".log")).string();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return std::make_pair(test::read_file(dir / (name + ".out")), test::read_file(dir / (name + ".log")));
  };

  // The logging really shows console errors here: a page that throws is seen.
  {
    std::ofstream bad(dir / "bad.html");
    bad << "<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>\n";
  }
  const auto [bad_dom, bad_log] = run("--dump-dom", (dir / "bad.html").string(), "bad");
  ASSERT_FALSE(console_lines(bad_log).empty()) << "chromium's log shows no console output:\n" << bad_log;

  const auto [dom, dom_log] = run("--dump-dom", o.html, "dom");
  EXPECT_TRUE(console_lines(dom_log).empty()) << console_lines(dom_log).front();
  EXPECT_NE(dom.find("data-ready=\"1\""), std::string::npos) << "the page's script did not finish:\n" << dom;
  EXPECT_NE(dom.find("1 of 1 calls"), std::string::npos);
  EXPECT_NE(dom.find("<details open"), std::string::npos);
  EXPECT_NE(dom.find("prack_missing"), std::string::npos);

  const std::filesystem::path png = dir / "calls.png";
  const auto [shot_out, shot_log] = run("--window-size=1280,1000 --screenshot=" + png.string(), o.html, "shot");
  EXPECT_TRUE(console_lines(shot_log).empty()) << console_lines(shot_log).front();
  ASSERT_TRUE(std::filesystem::exists(png)) << shot_log;
  const std::string picture = test::read_file(png);
  EXPECT_EQ(picture.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // A blank 1280x1000 page compresses to a few kB; the table, the bars and
  // the open ladder make it several times that.
  EXPECT_GT(picture.size(), 20'000u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace imsflow::report

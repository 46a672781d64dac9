// RFC 4475 and RFC 5118 torture messages, read in place from
// ../shared/conformance/sip-torture: every message gets the manifest's
// verdict, and where the manifest names a response, that response.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "shared_data.hpp"
#include "sip/parser.hpp"
#include "sip/verdict.hpp"

namespace imsflow::sip {
namespace {

struct Row {
  std::string name, verdict, section, expectation, path;
};

std::vector<Row> manifest() {
  std::vector<Row> rows;
  std::istringstream in(test::read_file(test::shared_dir() / "conformance/sip-torture/MANIFEST.tsv"));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::size_t start = 0;
    while (true) {
      const std::size_t tab = line.find('\t', start);
      cols.push_back(line.substr(start, tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (cols.size() >= 6) rows.push_back({cols[0], cols[1], cols[2], cols[4], cols[5]});
  }
  return rows;
}

struct Outcome {
  bool valid = false;
  std::optional<int> response;
  std::string reason;
};

Outcome judge(const std::string& bytes) {
  Message m;
  auto r = parse(bytes, m, ParseMode::Datagram);
  if (!r) return {false, response_for(r.error()), r.error().describe()};
  Outcome o{true, std::nullopt, ""};
  if (auto req = check_request(m, ElementProfile::ims_default())) {
    o.response = req->status;
    o.reason = req->reason;
  }
  return o;
}

// The responses the manifest's expectation column names, read off it by hand.
const std::map<std::string, int> kNamedResponse = {
    {"badinv01", 400}, {"clerr", 400},    {"ncl", 400},       {"scalar02", 400},  {"quotbal", 400},
    {"ltgtruri", 400}, {"lwsruri", 400},  {"regbadct", 400},  {"badaspec", 400},  {"baddn", 400},
    {"badvers", 505},  {"mismatch01", 400}, {"mismatch02", 501}, {"insuf", 400},  {"unkscm", 416},
    {"novelsc", 416},  {"unksm2", 400},   {"bext01", 420},    {"invut", 415},     {"multi01", 400},
    {"mcl01", 400},    {"zeromf", 483},   {"sdp01", 406},     {"esc02", 501},     {"intmeth", 501},
    {"ipv6-bad", 400}, {"ipv6-bad@wire", 400}, {"escruri", 400},
};
// Responses the manifest says are dropped, never answered.
const std::vector<std::string> kDropped = {"scalarlg", "bigcode", "bcast"};

TEST(Torture, EveryWireMessageGetsTheManifestVerdict) {
  IMSFLOW_REQUIRE_SHARED("conformance/sip-torture/MANIFEST.tsv");
  int checked = 0;
  for (const Row& row : manifest()) {
    // The LF archive forms of RFC 5118 are judged separately below.
    if (row.path.rfind("rfc5118/", 0) == 0 && row.path.find("/wire/") == std::string::npos) continue;
    SCOPED_TRACE(row.name + " (" + row.section + ")");
    const Outcome o = judge(test::read_file(test::shared_dir() / "conformance/sip-torture" / row.path));
    EXPECT_EQ(o.valid ? "valid" : "invalid", row.verdict) << o.reason;
    if (auto it = kNamedResponse.find(row.name); it != kNamedResponse.end()) {
      EXPECT_EQ(o.response, it->second) << o.reason;
    }
    if (std::find(kDropped.begin(), kDropped.end(), row.name) != kDropped.end()) {
      EXPECT_FALSE(o.response);
    }
    ++checked;
  }
  EXPECT_EQ(checked, 61);
}

TEST(Torture, Bext01ListsEveryUnsupportedTag) {
  IMSFLOW_REQUIRE_SHARED("conformance/sip-torture/bext01.dat");
  Message m;
  const std::string bytes = test::read_file(test::shared_dir() / "conformance/sip-torture/bext01.dat");
  ASSERT_TRUE(parse(bytes, m));
  auto req = check_request(m, ElementProfile::ims_default());
  ASSERT_TRUE(req);
  EXPECT_EQ(req->status, 420);
  EXPECT_EQ(req->unsupported, (std::vector<std::string>{"nothingSupportsThis", "nothingSupportsThisEither",
                                                         "noProxiesSupportThis", "norDoAnyProxiesSupportThis"}));
}

TEST(Torture, ValidMessagesReadBackTheirTrickyValues) {
  IMSFLOW_REQUIRE_SHARED("conformance/sip-torture/wsinv.dat");
  const auto dir = test::shared_dir() / "conformance/sip-torture";
  const std::string wsinv = test::read_file(dir / "wsinv.dat");
  Message m;
  ASSERT_TRUE(parse(wsinv, m));
  EXPECT_EQ(m.max_forwards(), 68u);
  EXPECT_EQ(m.cseq()->number, 9u);
  EXPECT_EQ(m.vias().size(), 3u);
  EXPECT_EQ(m.to()->tag(), "1918181833n");
  EXPECT_EQ(m.from()->display_name, R"(J Rosenberg \\\")");
  EXPECT_EQ(m.contacts().first()->param("q"), "0.33");
  EXPECT_EQ(m.find("UnknownHeaderWithUnusualValue")->value, ";;,,;;,;");

  const std::string dblreq = test::read_file(dir / "dblreq.dat");
  ASSERT_TRUE(parse(dblreq, m));
  EXPECT_EQ(m.method(), Method::Register);
  EXPECT_GT(m.trailing_bytes(), 0u);  // the INVITE-looking tail is ignored

  const std::string esc02 = test::read_file(dir / "esc02.dat");
  ASSERT_TRUE(parse(esc02, m));
  EXPECT_EQ(m.method(), Method::Unknown);
  EXPECT_EQ(m.contacts().size(), 2u);  // C%6Fntact is another header
  EXPECT_TRUE(m.find("C%6Fntact"));

  const std::string mpart = test::read_file(dir / "mpart01.dat");
  ASSERT_TRUE(parse(mpart, m));
  EXPECT_EQ(m.body().size(), 553u);

  const std::string inv2543 = test::read_file(dir / "inv2543.dat");
  ASSERT_TRUE(parse(inv2543, m));
  EXPECT_FALSE(m.top_via()->has_magic_cookie());
  EXPECT_FALSE(m.content_length());
  EXPECT_FALSE(m.body().empty());
}

TEST(Torture, Rfc5118LfArchiveFormsGetAPreciseVerdict) {
  IMSFLOW_REQUIRE_SHARED("conformance/sip-torture/rfc5118");
  // Bare LF is tolerated; a Content-Length that disagrees with the body and a
  // header section without its closing empty line are reported precisely.
  const std::map<std::string, ParseErrorCode> broken = {
      {"ipv6-in-sdp", ParseErrorCode::BodyTruncated},
      {"mult-ip-in-sdp", ParseErrorCode::BodyTruncated},
      {"ipv6-bug-abnf-3-colons", ParseErrorCode::HeadersUnterminated},
      {"ipv6-correct-abnf-2-colons", ParseErrorCode::HeadersUnterminated},
  };
  for (const auto& e : std::filesystem::directory_iterator(test::shared_dir() / "conformance/sip-torture/rfc5118")) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().stem().string();
    SCOPED_TRACE(name);
    const std::string bytes = test::read_file(e.path());
    Message m;
    auto r = parse(bytes, m);
    if (auto it = broken.find(name); it != broken.end()) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, it->second);
      EXPECT_FALSE(r.error().describe().empty());
    } else if (name == "ipv6-bad") {
      EXPECT_FALSE(r);
    } else {
      EXPECT_TRUE(r) << r.error().describe();
    }
  }
}

}  // namespace
}  // namespace imsflow::sip

// `imsflow lint`: the verdict function, and the real binary's output, JSON
// and exit codes.
#include "cli/lint.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "shared_data.hpp"

namespace imsflow::cli {
namespace {

struct CommandResult {
  int status = -1;
  std::string out;
};

CommandResult run(const std::string& args) {
  CommandResult r;
  const std::string cmd = std::string(IMSFLOW_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int raw = pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

const std::string kData = IMSFLOW_TEST_DATA_DIR;

TEST(LintVerdict, ValidInvalidAndResponses) {
  const std::string good = test::read_file(kData + "/messages/invite_sdp.sip");
  EXPECT_TRUE(lint_message(good).valid);
  LintVerdict bad = lint_message("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;;\r\n\r\n");
  EXPECT_FALSE(bad.valid);
  EXPECT_EQ(bad.header, "Via");
  EXPECT_EQ(bad.offset, 43u);  // where the second parameter name should be
  EXPECT_EQ(bad.response, 400);
  LintVerdict ext = lint_message(
      "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
      "Call-ID: x\r\nCSeq: 1 OPTIONS\r\nRequire: foo\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(ext.valid);
  EXPECT_EQ(ext.response, 420);
  EXPECT_EQ(ext.unsupported, std::vector<std::string>{"foo"});
}

TEST(LintVerdict, ChecksTheSdpBody) {
  std::string msg = test::read_file(kData + "/messages/invite_sdp.sip");
  const std::size_t c = msg.find("c=IN IP4 127.0.0.1");
  msg.replace(c, 18, "c=IN IP4 300.0.0.1");
  LintVerdict v = lint_message(msg);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("SDP line 4"), std::string::npos) << v.reason;
  EXPECT_EQ(v.offset, c + 9);
  EXPECT_EQ(v.response, 400);
}

TEST(LintCommand, TextOutputAndExitCodes) {
  CommandResult ok = run("lint " + kData + "/messages/invite_sdp.sip " + kData + "/messages/prack.sip");
  EXPECT_EQ(ok.status, 0) << ok.out;
  EXPECT_EQ(ok.out, kData + "/messages/invite_sdp.sip: valid\n" + kData + "/messages/prack.sip: valid\n");
  CommandResult stdin_bad = run("lint - < /dev/null");
  EXPECT_EQ(stdin_bad.status, 1);
  EXPECT_EQ(stdin_bad.out.rfind("-: invalid: ", 0), 0u) << stdin_bad.out;
  CommandResult missing = run("lint /nonexistent/file.sip");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.out.find("cannot open '/nonexistent/file.sip'"), std::string::npos);
  CommandResult usage = run("lint");
  EXPECT_EQ(usage.status, 2);
  CommandResult unknown = run("frobnicate");
  EXPECT_EQ(unknown.status, 2);
}

TEST(LintCommand, JsonOutput) {
  CommandResult r = run("lint --json " + kData + "/messages/ack.sip -");
  // stdin is empty here: one valid, one invalid.
  EXPECT_EQ(r.status, 1);
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["verdict"], "valid");
  EXPECT_TRUE(j[0]["reason"].is_null());
  EXPECT_TRUE(j[0]["response"].is_null());
  EXPECT_EQ(j[1]["file"], "-");
  EXPECT_EQ(j[1]["verdict"], "invalid");
  EXPECT_TRUE(j[1]["reason"].is_string());
  for (const char* key : {"file", "verdict", "reason", "offset", "header", "response"}) {
    EXPECT_TRUE(j[0].contains(key)) << key;
    EXPECT_TRUE(j[1].contains(key)) << key;
  }
}

TEST(LintCommand, TortureFileWithResponse) {
  IMSFLOW_REQUIRE_SHARED("conformance/sip-torture/bext01.dat");
  const std::string file = (test::shared_dir() / "conformance/sip-torture/bext01.dat").string();
  CommandResult r = run("lint --json " + file);
  EXPECT_EQ(r.status, 0);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j[0]["response"], 420);
  EXPECT_EQ(j[0]["unsupported"].size(), 4u);
  CommandResult bad = run("lint " + (test::shared_dir() / "conformance/sip-torture/badvers.dat").string());
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.out.find("(a UAS answers 505 Version Not Supported)"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace imsflow::cli

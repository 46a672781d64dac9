// Interop acceptance of `imsflow core` (issue 5), with real processes on
// 127.0.0.1 only, each bounded in time and stopped by the test:
//  - SIPp UAC (100rel ladder) -> imsflow core --next-hop -> SIPp UAS, 1,000
//    calls over UDP and over TCP: both SIPp ends count every call successful
//    and the P-CSCF's --json counters match the ladder message by message;
//  - Kamailio (Debian `kamailio`, tests/interop/kamailio/proxy.cfg, a minimal
//    transaction-stateful record-routing proxy) next to imsflow core, in both
//    orders, with an imsflow UE answering: PRACK, ACK and BYE must cross both
//    proxies on the Route set their Record-Routes built;
//  - tshark decodes every `imsflow demo --pcap` capture (each --scenario, UDP
//    and TCP) as SIP from the first frame to the last, with no malformed
//    packet and no warning or error expert item.
// A missing tool (sipp, kamailio, tshark) skips its tests with the package to
// install; scripts/install-deps.sh installs all three.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace imsflow {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Seconds = std::chrono::duration<double>;
using Steady = std::chrono::steady_clock;

constexpr int kCoreCalls = 1000;     // SIPp -> core -> SIPp
constexpr int kCoreRate = 250;       // calls per second
constexpr int kKamailioCalls = 200;  // through Kamailio and the core
constexpr int kKamailioRate = 100;

std::string find_program(std::string_view name) {
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"}) {
    const fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return {};
}

std::string source_file(std::string_view relative) { return std::string(IMSFLOW_SOURCE_DIR) + "/" + std::string(relative); }

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// --- ports -----------------------------------------------------------------------------

// Whether 127.0.0.1:port can be bound now, for UDP or TCP.
bool bindable(std::uint16_t port, int type) {
  const int fd = ::socket(AF_INET, type, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A port that the kernel gave out as free, free for UDP and TCP, and with
// `span` - 1 free ports after it (the core's S-CSCF takes --listen's port + 1).
// Never the same port twice in this process, though each is released at once.
std::uint16_t free_port(int span = 1) {
  static std::set<std::uint16_t> given;
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return 0;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    const bool got = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    ::close(fd);
    if (!got) return 0;
    const std::uint16_t first = ntohs(a.sin_port);
    if (first > 65535 - span) continue;
    bool ok = true;
    for (int i = 0; i < span && ok; ++i) {
      const auto p = static_cast<std::uint16_t>(first + i);
      ok = !given.count(p) && bindable(p, SOCK_DGRAM) && bindable(p, SOCK_STREAM);
    }
    if (!ok) continue;
    for (int i = 0; i < span; ++i) given.insert(static_cast<std::uint16_t>(first + i));
    return first;
  }
  return 0;
}

// Whether something listens on `port` (any local address), read from
// /proc/net so that probing takes nothing from the process being started.
bool listening(std::uint16_t port, bool tcp) {
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, ":%04X", port);
  std::ifstream table(tcp ? "/proc/net/tcp" : "/proc/net/udp");
  std::string line;
  std::getline(table, line);  // the column names
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (local.size() < 5 || local.compare(local.size() - 5, 5, suffix) != 0) continue;
    if (!tcp || state == "0A") return true;  // 0A: TCP_LISTEN
  }
  return false;
}

// --- child processes -------------------------------------------------------------------

// One program run by a test: its own process group (so Kamailio's workers
// go with it), stdout and stderr in NAME.out in `dir`. The destructor kills
// the whole group and reaps it, so no process outlives the test; every
// program also has a time limit of its own (SIPp -timeout, imsflow
// --duration), and dies with the test process (PR_SET_PDEATHSIG).
class Child {
 public:
  Child(const std::string& name, std::vector<std::string> argv, const fs::path& dir)
      : out_(dir / (name + ".out")), argv_(std::move(argv)) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the test process killed outright: this goes too
      if (::chdir(dir.c_str()) != 0) ::_exit(126);
      if (!std::freopen(out_.c_str(), "w", stdout)) ::_exit(126);
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      std::vector<char*> args;
      for (std::string& a : argv_) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    if (pid_ > 0) ::setpgid(pid_, pid_);  // also here: no race with the child's own call
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ <= 0 || reaped_) return;
    ::kill(-pid_, SIGKILL);  // not reaped yet: the group id is still ours
    ::waitpid(pid_, nullptr, 0);
  }

  /// Whether the process has exited. When it has, what is left of its group
  /// is killed before the process is reaped (while its id, the group's id,
  /// cannot have been given to another process).
  bool exited() {
    if (reaped_ || pid_ <= 0) return true;
    siginfo_t info{};
    if (::waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != pid_) return false;
    ::kill(-pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  }
  /// Polls until the process exits or `max` passes; true when it exited.
  bool wait(Seconds max) {
    const auto end = Steady::now() + std::chrono::duration_cast<Steady::duration>(max);
    while (!exited() && Steady::now() < end) std::this_thread::sleep_for(10ms);
    return exited();
  }
  /// `sig` to the process, then up to `grace` for it to exit; then the
  /// whole group is killed. True when it exited by itself.
  bool stop(int sig, Seconds grace) {
    if (exited()) return true;
    ::kill(pid_, sig);
    if (wait(grace)) return true;
    ::kill(-pid_, SIGKILL);
    wait(5s);
    return false;
  }
  /// The signal to the whole process group (a server with workers), then
  /// SIGKILL after the grace. True when it ended within the grace.
  bool stop_group(int sig, Seconds grace) {
    if (exited()) return true;
    ::kill(-pid_, sig);
    if (wait(grace)) return true;
    ::kill(-pid_, SIGKILL);
    wait(5s);
    return false;
  }
  int code() const { return code_; }
  std::string output() const { return read_text(out_); }
  std::string command() const {
    std::string c;
    for (const std::string& a : argv_) c += (c.empty() ? "" : " ") + a;
    return c;
  }

 private:
  fs::path out_;
  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int code_ = -1;
};

// A scratch directory per test, removed at the end unless the test failed
// (then its path is printed, with every program's output in it).
class Scratch {
 public:
  Scratch() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "-" + info->name();
    for (char& c : name)
      if (c == '/') c = '_';
    dir_ = fs::temp_directory_path() / ("imsflow-core-interop-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Scratch() {
    std::error_code ec;
    if (::testing::Test::HasFailure())
      std::printf("  (outputs kept in %s)\n", dir_.c_str());
    else
      fs::remove_all(dir_, ec);
  }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

bool wait_listening(std::uint16_t port, bool tcp, Seconds max) {
  const auto end = Steady::now() + std::chrono::duration_cast<Steady::duration>(max);
  while (Steady::now() < end) {
    if (listening(port, tcp)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// --- SIPp's own figures ---------------------------------------------------------------

/// The cumulative value of a row of SIPp's final statistics screen, -1 when absent.
long sipp_statistic(const std::string& screen, const std::string& row) {
  const std::regex re(row + R"(\s*\|\s*\d+\s*\|\s*(\d+))");
  long last = -1;
  for (auto it = std::sregex_iterator(screen.begin(), screen.end(), re); it != std::sregex_iterator(); ++it)
    last = std::stol((*it)[1]);
  return last;
}

/// The sum of the Retrans column of SIPp's last scenario screen. A UAC's rows
/// read "INVITE ---------->  B-RTD1 1000  0 …", a UAS's "----------> INVITE
/// 1000  0 …" (message, then arrow, or arrow, then message).
long sipp_retransmissions(const std::string& screen) {
  const std::size_t last = screen.rfind("Messages  Retrans");
  if (last == std::string::npos) return -1;
  const std::regex uac_row(R"(^\s*\S+\s+(?:-{10}>|<-{10})\s+(?:[BE]-RTD\d+\s+)?\d+\s+(\d+))");
  const std::regex uas_row(R"(^\s*(?:-{10}>|<-{10})\s+\S+\s+\d+\s+(\d+))");
  std::istringstream rows(screen.substr(last));
  long sum = 0;
  for (std::string row; std::getline(rows, row);) {
    std::smatch m;
    if (std::regex_search(row, m, uas_row) || std::regex_search(row, m, uac_row)) sum += std::stol(m[1]);
  }
  return sum;
}

std::string sipp_errors(const fs::path& dir) {
  std::string all;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find("_errors.log") != std::string::npos) all += read_text(e.path());
  return all;
}

/// The JSON document a program printed on stdout: from the first "{" that
/// starts a line (`imsflow ue --json` prints a banner line before it).
nlohmann::json json_of(const std::string& output) {
  const std::size_t open = output.find("\n{") != std::string::npos ? output.find("\n{") + 1 : output.find('{');
  if (open == std::string::npos) return {};
  return nlohmann::json::parse(output.substr(open), nullptr, /*allow_exceptions=*/false);
}

std::string addr(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

struct Tools {
  std::string sipp = find_program("sipp");
  std::string kamailio = find_program("kamailio");
  std::string tshark = find_program("tshark");
};
const Tools& tools() {
  static const Tools t;
  return t;
}

enum class Transport { Udp, Tcp };
std::string name_of(Transport t) { return t == Transport::Udp ? "udp" : "tcp"; }
void PrintTo(Transport t, std::ostream* os) { *os << name_of(t); }  // test names in ctest
std::string sipp_mode(Transport t) { return t == Transport::Udp ? "u1" : "t1"; }

std::vector<std::string> sipp_uac(std::uint16_t first_hop, std::uint16_t callee, std::uint16_t port, Transport t,
                                  int calls, int rate) {
  return {tools().sipp, "-sf", source_file("tests/interop/sipp/uac_100rel_routed.xml"), addr(first_hop),
          "-key", "callee", addr(callee), "-i", "127.0.0.1", "-p", std::to_string(port),
          "-mp", std::to_string(free_port()), "-t", sipp_mode(t), "-m", std::to_string(calls),
          "-r", std::to_string(rate), "-nostdin", "-trace_err", "-timeout", "60s"};
}

std::vector<std::string> imsflow_core(std::uint16_t listen, std::uint16_t next_hop, Transport t) {
  return {IMSFLOW_BINARY, "core", "--listen", addr(listen), "--next-hop", addr(next_hop), "--transport", name_of(t),
          "--json", "--duration", "120"};
}

// The ladder seen by a stateful proxy for each call: INVITE, PRACK, BYE
// forwarded; 183, 200 (PRACK), 200 (INVITE), 200 (BYE) relayed (its own
// 100 instead of the next hop's); the 2xx ACK relayed statelessly.
void expect_one_proxy_hop_per_call(const nlohmann::json& proxy, int calls, bool retransmissions) {
  EXPECT_EQ(proxy.value("forwarded", -1), 3 * calls) << proxy.dump();
  EXPECT_EQ(proxy.value("unroutable", -1), 0);
  EXPECT_EQ(proxy.value("loops_refused", -1), 0);
  EXPECT_EQ(proxy.value("overload_refused", -1), 0);
  EXPECT_EQ(proxy.value("answered_locally", -1), 0);
  EXPECT_EQ(proxy.value("dropped", -1), 0);
  if (!retransmissions) {
    // Nothing was resent on either side: every count is exact.
    EXPECT_EQ(proxy.value("responses_relayed", -1), 4 * calls) << proxy.dump();
    EXPECT_EQ(proxy.value("acks_relayed", -1), calls) << proxy.dump();
    EXPECT_EQ(proxy.value("retransmissions", -1), 0);
  } else {
    EXPECT_GE(proxy.value("responses_relayed", -1), 4 * calls) << proxy.dump();
    EXPECT_GE(proxy.value("acks_relayed", -1), calls) << proxy.dump();
  }
}

// --- 1. SIPp -> imsflow core -> SIPp ---------------------------------------------------

class CoreBetweenSipp : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    if (tools().sipp.empty())
      GTEST_SKIP() << "SIPp is not installed (Debian package sip-tester; scripts/install-deps.sh installs it)";
  }
};

TEST_P(CoreBetweenSipp, ThousandCallsOfThe100relLadderCrossTheCoreAsARecordRoutingProxy) {
  const Transport t = GetParam();
  const bool tcp = t == Transport::Tcp;
  Scratch scratch;
  const std::uint16_t core_port = free_port(2), uas_port = free_port(), uac_port = free_port();
  ASSERT_TRUE(core_port != 0 && uas_port != 0 && uac_port != 0);

  Child uas("sipp-uas",
            {tools().sipp, "-sf", source_file("tests/interop/sipp/uas_100rel_routed.xml"), "-i", "127.0.0.1", "-p",
             std::to_string(uas_port), "-mp", std::to_string(free_port()), "-t", sipp_mode(t), "-m",
             std::to_string(kCoreCalls), "-nostdin", "-trace_err", "-timeout", "60s"},
            scratch.dir());
  Child core("core", imsflow_core(core_port, uas_port, t), scratch.dir());
  ASSERT_TRUE(wait_listening(uas_port, tcp, 5s)) << uas.output();
  ASSERT_TRUE(wait_listening(core_port, tcp, 5s)) << core.output();

  const auto start = Steady::now();
  Child uac("sipp-uac", sipp_uac(core_port, uas_port, uac_port, t, kCoreCalls, kCoreRate), scratch.dir());
  ASSERT_TRUE(uac.wait(60s)) << "SIPp UAC did not finish: " << uac.command();
  ASSERT_TRUE(uas.wait(10s)) << "SIPp UAS did not finish";
  ASSERT_TRUE(core.stop(SIGTERM, 5s)) << "imsflow core did not stop on SIGTERM";
  std::printf("  %d calls over %s in %.1f s\n", kCoreCalls, name_of(t).c_str(), Seconds(Steady::now() - start).count());

  const std::string uac_screen = uac.output(), uas_screen = uas.output();
  EXPECT_EQ(uac.code(), 0) << uac_screen;
  EXPECT_EQ(uas.code(), 0) << uas_screen;
  EXPECT_EQ(sipp_statistic(uac_screen, "Successful call"), kCoreCalls);
  EXPECT_EQ(sipp_statistic(uac_screen, "Failed call"), 0);
  EXPECT_EQ(sipp_statistic(uas_screen, "Successful call"), kCoreCalls);
  EXPECT_EQ(sipp_statistic(uas_screen, "Failed call"), 0);
  EXPECT_EQ(sipp_errors(scratch.dir()), "") << "SIPp's checks (Record-Route on the 183, RAck, 100rel) all held";

  EXPECT_EQ(core.code(), 0) << core.output();
  const nlohmann::json counters = json_of(core.output());
  ASSERT_TRUE(counters.is_object()) << core.output();
  EXPECT_EQ(counters.value("stopped_by", ""), "signal");
  const long resent = sipp_retransmissions(uac_screen) + sipp_retransmissions(uas_screen);
  expect_one_proxy_hop_per_call(counters["pcscf"], kCoreCalls, resent != 0);
  EXPECT_EQ(counters["scscf"].value("forwarded", -1), 0) << "with --next-hop only the P-CSCF relays";
}

INSTANTIATE_TEST_SUITE_P(Transports, CoreBetweenSipp, ::testing::Values(Transport::Udp, Transport::Tcp),
                         [](const auto& info) { return info.param == Transport::Udp ? "Udp" : "Tcp"; });

// --- 2. Kamailio next to imsflow core --------------------------------------------------

// Kamailio with the project's config, in the foreground (-DD), logging to
// stderr (-E), its runtime and working directory in the scratch folder.
std::vector<std::string> kamailio_args(const fs::path& dir, std::uint16_t port, std::uint16_t next_hop, Transport t) {
  std::string hop = "sip:" + addr(next_hop);
  if (t == Transport::Tcp) hop += ";transport=tcp";
  return {tools().kamailio, "-DD", "-E", "-f", source_file("tests/interop/kamailio/proxy.cfg"), "-Y", dir.string(),
          "-w", dir.string(), "-m", "32", "-M", "4", "-A", "PROXY_PORT=" + std::to_string(port),
          "-A", "NEXT_HOP=\"" + hop + "\"", "-A", "UDP_WORKERS=2", "-A", "TRACE_ROUTING"};
}

/// What Kamailio routed, from the TRACE_ROUTING lines: "initial INVITE" → n.
std::map<std::string, int> kamailio_routed(const std::string& log) {
  std::map<std::string, int> n;
  const std::regex re(R"(imsflow-route (initial|in-dialog) ([A-Z]+) )");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it)
    ++n[(*it)[1].str() + " " + (*it)[2].str()];
  return n;
}

enum class Order { CoreThenKamailio, KamailioThenCore };
void PrintTo(Order o, std::ostream* os) {
  *os << (o == Order::CoreThenKamailio ? "core then Kamailio" : "Kamailio then core");
}

class KamailioInterop : public ::testing::TestWithParam<std::tuple<Order, Transport>> {
 protected:
  void SetUp() override {
    if (tools().sipp.empty())
      GTEST_SKIP() << "SIPp is not installed (Debian package sip-tester; scripts/install-deps.sh installs it)";
    if (tools().kamailio.empty())
      GTEST_SKIP() << "Kamailio is not installed (Debian package kamailio; scripts/install-deps.sh installs it)";
  }
};

// SIPp UAC -> [imsflow core -> Kamailio | Kamailio -> imsflow core] -> imsflow ue --answer.
// SIPp sends every request to the first proxy; PRACK, ACK and BYE reach the
// UE only if each proxy put itself in Record-Route and then followed (and
// popped its own entry of) the Route set built from them.
TEST_P(KamailioInterop, InDialogRequestsCrossBothProxiesOnTheRecordRouteSet) {
  const auto [order, t] = GetParam();
  const bool tcp = t == Transport::Tcp;
  Scratch scratch;
  const std::uint16_t core_port = free_port(2), kam_port = free_port(), ue_port = free_port(),
                      uac_port = free_port();
  ASSERT_TRUE(core_port != 0 && kam_port != 0 && ue_port != 0 && uac_port != 0);
  const bool core_first = order == Order::CoreThenKamailio;

  Child ue("ue",
           {IMSFLOW_BINARY, "ue", "--listen", addr(ue_port), "--answer", "--profile", "100rel", "--transport",
            name_of(t), "--json", "--duration", "120"},
           scratch.dir());
  Child kamailio("kamailio", kamailio_args(scratch.dir(), kam_port, core_first ? ue_port : core_port, t),
                 scratch.dir());
  Child core("core", imsflow_core(core_port, core_first ? kam_port : ue_port, t), scratch.dir());
  ASSERT_TRUE(wait_listening(ue_port, tcp, 5s)) << ue.output();
  ASSERT_TRUE(wait_listening(kam_port, tcp, 10s)) << kamailio.output();
  ASSERT_TRUE(wait_listening(core_port, tcp, 5s)) << core.output();

  Child uac("sipp-uac",
            sipp_uac(core_first ? core_port : kam_port, ue_port, uac_port, t, kKamailioCalls, kKamailioRate),
            scratch.dir());
  ASSERT_TRUE(uac.wait(60s)) << "SIPp UAC did not finish: " << uac.command();
  std::this_thread::sleep_for(200ms);  // the last BYE's 200 on its way through the UE's transaction
  ASSERT_TRUE(core.stop(SIGTERM, 5s)) << "imsflow core did not stop on SIGTERM";
  ASSERT_TRUE(ue.stop(SIGTERM, 5s)) << "imsflow ue did not stop on SIGTERM";
  // Kamailio's main process stops its workers one by one and waits for a
  // busy one up to its own kill timeout; every worker gets SIGTERM at once
  // here. How fast Kamailio exits is not what this test checks.
  if (!kamailio.stop_group(SIGTERM, 20s))
    std::cerr << "note: Kamailio needed SIGKILL after SIGTERM and 20 s (its own shutdown)\n";

  const std::string uac_screen = uac.output();
  EXPECT_EQ(uac.code(), 0) << uac_screen;
  EXPECT_EQ(sipp_statistic(uac_screen, "Successful call"), kKamailioCalls);
  EXPECT_EQ(sipp_statistic(uac_screen, "Failed call"), 0);
  EXPECT_EQ(sipp_errors(scratch.dir()), "");

  const nlohmann::json answered = json_of(ue.output());
  ASSERT_TRUE(answered.is_object()) << ue.output();
  EXPECT_EQ(answered["calls"].value("incoming", -1), kKamailioCalls) << answered.dump();
  EXPECT_EQ(answered["calls"].value("confirmed", -1), kKamailioCalls) << "every ACK reached the UE";
  EXPECT_EQ(answered["calls"].value("ended", -1), kKamailioCalls) << "every BYE reached the UE";
  EXPECT_EQ(answered["calls"].value("still_up", -1), 0);
  EXPECT_TRUE(answered["failed"].empty()) << answered["failed"].dump();

  const nlohmann::json counters = json_of(core.output());
  ASSERT_TRUE(counters.is_object()) << core.output();
  const long resent = sipp_retransmissions(uac_screen) + answered.value("retransmissions", 0);
  expect_one_proxy_hop_per_call(counters["pcscf"], kKamailioCalls, resent != 0);

  const std::map<std::string, int> routed = kamailio_routed(kamailio.output());
  const std::map<std::string, int> ladder = {{"initial INVITE", kKamailioCalls},
                                             {"in-dialog PRACK", kKamailioCalls},
                                             {"in-dialog ACK", kKamailioCalls},
                                             {"in-dialog BYE", kKamailioCalls}};
  if (resent == 0) {
    EXPECT_EQ(routed, ladder) << "what Kamailio routed (loose_route for in-dialog requests)";
  } else {
    for (const auto& [what, n] : ladder) EXPECT_GE(routed.count(what) ? routed.at(what) : 0, n) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Orders, KamailioInterop,
    ::testing::Combine(::testing::Values(Order::CoreThenKamailio, Order::KamailioThenCore),
                       ::testing::Values(Transport::Udp, Transport::Tcp)),
    [](const auto& info) {
      return std::string(std::get<0>(info.param) == Order::CoreThenKamailio ? "CoreThenKamailio" : "KamailioThenCore") +
             (std::get<1>(info.param) == Transport::Udp ? "Udp" : "Tcp");
    });

// --- 3. tshark reads imsflow demo --pcap -----------------------------------------------

// `imsflow demo --help` lists its scenarios, one "  NAME  text" row each
// after "Scenarios:"; the test runs every one, so a new scenario is covered
// without editing this file.
std::vector<std::string> demo_scenarios(const fs::path& dir) {
  Child help("demo-help", {IMSFLOW_BINARY, "demo", "--help"}, dir);
  if (!help.wait(10s)) return {};
  const std::string text = help.output();
  std::vector<std::string> names;
  const std::size_t from = text.find("Scenarios:");
  if (from == std::string::npos) return names;
  std::istringstream rows(text.substr(from));
  std::string row;
  std::getline(rows, row);
  const std::regex scenario_row(R"(^  ([a-z0-9][a-z0-9-]*)\s{2,}\S)");
  while (std::getline(rows, row)) {
    std::smatch m;
    if (!std::regex_search(row, m, scenario_row)) break;
    names.push_back(m[1]);
  }
  return names;
}

// Wireshark's expert severities (epan/proto.h): chat, note, warn, error.
constexpr long kExpertWarning = 0x00600000;

struct TsharkVerdict {
  int frames = 0;       // every frame
  int sip = 0;          // frames dissected as SIP (with or without SDP)
  std::string flagged;  // frames with a malformed packet or a warning/error expert item
  std::string run_error;
};

// One tshark pass: per frame its number, protocol stack, expert severities
// and messages, and whether a malformed-packet item is present.
TsharkVerdict tshark_read(const fs::path& pcap, const fs::path& dir) {
  TsharkVerdict v;
  // The demo's ports are ephemeral: SIP is found by Wireshark's heuristic
  // dissectors (on by default; enabled here so a profile cannot turn them off).
  Child c("tshark-" + pcap.stem().string(),
          {tools().tshark, "-n", "-r", pcap.string(), "--enable-heuristic", "sip_udp", "--enable-heuristic", "sip_tcp",
           "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=;", "-e", "frame.number", "-e",
           "frame.protocols", "-e", "_ws.expert.severity", "-e", "_ws.expert.message", "-e", "_ws.malformed"},
          dir);
  if (!c.wait(30s) || c.code() != 0) {
    v.run_error = c.command() + " failed: " + c.output();
    return v;
  }
  std::istringstream rows(c.output());
  std::string row;
  const std::regex frame_row(R"(^(\d+)\|([^|]*)\|([^|]*)\|([^|]*)\|(.*)$)");
  while (std::getline(rows, row)) {
    std::smatch m;
    if (!std::regex_match(row, m, frame_row)) continue;  // tshark's own notices
    ++v.frames;
    const std::string protocols = m[2];
    if ((protocols + ":").find(":sip:") != std::string::npos) ++v.sip;  // "…:udp:sip", "…:tcp:sip:sdp"
    long worst = 0;
    std::istringstream severities(m[3].str());
    for (std::string one; std::getline(severities, one, ';');)
      if (!one.empty()) worst = std::max(worst, std::stol(one));
    if (worst >= kExpertWarning || !m[5].str().empty())
      v.flagged += "frame " + m[1].str() + " (" + protocols + "): " + m[4].str() + "\n";
  }
  return v;
}

class DemoPcapWithTshark : public ::testing::Test {
 protected:
  void SetUp() override {
    if (tools().tshark.empty())
      GTEST_SKIP() << "tshark is not installed (Debian package tshark; scripts/install-deps.sh installs it)";
  }
};

TEST_F(DemoPcapWithTshark, EveryScenarioDecodesAsSipWithNoMalformedPacket) {
  Scratch scratch;
  const std::vector<std::string> scenarios = demo_scenarios(scratch.dir());
  ASSERT_GE(scenarios.size(), 6u) << "imsflow demo --help lists its scenarios";

  struct Run {
    std::string label;
    std::vector<std::string> args;
  };
  std::vector<Run> runs = {{"default-udp", {}}, {"default-tcp", {"--transport", "tcp"}}};
  for (const std::string& s : scenarios) runs.push_back({s, {"--scenario", s}});

  // One demo at a time: ten side by side starved each other of CPU on a
  // 2-core machine already running other tests, and the failure scenarios
  // run with T1 = 50 ms. Then tshark reads each capture.
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const Run& r = runs[i];
    std::vector<std::string> argv = {IMSFLOW_BINARY, "demo", "--pcap", (scratch.dir() / (r.label + ".pcap")).string()};
    argv.insert(argv.end(), r.args.begin(), r.args.end());
    auto child = std::make_unique<Child>("demo-" + r.label, argv, scratch.dir());
    SCOPED_TRACE("imsflow demo " + runs[i].label);
    Child& demo = *child;
    ASSERT_TRUE(demo.wait(60s)) << "imsflow demo did not finish";
    EXPECT_EQ(demo.code(), 0) << demo.output();
    const fs::path pcap = scratch.dir() / (runs[i].label + ".pcap");
    ASSERT_TRUE(fs::exists(pcap)) << demo.output();

    const TsharkVerdict v = tshark_read(pcap, scratch.dir());
    ASSERT_EQ(v.run_error, "");
    EXPECT_GT(v.frames, 0);
    EXPECT_EQ(v.sip, v.frames) << "every frame is one SIP message";
    EXPECT_EQ(v.flagged, "") << "tshark's malformed-packet / expert warnings in " << pcap;
  }
}

// The check above must be able to fail: one SIP datagram whose UDP length
// field claims more bytes than the IP packet holds is a malformed packet to
// tshark, and tshark_read reports it.
TEST_F(DemoPcapWithTshark, TheCheckFlagsAMalformedFrame) {
  Scratch scratch;
  const std::string sip =
      "OPTIONS sip:ue@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:ue@127.0.0.1>\r\nCall-ID: c1\r\n"
      "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  std::string frame;
  auto be16 = [&frame](unsigned v) {
    frame.push_back(static_cast<char>(v >> 8));
    frame.push_back(static_cast<char>(v & 0xff));
  };
  frame.append("\x02\x00\x7f\x00\x00\x01\x02\x00\x7f\x00\x00\x01", 12);  // Ethernet addresses
  be16(0x0800);                                                             // IPv4
  be16(0x4500);
  be16(20 + 8 + static_cast<unsigned>(sip.size()));  // IP total length: right
  be16(1);
  be16(0);
  be16(0x4011);  // TTL 64, UDP
  be16(0);       // header checksum (not checked by tshark by default)
  frame.append("\x7f\x00\x00\x01\x7f\x00\x00\x01", 8);
  be16(5060);
  be16(5060);
  be16(0xfff0);  // UDP length: wrong
  be16(0);
  frame += sip;
  std::string file;
  auto le32 = [&file](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) file.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  le32(0xa1b2c3d4);
  le32(0x00040002);  // version 2.4
  le32(0);
  le32(0);
  le32(65535);
  le32(1);  // Ethernet
  le32(1700000000);
  le32(0);
  le32(static_cast<std::uint32_t>(frame.size()));
  le32(static_cast<std::uint32_t>(frame.size()));
  file += frame;
  const fs::path pcap = scratch.dir() / "malformed.pcap";
  std::ofstream(pcap, std::ios::binary) << file;

  const TsharkVerdict v = tshark_read(pcap, scratch.dir());
  ASSERT_EQ(v.run_error, "");
  EXPECT_EQ(v.frames, 1);
  EXPECT_NE(v.flagged, "") << "a UDP length past the IP payload is flagged";
}

}  // namespace
}  // namespace imsflow

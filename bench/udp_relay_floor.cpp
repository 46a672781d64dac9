// imsflow-relay-floor: the "floor" proxy of bench/proxy_vs_kamailio.sh.
//
//   imsflow-relay-floor LISTEN_IP:PORT UAS_IP:PORT
//
// A blind UDP relay with the loop shape of imsflow's event loop (one socket,
// epoll, one recvmmsg() of up to 64 datagrams per wake-up, one sendmmsg() of
// what it read) and no SIP work: datagrams from the UAS go to the first other
// address seen (the UAC), everything else goes to the UAS. Its CPU time per
// call is what moving a call's datagrams through one process costs in the
// kernel (wake-ups, context switches, loopback delivery): the lowest any
// single-threaded UDP proxy with this loop can reach.
//
// The one concession to SIP is what the routed SIPp scenarios check: every
// request gets two header lines at the end of its header section,
//   Record-Route: <sip:LISTEN_IP:PORT;lr>            (the UAS wants one, and the
//                                                     UAC sends PRACK, ACK, BYE on it)
//   Via: SIP/2.0/UDP LISTEN_IP:PORT;branch=z9hG4bK-floor   (the UAS wants a second Via)
// and responses pass untouched. The Via goes last, not first, so the UAS's
// responses keep the UAC's own Via on top, where SIPp finds the branch that
// matches them to its transactions; a proxy would remove its Via instead,
// which is SIP work. The lines are spliced in with the iovec of sendmmsg(),
// so no byte is copied in user space.
// SIGTERM or SIGINT ends the loop; the counts go to stdout, one line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr unsigned kBatch = 64;                 // datagrams per recvmmsg()/sendmmsg()
constexpr std::size_t kMaxDatagram = 65535;     // as imsflow: no UDP datagram is cut
constexpr int kSocketBuffer = 4 * 1024 * 1024;  // as imsflow and SIPp here: no drops at the socket

bool parse_endpoint(std::string_view text, sockaddr_in& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string host(text.substr(0, colon));
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535) return false;
  out = {};
  out.sin_family = AF_INET;
  out.sin_port = htons(static_cast<std::uint16_t>(port));
  return inet_pton(AF_INET, host.c_str(), &out.sin_addr) == 1;
}

bool same_endpoint(const sockaddr_in& a, const sockaddr_in& b) {
  return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
}

int fail(const char* what) {
  std::fprintf(stderr, "imsflow-relay-floor: %s: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  sockaddr_in listen_addr{}, uas{};
  if (argc != 3 || !parse_endpoint(argv[1], listen_addr) || !parse_endpoint(argv[2], uas)) {
    std::fprintf(stderr, "usage: imsflow-relay-floor LISTEN_IP:PORT UAS_IP:PORT (IPv4)\n");
    return 2;
  }
  char host[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &listen_addr.sin_addr, host, sizeof host);
  const std::string self = std::string(host) + ":" + std::to_string(ntohs(listen_addr.sin_port));
  std::string added = "Record-Route: <sip:" + self + ";lr>\r\nVia: SIP/2.0/UDP " + self + ";branch=z9hG4bK-floor\r\n";

  // The signals arrive as a readable descriptor in the same epoll set (as
  // imsflow's loop does with its self-pipe), so the relay never wakes up for
  // anything but a datagram or the end, and no signal is lost between checks.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  if (sigprocmask(SIG_BLOCK, &stop_signals, nullptr) != 0) return fail("sigprocmask");
  const int signal_fd = signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) return fail("signalfd");

  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket");
  // Best effort, as in imsflow: above net.core.rmem_max the kernel caps it.
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof kSocketBuffer);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&listen_addr), sizeof listen_addr) != 0) return fail("bind");

  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return fail("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) return fail("epoll_ctl");
  ev.data.fd = signal_fd;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, signal_fd, &ev) != 0) return fail("epoll_ctl");

  std::vector<char> buffer(kBatch * kMaxDatagram);
  mmsghdr rx[kBatch]{}, tx[kBatch]{};
  iovec rx_iov[kBatch], tx_iov[kBatch][3];
  sockaddr_in from[kBatch];
  for (unsigned i = 0; i < kBatch; ++i) {
    rx_iov[i] = {buffer.data() + i * kMaxDatagram, kMaxDatagram};
    rx[i].msg_hdr.msg_iov = &rx_iov[i];
    rx[i].msg_hdr.msg_iovlen = 1;
    rx[i].msg_hdr.msg_name = &from[i];
    tx[i].msg_hdr.msg_iov = tx_iov[i];
    tx[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
  }

  sockaddr_in uac{};
  bool have_uac = false;
  std::uint64_t datagrams_in = 0, relayed = 0, dropped = 0, wakeups = 0;
  for (bool stop = false; !stop;) {
    epoll_event events[2];
    const int n = epoll_wait(epoll_fd, events, 2, -1);
    if (n < 0 && errno != EINTR) return fail("epoll_wait");
    ++wakeups;
    bool readable = false;
    for (int e = 0; e < n; ++e) {
      if (events[e].data.fd == signal_fd) stop = true;
      else readable = true;
    }
    if (!readable) continue;

    // One read per wake-up; a full batch leaves the socket readable, and the
    // level-triggered epoll_wait() returns at once for the rest.
    for (unsigned i = 0; i < kBatch; ++i) rx[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    const int got = recvmmsg(fd, rx, kBatch, MSG_DONTWAIT, nullptr);
    if (got <= 0) continue;  // EAGAIN, EINTR
    datagrams_in += static_cast<unsigned>(got);

    unsigned count = 0;
    for (int i = 0; i < got; ++i) {
      const bool from_uas = same_endpoint(from[i], uas);
      if (!from_uas && !have_uac) {
        uac = from[i];
        have_uac = true;
      }
      if (from_uas && !have_uac) {  // nowhere to send it yet
        ++dropped;
        continue;
      }
      char* data = static_cast<char*>(rx_iov[i].iov_base);
      const std::size_t len = rx[i].msg_len;
      // A request: its header lines, the added ones, the empty line and body.
      // Responses, and anything without a header section (a CRLF keep-alive),
      // go out as they came.
      const bool response = len >= 8 && std::memcmp(data, "SIP/2.0 ", 8) == 0;
      const void* end = response ? nullptr : memmem(data, len, "\r\n\r\n", 4);
      iovec* iov = tx_iov[count];
      if (end && end != data) {
        const std::size_t head = static_cast<std::size_t>(static_cast<const char*>(end) - data) + 2;
        iov[0] = {data, head};
        iov[1] = {added.data(), added.size()};
        iov[2] = {data + head, len - head};
        tx[count].msg_hdr.msg_iovlen = 3;
      } else {
        iov[0] = {data, len};
        tx[count].msg_hdr.msg_iovlen = 1;
      }
      tx[count].msg_hdr.msg_name = from_uas ? &uac : &uas;
      ++count;
    }

    // One sendmmsg() unless the kernel takes fewer; a datagram it refuses
    // (a full socket buffer) is dropped, as UDP would.
    for (unsigned sent = 0; sent < count;) {
      const int r = sendmmsg(fd, tx + sent, count - sent, MSG_DONTWAIT);
      if (r > 0) {
        sent += static_cast<unsigned>(r);
        relayed += static_cast<unsigned>(r);
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else {
        ++sent;
        ++dropped;
      }
    }
  }

  std::printf("imsflow-relay-floor: %llu datagrams relayed (%llu in, %llu dropped) in %llu wake-ups\n",
              static_cast<unsigned long long>(relayed), static_cast<unsigned long long>(datagrams_in),
              static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(wakeups));
  return 0;
}

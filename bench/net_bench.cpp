// Real-socket throughput of net::EventLoop on one core: SIP-sized datagrams
// (about 500 bytes) echoed over loopback UDP by a Node in the loop. Each
// iteration a plain client socket sends a batch with one sendmmsg(), the
// loop takes it with recvmmsg(), hands every datagram to the Node and sends
// the echoes back with one sendmmsg(), and the client reads them back with
// recvmmsg(). items_per_second counts datagrams echoed by the loop (each is
// one receive and one send on the loop's socket); the client's side of the
// work runs on the same core and is included, so this is a lower bound for
// the loop alone.
#include <benchmark/benchmark.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "net/event_loop.hpp"
#include "net/socket_address.hpp"

namespace imsflow::bench {
namespace {

using namespace std::chrono_literals;

class EchoNode final : public txn::Node {
 public:
  std::uint64_t received = 0;
  void receive(std::string_view bytes, const sip::Endpoint& remote, const sip::Endpoint& local, TimePoint) override {
    ++received;
    outbox_.push_back({local, remote, std::string(bytes)});
  }
  void advance(TimePoint) override {}
  std::optional<TimePoint> next_deadline() const override { return std::nullopt; }
  void take_transmits(std::vector<txn::Transmit>& out) override {
    for (auto& t : outbox_) out.push_back(std::move(t));
    outbox_.clear();
  }

 private:
  std::vector<txn::Transmit> outbox_;
};

// An in-dialog request of about 500 bytes, the size of a PRACK or BYE in an IMS core.
std::string sip_like_payload() {
  std::string m =
      "PRACK sip:bob@10.0.0.2:5060 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-net-bench;rport\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:+15551230001@ims.mnc001.mcc001.3gppnetwork.org>;tag=a73kszlfl\r\n"
      "To: <sip:+15551230002@ims.mnc001.mcc001.3gppnetwork.org>;tag=8321234356\r\n"
      "Call-ID: 3848276298220188511@10.0.0.1\r\n"
      "CSeq: 2 PRACK\r\n"
      "RAck: 1 1 INVITE\r\n"
      "P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=0010100010019B01\r\n"
      "User-Agent: imsflow-bench\r\n"
      "Content-Length: 0\r\n\r\n";
  return m;
}

void BM_NetUdpEchoThroughEventLoop(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  net::LoopOptions options;
  options.udp_batch = 32;
  options.log = [](std::string_view) {};
  net::EventLoop loop(options);
  EchoNode echo;
  auto at = loop.attach(echo, sip::Endpoint{sip::Transport::Udp, sip::IpAddress::loopback_v4(), 0},
                        net::ListenOn::UdpOnly);
  if (!at) {
    state.SkipWithError(at.error().describe().c_str());
    return;
  }
  const int client = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int buffer = 4 * 1024 * 1024;
  ::setsockopt(client, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  ::setsockopt(client, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  const net::SocketAddress to = net::to_socket_address(*at);
  const std::string payload = sip_like_payload();

  std::vector<mmsghdr> out(batch), in(batch);
  std::vector<iovec> out_iov(batch), in_iov(batch);
  std::vector<std::string> in_buf(batch, std::string(2048, '\0'));
  for (std::size_t i = 0; i < batch; ++i) {
    out_iov[i] = {const_cast<char*>(payload.data()), payload.size()};
    out[i] = {};
    out[i].msg_hdr.msg_name = const_cast<sockaddr*>(to.get());
    out[i].msg_hdr.msg_namelen = to.length;
    out[i].msg_hdr.msg_iov = &out_iov[i];
    out[i].msg_hdr.msg_iovlen = 1;
    in_iov[i] = {in_buf[i].data(), in_buf[i].size()};
    in[i] = {};
    in[i].msg_hdr.msg_iov = &in_iov[i];
    in[i].msg_hdr.msg_iovlen = 1;
  }

  std::uint64_t echoed = 0;
  std::uint64_t lost = 0;
  for (auto _ : state) {
    const int sent = sendmmsg(client, out.data(), static_cast<unsigned>(batch), 0);
    if (sent <= 0) {
      state.SkipWithError("client sendmmsg failed");
      break;
    }
    std::size_t got = 0;
    // Usually one loop iteration takes the whole batch in and out; a few
    // more are allowed if the scheduler splits it.
    for (int round = 0; round < 50 && got < static_cast<std::size_t>(sent); ++round) {
      loop.run_once(round == 0 ? Duration::zero() : Duration(1ms));
      const int r = recvmmsg(client, in.data(), static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
      if (r > 0) got += static_cast<std::size_t>(r);
    }
    echoed += got;
    lost += static_cast<std::size_t>(sent) - got;
  }
  ::close(client);
  state.SetItemsProcessed(static_cast<std::int64_t>(echoed));
  state.SetBytesProcessed(static_cast<std::int64_t>(echoed * payload.size()));
  const net::LoopCounters& c = loop.counters();
  state.counters["lost"] = static_cast<double>(lost);
  state.counters["per_recvmmsg"] =
      c.receive_batches ? static_cast<double>(c.datagrams_in) / static_cast<double>(c.receive_batches) : 0;
  state.counters["per_sendmmsg"] =
      c.send_batches ? static_cast<double>(c.datagrams_out) / static_cast<double>(c.send_batches) : 0;
  state.counters["payload_bytes"] = static_cast<double>(payload.size());
}
BENCHMARK(BM_NetUdpEchoThroughEventLoop)->Arg(1)->Arg(32)->UseRealTime();

}  // namespace
}  // namespace imsflow::bench

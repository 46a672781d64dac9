// Fuzzes the IMS core with whatever arrives on its sockets: each input is
// one datagram to a P-CSCF and to an S-CSCF with its registrar (so REGISTER
// with any Authorization reaches the Digest and AKA code), and a
// subscribers file. Nothing may crash, and no state may grow without bound.
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "ims/cscf.hpp"
#include "ims/proxy.hpp"
#include "ims/registrar.hpp"
#include "ims/subscribers.hpp"
#include "ims/topology.hpp"

using namespace imsflow;
using namespace imsflow::ims;

namespace {

sip::Endpoint at(std::uint8_t host) { return {sip::Transport::Udp, sip::IpAddress::v4(10, 0, 0, host), 5060}; }

struct Core {
  Core()
      : registrar(RegistrarConfig{"ims.example", true, 600, 60, 7200, std::chrono::seconds(30),
                                  {"<sip:orig@10.0.0.12;lr>"}, 9},
                  TopologyOptions::demo_subscribers()),
        scscf_policy(ScscfConfig{at(30)}, registrar),
        scscf(config(12), scscf_policy),
        pcscf_policy(PcscfConfig{at(12), 1, at(30)}),
        pcscf(config(11), pcscf_policy) {
    pcscf_policy.attach(pcscf);
  }
  static ProxyConfig config(std::uint8_t host) {
    ProxyConfig c;
    c.local = at(host);
    c.max_transactions = 1000;
    return c;
  }
  Registrar registrar;
  Scscf scscf_policy;
  StatefulProxy scscf;
  Pcscf pcscf_policy;
  StatefulProxy pcscf;
  TimePoint now{};
  std::vector<txn::Transmit> out;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::unique_ptr<Core> core;
  static std::uint32_t runs = 0;
  if (!core || ++runs % 5000 == 0) core = std::make_unique<Core>();  // bound the state a long run keeps
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)parse_subscribers(input);
  core->now += std::chrono::milliseconds(700);
  core->pcscf.receive(input, at(1), at(11), core->now);
  core->scscf.receive(input, at(11), at(12), core->now);
  core->pcscf.advance(core->now);
  core->scscf.advance(core->now);
  core->out.clear();
  core->pcscf.take_transmits(core->out);
  core->scscf.take_transmits(core->out);
  return 0;
}

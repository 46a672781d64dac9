#include "ims/topology.hpp"

namespace imsflow::ims {

namespace {

const Subscriber& find(const std::vector<Subscriber>& list, std::string_view impi) {
  for (const Subscriber& s : list)
    if (s.impi == impi) return s;
  return list.front();
}

RegistrarConfig registrar_config(const TopologyOptions& o, const sip::Endpoint& scscf) {
  RegistrarConfig c;
  c.aka = o.aka;
  c.seed = o.seed * 7 + 3;
  std::string orig = "sip:orig@" + scscf.to_string();
  if (scscf.transport == sip::Transport::Tcp) orig += ";transport=tcp";
  c.service_route = {"<" + orig + ";lr>"};
  return c;
}

ProxyConfig proxy_config(const sip::Endpoint& local, const TopologyOptions& o, std::uint64_t salt) {
  ProxyConfig c;
  c.local = local;
  c.timers = o.timers;
  c.seed = o.seed * 31 + salt;
  return c;
}

UeConfig ue_config(const TopologyOptions& o, const Subscriber& s, const sip::Endpoint& local,
                   const sip::Endpoint& pcscf, std::string user, std::uint64_t salt) {
  UeConfig c;
  c.ua = o.ue;
  c.ua.local = local;
  c.ua.user = std::move(user);
  c.ua.timers = o.timers;
  c.ua.seed = o.seed * 131 + salt;
  c.impi = s.impi;
  c.impu = s.impus.front();
  c.k = s.k;
  c.opc = s.opc;
  c.password = s.password;
  c.pcscf = pcscf;
  c.instance = "<urn:gsma:imei:35000000-00000" + std::to_string(salt % 10) + "-0>";
  return c;
}

UeConfig caller_config(const TopologyOptions& o, const TopologyEndpoints& e) {
  UeConfig c = ue_config(o, find(o.subscribers, "alice@ims.example"), e.ue_a, e.pcscf_a, "alice", 1);
  if (o.caller_timer_c != Duration::zero()) c.ua.timers.timer_c = o.caller_timer_c;
  return c;
}

}  // namespace

std::vector<Subscriber> TopologyOptions::demo_subscribers() {
  // Keys made up for the demo (not any operator's): one line each in the
  // subscribers file format.
  auto parsed = parse_subscribers(
      "alice@ims.example sip:alice@ims.example,tel:+15550101 "
      "0f1e2d3c4b5a69788796a5b4c3d2e1f0 1a2b3c4d5e6f708192a3b4c5d6e7f809 password=alice-secret\n"
      "bob@ims.example sip:bob@ims.example,tel:+15550102 "
      "f0e1d2c3b4a5968778695a4b3c2d1e0f 9a8b7c6d5e4f30211203f4e5d6c7b8a9 password=bob-secret\n"
      "bob-tablet@ims.example sip:bob@ims.example,tel:+15550102 "
      "00112233445566778899aabbccddeeff 8899aabbccddeeff0011223344556677 password=tablet-secret\n");
  return parsed ? std::move(*parsed) : std::vector<Subscriber>{};
}

ImsTopology::ImsTopology(const TopologyEndpoints& e, const TopologyOptions& o, dialog::SessionObserver& caller,
                         const std::vector<dialog::SessionObserver*>& callees)
    : registrar(registrar_config(o, e.scscf), o.subscribers),
      scscf_policy(ScscfConfig{}, registrar),
      scscf(proxy_config(e.scscf, o, 1), scscf_policy),
      pcscf_a_policy(PcscfConfig{e.scscf, o.seed * 17 + 1}),
      pcscf_a(proxy_config(e.pcscf_a, o, 2), pcscf_a_policy),
      pcscf_b_policy(PcscfConfig{e.scscf, o.seed * 17 + 2}),
      pcscf_b(proxy_config(e.pcscf_b, o, 3), pcscf_b_policy),
      ue_a(caller_config(o, e), caller) {
  pcscf_a_policy.attach(pcscf_a);
  pcscf_b_policy.attach(pcscf_b);
  for (std::size_t i = 0; i < e.ue_b.size() && i < callees.size(); ++i) {
    // A second contact is another device of bob's: its own IMPI, the same IMPUs.
    const Subscriber& device = find(o.subscribers, i == 0 ? "bob@ims.example" : "bob-tablet@ims.example");
    UeConfig c = ue_config(o, device, e.ue_b[i], e.pcscf_b, "bob", 2 + i);
    c.ua.faults = o.callee_faults;
    ue_b.push_back(std::make_unique<ImsUe>(std::move(c), *callees[i]));
  }
}

std::vector<NamedNode> ImsTopology::nodes() {
  std::vector<NamedNode> out{{"UE-A", ue_a.config().ua.local, &ue_a},
                             {"P-CSCF", pcscf_a.config().local, &pcscf_a},
                             {"S-CSCF", scscf.config().local, &scscf},
                             {"P-CSCF", pcscf_b.config().local, &pcscf_b}};
  for (std::size_t i = 0; i < ue_b.size(); ++i)
    out.push_back({ue_b.size() == 1 ? "UE-B" : "UE-B" + std::to_string(i + 1), ue_b[i]->config().ua.local,
                   ue_b[i].get()});
  return out;
}

}  // namespace imsflow::ims

// The IMS path of a VoLTE call as one set of sans-I/O nodes: UE-A, its
// P-CSCF, the S-CSCF with the registrar, the callee's P-CSCF and one or
// more UE-B contacts (several: the S-CSCF forks). `imsflow demo` attaches
// these nodes to real loopback sockets, the scenario tests to the simulator.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dialog/user_agent.hpp"
#include "ims/cscf.hpp"
#include "ims/proxy.hpp"
#include "ims/registrar.hpp"
#include "ims/subscribers.hpp"
#include "ims/ue.hpp"

namespace imsflow::ims {

struct TopologyEndpoints {
  sip::Endpoint ue_a;
  sip::Endpoint pcscf_a;
  sip::Endpoint scscf;
  sip::Endpoint pcscf_b;
  std::vector<sip::Endpoint> ue_b;  // one per contact of the callee
};

struct TopologyOptions {
  txn::TimerConfig timers;
  std::uint64_t seed = 1;
  bool aka = true;                 // false: Digest MD5 with the subscribers' passwords
  dialog::UserAgentConfig ue;      // profile settings for both UEs (supported, 100rel, QoS timing, faults of UE-A)
  dialog::Faults callee_faults;    // UE-B's own misbehaviour
  Duration caller_timer_c{};       // non-zero: UE-A's Timer C (the proxies keep timers.timer_c)
  std::vector<Subscriber> subscribers = demo_subscribers();

  /// alice (sip:alice@ims.example, tel:+15550101) and bob
  /// (sip:bob@ims.example, tel:+15550102) on two devices (IMPIs
  /// bob@ims.example and bob-tablet@ims.example), with fixed keys.
  static std::vector<Subscriber> demo_subscribers();
};

struct NamedNode {
  std::string name;       // "UE-A", "P-CSCF" …
  sip::Endpoint local;
  txn::Node* node = nullptr;
};

class ImsTopology {
 public:
  /// `caller` sees UE-A's session events; `callees[i]` those of UE-B
  /// contact i (as many as endpoints.ue_b).
  ImsTopology(const TopologyEndpoints& endpoints, const TopologyOptions& options, dialog::SessionObserver& caller,
              const std::vector<dialog::SessionObserver*>& callees);

  /// Every node in ladder order: UE-A, P-CSCF, S-CSCF, P-CSCF, UE-B….
  std::vector<NamedNode> nodes();

  Registrar registrar;
  Scscf scscf_policy;
  StatefulProxy scscf;
  Pcscf pcscf_a_policy;
  StatefulProxy pcscf_a;
  Pcscf pcscf_b_policy;
  StatefulProxy pcscf_b;
  ImsUe ue_a;
  std::vector<std::unique_ptr<ImsUe>> ue_b;
};

}  // namespace imsflow::ims

// The routing policies of the two CSCFs (TS 24.229 §5.2 and §5.4) over the
// StatefulProxy core.
//
// P-CSCF: the UE's first hop. REGISTER gets a Path naming the P-CSCF's
// terminating URI and goes to the S-CSCF; the 200 teaches the P-CSCF the UE
// (its flow, contacts, associated identities, Service-Route). An initial
// request from a registered UE loses any P-Preferred-Identity and
// P-Asserted-Identity it carried, gets the asserted identity the P-CSCF
// knows, a P-Charging-Vector and a Record-Route, and follows the
// Service-Route; one from an unregistered UE gets 403 (or, with a next hop,
// is relayed there as by a plain record-routing proxy). A request from the
// core for a registered contact is delivered to the UE's flow.
//
// S-CSCF: the registrar, then originating handling (the asserted identity
// must be registered, else 403) and terminating handling: the callee's
// contacts, with their Path, in parallel (forking); 404 for an unknown
// identity (or, with a next hop, relayed there as a plain proxy), 480 for
// one not registered.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ims/proxy.hpp"
#include "ims/registrar.hpp"
#include "sip/endpoint.hpp"

namespace imsflow::ims {

/// What a P-CSCF knows of a UE it saw register.
struct UeRegistration {
  sip::Endpoint flow;                      // the UE's address and listening port (UDP)
  std::vector<std::string> contacts;       // the contact URIs the registrar accepted
  std::vector<std::string> associated;     // P-Associated-URI: the first is the default identity
  std::vector<std::string> service_route;  // name-addr values to route its requests by
  TimePoint expires_at;
};

struct PcscfConfig {
  sip::Endpoint registrar;  // where REGISTER goes (the S-CSCF; an I-CSCF in a full network)
  std::uint64_t seed = 1;   // icid values
  /// Initial requests from senders that are not registered UEs are relayed
  /// here with Record-Route (a plain proxy, `imsflow core --next-hop`)
  /// instead of refused with 403.
  std::optional<sip::Endpoint> next_hop;
};

class Pcscf final : public RoutingPolicy {
 public:
  explicit Pcscf(PcscfConfig config) : config_(std::move(config)), icid_state_(config_.seed) {}
  /// The proxy this policy runs in (for its own URIs); set before traffic.
  void attach(const StatefulProxy& proxy) { proxy_ = &proxy; }

  RoutingDecision route_initial(const sip::Message& request, std::string_view own_route, const sip::Endpoint& remote,
                                TimePoint now) override;
  void on_final_response(const sip::Message& request, const sip::Endpoint& upstream, const sip::Message& response,
                         std::vector<std::pair<std::string, std::string>>& add, TimePoint now) override;

  const UeRegistration* registration(const sip::Endpoint& flow, TimePoint now) const;
  std::size_t registered_ues(TimePoint now) const;

 private:
  const UeRegistration* by_contact(std::string_view uri, TimePoint now) const;
  std::string new_icid();

  PcscfConfig config_;
  const StatefulProxy* proxy_ = nullptr;
  std::unordered_map<sip::Endpoint, UeRegistration, sip::EndpointHash> ues_;
  std::uint64_t icid_state_;
};

struct ScscfConfig {
  /// Initial requests for identities the registrar does not know are relayed
  /// here (a plain record-routing proxy); none: 404.
  std::optional<sip::Endpoint> next_hop;
};

class Scscf final : public RoutingPolicy {
 public:
  Scscf(ScscfConfig config, Registrar& registrar) : config_(std::move(config)), registrar_(registrar) {}

  RoutingDecision route_initial(const sip::Message& request, std::string_view own_route, const sip::Endpoint& remote,
                                TimePoint now) override;

 private:
  ScscfConfig config_;
  Registrar& registrar_;
};

}  // namespace imsflow::ims

#include "ims/cscf.hpp"

#include "sip/uri.hpp"
#include "util/hex.hpp"
#include "util/splitmix.hpp"

namespace imsflow::ims {

namespace {

// The URIs of a name-addr list header (P-Associated-URI, Service-Route).
std::vector<std::string> uris_of(const sip::Message& m, sip::HeaderId id) {
  std::vector<std::string> out;
  for (const sip::NameAddr& v : m.name_addrs(id)) out.emplace_back(v.uri.raw);
  return out;
}

std::vector<std::string> raws_of(const sip::Message& m, sip::HeaderId id) {
  std::vector<std::string> out;
  for (const sip::NameAddr& v : m.name_addrs(id)) out.emplace_back(v.raw);
  return out;
}

// Which UE a request comes from: its address and the port it listens on.
// Over UDP that is the source port (RFC 3581); over TCP the source port is
// the connection's ephemeral one, so the sent-by port of its Via (the
// protected ports of TS 33.203 play this part in a real network).
sip::Endpoint ue_flow(const sip::Message& request, const sip::Endpoint& remote) {
  sip::Endpoint flow{sip::Transport::Udp, remote.address, remote.port};
  if (sip::is_reliable(remote.transport)) {
    if (const sip::Via* via = request.top_via()) flow.port = via->has_port ? via->port : 5060;
  }
  return flow;
}

bool user_is(std::string_view uri_text, std::string_view user) {
  auto uri = sip::parse_uri(uri_text);
  return uri && uri->user == user;
}

}  // namespace

// --- P-CSCF --------------------------------------------------------------------------------

std::string Pcscf::new_icid() {
  std::string icid;
  append_hex(icid, splitmix64(icid_state_));
  return icid;
}

const UeRegistration* Pcscf::registration(const sip::Endpoint& flow, TimePoint now) const {
  auto it = ues_.find(flow);
  return it == ues_.end() || it->second.expires_at <= now ? nullptr : &it->second;
}

std::size_t Pcscf::registered_ues(TimePoint now) const {
  std::size_t n = 0;
  for (const auto& [flow, ue] : ues_) n += ue.expires_at > now ? 1 : 0;
  return n;
}

const UeRegistration* Pcscf::by_contact(std::string_view uri, TimePoint now) const {
  for (const auto& [flow, ue] : ues_) {
    if (ue.expires_at <= now) continue;
    for (const std::string& c : ue.contacts)
      if (c == uri) return &ue;
  }
  return nullptr;
}

RoutingDecision Pcscf::route_initial(const sip::Message& request, std::string_view own_route,
                                     const sip::Endpoint& remote, TimePoint now) {
  RoutingDecision d;
  const std::string here = proxy_ ? proxy_->config().local.address.to_string() : std::string();
  if (request.method() == sip::Method::Register) {
    // TS 24.229 §5.2.2.1: Path with the P-CSCF's URI, then on to the
    // registrar; its 200 tells who registered.
    d.record_route = false;
    d.see_final_response = true;
    if (proxy_) d.add_headers.emplace_back("Path", "<" + proxy_->own_uri("term") + ">");
    if (!request.find(sip::HeaderId::PChargingVector))
      d.add_headers.emplace_back("P-Charging-Vector", "icid-value=" + new_icid() + ";icid-generated-at=" + here);
    ProxyTarget t;
    t.destination = config_.registrar;
    d.targets.push_back(std::move(t));
    return d;
  }
  if (const UeRegistration* ue = registration(ue_flow(request, remote), now)) {
    // Originating (§5.2.6.3): assert the identity, route by Service-Route.
    std::string asserted = ue->associated.empty() ? std::string() : ue->associated.front();
    if (const sip::NameAddr* preferred = request.name_addrs(sip::HeaderId::PPreferredIdentity).first()) {
      const std::string wanted = canonical_impu(preferred->uri.raw);
      for (const std::string& a : ue->associated)
        if (canonical_impu(a) == wanted) asserted = a;
    }
    d.remove_headers = {"P-Preferred-Identity", "P-Asserted-Identity"};
    if (!asserted.empty()) d.add_headers.emplace_back("P-Asserted-Identity", "<" + asserted + ">");
    if (!request.find(sip::HeaderId::PChargingVector))
      d.add_headers.emplace_back("P-Charging-Vector", "icid-value=" + new_icid() + ";icid-generated-at=" + here);
    ProxyTarget t;
    t.route = ue->service_route;
    t.replace_route = true;
    d.targets.push_back(std::move(t));
    return d;
  }
  if (!own_route.empty() && user_is(own_route, "term")) {
    // Terminating (§5.2.6.4): the Request-URI is a contact of a UE of ours.
    const UeRegistration* ue = by_contact(request.request_uri().raw, now);
    if (!ue) return RoutingDecision::respond(404, "Not Found (no such registered contact)");
    ProxyTarget t;
    t.destination = ue->flow;
    d.targets.push_back(std::move(t));
    return d;
  }
  if (config_.next_hop) {
    ProxyTarget t;
    t.destination = config_.next_hop;
    d.targets.push_back(std::move(t));
    return d;
  }
  return RoutingDecision::respond(403, "Forbidden (not registered)");
}

void Pcscf::on_final_response(const sip::Message& request, const sip::Endpoint& upstream,
                              const sip::Message& response, std::vector<std::pair<std::string, std::string>>&,
                              TimePoint now) {
  if (request.method() != sip::Method::Register || response.status_code() != 200) return;
  // The contacts the registrar kept (with time left) are the UE's; none: deregistered.
  UeRegistration ue;
  ue.flow = ue_flow(request, upstream);
  std::uint32_t longest = 0;
  for (const sip::NameAddr& c : response.contacts()) {
    const std::uint32_t left = contact_expires(c).value_or(0);
    if (left == 0) continue;
    bool ours = false;
    for (const sip::NameAddr& asked : request.contacts()) ours |= asked.uri.raw == c.uri.raw;
    if (!ours) continue;
    ue.contacts.emplace_back(c.uri.raw);
    longest = std::max(longest, left);
  }
  if (ue.contacts.empty()) {
    ues_.erase(ue.flow);
    return;
  }
  ue.associated = uris_of(response, sip::HeaderId::PAssociatedUri);
  ue.service_route = raws_of(response, sip::HeaderId::ServiceRoute);
  ue.expires_at = now + std::chrono::seconds(longest);
  const sip::Endpoint flow = ue.flow;
  ues_[flow] = std::move(ue);
}

// --- S-CSCF --------------------------------------------------------------------------------

RoutingDecision Scscf::route_initial(const sip::Message& request, std::string_view own_route, const sip::Endpoint&,
                                     TimePoint now) {
  if (request.method() == sip::Method::Register) return registrar_.handle_register(request, now);
  if (!own_route.empty() && user_is(own_route, "orig")) {
    // Originating (§5.4.3.2): the P-CSCF asserted who calls; that identity
    // must be registered here.
    const sip::NameAddr* asserted = request.name_addrs(sip::HeaderId::PAssertedIdentity).first();
    if (!asserted || registrar_.state(asserted->uri.raw, now) != RegistrationState::Registered)
      return RoutingDecision::respond(403, "Forbidden (originating identity not registered)");
  }
  // Terminating (§5.4.3.3): the Request-URI is a public identity.
  const std::string_view callee = request.request_uri().raw;
  switch (registrar_.state(callee, now)) {
    case RegistrationState::Unknown: {
      if (!config_.next_hop) return RoutingDecision::respond(404);
      RoutingDecision d;
      ProxyTarget t;
      t.destination = config_.next_hop;
      d.targets.push_back(std::move(t));
      return d;
    }
    case RegistrationState::NotRegistered:
      return RoutingDecision::respond(480, "Temporarily Unavailable (not registered)");
    case RegistrationState::Registered:
      break;
  }
  RoutingDecision d;
  for (const Binding& b : registrar_.bindings(callee, now)) {
    ProxyTarget t;
    t.request_uri = b.uri;
    t.route = b.path;
    d.targets.push_back(std::move(t));
  }
  return d;
}

}  // namespace imsflow::ims

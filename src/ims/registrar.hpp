// The registrar of the S-CSCF (TS 24.229 §5.4.1, RFC 3261 §10, RFC 3327
// Path, RFC 3608 Service-Route), with IMS AKA (TS 33.203 §6.1, RFC 3310)
// or plain Digest MD5, sans-I/O.
//
// REGISTER without valid credentials → 401 with a fresh AKA vector in the
// nonce; with a response that matches XRES → the bindings are updated and
// 200 names the contacts, Path, Service-Route and P-Associated-URI; a wrong
// response → 403; a resync (auts) → SQN_HE taken from AUTS and a new 401.
// A registration binds the contacts to every IMPU of the subscriber's
// implicit registration set. Several contacts per IMPU (several devices,
// each with its own IMPI, may share an IMPU: the S-CSCF then forks); each
// expires on its own; Expires 0 removes one, "Contact: *" with Expires 0
// all of that device's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ims/aka.hpp"
#include "ims/proxy.hpp"
#include "ims/subscribers.hpp"
#include "sip/message.hpp"
#include "util/clock.hpp"

namespace imsflow::ims {

using namespace std::chrono_literals;

struct RegistrarConfig {
  std::string realm = "ims.example";     // the home domain
  bool aka = true;                       // false: Digest MD5 with the subscriber's password
  std::uint32_t default_expires = 600;   // seconds, when the REGISTER names none
  std::uint32_t min_expires = 60;        // below it: 423 Interval Too Brief
  std::uint32_t max_expires = 7200;      // longer asks are cut to it
  Duration challenge_lifetime = 30s;     // a nonce unanswered this long is forgotten
  std::vector<std::string> service_route;  // name-addr values for the 200 (the S-CSCF's orig URI)
  std::uint64_t seed = 0;                // RAND source: 0 = OpenSSL's CSPRNG; else a reproducible stream
};

struct Binding {
  std::string impi;                  // the device (private identity) that registered it
  std::string contact;               // the Contact value as registered, without expires
  std::string uri;                   // its URI: the target of terminating requests
  std::vector<std::string> path;     // Path values: the route to the UE (its P-CSCF)
  TimePoint expires_at;
};

/// The expires parameter of a Contact; nullopt when absent, 0 when not a number.
std::optional<std::uint32_t> contact_expires(const sip::NameAddr& contact);

enum class RegistrationState : std::uint8_t { Unknown, NotRegistered, Registered };

struct RegistrarStats {
  std::uint64_t challenges = 0;
  std::uint64_t registered = 0;     // 200 with at least one binding
  std::uint64_t deregistered = 0;   // 200 that removed the last binding
  std::uint64_t auth_failures = 0;  // 403
  std::uint64_t resyncs = 0;
};

class Registrar {
 public:
  Registrar(RegistrarConfig config, std::vector<Subscriber> subscribers);

  /// Answers a REGISTER (what the S-CSCF sends back, as a local answer).
  RoutingDecision handle_register(const sip::Message& request, TimePoint now);

  /// Whether `impu` belongs to a subscriber, and whether it has a live binding.
  RegistrationState state(std::string_view impu, TimePoint now) const;
  /// The live bindings of `impu` (empty when none).
  std::vector<Binding> bindings(std::string_view impu, TimePoint now) const;
  const Subscriber* subscriber_by_impu(std::string_view impu) const;
  const RegistrarStats& stats() const { return stats_; }
  const RegistrarConfig& config() const { return config_; }

 private:
  struct Challenge {
    Rand rand{};
    Res xres{};
    std::string nonce;
    TimePoint expires_at;
  };
  RoutingDecision challenge(Subscriber& s, TimePoint now, bool stale = false);
  RoutingDecision accept(Subscriber& s, const sip::Message& request, TimePoint now);
  Rand next_rand();

  RegistrarConfig config_;
  std::vector<Subscriber> subscribers_;
  std::unordered_map<std::string, std::size_t> by_impi_;
  std::unordered_map<std::string, std::vector<std::size_t>> by_impu_;  // canonical IMPU → subscribers
  std::unordered_map<std::string, Challenge> challenges_;  // IMPI → the open challenge
  std::unordered_map<std::string, std::vector<Binding>> bindings_;  // canonical IMPU → contacts
  std::uint64_t rand_state_;
  RegistrarStats stats_;
};

}  // namespace imsflow::ims

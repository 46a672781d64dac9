// An IMS UE (TS 24.229 §5.1), sans-I/O: a dialog::UserAgent for its calls,
// plus registration with IMS AKA (or Digest MD5) through its P-CSCF.
//
// Registration: REGISTER with an empty-response Authorization (§5.1.1.2),
// the 401's AKA nonce checked by the USIM (Milenage), REGISTER again with
// the RES-based response, or with AUTS when the SQN was stale; the 200
// gives the Service-Route and the associated identities; refreshed at half
// the granted time; deregistered with Expires 0.
// Calls (§5.1.2A, TS 24.229 Annex/TS 26.114 for the media): the INVITE goes
// to the P-CSCF with the Service-Route preloaded, P-Preferred-Identity,
// P-Access-Network-Info, the MMTel ICSI in Accept-Contact,
// P-Preferred-Service and the Contact, and P-Early-Media.
// Session events and SDP offers go to the observer given at construction,
// so any answering behaviour (load::Answerer) drives the terminating side.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialog/user_agent.hpp"
#include "ims/aka.hpp"
#include "sip/endpoint.hpp"
#include "txn/node.hpp"

namespace imsflow::ims {

/// The MMTel service (TS 24.173): ICSI value and its feature-tag form.
inline constexpr std::string_view kMmtelIcsi = "urn:urn-7:3gpp-service.ims.icsi.mmtel";
inline constexpr std::string_view kMmtelFeatureTag = "+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"";

struct UeConfig {
  dialog::UserAgentConfig ua;        // local endpoint, user, timers, profile
  std::string impi = "alice@ims.example";
  std::string impu = "sip:alice@ims.example";
  std::string home_domain = "ims.example";
  Key k{};
  Opc opc{};
  Sqn sqn_ms = 0;                    // the USIM's highest accepted SQN
  std::string password;              // Digest MD5, when the network does not use AKA
  sip::Endpoint pcscf;
  std::uint32_t expires = 600;
  std::string access_network_info = "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=001010000000001";
  std::string instance = "<urn:gsma:imei:35000000-000001-0>";
};

enum class RegistrationPhase : std::uint8_t { Unregistered, Registering, Registered, Deregistering, Failed };
std::string_view to_string(RegistrationPhase p);

struct RegistrationEvent {
  RegistrationPhase phase = RegistrationPhase::Unregistered;
  int status = 0;        // the final response that decided it
  std::string cause;     // Failed: why
  TimePoint at;
};

class ImsUe final : public txn::Node, private dialog::SessionObserver {
 public:
  ImsUe(UeConfig config, dialog::SessionObserver& calls);

  // --- txn::Node ---
  void receive(std::string_view bytes, const sip::Endpoint& remote, const sip::Endpoint& local,
               TimePoint now) override {
    ua_.receive(bytes, remote, local, now);
  }
  void advance(TimePoint now) override;
  std::optional<TimePoint> next_deadline() const override;
  void take_transmits(std::vector<txn::Transmit>& out) override { ua_.take_transmits(out); }
  void transport_failed(const txn::Transmit& what, std::string_view why, TimePoint now) override {
    ua_.transport_failed(what, why, now);
  }

  void register_now(TimePoint now);
  void deregister(TimePoint now);
  /// An MMTel call to a public identity (sip: or tel:) through the P-CSCF.
  dialog::SessionId call(std::string_view callee, std::string sdp_offer, TimePoint now);

  /// Told each time the registration phase changes.
  std::function<void(const RegistrationEvent&)> on_registration;

  dialog::UserAgent& user_agent() { return ua_; }
  const dialog::UserAgent& user_agent() const { return ua_; }
  RegistrationPhase phase() const { return phase_; }
  const std::vector<std::string>& service_route() const { return service_route_; }
  const std::vector<std::string>& associated_identities() const { return associated_; }
  std::uint32_t challenges() const { return challenges_; }
  std::uint32_t resyncs() const { return resyncs_; }
  Sqn sqn_ms() const { return config_.sqn_ms; }
  const UeConfig& config() const { return config_; }
  /// The P-CSCF's URI as this UE routes to it.
  std::string pcscf_uri() const;

 private:
  // dialog::SessionObserver
  void on_session_event(const dialog::SessionEvent& e) override { calls_.on_session_event(e); }
  std::optional<std::string> answer_offer(dialog::SessionId id, std::string_view offer) override {
    return calls_.answer_offer(id, offer);
  }
  void on_standalone_response(txn::TransactionId id, const sip::Message& response, TimePoint now) override;
  void on_standalone_failure(txn::TransactionId id, std::string_view why, TimePoint now) override;

  void send_register(TimePoint now, std::uint32_t expires, std::string authorization);
  std::optional<std::string> answer_challenge(const sip::Message& challenge, std::string& failure);
  void set_phase(RegistrationPhase p, int status, std::string cause, TimePoint now);

  UeConfig config_;
  dialog::SessionObserver& calls_;
  dialog::UserAgent ua_;
  RegistrationPhase phase_ = RegistrationPhase::Unregistered;
  txn::TransactionId register_txn_;
  std::string register_call_id_;
  std::string register_tag_;
  std::uint32_t register_cseq_ = 0;
  std::uint32_t register_expires_ = 0;  // what the REGISTER in flight asks for
  std::uint32_t challenges_in_a_row_ = 0;
  std::uint32_t challenges_ = 0;
  std::uint32_t resyncs_ = 0;
  std::uint32_t nonce_count_ = 0;
  std::uint64_t random_state_;
  std::optional<TimePoint> refresh_at_;
  std::vector<std::string> service_route_;
  std::vector<std::string> associated_;
};

}  // namespace imsflow::ims

#include "ims/ue.hpp"

#include "ims/digest.hpp"
#include "ims/registrar.hpp"
#include "sip/builder.hpp"
#include "util/hex.hpp"
#include "util/splitmix.hpp"

namespace imsflow::ims {

namespace {

// A UE gives up after this many 401s in a row (a network that keeps
// challenging is not one it can register with).
constexpr std::uint32_t kMaxChallengesInARow = 3;

dialog::UserAgentConfig with_identity(UeConfig& c) {
  dialog::UserAgentConfig ua = c.ua;
  ua.aor = c.impu;
  ua.contact_params = ";+sip.instance=\"" + c.instance + "\";" + std::string(kMmtelFeatureTag);
  return ua;
}

}  // namespace

std::string_view to_string(RegistrationPhase p) {
  switch (p) {
    case RegistrationPhase::Unregistered: return "unregistered";
    case RegistrationPhase::Registering: return "registering";
    case RegistrationPhase::Registered: return "registered";
    case RegistrationPhase::Deregistering: return "deregistering";
    case RegistrationPhase::Failed: return "failed";
  }
  return "?";
}

ImsUe::ImsUe(UeConfig config, dialog::SessionObserver& calls)
    : config_(std::move(config)), calls_(calls), ua_(with_identity(config_), *this),
      random_state_(config_.ua.seed ^ 0x5EEDu) {
  append_hex(register_call_id_, splitmix64(random_state_));
  register_call_id_ += "@" + config_.ua.local.host_text();
  append_hex(register_tag_, splitmix64(random_state_), 10);
}

std::string ImsUe::pcscf_uri() const {
  std::string u = "sip:" + config_.pcscf.to_string();
  if (config_.pcscf.transport == sip::Transport::Tcp) u += ";transport=tcp";
  return u + ";lr";
}

void ImsUe::advance(TimePoint now) {
  if (refresh_at_ && *refresh_at_ <= now) {
    refresh_at_.reset();
    if (phase_ == RegistrationPhase::Registered) send_register(now, config_.expires, {});
  }
  ua_.advance(now);
}

std::optional<TimePoint> ImsUe::next_deadline() const {
  auto d = ua_.next_deadline();
  if (refresh_at_ && (!d || *refresh_at_ < *d)) d = refresh_at_;
  return d;
}

void ImsUe::set_phase(RegistrationPhase p, int status, std::string cause, TimePoint now) {
  phase_ = p;
  if (on_registration) on_registration(RegistrationEvent{p, status, std::move(cause), now});
}

void ImsUe::register_now(TimePoint now) {
  challenges_in_a_row_ = 0;
  set_phase(RegistrationPhase::Registering, 0, {}, now);
  send_register(now, config_.expires, {});
}

void ImsUe::deregister(TimePoint now) {
  refresh_at_.reset();
  challenges_in_a_row_ = 0;
  set_phase(RegistrationPhase::Deregistering, 0, {}, now);
  send_register(now, 0, {});
}

void ImsUe::send_register(TimePoint now, std::uint32_t expires, std::string authorization) {
  register_expires_ = expires;
  const std::string registrar_uri = "sip:" + config_.home_domain;
  if (authorization.empty()) {
    // TS 24.229 §5.1.1.2.1: the IMPI goes in an Authorization with an empty
    // nonce and response, so the S-CSCF knows whom to challenge.
    DigestCredentials empty;
    empty.username = config_.impi;
    empty.realm = config_.home_domain;
    empty.uri = registrar_uri;
    empty.algorithm = DigestAlgorithm::Other;
    authorization = build_authorization(empty);
  }
  const std::string branch = ua_.new_branch();
  auto b = sip::MessageBuilder::request("REGISTER", registrar_uri);
  b.add(sip::HeaderId::Via, "SIP/2.0/" + std::string(sip::transport_name(config_.pcscf.transport)) + " " +
                                config_.ua.local.to_string() + ";branch=" + branch + ";rport");
  b.add(sip::HeaderId::MaxForwards, "70");
  b.add(sip::HeaderId::From, "<" + config_.impu + ">;tag=" + register_tag_);
  b.add(sip::HeaderId::To, "<" + config_.impu + ">");
  b.add(sip::HeaderId::CallId, register_call_id_);
  b.add(sip::HeaderId::CSeq, std::to_string(++register_cseq_) + " REGISTER");
  b.add(sip::HeaderId::Contact, ua_.contact());
  b.add(sip::HeaderId::Expires, std::to_string(expires));
  b.add(sip::HeaderId::Authorization, authorization);
  b.add(sip::HeaderId::Supported, "path");
  b.add("P-Access-Network-Info", config_.access_network_info);
  b.add(sip::HeaderId::UserAgent, config_.ua.user_agent);
  b.add(sip::HeaderId::ContentLength, "0");
  register_txn_ = ua_.send_standalone(
      txn::OutgoingRequest{sip::Method::Register, branch, b.serialize(), config_.ua.local, config_.pcscf}, now);
}

std::optional<std::string> ImsUe::answer_challenge(const sip::Message& r, std::string& failure) {
  const sip::HeaderField* h = r.find(sip::HeaderId::WwwAuthenticate);
  if (!h) {
    failure = "401 without WWW-Authenticate";
    return std::nullopt;
  }
  auto challenge = parse_digest(h->value);
  if (!challenge) {
    failure = "bad WWW-Authenticate: " + challenge.error().describe();
    return std::nullopt;
  }
  const std::string nonce = challenge->nonce.unescaped();
  const std::string realm = challenge->realm.unescaped();
  const std::string uri = "sip:" + config_.home_domain;
  std::string cnonce;
  append_hex(cnonce, splitmix64(random_state_));
  const std::string nc = nonce_count_text(++nonce_count_);
  DigestCredentials cred;
  cred.username = config_.impi;
  cred.realm = realm;
  cred.nonce = nonce;
  cred.uri = uri;
  cred.algorithm = challenge->algorithm_kind();
  const bool qop = challenge->offers_qop("auth");
  if (qop) {
    cred.qop = "auth";
    cred.nc = nc;
    cred.cnonce = cnonce;
  }
  std::vector<std::uint8_t> password;
  std::string auts;
  if (cred.algorithm == DigestAlgorithm::AkaV1Md5) {
    auto aka = parse_aka_nonce(nonce);
    if (!aka) {
      failure = "bad AKA nonce: " + aka.error().describe();
      return std::nullopt;
    }
    auto usim = authenticate(config_.k, config_.opc, aka->rand, aka->autn, config_.sqn_ms);
    if (usim) {
      config_.sqn_ms = usim->sqn;
      password.assign(usim->res.begin(), usim->res.end());
    } else if (usim.error().code == AkaErrorCode::SyncFailure) {
      // RFC 3310 §3.4: AUTS, and a response over an empty password.
      ++resyncs_;
      auts = auts_text(usim.error().auts);
      cred.auts = auts;
    } else {
      failure = "the network failed authentication: " + usim.error().describe();
      return std::nullopt;
    }
  } else if (cred.algorithm == DigestAlgorithm::Md5) {
    password.assign(config_.password.begin(), config_.password.end());
  } else {
    failure = "unsupported Digest algorithm";
    return std::nullopt;
  }
  auto ha1 = digest_ha1(config_.impi, realm, password);
  if (!ha1) {
    failure = ha1.error().describe();
    return std::nullopt;
  }
  auto response = digest_response(*ha1, DigestResponseInput{"REGISTER", uri, nonce, cred.qop, cred.nc, cred.cnonce});
  if (!response) {
    failure = response.error().describe();
    return std::nullopt;
  }
  const std::string hex(response->view());
  cred.response = hex;
  return build_authorization(cred);
}

void ImsUe::on_standalone_response(txn::TransactionId id, const sip::Message& r, TimePoint now) {
  if (id != register_txn_) return;
  const int status = r.status_code();
  if (status < 200) return;
  if (status == 401) {
    ++challenges_;
    std::string failure;
    std::optional<std::string> authorization;
    if (++challenges_in_a_row_ > kMaxChallengesInARow) {
      failure = "challenged " + std::to_string(challenges_in_a_row_) + " times in a row";
    } else {
      authorization = answer_challenge(r, failure);
    }
    if (!authorization) {
      set_phase(RegistrationPhase::Failed, status, failure, now);
      return;
    }
    send_register(now, register_expires_, std::move(*authorization));
    return;
  }
  challenges_in_a_row_ = 0;
  if (status >= 300) {
    set_phase(RegistrationPhase::Failed, status,
              std::to_string(status) + " " + std::string(r.reason_phrase()) + " to REGISTER", now);
    return;
  }
  if (register_expires_ == 0) {
    service_route_.clear();
    associated_.clear();
    set_phase(RegistrationPhase::Unregistered, status, {}, now);
    return;
  }
  service_route_.clear();
  for (const sip::NameAddr& v : r.service_routes()) service_route_.emplace_back(v.raw);
  associated_.clear();
  for (const sip::NameAddr& v : r.name_addrs(sip::HeaderId::PAssociatedUri)) associated_.emplace_back(v.uri.raw);
  // The time granted to our contact; refresh at half of it.
  std::uint32_t granted = register_expires_;
  const std::string ours(sip::uri_of(ua_.contact()));
  for (const sip::NameAddr& c : r.contacts()) {
    if (c.uri.raw != ours) continue;
    if (auto e = contact_expires(c)) granted = *e;
  }
  refresh_at_ = now + std::chrono::seconds(std::max<std::uint32_t>(granted / 2, 1));
  set_phase(RegistrationPhase::Registered, status, {}, now);
}

void ImsUe::on_standalone_failure(txn::TransactionId id, std::string_view why, TimePoint now) {
  if (id != register_txn_) return;
  set_phase(RegistrationPhase::Failed, 408, "REGISTER: " + std::string(why), now);
}

dialog::SessionId ImsUe::call(std::string_view callee, std::string sdp_offer, TimePoint now) {
  dialog::CallRequest request;
  request.target = std::string(callee);
  request.next_hop = config_.pcscf;
  request.sdp_offer = std::move(sdp_offer);
  request.route.push_back("<" + pcscf_uri() + ">");
  for (const std::string& r : service_route_) request.route.push_back(r);
  request.headers = {
      {"P-Preferred-Identity", "<" + config_.impu + ">"},
      {"P-Access-Network-Info", config_.access_network_info},
      {"Accept-Contact", "*;" + std::string(kMmtelFeatureTag)},
      {"P-Preferred-Service", std::string(kMmtelIcsi)},
      {"P-Early-Media", "supported"},
  };
  return ua_.call(request, now);
}

}  // namespace imsflow::ims

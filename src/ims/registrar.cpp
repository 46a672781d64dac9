#include "ims/registrar.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "ims/digest.hpp"
#include "sip/endpoint.hpp"
#include "util/splitmix.hpp"

namespace imsflow::ims {

namespace {

std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

// The Contact value without its expires parameter (the 200 writes its own).
std::string without_expires(std::string_view contact) {
  std::string out(contact);
  for (std::size_t at = 0; (at = out.find(';', at)) != std::string::npos;) {
    std::size_t end = out.find(';', at + 1);
    if (end == std::string::npos) end = out.size();
    const std::string_view param = std::string_view(out).substr(at + 1, end - at - 1);
    if (param.size() >= 7 && ascii::iequals(param.substr(0, 7), "expires")) {
      out.erase(at, end - at);
    } else {
      at = end;
    }
  }
  return out;
}

}  // namespace

std::optional<std::uint32_t> contact_expires(const sip::NameAddr& contact) {
  auto e = contact.param("expires");
  if (!e) return std::nullopt;
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(e->data(), e->data() + e->size(), value);
  if (ec != std::errc{} || end != e->data() + e->size()) return 0;
  return value;
}

Registrar::Registrar(RegistrarConfig config, std::vector<Subscriber> subscribers)
    : config_(std::move(config)), subscribers_(std::move(subscribers)), rand_state_(config_.seed) {
  for (std::size_t i = 0; i < subscribers_.size(); ++i) {
    by_impi_[subscribers_[i].impi] = i;
    for (const std::string& impu : subscribers_[i].impus) by_impu_[canonical_impu(impu)].push_back(i);
  }
}

Rand Registrar::next_rand() {
  Rand r{};
  if (config_.seed == 0 && RAND_bytes(r.data(), static_cast<int>(r.size())) == 1) return r;
  for (std::size_t i = 0; i < r.size(); i += 8) {
    const std::uint64_t v = splitmix64(rand_state_);
    std::memcpy(r.data() + i, &v, 8);
  }
  return r;
}

const Subscriber* Registrar::subscriber_by_impu(std::string_view impu) const {
  auto it = by_impu_.find(canonical_impu(impu));
  return it == by_impu_.end() ? nullptr : &subscribers_[it->second.front()];
}

RegistrationState Registrar::state(std::string_view impu, TimePoint now) const {
  const std::string key = canonical_impu(impu);
  if (!by_impu_.contains(key)) return RegistrationState::Unknown;
  auto it = bindings_.find(key);
  if (it != bindings_.end())
    for (const Binding& b : it->second)
      if (b.expires_at > now) return RegistrationState::Registered;
  return RegistrationState::NotRegistered;
}

std::vector<Binding> Registrar::bindings(std::string_view impu, TimePoint now) const {
  std::vector<Binding> out;
  auto it = bindings_.find(canonical_impu(impu));
  if (it == bindings_.end()) return out;
  for (const Binding& b : it->second)
    if (b.expires_at > now) out.push_back(b);
  return out;
}

RoutingDecision Registrar::handle_register(const sip::Message& request, TimePoint now) {
  const sip::NameAddr* to = request.to();
  if (!to) return RoutingDecision::respond(400, "Missing To");
  auto by_impu = by_impu_.find(canonical_impu(to->uri.raw));
  if (by_impu == by_impu_.end()) {
    ++stats_.auth_failures;
    return RoutingDecision::respond(403, "Unknown public identity");
  }
  // The device is its private identity (TS 24.229 §5.1.1.2: the username
  // of the Authorization); without one, the IMPU's first subscriber.
  const sip::HeaderField* auth = request.find(sip::HeaderId::Authorization);
  if (!auth) return challenge(subscribers_[by_impu->second.front()], now);
  auto credentials = parse_digest(auth->value);
  if (!credentials) return RoutingDecision::respond(400, "Bad Authorization: " + credentials.error().describe());
  std::size_t index = by_impu->second.front();
  if (credentials->username) {
    auto impi = by_impi_.find(credentials->username.unescaped());
    const bool owns = impi != by_impi_.end() && std::find(by_impu->second.begin(), by_impu->second.end(),
                                                          impi->second) != by_impu->second.end();
    if (!owns) {
      ++stats_.auth_failures;
      return RoutingDecision::respond(403, "Private identity does not own the public identity");
    }
    index = impi->second;
  }
  Subscriber& s = subscribers_[index];
  auto open = challenges_.find(s.impi);
  const std::string nonce = credentials->nonce ? credentials->nonce.unescaped() : std::string();
  // TS 24.229 §5.1.1.2: the first REGISTER carries an empty nonce and response.
  if (open == challenges_.end() || nonce.empty() || nonce != open->second.nonce || open->second.expires_at <= now) {
    if (open != challenges_.end() && !nonce.empty() && nonce != open->second.nonce) ++stats_.auth_failures;
    return challenge(s, now, !nonce.empty());
  }
  const Challenge c = open->second;
  challenges_.erase(open);

  if (config_.aka && credentials->auts) {
    // RFC 3310 §3.4: the UE found the SQN stale; take SQN_MS from AUTS.
    auto auts = parse_auts(credentials->auts.unescaped());
    if (!auts) return RoutingDecision::respond(400, "Bad auts: " + auts.error().describe());
    auto m = Milenage::from_opc(s.k, s.opc);
    if (!m) return RoutingDecision::respond(500, "AKA unavailable");
    auto sqn_ms = resync(*m, c.rand, *auts);
    if (!sqn_ms) {
      ++stats_.auth_failures;
      return RoutingDecision::respond(403, "AUTS rejected: " + sqn_ms.error().describe());
    }
    ++stats_.resyncs;
    s.sqn = *sqn_ms;
    return challenge(s, now);
  }
  std::vector<std::uint8_t> password;
  if (config_.aka) {
    password.assign(c.xres.begin(), c.xres.end());
  } else {
    password.assign(s.password.begin(), s.password.end());
  }
  auto verdict = verify_response(*credentials, request.method_text(), password);
  if (!verdict) return RoutingDecision::respond(400, "Bad Authorization: " + verdict.error().describe());
  if (!*verdict) {
    ++stats_.auth_failures;
    return RoutingDecision::respond(403, "Authentication failed");
  }
  return accept(s, request, now);
}

RoutingDecision Registrar::challenge(Subscriber& s, TimePoint now, bool stale) {
  Challenge c;
  c.rand = next_rand();
  c.expires_at = now + config_.challenge_lifetime;
  std::string nonce;
  if (config_.aka) {
    auto m = Milenage::from_opc(s.k, s.opc);
    if (!m) return RoutingDecision::respond(500, "AKA unavailable");
    s.sqn = (s.sqn + 1) & kSqnMax;
    auto vector = make_vector(*m, s.sqn, s.amf, c.rand);
    if (!vector) return RoutingDecision::respond(500, "AKA vector: " + vector.error().describe());
    c.xres = vector->xres;
    nonce = aka_nonce(vector->rand, vector->autn);
  } else {
    nonce = base64_encode(c.rand);
  }
  c.nonce = nonce;
  challenges_[s.impi] = c;
  ++stats_.challenges;
  DigestChallenge dc;
  dc.realm = config_.realm;
  dc.nonce = c.nonce;
  dc.algorithm = config_.aka ? DigestAlgorithm::AkaV1Md5 : DigestAlgorithm::Md5;
  dc.stale = stale;
  RoutingDecision d = RoutingDecision::respond(401);
  d.response_headers.emplace_back("WWW-Authenticate", build_challenge(dc));
  return d;
}

RoutingDecision Registrar::accept(Subscriber& s, const sip::Message& request, TimePoint now) {
  // The contacts of this device, as they will be after this REGISTER.
  std::vector<Binding> mine;
  const std::string default_impu = canonical_impu(s.impus.front());
  for (const Binding& b : bindings_[default_impu])
    if (b.impi == s.impi && b.expires_at > now) mine.push_back(b);
  const std::uint32_t header_expires = request.expires().value_or(config_.default_expires);
  std::vector<std::string> path;
  for (const sip::NameAddr& p : request.paths()) path.emplace_back(p.raw);

  for (const sip::NameAddr& contact : request.contacts()) {
    if (contact.wildcard) {
      if (header_expires != 0) return RoutingDecision::respond(400, "Contact * needs Expires: 0");
      mine.clear();
      continue;
    }
    std::uint32_t expires = header_expires;
    if (auto e = contact_expires(contact)) expires = *e;
    auto same = std::find_if(mine.begin(), mine.end(), [&](const Binding& b) { return b.uri == contact.uri.raw; });
    if (expires == 0) {
      if (same != mine.end()) mine.erase(same);
      continue;
    }
    if (expires < config_.min_expires) {
      RoutingDecision d = RoutingDecision::respond(423);
      d.response_headers.emplace_back("Min-Expires", std::to_string(config_.min_expires));
      return d;
    }
    expires = std::min(expires, config_.max_expires);
    Binding b{s.impi, without_expires(contact.raw), std::string(contact.uri.raw), path,
              now + std::chrono::seconds(expires)};
    if (same != mine.end()) {
      *same = std::move(b);
    } else {
      mine.push_back(std::move(b));
    }
  }
  // The whole implicit set gets the same contacts; other devices' stay.
  for (const std::string& impu : s.impus) {
    std::vector<Binding>& list = bindings_[canonical_impu(impu)];
    std::erase_if(list, [&](const Binding& b) { return b.impi == s.impi || b.expires_at <= now; });
    list.insert(list.end(), mine.begin(), mine.end());
  }

  RoutingDecision d = RoutingDecision::respond(200);
  for (const Binding& b : mine) {
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(b.expires_at - now).count();
    d.response_headers.emplace_back("Contact", b.contact + ";expires=" + std::to_string(left));
  }
  if (!path.empty()) d.response_headers.emplace_back("Path", join(path));
  if (!mine.empty()) {
    ++stats_.registered;
    if (!config_.service_route.empty()) d.response_headers.emplace_back("Service-Route", join(config_.service_route));
    std::vector<std::string> associated;
    for (const std::string& impu : s.impus) associated.push_back("<" + impu + ">");
    d.response_headers.emplace_back("P-Associated-URI", join(associated));
  } else {
    ++stats_.deregistered;
  }
  return d;
}

}  // namespace imsflow::ims

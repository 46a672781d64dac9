// Fuzzes the Digest header parser (WWW-Authenticate / Authorization values)
// and what reads a parsed header: the response check, the AKA nonce and auts
// decoders. Invariants: errors point inside the input; every view lies in
// the input; what build_authorization writes from parsed values parses back
// to the same values; a base64 text that decodes encodes back to itself.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ims/digest.hpp"

using namespace imsflow::ims;

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

/// What the builder keeps of a value: it drops control characters but HT.
std::string buildable(const DigestValue& v) {
  std::string out;
  for (char c : v.unescaped()) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) continue;
    out.push_back(c);
  }
  return out;
}

void check_base64(std::string_view text) {
  auto octets = base64_decode(text);
  if (octets && base64_encode(*octets) != text) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto h = parse_digest(input);
  if (!h) {
    if (h.error().offset > size) std::abort();
    (void)h.error().describe();
    check_base64(input);
    return 0;
  }
  const DigestValue* fields[] = {&h->realm, &h->nonce,  &h->algorithm, &h->qop,  &h->opaque, &h->domain,
                                 &h->stale, &h->username, &h->uri,     &h->response, &h->nc, &h->cnonce,
                                 &h->auts,  &h->ik,     &h->ck};
  for (const DigestValue* v : fields) {
    if (*v && !inside(v->text, input)) std::abort();
    if (v->escaped && !v->quoted) std::abort();
  }
  for (const DigestParam& p : h->other_params()) {
    if (!inside(p.name, input) || !inside(p.value.text, input)) std::abort();
    if (h->find(p.name) == nullptr) std::abort();
  }
  (void)h->algorithm_kind();
  (void)h->offers_qop("auth");
  (void)h->is_stale();
  if (h->nc && !h->nonce_count()) std::abort();  // the parser validated nc

  const std::uint8_t password[] = {1, 2, 3, 4, 5, 6, 7, 8};
  auto verdict = verify_response(*h, "REGISTER", password);
  if (!verdict) (void)verdict.error().describe();
  if (h->nonce) {
    if (auto n = parse_aka_nonce(h->nonce.text); !n && n.error().offset > h->nonce.text.size()) std::abort();
    check_base64(h->nonce.text);
  }
  if (h->auts) (void)parse_auts(h->auts.text);

  // Round trip through the builder: same values back.
  const std::string user = buildable(h->username), realm = buildable(h->realm), nonce = buildable(h->nonce),
                    uri = buildable(h->uri), response = buildable(h->response), opaque = buildable(h->opaque),
                    auts = buildable(h->auts);
  DigestCredentials c;
  c.username = user;
  c.realm = realm;
  c.nonce = nonce;
  c.uri = uri;
  c.response = response;
  c.algorithm = DigestAlgorithm::Md5;
  c.opaque = opaque;
  c.auts = auts;
  const std::string built = build_authorization(c);
  auto back = parse_digest(built);
  if (!back) std::abort();
  if (back->username.unescaped() != user || back->realm.unescaped() != realm || back->nonce.unescaped() != nonce ||
      back->uri.unescaped() != uri || back->response.unescaped() != response)
    std::abort();
  if (!opaque.empty() && back->opaque.unescaped() != opaque) std::abort();
  if (!auts.empty() && back->auts.unescaped() != auts) std::abort();
  return 0;
}

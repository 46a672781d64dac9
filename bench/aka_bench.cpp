// The registrar's crypto cost per REGISTER: an AKA vector (Milenage, six
// AES-128 blocks), the USIM side of it, and the HTTP Digest work (MD5
// response, parsing and verifying an Authorization). RAND changes every
// iteration, as it does between registrations.
#include <benchmark/benchmark.h>

#include <string>

#include "ims/aka.hpp"
#include "ims/digest.hpp"

namespace imsflow::bench {
namespace {

using namespace imsflow::ims;

// TS 35.208 test set 1.
constexpr Key kK{0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc};
constexpr Opc kOpc{0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf};
constexpr Amf kAmf{0x80, 0x00};

Rand next_rand(std::uint64_t i) {
  Rand r{0x23, 0x55, 0x3c, 0xbe, 0x96, 0x37, 0xa8, 0x9d, 0x21, 0x8a, 0xe6, 0x4d, 0xae, 0x47, 0xbf, 0x35};
  for (int b = 0; b < 8; ++b) r[static_cast<std::size_t>(b)] ^= static_cast<std::uint8_t>(i >> (8 * b));
  return r;
}

/// make_vector(K, OPc, …) as the S-CSCF calls it per registration: keys a
/// fresh AES context (EVP setup included) and runs f1..f5.
void BM_AkaMakeVector(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) {
    ++i;
    auto v = make_vector(kK, kOpc, i, kAmf, next_rand(i));
    if (!v) state.SkipWithError("make_vector failed");
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_AkaMakeVector);

/// The same with one Milenage kept per subscriber: the AES work alone.
void BM_AkaMakeVectorKeyedOnce(benchmark::State& state) {
  auto m = Milenage::from_opc(kK, kOpc);
  if (!m) {
    state.SkipWithError("Milenage setup failed");
    return;
  }
  std::uint64_t i = 0;
  for (auto _ : state) {
    ++i;
    auto v = make_vector(*m, i, kAmf, next_rand(i));
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_AkaMakeVectorKeyedOnce);

/// The UE's USIM: AUTN check and RES/CK/IK.
void BM_AkaUsimAuthenticate(benchmark::State& state) {
  auto v = make_vector(kK, kOpc, 1000, kAmf, next_rand(7));
  if (!v) {
    state.SkipWithError("make_vector failed");
    return;
  }
  for (auto _ : state) {
    auto a = authenticate(kK, kOpc, v->rand, v->autn, 999);
    if (!a) state.SkipWithError("authenticate failed");
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_AkaUsimAuthenticate);

/// HA1 (password = RES octets) and the qop=auth response: three MD5s.
void BM_DigestResponse(benchmark::State& state) {
  const Res res{0xa5, 0x42, 0x11, 0xd5, 0xe3, 0xba, 0x50, 0xbf};
  const std::string nonce = "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=";
  for (auto _ : state) {
    auto ha1 = digest_ha1("user1@ims.example.com", "ims.example.com", res);
    auto r = digest_response(*ha1, {"REGISTER", "sip:ims.example.com", nonce, "auth", "00000001", "0a4f113b"});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DigestResponse);

/// What the registrar does with the second REGISTER: parse its
/// Authorization value and check the response against XRES.
void BM_DigestParseAndVerifyAuthorization(benchmark::State& state) {
  const Res xres{0xa5, 0x42, 0x11, 0xd5, 0xe3, 0xba, 0x50, 0xbf};
  const std::string nonce = "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=";
  auto ha1 = digest_ha1("user1@ims.example.com", "ims.example.com", xres);
  auto response = digest_response(*ha1, {"REGISTER", "sip:ims.example.com", nonce, "auth", "00000001", "0a4f113b"});
  const std::string authorization = build_authorization({"user1@ims.example.com", "ims.example.com", nonce,
                                                         "sip:ims.example.com", response->view(),
                                                         DigestAlgorithm::AkaV1Md5, "auth", "00000001", "0a4f113b",
                                                         {}, {}});
  for (auto _ : state) {
    auto h = parse_digest(authorization);
    auto ok = verify_response(*h, "REGISTER", xres);
    if (!ok || !*ok) state.SkipWithError("verify_response failed");
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * authorization.size()));
}
BENCHMARK(BM_DigestParseAndVerifyAuthorization);

/// One AKA registration's crypto and header work end to end, minus the
/// USIM: vector, nonce and challenge value (network), response and
/// Authorization value (UE), parsing and verifying it (network).
void BM_AkaRegistrationRoundTrip(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) {
    ++i;
    auto v = make_vector(kK, kOpc, i, kAmf, next_rand(i));
    const std::string nonce = aka_nonce(v->rand, v->autn);
    const std::string www = build_challenge({"ims.example.com", nonce, DigestAlgorithm::AkaV1Md5, true, {}, false, {}, {}});
    auto ha1 = digest_ha1("user1@ims.example.com", "ims.example.com", v->xres);
    auto response = digest_response(*ha1, {"REGISTER", "sip:ims.example.com", nonce, "auth", "00000001", "0a4f113b"});
    const std::string authorization = build_authorization({"user1@ims.example.com", "ims.example.com", nonce,
                                                           "sip:ims.example.com", response->view(),
                                                           DigestAlgorithm::AkaV1Md5, "auth", "00000001",
                                                           "0a4f113b", {}, {}});
    auto h = parse_digest(authorization);
    auto ok = verify_response(*h, "REGISTER", v->xres);
    benchmark::DoNotOptimize(www);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_AkaRegistrationRoundTrip);

}  // namespace
}  // namespace imsflow::bench

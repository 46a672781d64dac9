#include "ims/aka.hpp"

#include <openssl/crypto.h>

#include "util/hex.hpp"

namespace imsflow::ims {

SqnOctets sqn_to_octets(Sqn sqn) {
  SqnOctets out{};
  for (int i = 5; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(sqn & 0xFF);
    sqn >>= 8;
  }
  return out;
}

Sqn sqn_from_octets(const SqnOctets& octets) {
  Sqn v = 0;
  for (std::uint8_t b : octets) v = (v << 8) | b;
  return v;
}

namespace {

SqnOctets xor6(const SqnOctets& a, const Ak& b) {
  SqnOctets out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(a[i] ^ b[i]);
  return out;
}

/// MACs are compared in constant time, so response timing does not tell a
/// forger how many leading octets were right.
bool mac_equal(const Mac& a, const Mac& b) { return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0; }

std::string hex_sqn(Sqn v) {
  std::string s = "0x";
  append_hex(s, v, 12);
  return s;
}

}  // namespace

std::string AkaError::describe() const {
  switch (code) {
    case AkaErrorCode::SqnOutOfRange:
      return "SQN " + std::to_string(sqn) + " does not fit 48 bits";
    case AkaErrorCode::MacFailure:
      return "AUTN rejected: MAC-A does not match (wrong K/OPc or a forged challenge)";
    case AkaErrorCode::SyncFailure:
      return "AUTN rejected: SQN " + hex_sqn(sqn) + " is not fresh; answering with AUTS";
    case AkaErrorCode::AutsMacFailure:
      return "AUTS rejected: MAC-S does not match, SQN_MS not usable";
    case AkaErrorCode::CryptoUnavailable:
      return "AES-128 unavailable in OpenSSL";
  }
  return "AKA error";
}

Result<AuthVector, AkaError> make_vector(Milenage& milenage, Sqn sqn, const Amf& amf, const Rand& rand) {
  if (sqn > kSqnMax) return Unexpected{AkaError{AkaErrorCode::SqnOutOfRange, {}, sqn}};
  const SqnOctets sqn_octets = sqn_to_octets(sqn);
  const Mac mac_a = milenage.f1(rand, sqn_octets, amf);
  const Milenage::F2345 f = milenage.f2345(rand);
  AuthVector v;
  v.rand = rand;
  const SqnOctets concealed = xor6(sqn_octets, f.ak);
  std::size_t i = 0;
  for (std::uint8_t b : concealed) v.autn[i++] = b;
  for (std::uint8_t b : amf) v.autn[i++] = b;
  for (std::uint8_t b : mac_a) v.autn[i++] = b;
  v.xres = f.res;
  v.ck = f.ck;
  v.ik = f.ik;
  return v;
}

Result<AuthVector, AkaError> make_vector(const Key& k, const Opc& opc, Sqn sqn, const Amf& amf, const Rand& rand) {
  auto m = Milenage::from_opc(k, opc);
  if (!m) return Unexpected{AkaError{AkaErrorCode::CryptoUnavailable}};
  return make_vector(*m, sqn, amf, rand);
}

Auts make_auts(Milenage& milenage, const Rand& rand, Sqn sqn_ms) {
  const SqnOctets sqn_octets = sqn_to_octets(sqn_ms);
  const SqnOctets concealed = xor6(sqn_octets, milenage.f5_star(rand));
  const Mac mac_s = milenage.f1_star(rand, sqn_octets, kResyncAmf);
  Auts auts{};
  std::size_t i = 0;
  for (std::uint8_t b : concealed) auts[i++] = b;
  for (std::uint8_t b : mac_s) auts[i++] = b;
  return auts;
}

Result<Sqn, AkaError> resync(Milenage& milenage, const Rand& rand, const Auts& auts) {
  SqnOctets concealed{};
  Mac mac_s{};
  for (std::size_t i = 0; i < concealed.size(); ++i) concealed[i] = auts[i];
  for (std::size_t i = 0; i < mac_s.size(); ++i) mac_s[i] = auts[6 + i];
  const SqnOctets sqn_ms = xor6(concealed, milenage.f5_star(rand));
  if (!mac_equal(milenage.f1_star(rand, sqn_ms, kResyncAmf), mac_s))
    return Unexpected{AkaError{AkaErrorCode::AutsMacFailure}};
  return sqn_from_octets(sqn_ms);
}

Result<Sqn, AkaError> resync(const Key& k, const Opc& opc, const Rand& rand, const Auts& auts) {
  auto m = Milenage::from_opc(k, opc);
  if (!m) return Unexpected{AkaError{AkaErrorCode::CryptoUnavailable}};
  return resync(*m, rand, auts);
}

Result<UsimAnswer, AkaError> authenticate(Milenage& milenage, const Rand& rand, const Autn& autn, Sqn sqn_ms_highest,
                                          Sqn delta) {
  SqnOctets concealed{};
  Amf amf{};
  Mac mac_a{};
  for (std::size_t i = 0; i < 6; ++i) concealed[i] = autn[i];
  amf = {autn[6], autn[7]};
  for (std::size_t i = 0; i < 8; ++i) mac_a[i] = autn[8 + i];

  const Milenage::F2345 f = milenage.f2345(rand);
  const SqnOctets sqn_octets = xor6(concealed, f.ak);
  if (!mac_equal(milenage.f1(rand, sqn_octets, amf), mac_a)) return Unexpected{AkaError{AkaErrorCode::MacFailure}};

  const Sqn sqn = sqn_from_octets(sqn_octets);
  // Written as a difference so that no sum can pass 2^64 whatever delta is.
  const bool fresh = sqn > sqn_ms_highest && sqn - sqn_ms_highest <= delta;
  if (!fresh) {
    AkaError e{AkaErrorCode::SyncFailure};
    e.auts = make_auts(milenage, rand, sqn_ms_highest & kSqnMax);
    e.sqn = sqn;
    return Unexpected{e};
  }
  return UsimAnswer{f.res, f.ck, f.ik, sqn, amf};
}

Result<UsimAnswer, AkaError> authenticate(const Key& k, const Opc& opc, const Rand& rand, const Autn& autn,
                                          Sqn sqn_ms_highest, Sqn delta) {
  auto m = Milenage::from_opc(k, opc);
  if (!m) return Unexpected{AkaError{AkaErrorCode::CryptoUnavailable}};
  return authenticate(*m, rand, autn, sqn_ms_highest, delta);
}

}  // namespace imsflow::ims

#include "ims/milenage.hpp"

#include <openssl/evp.h>

#include <cstdlib>
#include <utility>

namespace imsflow::ims {

namespace {

/// The AES-128-ECB implementation, fetched once: an implicit fetch on every
/// context setup (EVP_aes_128_ecb()) costs a provider lookup each time.
/// Held for the whole process; OpenSSL's EVP_CIPHER is safe to share.
const EVP_CIPHER* aes_128_ecb() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
  return cipher;
}

template <std::size_t N>
void xor_into(std::array<std::uint8_t, N>& a, const std::array<std::uint8_t, N>& b) {
  for (std::size_t i = 0; i < N; ++i) a[i] ^= b[i];
}

}  // namespace

void Milenage::CtxFree::operator()(evp_cipher_ctx_st* ctx) const { EVP_CIPHER_CTX_free(ctx); }

Result<Milenage, CryptoError> Milenage::from_opc(const Key& k, const Opc& opc) {
  const EVP_CIPHER* cipher = aes_128_ecb();
  if (cipher == nullptr) return Unexpected{CryptoError::AesUnavailable};
  std::unique_ptr<evp_cipher_ctx_st, CtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Unexpected{CryptoError::AesUnavailable};
  if (EVP_EncryptInit_ex2(ctx.get(), cipher, k.data(), nullptr, nullptr) != 1)
    return Unexpected{CryptoError::AesUnavailable};
  // Milenage feeds whole blocks: padding would add a second block.
  if (EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) return Unexpected{CryptoError::AesUnavailable};
  return Milenage(std::move(ctx), opc);
}

Result<Milenage, CryptoError> Milenage::from_op(const Key& k, const Op& op) {
  auto m = from_opc(k, Opc{});
  if (!m) return m;
  Opc opc = m->encrypt(op);
  xor_into(opc, op);
  m->opc_ = opc;
  return m;
}

Milenage::Milenage(Milenage&&) noexcept = default;
Milenage& Milenage::operator=(Milenage&&) noexcept = default;
Milenage::~Milenage() = default;

Milenage::Block Milenage::encrypt(const Block& in) {
  Block out{};
  int len = 0;
  // ECB over one whole block with padding off keeps no state between calls,
  // so the keyed context is reused as is. OpenSSL cannot fail here once the
  // key was accepted; if it ever did, stopping beats handing out a MAC made
  // of zeros that a peer would reject without saying why.
  if (EVP_EncryptUpdate(ctx_.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) != 1 ||
      len != static_cast<int>(out.size()))
    std::abort();
  return out;
}

const Milenage::Block& Milenage::temp(const Rand& rand) {
  if (has_temp_ && rand == last_rand_) return last_temp_;
  Block in = rand;
  xor_into(in, opc_);
  last_temp_ = encrypt(in);
  last_rand_ = rand;
  has_temp_ = true;
  return last_temp_;
}

Milenage::Block Milenage::out(const Rand& rand, unsigned rotate_bits, std::uint8_t constant) {
  Block x = temp(rand);
  xor_into(x, opc_);
  // rot(x, r) rotates left by r bits; every r of TS 35.206 is a whole byte count.
  const std::size_t shift = rotate_bits / 8;
  Block in{};
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = x[(i + shift) % in.size()];
  in[15] ^= constant;
  Block o = encrypt(in);
  xor_into(o, opc_);
  return o;
}

Milenage::Block Milenage::out1(const Rand& rand, const SqnOctets& sqn, const Amf& amf) {
  Block in1{};
  for (std::size_t i = 0; i < 6; ++i) in1[i] = in1[i + 8] = sqn[i];
  in1[6] = in1[14] = amf[0];
  in1[7] = in1[15] = amf[1];
  xor_into(in1, opc_);
  // r1 = 64: swap the halves. c1 is all zeros.
  Block in{};
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = in1[(i + 8) % in.size()];
  xor_into(in, temp(rand));
  Block o = encrypt(in);
  xor_into(o, opc_);
  return o;
}

namespace {
template <std::size_t N>
std::array<std::uint8_t, N> take(const std::array<std::uint8_t, 16>& block, std::size_t from) {
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = block[from + i];
  return out;
}
}  // namespace

Mac Milenage::f1(const Rand& rand, const SqnOctets& sqn, const Amf& amf) { return take<8>(out1(rand, sqn, amf), 0); }
Mac Milenage::f1_star(const Rand& rand, const SqnOctets& sqn, const Amf& amf) {
  return take<8>(out1(rand, sqn, amf), 8);
}
Res Milenage::f2(const Rand& rand) { return take<8>(out(rand, 0, 1), 8); }
Ck Milenage::f3(const Rand& rand) { return out(rand, 32, 2); }
Ik Milenage::f4(const Rand& rand) { return out(rand, 64, 4); }
Ak Milenage::f5(const Rand& rand) { return take<6>(out(rand, 0, 1), 0); }
Ak Milenage::f5_star(const Rand& rand) { return take<6>(out(rand, 96, 8), 0); }

Milenage::F2345 Milenage::f2345(const Rand& rand) {
  const Block out2 = out(rand, 0, 1);
  return F2345{take<8>(out2, 8), out(rand, 32, 2), out(rand, 64, 4), take<6>(out2, 0)};
}

Result<Opc, CryptoError> compute_opc(const Key& k, const Op& op) {
  auto m = Milenage::from_op(k, op);
  if (!m) return Unexpected{m.error()};
  return m->opc();
}

}  // namespace imsflow::ims

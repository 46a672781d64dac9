// Milenage (3GPP TS 35.206): the example algorithm set f1, f1*, f2, f3, f4,
// f5, f5* behind UMTS/IMS AKA, built on AES-128 (OpenSSL EVP, ECB, one block
// at a time). Test data: TS 35.207 / TS 35.208 (tests/ims/milenage_test.cpp).
//
// TS 35.206 §4.1, with r1..r5 = 64, 0, 32, 64, 96 and c1..c5 = 0, 1, 2, 4, 8:
//   OPc  = E_K(OP) ⊕ OP
//   TEMP = E_K(RAND ⊕ OPc)
//   OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, r1) ⊕ c1) ⊕ OPc, IN1 = SQN‖AMF‖SQN‖AMF
//   OUTn = E_K(rot(TEMP ⊕ OPc, rn) ⊕ cn) ⊕ OPc, n = 2..5
//   f1 = OUT1[0..63]  f1* = OUT1[64..127]  f5 = OUT2[0..47]  f2 = OUT2[64..127]
//   f3 = OUT3  f4 = OUT4  f5* = OUT5[0..47]
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "util/result.hpp"

// OpenSSL's context type, declared here so this header does not pull in <openssl/evp.h>.
struct evp_cipher_ctx_st;

namespace imsflow::ims {

using Key = std::array<std::uint8_t, 16>;        // K, the subscriber key
using Op = std::array<std::uint8_t, 16>;         // OP, the operator variant
using Opc = std::array<std::uint8_t, 16>;        // OPc = E_K(OP) ⊕ OP, stored per subscriber
using Rand = std::array<std::uint8_t, 16>;       // RAND, the network's challenge
using SqnOctets = std::array<std::uint8_t, 6>;   // SQN on the wire (48 bits, big-endian)
using Amf = std::array<std::uint8_t, 2>;         // AMF, authentication management field
using Mac = std::array<std::uint8_t, 8>;         // MAC-A (f1) or MAC-S (f1*)
using Res = std::array<std::uint8_t, 8>;         // RES / XRES (f2; Milenage gives 64 bits)
using Ck = std::array<std::uint8_t, 16>;         // CK, cipher key (f3)
using Ik = std::array<std::uint8_t, 16>;         // IK, integrity key (f4)
using Ak = std::array<std::uint8_t, 6>;          // AK (f5) or AK* (f5*), the SQN mask

enum class CryptoError : std::uint8_t {
  AesUnavailable,  // OpenSSL could not give or key an AES-128-ECB context (no provider, no memory)
};

/// One subscriber's Milenage: K and OPc keyed into one AES context, which
/// every function call reuses (no allocation per call). Not for concurrent
/// use from several threads: the context is mutable state. Movable, not
/// copyable.
class Milenage {
 public:
  /// Keys AES-128 with K. Fails only when OpenSSL cannot (see CryptoError).
  static Result<Milenage, CryptoError> from_opc(const Key& k, const Opc& opc);
  /// The same from OP: computes OPc first (the HSS usually stores OPc instead).
  static Result<Milenage, CryptoError> from_op(const Key& k, const Op& op);

  Milenage(Milenage&&) noexcept;
  Milenage& operator=(Milenage&&) noexcept;
  Milenage(const Milenage&) = delete;
  Milenage& operator=(const Milenage&) = delete;
  ~Milenage();

  const Opc& opc() const { return opc_; }

  /// f1: MAC-A, the network's proof in AUTN.
  Mac f1(const Rand& rand, const SqnOctets& sqn, const Amf& amf);
  /// f1*: MAC-S, the USIM's proof in AUTS (resynchronisation).
  Mac f1_star(const Rand& rand, const SqnOctets& sqn, const Amf& amf);
  Res f2(const Rand& rand);
  Ck f3(const Rand& rand);
  Ik f4(const Rand& rand);
  Ak f5(const Rand& rand);
  /// f5*: AK*, which hides SQN_MS in AUTS.
  Ak f5_star(const Rand& rand);

  /// f2..f5 at once (one OUT2 gives both RES and AK).
  struct F2345 {
    Res res;
    Ck ck;
    Ik ik;
    Ak ak;
  };
  F2345 f2345(const Rand& rand);

 private:
  using Block = std::array<std::uint8_t, 16>;
  struct CtxFree {
    void operator()(evp_cipher_ctx_st* ctx) const;
  };

  Milenage(std::unique_ptr<evp_cipher_ctx_st, CtxFree> ctx, const Opc& opc) : ctx_(std::move(ctx)), opc_(opc) {}
  Block encrypt(const Block& in);
  /// TEMP for `rand`; the last one is kept because the f-functions of one
  /// authentication share their RAND, saving one AES call per function.
  const Block& temp(const Rand& rand);
  /// OUT2..OUT5: rotation in bits, constant's last byte.
  Block out(const Rand& rand, unsigned rotate_bits, std::uint8_t constant);
  Block out1(const Rand& rand, const SqnOctets& sqn, const Amf& amf);

  std::unique_ptr<evp_cipher_ctx_st, CtxFree> ctx_;
  Opc opc_{};
  Rand last_rand_{};
  Block last_temp_{};
  bool has_temp_ = false;
};

/// OPc = E_K(OP) ⊕ OP (TS 35.206 §4.1).
Result<Opc, CryptoError> compute_opc(const Key& k, const Op& op);

}  // namespace imsflow::ims

// UMTS AKA as IMS uses it (TS 33.203 §6.1, TS 33.102 §6.3): the network
// (HSS/S-CSCF) makes an authentication vector and resynchronises on AUTS;
// the UE (USIM) checks AUTN and answers with RES, or with AUTS when the
// sequence number is not fresh. Pure functions over Milenage; no clock, no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "ims/milenage.hpp"
#include "util/result.hpp"

namespace imsflow::ims {

/// SQN as a number: 48 bits (TS 33.102 §6.3.2). Values above kSqnMax are invalid.
using Sqn = std::uint64_t;
inline constexpr Sqn kSqnMax = (Sqn{1} << 48) - 1;
/// TS 33.102 Annex C.2.2's limit L on how far ahead of the highest accepted
/// SQN a new one may be: 2^28 is the value the annex suggests.
inline constexpr Sqn kDefaultSqnDelta = Sqn{1} << 28;
/// AMF in the MAC-S of AUTS: a dummy of zeros (TS 33.102 §6.3.3).
inline constexpr Amf kResyncAmf{0x00, 0x00};

/// The 6 octets of SQN, most significant first; bits above 48 are dropped.
SqnOctets sqn_to_octets(Sqn sqn);
Sqn sqn_from_octets(const SqnOctets& octets);

using Autn = std::array<std::uint8_t, 16>;  // SQN⊕AK ‖ AMF ‖ MAC-A
using Auts = std::array<std::uint8_t, 14>;  // SQN_MS⊕AK* ‖ MAC-S

/// The quintet the HSS hands the S-CSCF (TS 33.203 §6.1.1): RAND and AUTN
/// go to the UE in the nonce; XRES, CK and IK stay in the network.
struct AuthVector {
  Rand rand{};
  Autn autn{};
  Res xres{};
  Ck ck{};
  Ik ik{};
};

/// What the USIM returns on success: RES for the digest, the session keys,
/// and the SQN it accepted (the caller stores it as the new highest).
struct UsimAnswer {
  Res res{};
  Ck ck{};
  Ik ik{};
  Sqn sqn = 0;
  Amf amf{};
};

enum class AkaErrorCode : std::uint8_t {
  SqnOutOfRange,      // network: the SQN to send does not fit 48 bits
  MacFailure,         // UE: AUTN's MAC-A is wrong: the network is not authentic (TS 33.102 §6.3.3)
  SyncFailure,        // UE: MAC-A right but SQN not fresh; `auts` holds the answer to send
  AutsMacFailure,     // network: AUTS's MAC-S is wrong, SQN_MS must not be used
  CryptoUnavailable,  // OpenSSL could not set up AES-128
};

struct AkaError {
  AkaErrorCode code = AkaErrorCode::MacFailure;
  /// SyncFailure: AUTS = SQN_MS⊕AK* ‖ MAC-S, to send back in the auts directive.
  Auts auts{};
  /// SyncFailure: the SQN the network sent; SqnOutOfRange: the value refused.
  Sqn sqn = 0;

  /// One sentence: "AUTN rejected: SQN 0x20 is not above the highest accepted 0x30".
  std::string describe() const;
};

// ---- network side (HSS / S-CSCF) ----

/// Makes the vector for SQN_HE = `sqn` (TS 33.102 §6.3.2): AUTN =
/// SQN⊕AK ‖ AMF ‖ MAC-A, XRES = f2, CK = f3, IK = f4. RAND is the caller's
/// (from a CSPRNG: this layer holds no randomness). Error: SqnOutOfRange.
Result<AuthVector, AkaError> make_vector(Milenage& milenage, Sqn sqn, const Amf& amf, const Rand& rand);
/// The same with a Milenage made for the call. Adds CryptoUnavailable.
Result<AuthVector, AkaError> make_vector(const Key& k, const Opc& opc, Sqn sqn, const Amf& amf, const Rand& rand);

/// Recovers SQN_MS from AUTS (TS 33.102 §6.3.5): SQN_MS = first 6 octets ⊕
/// f5*(RAND), then checks MAC-S = f1*(SQN_MS, RAND, AMF = 0x0000). `rand` is
/// the RAND of the challenge the UE refused. On success the HSS continues
/// from SQN_MS (its next vector uses a higher SQN). Error: AutsMacFailure.
Result<Sqn, AkaError> resync(Milenage& milenage, const Rand& rand, const Auts& auts);
Result<Sqn, AkaError> resync(const Key& k, const Opc& opc, const Rand& rand, const Auts& auts);

// ---- UE side (USIM) ----

/// Checks AUTN (TS 33.102 §6.3.3): recovers SQN with AK = f5(RAND), checks
/// MAC-A (MacFailure if wrong: checked first, so a forged AUTN never
/// triggers a resync), then freshness: SQN must be above `sqn_ms_highest`
/// and at most `delta` above it. A stale or too-far SQN gives SyncFailure
/// with AUTS made from SQN_MS = `sqn_ms_highest`.
///
/// Simplification of TS 33.102 Annex C: the USIM keeps one highest accepted
/// SQN instead of an array of SEQ values indexed by IND, so SQNs must arrive
/// in increasing order (as one S-CSCF using one vector at a time sends them);
/// a vector overtaken by a newer one is refused with SyncFailure.
Result<UsimAnswer, AkaError> authenticate(Milenage& milenage, const Rand& rand, const Autn& autn, Sqn sqn_ms_highest,
                                          Sqn delta = kDefaultSqnDelta);
Result<UsimAnswer, AkaError> authenticate(const Key& k, const Opc& opc, const Rand& rand, const Autn& autn,
                                          Sqn sqn_ms_highest, Sqn delta = kDefaultSqnDelta);

/// AUTS for SQN_MS (TS 33.102 §6.3.3): what authenticate() puts in a
/// SyncFailure, for callers (tests, a simulated USIM) that need it alone.
Auts make_auts(Milenage& milenage, const Rand& rand, Sqn sqn_ms);

}  // namespace imsflow::ims

// The subscriber data an HSS would hold for the registrar: private identity
// (IMPI), public identities (IMPUs, the implicit registration set), the AKA
// key K and OPc, and optionally a plain Digest password.
//
// The config file is one subscriber per line, '#' starts a comment:
//   IMPI  IMPU[,IMPU…]  K  OPc  [sqn=N] [amf=HEX4] [password=TEXT]
// e.g.
//   alice@ims.example  sip:alice@ims.example,tel:+15550101  465b5ce8…  cd63cb71…
// K and OPc are 32 hex digits; the first IMPU is the default one
// (P-Associated-URI lists them in order).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ims/aka.hpp"
#include "util/result.hpp"

namespace imsflow::ims {

struct Subscriber {
  std::string impi;
  std::vector<std::string> impus;
  Key k{};
  Opc opc{};
  Amf amf{0x80, 0x00};
  Sqn sqn = 0;           // SQN_HE: the next vector uses the one after it
  std::string password;  // plain Digest MD5; empty: AKA only
};

struct SubscriberConfigError {
  std::size_t line = 0;  // 1-based
  std::string what;
  /// "subscribers.conf line 3: K must be 32 hex digits, not 'xyz'".
  std::string describe(std::string_view file_name) const;
};

/// Parses the whole file text; the first bad line is the error.
Result<std::vector<Subscriber>, SubscriberConfigError> parse_subscribers(std::string_view text);

/// The canonical form of a public identity, for lookups: "sip:user@host"
/// (scheme and host lower-cased, no port, parameters or headers) or
/// "tel:+number" (visual separators removed). Empty when `uri` is neither.
std::string canonical_impu(std::string_view uri);

}  // namespace imsflow::ims

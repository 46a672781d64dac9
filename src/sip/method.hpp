// SIP request methods (RFC 3261 §7.1 and extensions). Method names are case
// sensitive: "invite" is an unknown method, not INVITE.
#pragma once

#include <cstdint>
#include <string_view>

namespace imsflow::sip {

enum class Method : std::uint8_t {
  Unknown,
  Invite,
  Ack,
  Bye,
  Cancel,
  Options,
  Register,
  Prack,
  Update,
  Info,
  Message,
  Subscribe,
  Notify,
  Refer,
  Publish,
};

/// Maps a method token to its enum; Unknown for anything else (exact case).
Method method_from_token(std::string_view token) noexcept;
/// The wire spelling of a known method; empty for Unknown.
std::string_view method_name(Method m) noexcept;

}  // namespace imsflow::sip

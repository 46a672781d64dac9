// Conversions between sip::Endpoint and the BSD socket address types, and the
// error value every net/ call that touches the OS returns.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "sip/endpoint.hpp"
#include "util/result.hpp"

namespace imsflow::net {

enum class NetErrorCode : std::uint8_t {
  SocketFailed,     // socket(), epoll_create1(), eventfd() … (detail: the OS reason)
  BindFailed,       // bind() refused the endpoint (in use, not a local address)
  ListenFailed,
  AlreadyBound,     // the loop already holds this endpoint
  UnsupportedTransport,  // TLS: not implemented by this driver
  SignalHookFailed, // sigaction() failed, or too many loops hooked signals at once
};

struct NetError {
  NetErrorCode code = NetErrorCode::SocketFailed;
  std::string detail;  // the endpoint and the OS message
  /// One sentence, e.g. "cannot bind UDP 127.0.0.1:5060: Address already in use".
  std::string describe() const { return detail; }
};

template <class T>
using NetResult = Result<T, NetError>;
using NetStatus = Result<std::monostate, NetError>;

/// A socket address that fits IPv4 and IPv6.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};

/// The socket address of `e` (its transport is ignored).
SocketAddress to_socket_address(const sip::Endpoint& e);
/// The endpoint of an AF_INET/AF_INET6 address with the transport given;
/// nullopt for other families. IPv4-mapped IPv6 addresses stay IPv6.
std::optional<sip::Endpoint> from_socket_address(const sockaddr* address, socklen_t length,
                                                 sip::Transport transport);

/// "UDP 127.0.0.1:5060".
std::string describe_endpoint(const sip::Endpoint& e);
/// `what` + the endpoint + ": " + strerror(err).
NetError os_error(NetErrorCode code, const char* what, const sip::Endpoint& e, int err);

/// Address and port only: the key of the connection table and of a
/// Transmit's source lookup (the transport is decided apart).
inline bool same_address_and_port(const sip::Endpoint& a, const sip::Endpoint& b) {
  return a.port == b.port && a.address == b.address;
}

}  // namespace imsflow::net

#include "net/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace imsflow::net {

SocketAddress to_socket_address(const sip::Endpoint& e) {
  SocketAddress a;
  if (e.address.v6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(e.port);
    std::memcpy(&in6->sin6_addr, e.address.bytes.data(), 16);
    a.length = sizeof(sockaddr_in6);
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&a.storage);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(e.port);
    std::memcpy(&in4->sin_addr, e.address.bytes.data(), 4);
    a.length = sizeof(sockaddr_in);
  }
  return a;
}

std::optional<sip::Endpoint> from_socket_address(const sockaddr* address, socklen_t length,
                                                 sip::Transport transport) {
  sip::Endpoint e;
  e.transport = transport;
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(address);
    std::memcpy(e.address.bytes.data(), &in4->sin_addr, 4);
    e.port = ntohs(in4->sin_port);
    return e;
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    e.address.v6 = true;
    std::memcpy(e.address.bytes.data(), &in6->sin6_addr, 16);
    e.port = ntohs(in6->sin6_port);
    return e;
  }
  return std::nullopt;
}

std::string describe_endpoint(const sip::Endpoint& e) {
  std::string s(sip::transport_name(e.transport));
  s.push_back(' ');
  s += e.to_string();
  return s;
}

NetError os_error(NetErrorCode code, const char* what, const sip::Endpoint& e, int err) {
  std::string detail = what;
  detail.push_back(' ');
  detail += describe_endpoint(e);
  detail += ": ";
  detail += std::strerror(err);
  return NetError{code, std::move(detail)};
}

}  // namespace imsflow::net

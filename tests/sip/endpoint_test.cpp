#include "sip/endpoint.hpp"

#include <gtest/gtest.h>

namespace imsflow::sip {
namespace {

TEST(Endpoint, ParsesAndPrintsIpv4AndIpv6) {
  auto v4 = Endpoint::parse("127.0.0.1:5060");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->address, IpAddress::loopback_v4());
  EXPECT_EQ(v4->port, 5060);
  EXPECT_EQ(v4->to_string(), "127.0.0.1:5060");
  auto v6 = Endpoint::parse("[2001:db8::1]:5062", Transport::Tcp);
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->address.v6);
  EXPECT_EQ(v6->transport, Transport::Tcp);
  EXPECT_EQ(v6->to_string(), "[2001:db8::1]:5062");
  EXPECT_EQ(v6->host_text(), "[2001:db8::1]");
  EXPECT_EQ(IpAddress::loopback_v6().to_string(), "::1");
}

TEST(Endpoint, PrintsEveryIpv4OctetAndPortWidthLikeInetNtop) {
  // The IPv4 text is formatted by hand; inet_ntop is the reference.
  for (const char* text : {"0.0.0.0:0", "255.255.255.255:65535", "10.0.0.1:5060", "192.168.100.9:9",
                           "1.20.199.250:10000", "100.10.1.0:65"}) {
    auto e = Endpoint::parse(text);
    ASSERT_TRUE(e) << text;
    EXPECT_EQ(e->to_string(), text);
    const std::string_view t(text);
    EXPECT_EQ(e->address.to_string(), t.substr(0, t.find(':')));
    EXPECT_EQ(e->host_text(), t.substr(0, t.find(':')));
  }
}

TEST(Endpoint, RefusesMalformedText) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "host:5060", "::1:5060",
                          "[::1]5060", "[::1", "1.2.3.4:50x"}) {
    EXPECT_FALSE(Endpoint::parse(bad)) << bad;
  }
}

TEST(Endpoint, TransportNamesAndReliability) {
  EXPECT_EQ(transport_from_name("tcp"), Transport::Tcp);
  EXPECT_EQ(transport_name(Transport::Udp), "UDP");
  EXPECT_FALSE(transport_from_name("SCTP"));
  EXPECT_FALSE(is_reliable(Transport::Udp));
  EXPECT_TRUE(is_reliable(Transport::Tls));
}

TEST(Endpoint, HashSeparatesTransportAndPort) {
  const Endpoint a{Transport::Udp, IpAddress::loopback_v4(), 5060};
  Endpoint b = a;
  b.transport = Transport::Tcp;
  Endpoint c = a;
  c.port = 5061;
  EndpointHash h;
  EXPECT_NE(h(a), h(b));
  EXPECT_NE(h(a), h(c));
  EXPECT_EQ(h(a), h(Endpoint(a)));
}

}  // namespace
}  // namespace imsflow::sip

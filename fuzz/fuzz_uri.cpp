// Fuzzes the URI grammar and RFC 3261 §19.1.4 comparison: a parsed URI must
// equal itself, and comparison must be symmetric.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sip/uri.hpp"

using namespace imsflow::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = size ? data[0] % (size + 1) : 0;
  auto a = parse_uri(input.substr(0, cut));
  auto b = parse_uri(input.substr(cut));
  if (a) {
    if (!uri_equal(*a, *a)) std::abort();
    for (const Param& p : a->params) (void)p.name;
    (void)a->host_address();
  }
  if (a && b && uri_equal(*a, *b) != uri_equal(*b, *a)) std::abort();
  (void)is_ip_address(input);
  return 0;
}

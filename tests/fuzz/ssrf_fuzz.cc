// libFuzzer target: host parsing and address classification, CIDR parsing, and their round trips.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/ssrf.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace warden;
  using namespace warden::proxy;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);

  const ParsedHost host = parseHost(data);
  check((host.kind == HostKind::kIpAddress) == host.address.has_value());
  check(host.kind != HostKind::kInvalid || !host.reason.empty());
  if (host.address) {
    const IpAddress& a = *host.address;
    const AddressClass c = classify(a);
    check(!c.reason.empty());
    // The canonical text parses back to the same address.
    const auto again = parseIpLiteral(a.toString());
    check(again.has_value() && *again == a);
    const AddressDecision d = checkAddress(a, {});
    check(d.category == c.category);
    check(!d.allowed || !isAlwaysBlocked(c.category));
    check(!d.allowed || !needsAllowedIps(c.category));
    // Every blocked v4 category stays blocked when spelled IPv4-mapped.
    if (a.isV4()) {
      const auto mapped = parseIpLiteral("::ffff:" + a.toString());
      check(mapped.has_value() && classify(*mapped).category == c.category);
    }
  }

  auto cidr = Cidr::parse(data);
  if (cidr.ok()) {
    check(cidr->contains(cidr->network()));
    auto again = Cidr::parse(cidr->toString());
    check(again.ok() && again->toString() == cidr->toString());
  }
  return 0;
}

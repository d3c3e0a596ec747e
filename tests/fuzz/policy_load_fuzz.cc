// libFuzzer target: arbitrary bytes as a policy file. The loader must never crash, hang or throw;
// it either returns a policy or at least one diagnostic, and a loaded policy must be decidable.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "policy/engine.h"
#include "policy/loader.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace warden::policy;
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);

  Diagnostics diagnostics;
  const auto loaded = loadPolicyText(text, "fuzz.yaml", &diagnostics);
  check(loaded.ok() == diagnostics.empty());
  if (!loaded.ok()) {
    check(loaded.error().message() == diagnostics.toString());
    for (const auto& d : diagnostics.entries()) {
      check(!d.message.empty());
      check(d.location.line >= 0 && d.location.column >= 0);
    }
    return 0;
  }

  const Policy& policy = loaded.value();
  check(policy.version == 1);
  check(policy.hash.size() == 64);
  // Every endpoint must be reachable by its own host (when literal) and decidable at L7.
  for (const auto& rule : policy.network) {
    check(!rule.endpoints.empty() && !rule.binaries.empty());
    for (const auto& endpoint : rule.endpoints) {
      check(!endpoint.ports.empty());
      check(!(endpoint.access && !endpoint.allow_rules.empty()));
      if (!endpoint.host.isWildcard()) {
        const ConnectRequest request{
            endpoint.host.pattern(), endpoint.ports.front(), "/usr/bin/curl", {"/bin/sh"}};
        const Decision d = decideConnect(policy, request);
        check(!d.reason.empty());
        check(couldEverAllowHost(policy, endpoint.host.pattern()));
        if (d.allowed()) check(d.endpoint != nullptr);
      }
      for (const char* method : {"GET", "DELETE", "CONNECT"}) {
        const Decision d = decideRequest(endpoint, HttpRequest{method, "/repos/a/b", "q=1"});
        check(!d.reason.empty());
        check(!d.would_deny || d.allowed());
      }
    }
  }
  // Bytes of the input as a host and a path, for the matchers.
  const std::string host(text.substr(0, 300));
  (void)decideConnect(policy, ConnectRequest{host, 443, std::string(text.substr(0, 200)), {}});
  (void)couldEverAllowHost(policy, host);
  (void)isPackageSource(policy, host);
  return 0;
}

#include "proxy/redact.h"

#include <algorithm>

namespace warden::proxy {

bool isSensitiveHeader(std::string_view name) {
  static constexpr std::string_view kSensitive[] = {
      "Authorization", "Proxy-Authorization",  "Cookie",        "Set-Cookie", "X-Api-Key", "Api-Key",
      "X-Auth-Token",  "X-Amz-Security-Token", "X-Goog-Api-Key"};
  return std::any_of(std::begin(kSensitive), std::end(kSensitive),
                     [&](std::string_view s) { return equalsIgnoreCase(s, name); });
}

std::string redactHeaderValue(std::string_view name, std::string_view value) {
  if (!isSensitiveHeader(name)) return std::string(value);
  if (equalsIgnoreCase(name, "Authorization") || equalsIgnoreCase(name, "Proxy-Authorization")) {
    const size_t sp = value.find(' ');
    if (sp != std::string_view::npos && sp > 0 && isToken(value.substr(0, sp))) {
      return std::string(value.substr(0, sp + 1)) + std::string(kRedacted);
    }
  }
  return std::string(kRedacted);
}

HeaderList redactHeaders(const HeaderList& headers) {
  HeaderList out;
  out.reserve(headers.size());
  for (const auto& h : headers) out.push_back({h.name, redactHeaderValue(h.name, h.value)});
  return out;
}

}  // namespace warden::proxy

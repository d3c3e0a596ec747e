#include "proxy/redact.h"

#include <algorithm>

namespace warden::proxy {

std::string redactTarget(std::string_view target) {
  std::string_view rest = target.substr(0, target.find('#'));
  std::string out;
  out.reserve(rest.size() + kRedacted.size() + 1);
  // Userinfo in an absolute URL: "scheme://userinfo@host..." (only before the path starts).
  if (const size_t sep = rest.find("://"); sep != std::string_view::npos && rest.find('?') > sep) {
    const size_t auth_start = sep + 3;
    const size_t auth_end = std::min(rest.find_first_of("/?", auth_start), rest.size());
    const size_t at = rest.substr(0, auth_end).rfind('@');
    if (at != std::string_view::npos && at >= auth_start) {
      out.append(rest.substr(0, auth_start));
      out.append(kRedacted);
      rest.remove_prefix(at);
    }
  }
  const size_t q = rest.find('?');
  if (q == std::string_view::npos || q + 1 == rest.size()) {
    out.append(rest);
    return out;
  }
  out.append(rest.substr(0, q + 1));
  out.append(kRedacted);
  return out;
}

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

#include "policy/model.h"

#include <algorithm>
#include <string>

namespace warden::policy {

std::string_view protocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kNone:
      return "none";
    case Protocol::kRest:
      return "rest";
    case Protocol::kWebsocket:
      return "websocket";
    case Protocol::kMcp:
      return "mcp";
    case Protocol::kLlm:
      return "llm";
  }
  return "none";
}

std::string_view toolInputsName(ToolInputs level) {
  switch (level) {
    case ToolInputs::kNone:
      return "none";
    case ToolInputs::kKeys:
      return "keys";
    case ToolInputs::kSummary:
      return "summary";
    case ToolInputs::kFull:
      return "full";
  }
  return "summary";
}

std::string_view modelContentName(ModelContent level) {
  switch (level) {
    case ModelContent::kNone:
      return "none";
    case ModelContent::kSummary:
      return "summary";
    case ModelContent::kFull:
      return "full";
  }
  return "none";
}

std::string_view enforcementName(Enforcement enforcement) {
  return enforcement == Enforcement::kAudit ? "audit" : "enforce";
}

std::string_view accessName(Access access) {
  switch (access) {
    case Access::kReadOnly:
      return "read-only";
    case Access::kReadWrite:
      return "read-write";
    case Access::kFull:
      return "full";
  }
  return "read-only";
}

bool HttpRule::matches(std::string_view method, std::string_view request_path,
                       std::string_view request_query) const {
  const bool method_ok = std::any_of(methods.begin(), methods.end(),
                                     [&](const std::string& m) { return m == "*" || m == method; });
  if (!method_ok) return false;
  if (case_insensitive) {
    // The loader compiled `path` from the lower-cased pattern.
    std::string lowered(request_path);
    for (char& c : lowered) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (!path.matches(lowered)) return false;
  } else if (!path.matches(request_path)) {
    return false;
  }
  return !query || query->matches(request_query);
}

std::string HttpRule::describe() const {
  std::string out;
  for (const auto& m : methods) {
    if (!out.empty()) out += '|';
    out += m;
  }
  out += ' ';
  out += path.pattern();
  if (query) {
    out += '?';
    out += query->pattern();
  }
  return out;
}

bool Endpoint::allowsPort(uint16_t port) const {
  return std::find(ports.begin(), ports.end(), port) != ports.end();
}

size_t Policy::endpointCount() const {
  size_t n = 0;
  for (const auto& r : network) n += r.endpoints.size();
  return n;
}

const NetworkRule* Policy::findRule(std::string_view name) const {
  for (const auto& r : network) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

}  // namespace warden::policy

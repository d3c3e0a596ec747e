#include "audit/export/export_url.h"

#include <fmt/format.h>

#include <charconv>

namespace warden::audit::exporting {
namespace {

Error bad(std::string_view url, std::string_view why) {
  return invalidArgument(fmt::format("export URL '{}': {}", url, why));
}

}  // namespace

Result<ExportUrl> ExportUrl::parse(std::string_view url) {
  ExportUrl out;
  out.text = std::string(url);
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return bad(url, "expected syslog+tcp://, syslog+tls:// or syslog+udp://");
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme == "syslog+tcp") {
    out.transport = Transport::kTcp;
  } else if (scheme == "syslog+tls") {
    out.transport = Transport::kTls;
  } else if (scheme == "syslog+udp") {
    out.transport = Transport::kUdp;
  } else if (scheme == "https" || scheme == "http") {
    return bad(url, "HTTPS NDJSON exports are not implemented yet (syslog+tcp, syslog+tls, syslog+udp are)");
  } else {
    return bad(url, fmt::format("unknown scheme '{}' (syslog+tcp, syslog+tls or syslog+udp)", scheme));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view query;
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.find('#') != std::string_view::npos) return bad(url, "a fragment is not allowed");
  if (rest.find('/') != std::string_view::npos) {
    if (rest.back() != '/' || rest.find('/') != rest.size() - 1) return bad(url, "a path is not allowed");
    rest.remove_suffix(1);
  }
  if (rest.find('@') != std::string_view::npos) return bad(url, "user info is not allowed");
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad(url, "unterminated '[' in the host");
    out.host = std::string(rest.substr(1, close - 1));
    if (close + 1 >= rest.size() || rest[close + 1] != ':') return bad(url, "a port is required (HOST:PORT)");
    port_text = rest.substr(close + 2);
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad(url, "a port is required (HOST:PORT)");
    out.host = std::string(rest.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return bad(url, "an IPv6 host must be in brackets ([::1]:PORT)");
    port_text = rest.substr(colon + 1);
  }
  if (out.host.empty()) return bad(url, "the host is empty");
  for (const char c : out.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '-' || c == ':' || c == '_';
    if (!ok) return bad(url, "the host has a character that is not allowed in a name or address");
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return bad(url, fmt::format("'{}' is not a port (1-65535)", port_text));
  }
  out.port = static_cast<uint16_t>(port);
  const bool v6 = out.host.find(':') != std::string::npos;
  out.name = fmt::format("{}://{}{}{}:{}", scheme, v6 ? "[" : "", out.host, v6 ? "]" : "", out.port);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
    if (name != "ca") return bad(url, fmt::format("unknown parameter '{}' (only ca=FILE, for syslog+tls)", name));
    if (out.transport != Transport::kTls) return bad(url, "ca=FILE is only for syslog+tls");
    if (value.empty()) return bad(url, "ca= needs a file");
    out.ca_file = std::string(value);
  }
  return out;
}

}  // namespace warden::audit::exporting

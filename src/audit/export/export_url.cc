#include "audit/export/export_url.h"

#include <fmt/format.h>

#include <charconv>

#include "common/encoding.h"
#include "common/file_io.h"
#include "common/ip_address.h"
#include "proxy/http_codec.h"

namespace warden::audit::exporting {
namespace {

Error bad(std::string_view url, std::string_view why) {
  return invalidArgument(fmt::format("export URL '{}': {}", redactedExportUrl(url), why));
}

bool isHeaderValue(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// "Name:Value" (the value may start with spaces) -> the pair; nullopt when it is not a header.
std::optional<std::pair<std::string, std::string>> splitHeader(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view name = text.substr(0, colon);
  const std::string_view value = trim(text.substr(colon + 1));
  if (!proxy::isToken(name) || !isHeaderValue(value)) return std::nullopt;
  return std::make_pair(std::string(name), std::string(value));
}

// Headers the export writes itself: a URL may not set them.
bool isReservedHeader(std::string_view name) {
  for (const std::string_view r : {"host", "content-length", "content-type", "transfer-encoding", "connection"}) {
    if (proxy::equalsIgnoreCase(name, r)) return true;
  }
  return false;
}

bool isLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  const auto ip = IpAddress::parse(host);
  if (!ip) return false;
  return ip->isV4() ? ip->bytes()[0] == 127 : *ip == *IpAddress::parse("::1");
}

// Takes the next '&'-separated parameter (possibly empty) off the front of `query`.
std::string_view takeParam(std::string_view& query) {
  const size_t amp = query.find('&');
  const std::string_view param = query.substr(0, amp);
  query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  return param;
}

}  // namespace

std::string redactedExportUrl(std::string_view url) {
  const size_t q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, q + 1));
  std::string_view query = url.substr(q + 1);
  bool first = true;
  while (!query.empty()) {
    std::string_view param = takeParam(query);
    if (!first) out += '&';
    first = false;
    if (param.substr(0, param.find('=')) == "header") param = "header=[redacted]";
    out += param;
  }
  return out;
}

Result<ExportUrl> ExportUrl::parse(std::string_view url) {
  ExportUrl out;
  out.text = std::string(url);
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return bad(url, "expected syslog+tcp://, syslog+tls://, syslog+udp://, https:// or http://");
  }
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme == "syslog+tcp") {
    out.transport = Transport::kTcp;
  } else if (scheme == "syslog+tls") {
    out.transport = Transport::kTls;
  } else if (scheme == "syslog+udp") {
    out.transport = Transport::kUdp;
  } else if (scheme == "https") {
    out.transport = Transport::kHttps;
  } else if (scheme == "http") {
    out.transport = Transport::kHttp;
  } else {
    return bad(url, fmt::format("unknown scheme '{}' (syslog+tcp, syslog+tls, syslog+udp, https or http)", scheme));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view query;
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.find('#') != std::string_view::npos || query.find('#') != std::string_view::npos) {
    return bad(url, "a fragment is not allowed");
  }
  std::string_view path;
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash);
    rest = rest.substr(0, slash);
    if (!out.isHttp() && path != "/") return bad(url, "a path is not allowed");
  }
  if (rest.find('@') != std::string_view::npos) return bad(url, "user info is not allowed");
  std::string_view port_text;
  bool has_port = true;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad(url, "unterminated '[' in the host");
    out.host = std::string(rest.substr(1, close - 1));
    if (close + 1 == rest.size() && out.isHttp()) {
      has_port = false;
    } else if (close + 1 >= rest.size() || rest[close + 1] != ':') {
      return bad(url, "a port is required (HOST:PORT)");
    } else {
      port_text = rest.substr(close + 2);
    }
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      if (!out.isHttp()) return bad(url, "a port is required (HOST:PORT)");
      has_port = false;
      out.host = std::string(rest);
    } else {
      out.host = std::string(rest.substr(0, colon));
      port_text = rest.substr(colon + 1);
    }
    if (out.host.find(':') != std::string::npos) return bad(url, "an IPv6 host must be in brackets ([::1]:PORT)");
  }
  if (out.host.empty()) return bad(url, "the host is empty");
  for (const char c : out.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '-' || c == ':' || c == '_';
    if (!ok) return bad(url, "the host has a character that is not allowed in a name or address");
  }
  if (has_port) {
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return bad(url, fmt::format("'{}' is not a port (1-65535)", port_text));
    }
    out.port = static_cast<uint16_t>(port);
  } else {
    out.port = out.transport == Transport::kHttps ? 443 : 80;
  }
  if (out.transport == Transport::kHttp && !isLoopbackHost(out.host)) {
    return bad(url, "http:// is only for a receiver on this host (127.0.0.0/8, ::1, localhost): use https://");
  }
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return bad(url, "the path has a space, a control or a non-ASCII byte (percent-encode it)");
  }
  const bool v6 = out.host.find(':') != std::string::npos;
  out.name = fmt::format("{}://{}{}{}:{}{}", scheme, v6 ? "[" : "", out.host, v6 ? "]" : "", out.port,
                         out.isHttp() ? path : std::string_view{});
  out.target = path.empty() ? std::string("/") : std::string(path);
  std::string passed;  // an HTTP receiver's own parameters, kept in the target
  while (!query.empty()) {
    const std::string_view param = takeParam(query);
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
    if (name == "ca") {
      if (!out.usesTls()) return bad(url, "ca=FILE is only for syslog+tls and https");
      if (value.empty()) return bad(url, "ca= needs a file");
      out.ca_file = percentDecode(value);
      continue;
    }
    if (!out.isHttp()) return bad(url, fmt::format("unknown parameter '{}' (only ca=FILE, for syslog+tls)", name));
    if (name == "header") {
      auto header = splitHeader(percentDecode(value));
      // The value is a secret: the error names the parameter's position, never what it holds.
      if (!header) return bad(url, "a header= parameter is not Name:Value (a token name, no control characters)");
      if (isReservedHeader(header->first)) {
        return bad(url, fmt::format("header '{}' is written by the export itself", header->first));
      }
      out.headers.push_back(std::move(*header));
    } else if (name == "header_file") {
      if (value.empty()) return bad(url, "header_file= needs a file");
      out.header_file = percentDecode(value);
    } else if (name == "format") {
      if (value == "ndjson") {
        out.format = Format::kNdjson;
      } else if (value == "es-bulk") {
        out.format = Format::kEsBulk;
      } else {
        return bad(url, fmt::format("format '{}' is not ndjson or es-bulk", value));
      }
    } else {
      passed += passed.empty() ? "?" : "&";
      passed += param;
    }
  }
  for (const char c : passed) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return bad(url, "a parameter has a space, a control or a non-ASCII byte");
  }
  out.target += passed;
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> readHeaderFile(const std::string& path) {
  auto text = readFileBounded(path, 64 * 1024, OverLimit::kFail);
  if (!text.ok()) return text.error().withContext(fmt::format("export header file {}", path));
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view rest = *text;
  int line_no = 0;
  while (!rest.empty()) {
    ++line_no;
    const size_t nl = rest.find('\n');
    const std::string_view line = trim(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    auto header = splitHeader(line);
    if (!header) return invalidArgument(fmt::format("export header file {}:{}: not 'Name: Value'", path, line_no));
    if (isReservedHeader(header->first)) {
      return invalidArgument(
          fmt::format("export header file {}:{}: header '{}' is written by the export itself", path, line_no, header->first));
    }
    out.push_back(std::move(*header));
  }
  return out;
}

}  // namespace warden::audit::exporting

// The parts of the DNS resolver that are not the event loop: upstream addresses, resolv.conf, and the
// /proc caller-identity adapter.

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/ip_address.h"
#include "proxy/server/dns_resolver.h"

namespace warden::proxy {
namespace {

std::string baseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

TcpEndpoint toTcpEndpoint(const boost::asio::ip::udp::endpoint& e) {
  const auto a = e.address();
  if (a.is_v4()) return TcpEndpoint::v4(a.to_v4().to_bytes(), e.port());
  return TcpEndpoint::v6addr(a.to_v6().to_bytes(), e.port());
}

ocsf::Process toProcess(const CallerIdentity& id) {
  ocsf::Process p;
  p.name = id.displayName();
  if (id.pid > 0) p.pid = id.pid;
  p.uid = id.uid;
  for (const auto& arg : id.cmdline) {
    if (!p.cmd_line.empty()) p.cmd_line.push_back(' ');
    p.cmd_line += arg;
  }
  if (!id.exe.empty()) p.file = ocsf::File{.name = baseName(id.exe), .path = id.exe};
  p.working_directory = id.cwd;
  return p;
}

}  // namespace

Result<boost::asio::ip::udp::endpoint> parseDnsUpstream(std::string_view text) {
  std::string_view host = text;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return invalidArgument(fmt::format("upstream '{}': unclosed '['", text));
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalidArgument(fmt::format("upstream '{}': expected ':port' after ']'", text));
      port_text = rest.substr(1);
      has_port = true;
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {  // "ip:port"; a bare IPv6 has several
    const size_t colon = text.find(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    has_port = true;
  }
  uint16_t port = 53;
  if (has_port) {
    unsigned value = 0;
    const char* first = port_text.data();
    const char* last = first + port_text.size();
    const auto [ptr, ec] = std::from_chars(first, last, value);
    if (port_text.empty() || ec != std::errc() || ptr != last || value == 0 || value > 65535) {
      return invalidArgument(fmt::format("upstream '{}': port '{}' is not 1-65535", text, port_text));
    }
    port = static_cast<uint16_t>(value);
  }
  const auto address = IpAddress::parse(host);
  if (!address) return invalidArgument(fmt::format("upstream '{}': '{}' is not an IP address", text, host));
  boost::system::error_code ec;
  const auto asio_address = boost::asio::ip::make_address(address->toString(), ec);
  if (ec) return invalidArgument(fmt::format("upstream '{}': {}", text, ec.message()));
  return boost::asio::ip::udp::endpoint(asio_address, port);
}

std::string formatDnsEndpoint(const boost::asio::ip::udp::endpoint& e) {
  const auto a = e.address();
  return a.is_v6() ? fmt::format("[{}]:{}", a.to_string(), e.port()) : fmt::format("{}:{}", a.to_string(), e.port());
}

std::vector<std::string> resolvConfNameservers(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    const size_t comment = line.find_first_of("#;");
    if (comment != std::string_view::npos) line = line.substr(0, comment);
    auto next_token = [&line]() -> std::string_view {
      const size_t b = line.find_first_not_of(" \t\r");
      if (b == std::string_view::npos) {
        line = {};
        return {};
      }
      line.remove_prefix(b);
      const size_t e = line.find_first_of(" \t\r");
      const std::string_view token = line.substr(0, e);
      line.remove_prefix(e == std::string_view::npos ? line.size() : e);
      return token;
    };
    if (next_token() != "nameserver") continue;
    std::string_view address = next_token();
    const size_t zone = address.find('%');
    if (zone != std::string_view::npos) address = address.substr(0, zone);
    if (!address.empty() && IpAddress::parse(address)) out.emplace_back(address);
    if (end == text.size()) break;
  }
  return out;
}

DnsResolver::CallerLookup makeDnsCallerLookup(std::shared_ptr<CallerIdentityResolver> resolver,
                                              CaptureAttribution capture) {
  return [resolver = std::move(resolver), capture = std::move(capture)](
             const boost::asio::ip::udp::endpoint& client, const boost::asio::ip::udp::endpoint& server,
             bool tcp) -> std::optional<ocsf::Process> {
    const TcpEndpoint from = toTcpEndpoint(client);
    const TcpEndpoint to = toTcpEndpoint(server);
    if (resolver) {
      auto id = tcp ? resolver->lookup(from, to) : resolver->lookupUdpSender(from, to);
      if (id.ok()) return toProcess(*id);
      // Only a miss (no socket or no holder left) is the capture's to answer; an ambiguous sender
      // (FailedPrecondition) stays unknown rather than guessed.
      if (id.error().code() != Code::kNotFound) return std::nullopt;
    }
    if (!capture) return std::nullopt;
    auto named = capture(tcp ? SocketProtocol::kTcp : SocketProtocol::kUdp, from, to);
    if (!named) return std::nullopt;
    return capturedActor(std::move(*named));
  };
}

}  // namespace warden::proxy

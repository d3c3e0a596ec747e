#include "proxy/server/connection_caller.h"

#include <fmt/format.h>

namespace warden::proxy {

namespace {

TcpEndpoint toTcpEndpoint(const boost::asio::ip::tcp::endpoint& e) {
  const auto a = e.address();
  if (a.is_v4()) return TcpEndpoint::v4(a.to_v4().to_bytes(), e.port());
  return TcpEndpoint::v6addr(a.to_v6().to_bytes(), e.port());
}

}  // namespace

CallerInfo toCallerInfo(const CallerIdentity& id) {
  CallerInfo c;
  c.pid = id.pid;
  c.name = id.name;
  c.executable = id.exe;
  c.uid = id.uid;
  for (const auto& arg : id.cmdline) {
    if (!c.cmd_line.empty()) c.cmd_line.push_back(' ');
    c.cmd_line += arg;
  }
  for (const auto& a : id.ancestors) {
    if (!a.exe.empty()) c.ancestors.push_back(a.exe);
  }
  c.binary_changed = id.binary_changed;
  if (id.binary_changed) {
    c.binary_change_detail = fmt::format("{} changed since its first use in this session (sha256 {} -> {})", id.exe,
                                         id.first_seen_sha256.substr(0, 12), id.exe_sha256.substr(0, 12));
  }
  return c;
}

CallerLookup makeProcCallerLookup(std::shared_ptr<CallerIdentityResolver> resolver) {
  return [resolver = std::move(resolver)](const boost::asio::ip::tcp::endpoint& peer,
                                          const boost::asio::ip::tcp::endpoint& local) -> std::optional<CallerInfo> {
    auto id = resolver->lookup(toTcpEndpoint(peer), toTcpEndpoint(local));
    if (!id.ok()) return std::nullopt;
    return toCallerInfo(id.value());
  };
}

}  // namespace warden::proxy

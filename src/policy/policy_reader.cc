// Pieces of a policy several sections share: paths, ports, hosts, globs.

#include "policy/policy_reader.h"

#include <fmt/format.h>

#include <algorithm>

namespace warden::policy {

std::vector<std::string> PolicyReader::loadPaths(const YAML::Node& n, const std::string& path, SourceLocation at,
                                                 bool allow_home) {
  std::vector<std::string> out;
  forEachItem(n, path, at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
    const auto text = scalar(v, item_path, at, "a path");
    if (!text) return;
    std::string_view p = *text;
    const bool home = allow_home && (p == "~" || p.starts_with("~/"));
    if (!home && (p.empty() || p.front() != '/')) {
      error(v,
            fmt::format("{}: '{}' must be an absolute path{}", item_path, echoValue(p),
                        allow_home ? " (or '~', '~/...' for the agent's home)" : ""),
            at);
      return;
    }
    const bool bad_byte = std::any_of(p.begin(), p.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u < 0x20 || u == 0x7f;
    });
    if (bad_byte) {
      error(v, fmt::format("{}: '{}' contains a control character", item_path, echoValue(p)), at);
      return;
    }
    std::string_view rest = p;
    bool dotted = false;
    while (!rest.empty()) {
      const size_t slash = rest.find('/');
      const std::string_view segment = rest.substr(0, slash);
      if (segment == "." || segment == "..") dotted = true;
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    if (dotted) {
      error(v, fmt::format("{}: '{}' has a '.' or '..' segment; write the path it means", item_path, echoValue(p)), at);
      return;
    }
    while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
    out.emplace_back(p);
  });
  return out;
}

std::optional<uint16_t> PolicyReader::loadPort(const YAML::Node& n, const std::string& path, SourceLocation at) {
  const auto text = scalar(n, path, at, "a port number");
  if (!text) return std::nullopt;
  const auto port = parseWholeNumber(*text);
  if (!port || *port < 1 || *port > 65535) {
    error(n, fmt::format("{}: port '{}' is not a number from 1 to 65535", path, echoValue(*text)), at);
    return std::nullopt;
  }
  return static_cast<uint16_t>(*port);
}

std::vector<uint16_t> PolicyReader::loadPorts(const YAML::Node& n, const std::string& path, SourceLocation at) {
  std::vector<uint16_t> out;
  std::vector<bool> seen(65536, false);
  forEachItem(n, path, at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
    const auto port = loadPort(v, item_path, at);
    if (port && !seen[*port]) {
      seen[*port] = true;
      out.push_back(*port);
    }
  });
  if (n.IsSequence() && n.size() == 0) {
    error(n, fmt::format("{}: empty; list the ports this endpoint may use (e.g. [443])", path), at);
  }
  return out;
}

std::optional<HostPattern> PolicyReader::loadHost(const YAML::Node& n, const std::string& path, SourceLocation at) {
  const auto text = scalar(n, path, at, "a host name");
  if (!text) return std::nullopt;
  auto host = HostPattern::create(*text);
  if (!host.ok()) {
    error(n, fmt::format("{}: {}", path, host.error().message()), at);
    return std::nullopt;
  }
  return std::move(host).value();
}

std::vector<Glob> PolicyReader::loadGlobs(const YAML::Node& n, const std::string& path, SourceLocation at,
                                          Glob::Kind kind) {
  std::vector<Glob> out;
  forEachItem(n, path, at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
    const auto text = scalar(v, item_path, at, kind == Glob::Kind::kPath ? "a path glob" : "a name or glob");
    if (!text) return;
    auto glob = Glob::create(*text, kind);
    if (!glob.ok()) {
      error(v, fmt::format("{}: {}", item_path, glob.error().message()), at);
      return;
    }
    out.push_back(std::move(glob).value());
  });
  return out;
}

}  // namespace warden::policy

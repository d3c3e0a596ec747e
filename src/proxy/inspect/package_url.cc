#include "proxy/inspect/package_url.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "common/encoding.h"
#include "policy/glob.h"
#include "proxy/path_canon.h"

namespace warden::proxy::inspect {

namespace {

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return out;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    const size_t end = path.find('/', i);
    if (i < path.size()) out.push_back(path.substr(i, (end == std::string_view::npos ? path.size() : end) - i));
    if (end == std::string_view::npos) break;
    i = end;
  }
  return out;
}

// "requests-2.31.0.tar.gz" -> {"requests", "2.31.0"}: the version starts after the last '-' that is
// followed by a digit.
std::optional<std::pair<std::string, std::string>> splitSdist(std::string_view stem) {
  for (size_t i = stem.size(); i-- > 0;) {
    if (stem[i] == '-' && i + 1 < stem.size() && isDigit(stem[i + 1]) && i > 0) {
      return std::make_pair(std::string(stem.substr(0, i)), std::string(stem.substr(i + 1)));
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view managerName(PackageManager manager) {
  switch (manager) {
    case PackageManager::kPip: return "pip";
    case PackageManager::kNpm: return "npm";
    case PackageManager::kApt: return "apt";
  }
  return "pip";
}

std::optional<PackageManager> managerFromUserAgent(std::string_view ua) {
  for (std::string_view p : {"pip/", "uv/", "poetry/", "pdm/", "pipenv/"}) {
    if (startsWith(ua, p)) return PackageManager::kPip;
  }
  for (std::string_view p : {"npm/", "pnpm/", "yarn/", "bun/"}) {
    if (startsWith(ua, p)) return PackageManager::kNpm;
  }
  if (startsWith(ua, "Debian APT") || startsWith(ua, "Ubuntu APT")) return PackageManager::kApt;
  return std::nullopt;
}

std::string normalizePipName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  bool sep = false;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') {
      sep = true;
      continue;
    }
    if (sep && !out.empty()) out.push_back('-');
    sep = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  }
  return out;
}

std::optional<ArtifactName> artifactFromPath(std::string_view path) {
  const auto segs = segments(path);
  if (segs.empty()) return std::nullopt;
  const std::string file = percentDecode(segs.back());
  ArtifactName a;
  a.filename = file;
  if (endsWith(file, ".whl")) {
    // {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl
    const std::string_view stem = std::string_view(file).substr(0, file.size() - 4);
    const size_t dash = stem.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const size_t dash2 = stem.find('-', dash + 1);
    if (dash2 == std::string_view::npos) return std::nullopt;
    a.manager = PackageManager::kPip;
    a.name = normalizePipName(stem.substr(0, dash));
    a.version = std::string(stem.substr(dash + 1, dash2 - dash - 1));
    return a;
  }
  if (endsWith(file, ".tgz") && segs.size() >= 3 && segs[segs.size() - 2] == "-") {
    // npm: /<name>/-/<name>-<version>.tgz, /@scope/<name>/-/<name>-<version>.tgz (or @scope%2F<name>)
    std::string name = percentDecode(segs[segs.size() - 3]);
    if (segs.size() >= 4 && startsWith(segs[segs.size() - 4], "@")) {
      name = percentDecode(segs[segs.size() - 4]) + "/" + name;
    }
    const size_t slash = name.rfind('/');
    const std::string bare = slash == std::string::npos ? name : name.substr(slash + 1);
    const std::string_view stem = std::string_view(file).substr(0, file.size() - 4);
    if (!startsWith(stem, bare + "-")) return std::nullopt;
    a.manager = PackageManager::kNpm;
    a.name = name;
    a.version = std::string(stem.substr(bare.size() + 1));
    return a;
  }
  for (std::string_view ext : {".deb", ".udeb", ".ddeb"}) {
    if (!endsWith(file, ext)) continue;
    // <name>_<version>_<arch>.deb
    const std::string_view stem = std::string_view(file).substr(0, file.size() - ext.size());
    const size_t u1 = stem.find('_');
    const size_t u2 = stem.rfind('_');
    if (u1 == std::string_view::npos || u2 == u1) return std::nullopt;
    a.manager = PackageManager::kApt;
    a.name = std::string(stem.substr(0, u1));
    a.version = std::string(stem.substr(u1 + 1, u2 - u1 - 1));
    return a;
  }
  for (std::string_view ext : {".tar.gz", ".zip", ".tar.bz2", ".tar.xz"}) {
    if (!endsWith(file, ext)) continue;
    auto split = splitSdist(std::string_view(file).substr(0, file.size() - ext.size()));
    if (!split) return std::nullopt;
    a.manager = PackageManager::kPip;
    a.name = normalizePipName(split->first);
    a.version = split->second;
    return a;
  }
  return std::nullopt;
}

std::optional<IndexRequest> indexFromRequest(std::string_view method, std::string_view path, std::string_view user_agent,
                                             std::string_view accept) {
  if (method != "GET") return std::nullopt;
  const auto segs = segments(path);
  if (segs.empty()) return std::nullopt;
  const auto client = managerFromUserAgent(user_agent);
  // apt: .../dists/<suite>/...
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    if (segs[i] != "dists") continue;
    const size_t dists_at = static_cast<size_t>(segs[i].data() - path.data());
    IndexRequest r;
    r.repo_base = std::string(path.substr(0, dists_at));
    const size_t suite_end = static_cast<size_t>(segs[i + 1].data() - path.data()) + segs[i + 1].size();
    r.dists_base = std::string(path.substr(0, suite_end)) + "/";
    const std::string_view last = segs.back();
    if (segs.size() == i + 3 && (last == "InRelease" || last == "Release")) {
      r.kind = IndexKind::kAptRelease;
      return r;
    }
    if (last == "Packages" || last == "Packages.gz" || last == "Packages.xz") {
      r.kind = IndexKind::kAptPackages;
      r.compression = last == "Packages.gz" ? "gz" : last == "Packages.xz" ? "xz" : "";
      return r;
    }
    // .../by-hash/SHA256/<hex>: the file is named by its hash (the Release says which one it is).
    if (segs.size() >= 3 && segs[segs.size() - 3] == "by-hash" && segs[segs.size() - 2] == "SHA256") {
      r.kind = IndexKind::kAptPackages;
      r.compression = "?";
      return r;
    }
    return std::nullopt;
  }
  const bool pypi_media = accept.find("application/vnd.pypi.simple") != std::string_view::npos;
  const bool npm_media = accept.find("application/vnd.npm.install-v1+json") != std::string_view::npos;
  // pip: .../simple/<project>/
  if ((client == PackageManager::kPip || pypi_media) && segs.size() >= 2 && segs[segs.size() - 2] == "simple") {
    IndexRequest r;
    r.kind = IndexKind::kPipSimple;
    r.project = normalizePipName(percentDecode(segs.back()));
    return r;
  }
  // npm: /<name>, /@scope/<name>, /@scope%2F<name> (the registry at the root of its host).
  if ((client == PackageManager::kNpm || npm_media) && !endsWith(path, ".tgz")) {
    IndexRequest r;
    r.kind = IndexKind::kNpmMetadata;
    if (segs.size() == 1) {
      r.project = percentDecode(segs[0]);
    } else if (segs.size() == 2 && startsWith(segs[0], "@")) {
      r.project = percentDecode(segs[0]) + "/" + percentDecode(segs[1]);
    } else {
      return std::nullopt;
    }
    if (startsWith(r.project, "-") || r.project.empty()) return std::nullopt;  // /-/ping, /-/v1/search...
    return r;
  }
  return std::nullopt;
}

std::string artifactKey(std::string_view host, uint16_t port, std::string_view canonical_path) {
  std::string key = lowerAscii(host);
  key += ":";
  key += std::to_string(port);
  key += canonical_path;
  return key;
}

std::optional<std::string> artifactKey(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::string scheme = lowerAscii(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? std::string_view("/") : rest.substr(path_at);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  path = path.substr(0, path.find_first_of("?#"));
  if (path.empty()) path = "/";
  uint16_t port = scheme == "https" ? 443 : 80;
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() == ':') {
      unsigned p = 0;
      auto [ptr, ec] = std::from_chars(authority.data() + 1, authority.data() + authority.size(), p);
      if (ec != std::errc() || ptr != authority.data() + authority.size() || p == 0 || p > 65535) return std::nullopt;
      port = static_cast<uint16_t>(p);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    unsigned p = 0;
    const std::string_view digits = authority.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || p == 0 || p > 65535) return std::nullopt;
    port = static_cast<uint16_t>(p);
  }
  const auto normalized = policy::normalizeHost(host);
  if (!normalized) return std::nullopt;
  auto canonical = canonicalizePath(path);
  if (!canonical.ok()) return std::nullopt;
  return artifactKey(*normalized, port, canonical.value());
}

std::string resolveUrl(std::string_view base, std::string_view ref) {
  ref = ref.substr(0, ref.find('#'));
  if (ref.find("://") != std::string_view::npos && ref.find("://") < ref.find_first_of("/?")) return std::string(ref);
  const size_t scheme_end = base.find("://");
  if (scheme_end == std::string_view::npos) return std::string(ref);
  if (startsWith(ref, "//")) return std::string(base.substr(0, scheme_end + 1)) + std::string(ref);
  const size_t path_at = base.find('/', scheme_end + 3);
  const std::string origin(base.substr(0, path_at));
  std::string base_path(path_at == std::string_view::npos ? std::string_view("/") : base.substr(path_at));
  base_path = base_path.substr(0, base_path.find_first_of("?#"));
  std::string merged;
  if (startsWith(ref, "/")) {
    merged = std::string(ref);
  } else if (ref.empty() || startsWith(ref, "?")) {
    merged = base_path + std::string(ref);
  } else {
    merged = base_path.substr(0, base_path.rfind('/') + 1) + std::string(ref);
  }
  // Remove dot segments (the query, if any, is kept as it is).
  const size_t q = merged.find('?');
  const std::string query = q == std::string::npos ? "" : merged.substr(q);
  const std::string p = merged.substr(0, q);
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t end = p.find('/', i);
    if (end == std::string::npos) end = p.size();
    const std::string seg = p.substr(i, end - i);
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      if (end == p.size()) out.push_back("");
    } else if (seg == ".") {
      if (end == p.size()) out.push_back("");
    } else if (i > 0 || !seg.empty()) {
      out.push_back(seg);
    }
    i = end + 1;
  }
  std::string path;
  for (const auto& seg : out) path += "/" + seg;
  if (path.empty()) path = "/";
  return origin + path + query;
}

}  // namespace warden::proxy::inspect

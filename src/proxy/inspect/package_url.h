#pragma once

// Which requests are package traffic, and what their URLs say (docs/packages.md): artifacts by
// their file names (pip wheels and sdists, npm tarballs, .deb), index requests by client and path
// (pip simple pages, npm metadata, apt Release/InRelease and Packages), and the artifact key that
// joins a download to what an index advertised. Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warden::proxy::inspect {

enum class PackageManager { kPip, kNpm, kApt };
std::string_view managerName(PackageManager manager);  // "pip", "npm", "apt"

// Which installer a User-Agent names: pip/uv/poetry/pdm, npm/pnpm/yarn/bun, Debian APT.
std::optional<PackageManager> managerFromUserAgent(std::string_view user_agent);

// A package artifact as its URL names it.
struct ArtifactName {
  PackageManager manager = PackageManager::kPip;
  std::string name;      // pip: normalised (PEP 503); npm: "@scope/name" or "name"; apt: the package
  std::string version;   // as in the file name (apt: "%3a" decoded to ':')
  std::string filename;  // the last path segment, percent-decoded
};
// From a canonical request path: *.whl, *.tar.gz|.zip|.tar.bz2 (sdists), npm's /<name>/-/<file>.tgz,
// *.deb|.udeb. nullopt for anything else.
std::optional<ArtifactName> artifactFromPath(std::string_view canonical_path);

// PEP 503 name normalisation: lower case, runs of '-', '_', '.' as one '-'.
std::string normalizePipName(std::string_view name);

enum class IndexKind { kPipSimple, kNpmMetadata, kAptRelease, kAptPackages };
struct IndexRequest {
  IndexKind kind = IndexKind::kPipSimple;
  std::string project;      // pip: the normalised project; npm: the package name; apt: empty
  std::string compression;  // apt Packages: "", "gz" or "xz" (from the file name)
  std::string dists_base;   // apt: the path up to and including "/dists/<suite>/" (Release entries are relative to it)
  std::string repo_base;    // apt: the path before "/dists/" (Filename fields are relative to it), ends in '/'
};
// What an index request asks for, from method, canonical path, User-Agent and Accept:
//   pip: GET .../simple/<project>/ from a pip-like client (or asking for a PEP 691 media type);
//   npm: GET /<name>, /@scope/<name> or /@scope%2F<name> from an npm-like client (or Accept
//        application/vnd.npm.install-v1+json);
//   apt: GET .../dists/<suite>/InRelease|Release, .../dists/<suite>/<component>/binary-<arch>/Packages[.gz|.xz].
std::optional<IndexRequest> indexFromRequest(std::string_view method, std::string_view canonical_path,
                                             std::string_view user_agent, std::string_view accept);

// The key joining a download to an advertisement: "host:port/canonical/path" (lower-case host,
// explicit port, canonical path, no query). nullopt when the URL does not parse or is not http(s).
std::optional<std::string> artifactKey(std::string_view absolute_url);
std::string artifactKey(std::string_view host, uint16_t port, std::string_view canonical_path);

// `reference` resolved against `base` (RFC 3986 section 5, without the fragment).
std::string resolveUrl(std::string_view base, std::string_view reference);

}  // namespace warden::proxy::inspect

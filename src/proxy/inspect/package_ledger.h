#pragma once

// What the indexes of one session advertised (docs/packages.md): artifact key -> the package, its
// version and the digest the index vouched for. Shared by every connection of one proxy (a client
// reads the index on one connection and downloads on another, often from another host).
// Bounded: beyond max_entries new advertisements are dropped and counted. Thread-safe.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "proxy/inspect/package_url.h"

namespace warden::proxy::inspect {

struct Advertisement {
  PackageManager manager = PackageManager::kPip;
  std::string name;
  std::string version;
  std::string sha256;        // lower-case hex, when advertised
  std::string other_digest;  // "sha512-<base64>" / "sha1:<hex>" when no SHA-256
  std::optional<uint64_t> size;
  std::string index_url;     // where it was advertised (redacted when recorded)
  bool index_file = false;   // an apt index file listed by a Release (Packages), not a package
  std::string compression;   // index files: "", "gz", "xz"
};

class PackageLedger {
 public:
  explicit PackageLedger(size_t max_entries = 300'000) : max_entries_(max_entries) {}

  // Later advertisements of the same key replace earlier ones (an index fetched again).
  void add(const std::string& key, Advertisement ad);
  std::optional<Advertisement> find(const std::string& key) const;
  // apt by-hash downloads: the index file advertised with this SHA-256.
  std::optional<Advertisement> findIndexFileByHash(const std::string& sha256) const;
  size_t size() const;
  uint64_t dropped() const;

 private:
  size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Advertisement> entries_;       // Guarded by mu_.
  std::unordered_map<std::string, std::string> index_by_hash_;  // Guarded by mu_; sha256 -> key
  uint64_t dropped_ = 0;                                          // Guarded by mu_.
};

}  // namespace warden::proxy::inspect

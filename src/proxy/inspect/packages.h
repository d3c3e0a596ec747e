#pragma once

// Package traffic in one HTTP exchange (sandbox.md "Packages", docs/packages.md): an index response
// is read for the digests it advertises (into the session's PackageLedger); an artifact download is
// hashed while it streams and recorded as PKG:INSTALL with a verdict against what an index of this
// session advertised. A mismatch is a High finding and, under `enforcement: enforce`, the download
// is cut off before its last byte reaches the agent; a download from a host outside
// `audit.package_sources` is a Medium finding (refused under enforce); a direct-URL or VCS install
// is a Medium finding. Nothing is buffered but index documents (bounded).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/http_request.h"
#include "proxy/http_response.h"
#include "proxy/inspect/context.h"
#include "proxy/inspect/decompress.h"
#include "proxy/inspect/digest.h"
#include "proxy/inspect/package_index.h"
#include "proxy/inspect/package_ledger.h"
#include "proxy/inspect/package_url.h"

namespace warden::proxy::inspect {

struct PackageLimits {
  size_t max_index_bytes = 64 * 1024 * 1024;          // an HTML/JSON index or a Release file, decoded
  uint64_t max_packages_bytes = 1024ull * 1024 * 1024;  // a decompressed apt Packages file (streamed)
};

// One exchange's package view. Single-threaded (the connection's); borrows the recorder, parties,
// policy and ledger, which outlive it.
class PackageExchange {
 public:
  // nullptr when the request is not package traffic. `url` is the request's absolute URL.
  static std::unique_ptr<PackageExchange> begin(const Recorder& recorder, const Parties& parties,
                                                PackageLedger& ledger, const policy::Policy& policy,
                                                const HttpRequestHead& head, std::string_view canonical_path,
                                                std::string_view url, PackageLimits limits = {});

  // Before the head goes upstream: refuses a source outside audit.package_sources under enforce
  // (PKG:INSTALL DENIED + a Medium finding); asks index requests for encodings the proxy can read.
  std::optional<LocalAnswer> onRequest(HttpRequestHead& head);
  void onResponseHead(const HttpResponseHead& head);
  // The body's bytes as they stream (transfer coding removed). False: cut the response off now (a
  // mismatch under enforce, known before the last byte is forwarded).
  bool onResponseBody(std::string_view payload, bool last);
  void onEnd(const ExchangeEnd& end);

  bool isArtifact() const { return mode_ == Mode::kArtifact; }
  bool isIndex() const { return mode_ == Mode::kIndex; }

 private:
  enum class Mode { kArtifact, kIndex };
  PackageExchange(const Recorder& recorder, const Parties& parties, PackageLedger& ledger, const policy::Policy& policy,
                  PackageLimits limits);

  // Artifact downloads.
  std::string verdictDetail() const;
  void judge();
  void recordInstall(bool complete, bool cut, std::optional<ocsf::Decision> decision);
  void emitFinding(const ocsf::Event& domain, std::string title, std::string desc, std::string type,
                   ocsf::Severity severity, std::string remediation);
  // Index documents.
  void onIndexBytes(std::string_view decoded);
  void finishIndex(bool complete, bool cut);
  void indexProblem(std::string message);

  const Recorder& recorder_;
  const Parties& parties_;
  PackageLedger& ledger_;
  const policy::Policy& policy_;
  PackageLimits limits_;
  Mode mode_ = Mode::kArtifact;
  PackageManager manager_ = PackageManager::kPip;
  std::string url_;  // absolute
  std::string key_;
  int status_ = 0;

  // Artifact state.
  std::string name_;
  std::string version_;
  std::optional<Advertisement> advertised_;
  std::unique_ptr<ArtifactDigest> digest_;
  uint64_t bytes_ = 0;
  std::optional<uint64_t> declared_length_;
  std::string verdict_;  // after judge()
  std::string requested_version_;
  std::string install_kind_;
  bool outside_sources_ = false;
  bool recorded_ = false;

  // Index state.
  IndexRequest index_;
  std::unique_ptr<Decompressor> content_decoder_;  // Content-Encoding
  std::unique_ptr<Decompressor> file_decoder_;     // Packages.gz / .xz
  std::unique_ptr<AptPackagesParser> packages_;
  std::string document_;
  bool document_too_large_ = false;
  bool unreadable_ = false;
  std::string media_type_;
  uint64_t advertised_count_ = 0;
};

}  // namespace warden::proxy::inspect

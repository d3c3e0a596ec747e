#include "proxy/inspect/packages.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/encoding.h"
#include "policy/engine.h"
#include "proxy/http_codec.h"
#include "proxy/inspect/install_args.h"
#include "proxy/path_canon.h"

namespace warden::proxy::inspect {

namespace {

// Artifacts at least this large (or of unknown length) are hashed on a worker thread.
constexpr uint64_t kParallelHashBytes = 1024 * 1024;

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return out;
}

std::string headerValue(const HeaderList& headers, std::string_view name) {
  const HeaderField* f = findHeader(headers, name);
  return f == nullptr ? std::string() : f->value;
}

std::string mediaType(const HeaderList& headers) {
  std::string v = headerValue(headers, "content-type");
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return lowerAscii(v);
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// An artifact's file name says which installer fetches it unambiguously, or only with the client's
// word for it (an sdist .tar.gz / .zip could be any download).
bool distinctiveArtifact(const ArtifactName& a) {
  return a.manager != PackageManager::kPip || endsWith(a.filename, ".whl");
}

// "Accept-Encoding" limited to what the proxy decodes (gzip, deflate, identity): an index
// compressed with anything else (br, zstd) could not be read.
void limitAcceptEncoding(HttpRequestHead& head) {
  for (HeaderField& f : head.headers) {
    if (!equalsIgnoreCase(f.name, "accept-encoding")) continue;
    std::string kept;
    size_t i = 0;
    const std::string& v = f.value;
    while (i <= v.size()) {
      size_t end = v.find(',', i);
      if (end == std::string::npos) end = v.size();
      std::string item = v.substr(i, end - i);
      while (!item.empty() && item.front() == ' ') item.erase(item.begin());
      while (!item.empty() && item.back() == ' ') item.pop_back();
      const std::string coding = lowerAscii(item.substr(0, item.find(';')));
      if (coding == "gzip" || coding == "x-gzip" || coding == "deflate" || coding == "identity") {
        if (!kept.empty()) kept += ", ";
        kept += item;
      }
      i = end + 1;
    }
    f.value = kept.empty() ? "identity" : kept;
  }
}

}  // namespace

PackageExchange::PackageExchange(const Recorder& recorder, const Parties& parties, PackageLedger& ledger,
                                 const policy::Policy& policy, PackageLimits limits)
    : recorder_(recorder), parties_(parties), ledger_(ledger), policy_(policy), limits_(limits) {}

std::unique_ptr<PackageExchange> PackageExchange::begin(const Recorder& recorder, const Parties& parties,
                                                        PackageLedger& ledger, const policy::Policy& policy,
                                                        const HttpRequestHead& head, std::string_view canonical_path,
                                                        std::string_view url, PackageLimits limits) {
  if (head.method != "GET") return nullptr;
  const std::string user_agent = headerValue(head.headers, "user-agent");
  const std::string key = artifactKey(parties.host, parties.port, canonical_path);
  std::unique_ptr<PackageExchange> x(new PackageExchange(recorder, parties, ledger, policy, limits));
  x->url_ = std::string(url);
  x->key_ = key;
  const auto client = managerFromUserAgent(user_agent);
  const auto ad = ledger.find(key);

  // An index document (also an apt Packages file a Release vouched for).
  if (auto index = indexFromRequest(head.method, canonical_path, user_agent, headerValue(head.headers, "accept"))) {
    x->mode_ = Mode::kIndex;
    x->index_ = std::move(*index);
    x->manager_ = x->index_.kind == IndexKind::kPipSimple    ? PackageManager::kPip
                  : x->index_.kind == IndexKind::kNpmMetadata ? PackageManager::kNpm
                                                              : PackageManager::kApt;
    if (ad && ad->index_file) x->advertised_ = ad;
    if (x->index_.compression == "?") {  // by-hash: the path ends in the SHA-256 itself
      const std::string_view hash = canonical_path.substr(canonical_path.rfind('/') + 1);
      x->advertised_ = ledger.findIndexFileByHash(lowerAscii(hash));
      if (x->advertised_) {
        x->index_.compression = x->advertised_->compression;
      } else {
        x->index_.compression = "";
        Advertisement self;
        self.manager = PackageManager::kApt;
        self.index_file = true;
        if (auto hex = normalizeSha256Hex(hash)) self.sha256 = *hex;
        x->advertised_ = std::move(self);
      }
    }
    if (x->advertised_) x->digest_ = std::make_unique<ArtifactDigest>(false, false);
    return x;
  }

  // An artifact: advertised by an index of this session, or named by its file name.
  std::optional<ArtifactName> named = artifactFromPath(canonical_path);
  if (ad && !ad->index_file) {
    x->advertised_ = ad;
    x->manager_ = ad->manager;
    x->name_ = ad->name;
    x->version_ = ad->version;
    if (named && x->version_.empty()) x->version_ = named->version;
  } else if (named && (distinctiveArtifact(*named) || client == named->manager)) {
    x->manager_ = named->manager;
    x->name_ = named->name;
    x->version_ = named->version;
  } else {
    return nullptr;
  }
  x->mode_ = Mode::kArtifact;
  const bool want512 = x->advertised_ && x->advertised_->sha256.empty() &&
                       x->advertised_->other_digest.rfind("sha512-", 0) == 0;
  const bool want1 = x->advertised_ && x->advertised_->sha256.empty() && x->advertised_->other_digest.rfind("sha1:", 0) == 0;
  x->digest_ = std::make_unique<ArtifactDigest>(want512, want1);
  // What the installer's command line asked for, and whether it asked for a URL rather than a name.
  if (parties.actor) {
    const InstallSpec spec = installSpecFor(x->manager_, parties.actor->cmd_line, x->name_, url);
    x->requested_version_ = spec.requested_version;
    if (spec.direct_url) x->install_kind_ = "direct_url";
    if (spec.vcs) x->install_kind_ = "vcs";
  }
  if (x->install_kind_.empty()) x->install_kind_ = x->advertised_ ? "index" : "";
  return x;
}

std::optional<LocalAnswer> PackageExchange::onRequest(HttpRequestHead& head) {
  if (mode_ == Mode::kIndex) limitAcceptEncoding(head);
  // Sources: only when the policy lists them; an index or an artifact from any other host.
  if (policy_.audit.package_sources.empty() || policy::isPackageSource(policy_, parties_.host)) return std::nullopt;
  outside_sources_ = true;
  if (parties_.enforcement != policy::Enforcement::kEnforce) return std::nullopt;  // recorded at the end
  const std::string sources = fmt::format("{}", fmt::join(policy::packageSources(policy_), ", "));
  const std::string reason = fmt::format("{} is not a package source of this policy (audit.package_sources: {})",
                                         parties_.host, sources);
  if (mode_ == Mode::kArtifact) {
    recordInstall(false, false, ocsf::Decision{ocsf::Action::kDenied, parties_.rule, "l7", reason});
  } else {
    // An index from an unlisted source: the finding alone (no package was downloaded).
    ocsf::HttpExchange x;
    x.actor = parties_.actor;
    x.src = parties_.src;
    x.url = url_;
    ocsf::Event domain = ocsf::httpRequest(*recorder_.session, recorder_.now(), x,
                                           ocsf::Decision{ocsf::Action::kDenied, parties_.rule, "l7", reason});
    emitFinding(domain, "Package index from a source the policy does not list",
                fmt::format("{} fetched a {} index from {}, which audit.package_sources does not list; the request was refused",
                            parties_.actor ? parties_.actor->name : std::string("a process"), managerName(manager_),
                            parties_.host),
                "package-source", ocsf::Severity::kMedium,
                "add the host to audit.package_sources if it is a trusted index, or point the installer at one");
  }
  LocalAnswer a;
  a.status = 403;
  a.detail = fmt::format("package downloads from {} are not allowed", parties_.host);
  a.reason = reason;
  a.rule = parties_.rule;
  a.close = true;
  return a;
}

void PackageExchange::onResponseHead(const HttpResponseHead& head) {
  status_ = head.status;
  declared_length_ = head.body == BodyFraming::kContentLength ? head.content_length : std::nullopt;
  // A large artifact is hashed on a core of its own beside the relay (digest.h); a small one inline.
  if (mode_ == Mode::kArtifact && bytes_ == 0 && (!declared_length_ || *declared_length_ >= kParallelHashBytes)) {
    const bool want512 = advertised_ && advertised_->sha256.empty() && advertised_->other_digest.rfind("sha512-", 0) == 0;
    const bool want1 = advertised_ && advertised_->sha256.empty() && advertised_->other_digest.rfind("sha1:", 0) == 0;
    digest_ = std::make_unique<ArtifactDigest>(want512, want1, /*parallel=*/true);
  }
  if (mode_ != Mode::kIndex || status_ != 200) return;
  media_type_ = mediaType(head.headers);
  const auto content = compressionFrom(headerValue(head.headers, "content-encoding"));
  if (!content) {
    unreadable_ = true;
    indexProblem(fmt::format("{} index from {} not read: Content-Encoding {} is not one the proxy decodes",
                             managerName(manager_), parties_.host, headerValue(head.headers, "content-encoding")));
    return;
  }
  auto made = Decompressor::create(*content, limits_.max_packages_bytes);
  if (made.ok()) content_decoder_ = std::move(made).value();
  if (index_.kind == IndexKind::kAptPackages) {
    const auto file = compressionFrom(index_.compression);
    auto decoder = Decompressor::create(file.value_or(Compression::kNone), limits_.max_packages_bytes);
    if (decoder.ok()) file_decoder_ = std::move(decoder).value();
    // Filename fields are relative to the repository's base: http(s)://host[:port]<repo_base>.
    const std::string base = parties_.origin() + index_.repo_base;
    packages_ = std::make_unique<AptPackagesParser>([this, base](AptPackagesParser::Stanza&& s) {
      const auto key = artifactKey(base + s.filename);
      if (!key) return;
      Advertisement ad;
      ad.manager = PackageManager::kApt;
      ad.name = std::move(s.package);
      ad.version = std::move(s.version);
      ad.sha256 = std::move(s.sha256);
      ad.size = s.size;
      ad.index_url = url_;
      ledger_.add(*key, std::move(ad));
      ++advertised_count_;
    });
  }
}

bool PackageExchange::onResponseBody(std::string_view payload, bool last) {
  if (status_ != 200 && status_ != 206) return true;
  bytes_ += payload.size();
  if (digest_) digest_->update(payload);
  if (mode_ == Mode::kIndex) {
    onIndexBytes(payload);
    if (!last || !advertised_ || advertised_->sha256.empty() || !digest_) return true;
    digest_->finish();
    const bool mismatch = digest_->sha256Hex() != advertised_->sha256;
    return !(mismatch && parties_.enforcement == policy::Enforcement::kEnforce);
  }
  if (!last || status_ != 200) return true;
  judge();
  return !(verdict_ == "mismatch" && parties_.enforcement == policy::Enforcement::kEnforce);
}

void PackageExchange::judge() {
  if (!verdict_.empty()) return;
  digest_->finish();
  if (!advertised_) {
    verdict_ = "unknown";
    return;
  }
  if (advertised_->size && *advertised_->size != bytes_) {
    verdict_ = "mismatch";
    return;
  }
  if (!advertised_->sha256.empty()) {
    verdict_ = digest_->sha256Hex() == advertised_->sha256 ? "verified" : "mismatch";
  } else if (advertised_->other_digest.rfind("sha512-", 0) == 0) {
    verdict_ = digest_->sha512Sri() == advertised_->other_digest ? "verified" : "mismatch";
  } else if (advertised_->other_digest.rfind("sha1:", 0) == 0) {
    verdict_ = digest_->sha1Tagged() == advertised_->other_digest ? "verified" : "mismatch";
  } else {
    verdict_ = "unknown";
  }
}

std::string PackageExchange::verdictDetail() const {
  if (verdict_ == "unknown") {
    if (!advertised_) return "no index of this session advertised this file";
    return "the index advertised no digest for this file";
  }
  if (verdict_ == "mismatch") {
    if (advertised_ && advertised_->size && *advertised_->size != bytes_) {
      return fmt::format("{} bytes received, the index advertised {}", bytes_, *advertised_->size);
    }
    const std::string algo = !advertised_->sha256.empty() ? "sha256"
                             : advertised_->other_digest.rfind("sha512-", 0) == 0 ? "sha512"
                                                                                   : "sha1";
    return fmt::format("the file's {} differs from the one the index advertised", algo);
  }
  return "";
}

void PackageExchange::emitFinding(const ocsf::Event& domain, std::string title, std::string desc, std::string type,
                                  ocsf::Severity severity, std::string remediation) {
  ocsf::FindingInput f;
  f.title = std::move(title);
  f.desc = std::move(desc);
  f.types = {std::move(type)};
  f.evidences = ocsf::Value(ocsf::Value::Array{ocsf::evidenceOf(domain)});
  f.actor = parties_.actor;
  f.rule = ocsf::FirewallRule{parties_.rule, "l7"};
  f.severity = severity;
  f.risk_level = severity == ocsf::Severity::kHigh ? ocsf::RiskLevel::kHigh : ocsf::RiskLevel::kMedium;
  f.disposition = domain.action && *domain.action == ocsf::Action::kDenied ? ocsf::Disposition::kBlocked
                                                                           : ocsf::Disposition::kDetected;
  f.remediation = std::move(remediation);
  recorder_.emit(ocsf::finding(*recorder_.session, recorder_.now(), f));
}

void PackageExchange::recordInstall(bool complete, bool cut, std::optional<ocsf::Decision> decision) {
  if (recorded_) return;
  recorded_ = true;
  ocsf::PackageInstall p;
  p.actor = parties_.actor;
  p.manager = std::string(managerName(manager_));
  p.name = name_;
  p.version = version_;
  p.requested_version = requested_version_;
  p.source_url = url_;
  p.install_kind = install_kind_;
  if (advertised_) {
    p.advertised_sha256 = advertised_->sha256;
    p.advertised_hash = advertised_->other_digest;
  }
  const bool denied_before = decision && decision->action == ocsf::Action::kDenied && !cut;
  if (!denied_before) {
    p.bytes = static_cast<int64_t>(bytes_);
    p.complete = complete;
    if (complete) {
      p.sha256 = digest_->sha256Hex();
      p.verdict = verdict_;
      p.verdict_detail = verdictDetail();
    } else {
      p.verdict_detail = status_ == 206 ? "partial content (206): the whole file was not seen"
                         : declared_length_ ? fmt::format("the body ended after {} of {} bytes", bytes_, *declared_length_)
                                            : fmt::format("the body ended after {} bytes", bytes_);
    }
  }
  p.decision = decision;
  ocsf::Event domain = ocsf::pkgInstall(*recorder_.session, recorder_.now(), p);
  const ocsf::Event evidence = domain;
  recorder_.emit(std::move(domain));
  const std::string who = parties_.actor ? parties_.actor->name : std::string("a process");
  if (verdict_ == "mismatch" && complete) {
    emitFinding(evidence, "Package does not match the hash its index advertised",
                fmt::format("{} downloaded {} {} {} from {}: {}{}", who, p.manager, name_, version_, parties_.host,
                            verdictDetail(), cut ? "; the download was cut off before its last byte" : ""),
                "package-hash-mismatch", ocsf::Severity::kHigh,
                "do not install this file; check the index and the mirror it came from");
  }
  if (outside_sources_) {
    emitFinding(evidence, "Package download from a source the policy does not list",
                fmt::format("{} downloaded {} {} from {}, which audit.package_sources does not list{}", who, p.manager,
                            name_, parties_.host, denied_before ? "; the download was refused" : ""),
                "package-source", ocsf::Severity::kMedium,
                "add the host to audit.package_sources if it is a trusted index, or install from one");
  }
  if (install_kind_ == "direct_url" || install_kind_ == "vcs") {
    emitFinding(evidence, install_kind_ == "vcs" ? "VCS package install" : "Direct-URL package install",
                fmt::format("{} installed {} {} from a {} rather than from an index", who, p.manager, name_,
                            install_kind_ == "vcs" ? "version-control URL" : "URL"),
                install_kind_ == "vcs" ? "package-vcs-install" : "package-direct-url", ocsf::Severity::kMedium,
                "install from an index in audit.package_sources, pinned by version and hash");
  }
}

void PackageExchange::onEnd(const ExchangeEnd& end) {
  if (mode_ == Mode::kIndex) {
    finishIndex(end.response_complete && !end.cut, end.cut);
    return;
  }
  if (recorded_ || (status_ != 200 && status_ != 206)) return;
  const bool complete = status_ == 200 && (end.response_complete || end.cut);
  if (complete) judge();
  std::optional<ocsf::Decision> decision;
  if (end.cut) {
    decision = ocsf::Decision{ocsf::Action::kDenied, parties_.rule, "l7",
                              fmt::format("{}: the download was cut off before its last byte", verdictDetail())};
  }
  recordInstall(complete, end.cut, decision);
}

void PackageExchange::indexProblem(std::string message) { recorder_.inspectionProblem(managerName(manager_), parties_.host, std::move(message)); }

void PackageExchange::onIndexBytes(std::string_view payload) {
  if (unreadable_ || status_ != 200) return;
  auto toDocument = [this](std::string_view decoded) {
    if (packages_) {
      if (!file_decoder_) return;
      auto fed = file_decoder_->feed(decoded, [this](std::string_view text) { packages_->feed(text); });
      if (!fed.ok() && !unreadable_) {
        unreadable_ = true;
        indexProblem(fmt::format("apt Packages from {} not read: {}", parties_.host, fed.error().message()));
      }
      return;
    }
    if (document_too_large_) return;
    if (document_.size() + decoded.size() > limits_.max_index_bytes) {
      document_too_large_ = true;
      document_.clear();
      document_.shrink_to_fit();
      return;
    }
    document_.append(decoded);
  };
  if (!content_decoder_) return;
  auto fed = content_decoder_->feed(payload, toDocument);
  if (!fed.ok() && !unreadable_) {
    unreadable_ = true;
    indexProblem(fmt::format("{} index from {} not read: {}", managerName(manager_), parties_.host, fed.error().message()));
  }
}

void PackageExchange::finishIndex(bool complete, bool cut) {
  if (status_ != 200) return;
  // An apt index file a Release vouched for: its digest first.
  if (advertised_ && !advertised_->sha256.empty() && digest_ && (complete || cut)) {
    digest_->finish();
    if (digest_->sha256Hex() != advertised_->sha256) {
      ocsf::HttpExchange x;
      x.actor = parties_.actor;
      x.src = parties_.src;
      x.url = url_;
      x.response_code = status_;
      const bool enforce = parties_.enforcement == policy::Enforcement::kEnforce;
      const std::string reason = "the file's sha256 differs from the one its Release file advertised";
      ocsf::Event domain =
          ocsf::httpRequest(*recorder_.session, recorder_.now(), x,
                            ocsf::Decision{enforce ? ocsf::Action::kDenied : ocsf::Action::kObserved, parties_.rule, "l7", reason});
      emitFinding(domain, "Package index does not match its Release file",
                  fmt::format("{} served an apt index file whose sha256 differs from its Release file's{}", parties_.host,
                              enforce ? "; the download was cut off before its last byte" : ""),
                  "package-hash-mismatch", ocsf::Severity::kHigh, "check the mirror; do not trust its packages");
      return;  // nothing it advertises is trusted
    }
  }
  if (unreadable_) return;
  if (!complete) {
    indexProblem(fmt::format("{} index from {} ended early ({} bytes); what it advertised is not used", managerName(manager_),
                             parties_.host, bytes_));
    return;
  }
  if (packages_) {
    packages_->finish();
    return;
  }
  if (document_too_large_) {
    indexProblem(fmt::format("{} index from {} over {} bytes not read", managerName(manager_), parties_.host,
                             limits_.max_index_bytes));
    return;
  }
  if (index_.kind == IndexKind::kAptRelease) {
    const auto entries = parseAptRelease(document_);
    for (const ReleaseEntry& e : entries) {
      const std::string_view path = e.path;
      const bool packages = endsWith(path, "/Packages") || endsWith(path, "/Packages.gz") || endsWith(path, "/Packages.xz");
      if (!packages) continue;
      const std::string file_url = parties_.origin() + index_.dists_base + e.path;
      const auto key = artifactKey(file_url);
      if (!key) continue;
      Advertisement ad;
      ad.manager = PackageManager::kApt;
      ad.index_file = true;
      ad.sha256 = e.sha256;
      ad.size = e.size;
      ad.index_url = url_;
      ad.compression = endsWith(path, ".gz") ? "gz" : endsWith(path, ".xz") ? "xz" : "";
      ledger_.add(*key, std::move(ad));
      ++advertised_count_;
    }
    if (entries.empty()) indexProblem(fmt::format("apt Release from {} lists no SHA256 files", parties_.host));
    return;
  }
  IndexParse parsed;
  switch (index_.kind) {
    case IndexKind::kPipSimple: {
      const bool json = media_type_.find("json") != std::string::npos;
      parsed = json ? parsePipSimpleJson(document_, url_, index_.project)
                    : parsePipSimpleHtml(document_, url_, index_.project);
      break;
    }
    case IndexKind::kNpmMetadata: parsed = parseNpmMetadata(document_, url_); break;
    default: break;
  }
  document_.clear();
  document_.shrink_to_fit();
  if (!parsed.error.empty()) {
    indexProblem(fmt::format("{} index from {} not understood: {}", managerName(manager_), parties_.host, parsed.error));
    return;
  }
  for (AdvertisedFile& f : parsed.files) {
    const auto key = artifactKey(f.url);
    if (!key) continue;
    Advertisement ad;
    ad.manager = manager_;
    ad.name = std::move(f.name);
    ad.version = std::move(f.version);
    ad.sha256 = std::move(f.sha256);
    ad.other_digest = std::move(f.other_digest);
    ad.size = f.size;
    ad.index_url = url_;
    ledger_.add(*key, std::move(ad));
    ++advertised_count_;
  }
}

}  // namespace warden::proxy::inspect

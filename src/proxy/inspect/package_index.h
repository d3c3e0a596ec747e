#pragma once

// Parsers of what package indexes advertise (docs/packages.md): PEP 503 simple HTML pages, PEP 691
// simple JSON, npm registry metadata, apt Release/InRelease files and Packages files. Each gives the
// artifacts' absolute URLs and the digests the index vouches for. Untrusted input: every parser is
// bounded, never throws and is fuzzed (tests/fuzz/package_index_fuzz.cc).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::proxy::inspect {

// One file an index advertises.
struct AdvertisedFile {
  std::string url;       // absolute (resolved against the index URL), no fragment
  std::string filename;  // the URL's last segment, percent-decoded
  std::string name;      // the package (pip: normalised; npm: as in the metadata; apt: Package)
  std::string version;
  std::string sha256;        // lower-case hex, when advertised
  std::string other_digest;  // when no SHA-256: "sha512-<base64>" (npm integrity) or "sha1:<hex>" (npm shasum)
  std::optional<uint64_t> size;  // when advertised (apt Size, PEP 691 size)
};

struct IndexParse {
  std::vector<AdvertisedFile> files;
  std::string error;  // why the document could not be read at all ("" when it was)
  uint64_t skipped = 0;  // entries without a usable URL or digest
};

// PEP 503: every <a href="..."> of the page; "#sha256=<hex>" fragments give the digest. `page_url`
// is the page's absolute URL (for relative links); `project` names the files' package.
IndexParse parsePipSimpleHtml(std::string_view html, std::string_view page_url, std::string_view project);
// PEP 691: {"name", "files": [{"filename", "url", "hashes": {"sha256"}, "size"}]}.
IndexParse parsePipSimpleJson(std::string_view json, std::string_view page_url, std::string_view project);
// npm: {"name", "versions": {"<v>": {"dist": {"tarball", "integrity", "shasum"}}}}. The integrity's
// sha256 is used when present, else its sha512 (other_digest "sha512-<base64>"), else the shasum.
IndexParse parseNpmMetadata(std::string_view json, std::string_view page_url);

// apt Release / InRelease (clear-signed text is read as it is; apt checks the signature): the
// "SHA256:" section's "<hex> <size> <path>" lines. Paths are relative to the dists/<suite>/ directory.
struct ReleaseEntry {
  std::string sha256;
  uint64_t size = 0;
  std::string path;
};
std::vector<ReleaseEntry> parseAptRelease(std::string_view text);

// A Packages file, streamed: stanzas separated by blank lines; for each, Package, Version, Filename,
// SHA256 and Size. Lines over 64 KiB are skipped (their stanza keeps what it had). Single-threaded.
class AptPackagesParser {
 public:
  struct Stanza {
    std::string package;
    std::string version;
    std::string filename;  // relative to the repository's base ("pool/main/h/hello/hello_2.10-3_amd64.deb")
    std::string sha256;
    std::optional<uint64_t> size;
  };
  using Sink = std::function<void(Stanza&&)>;

  explicit AptPackagesParser(Sink sink) : sink_(std::move(sink)) {}
  void feed(std::string_view text);
  void finish();  // the last stanza, when the file does not end with a blank line
  uint64_t stanzas() const { return stanzas_; }

 private:
  void onLine(std::string_view line);
  void endStanza();

  Sink sink_;
  std::string line_;
  bool line_too_long_ = false;
  Stanza current_;
  bool in_stanza_ = false;
  uint64_t stanzas_ = 0;
};

// Lower-case hex of a digest given as 64 hex digits (either case); nullopt otherwise.
std::optional<std::string> normalizeSha256Hex(std::string_view hex);

}  // namespace warden::proxy::inspect

// libFuzzer target: everything proxy/inspect reads from package indexes and their URLs — PEP 503 HTML,
// PEP 691 JSON, npm metadata, apt Release and Packages (streamed in two splits, which must agree),
// gzip/xz decoding (bounded), artifact names, index requests, URL resolution and artifact keys.
// Checks: no crash or sanitizer report, bounded output, split-independence of the Packages parser.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/encoding.h"
#include "inspect_fuzz_util.h"
#include "proxy/inspect/decompress.h"
#include "proxy/inspect/package_index.h"
#include "proxy/inspect/package_url.h"

using namespace warden::proxy::inspect;
using warden::fuzz::check;

namespace {

std::vector<std::string> packages(std::string_view text, size_t split) {
  std::vector<std::string> out;
  AptPackagesParser parser([&](AptPackagesParser::Stanza&& s) { out.push_back(s.package + "|" + s.filename + "|" + s.sha256); });
  parser.feed(text.substr(0, split));
  parser.feed(text.substr(split));
  parser.finish();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  const std::string base = "https://pypi.example/simple/project/";

  const IndexParse html = parsePipSimpleHtml(text, base, "project");
  for (const auto& f : html.files) check(f.sha256.empty() || f.sha256.size() == 64);
  (void)parsePipSimpleJson(text, base, "project");
  const IndexParse npm = parseNpmMetadata(text, "https://registry.example/pkg");
  for (const auto& f : npm.files) check(f.sha256.empty() || f.sha256.size() == 64);
  for (const auto& e : parseAptRelease(text)) check(e.sha256.size() == 64 && !e.path.empty());
  check(packages(text, size / 2) == packages(text, size / 3));

  for (Compression kind : {Compression::kGzip, Compression::kDeflate, Compression::kXz}) {
    auto d = Decompressor::create(kind, 1 << 20).value();
    size_t out = 0;
    (void)d->feed(text, [&](std::string_view piece) { out += piece.size(); });
    check(out <= (1u << 20) + 65536);
  }

  const std::string path = "/" + std::string(text.substr(0, 512));
  (void)artifactFromPath(path);
  (void)indexFromRequest("GET", path, "pip/23.0", "text/html");
  (void)indexFromRequest("GET", path, "npm/10", "application/json");
  (void)indexFromRequest("GET", path, "Debian APT-HTTP/1.3", "");
  const std::string resolved = resolveUrl(base, text.substr(0, 1024));
  (void)artifactKey(resolved);
  (void)artifactKey(text.substr(0, 1024));
  (void)warden::percentDecode(text.substr(0, 1024));
  return 0;
}

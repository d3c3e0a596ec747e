#include "proxy/inspect/package_index.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

#include "common/encoding.h"
#include "proxy/inspect/package_url.h"

namespace warden::proxy::inspect {

namespace {

using nlohmann::json;

constexpr size_t kMaxAptLine = 64 * 1024;

char lowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (lowerAscii(s[i]) != lowerAscii(prefix[i])) return false;
  }
  return true;
}

std::string lastSegment(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  const size_t slash = url.rfind('/');
  return percentDecode(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

// &amp; &lt; &gt; &quot; &#39; &#NN; &#xHH; (what index pages put in an href); others kept.
std::string htmlUnescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out.push_back('&');
      continue;
    }
    const std::string_view entity = s.substr(i + 1, semi - i - 1);
    uint32_t cp = 0;
    bool ok = true;
    if (entity == "amp") {
      cp = '&';
    } else if (entity == "lt") {
      cp = '<';
    } else if (entity == "gt") {
      cp = '>';
    } else if (entity == "quot") {
      cp = '"';
    } else if (entity == "apos") {
      cp = '\'';
    } else if (!entity.empty() && entity[0] == '#') {
      const bool hex = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X');
      const std::string_view digits = entity.substr(hex ? 2 : 1);
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      ok = ec == std::errc() && p == digits.data() + digits.size() && cp > 0 && cp < 0x80;
    } else {
      ok = false;
    }
    if (!ok) {
      out.push_back('&');
      continue;
    }
    out.push_back(static_cast<char>(cp));
    i = semi;
  }
  return out;
}

// The value of attribute `name` in the tag text `tag` (after "<a"), or nullopt.
std::optional<std::string> attribute(std::string_view tag, std::string_view name) {
  size_t i = 0;
  while (i < tag.size()) {
    while (i < tag.size() && (tag[i] == ' ' || tag[i] == '\t' || tag[i] == '\n' || tag[i] == '\r' || tag[i] == '/')) ++i;
    const size_t key_start = i;
    while (i < tag.size() && tag[i] != '=' && tag[i] != ' ' && tag[i] != '\t' && tag[i] != '\n' && tag[i] != '\r' &&
           tag[i] != '>') {
      ++i;
    }
    const std::string_view key = tag.substr(key_start, i - key_start);
    while (i < tag.size() && (tag[i] == ' ' || tag[i] == '\t' || tag[i] == '\n' || tag[i] == '\r')) ++i;
    if (i >= tag.size() || tag[i] != '=') {
      if (key.empty()) ++i;
      continue;
    }
    ++i;
    while (i < tag.size() && (tag[i] == ' ' || tag[i] == '\t' || tag[i] == '\n' || tag[i] == '\r')) ++i;
    std::string_view value;
    if (i < tag.size() && (tag[i] == '"' || tag[i] == '\'')) {
      const char quote = tag[i];
      const size_t end = tag.find(quote, i + 1);
      if (end == std::string_view::npos) return std::nullopt;
      value = tag.substr(i + 1, end - i - 1);
      i = end + 1;
    } else {
      const size_t start = i;
      while (i < tag.size() && tag[i] != ' ' && tag[i] != '\t' && tag[i] != '\n' && tag[i] != '>') ++i;
      value = tag.substr(start, i - start);
    }
    if (key.size() == name.size() && startsWithIgnoreCase(key, name)) return htmlUnescape(value);
  }
  return std::nullopt;
}

std::string str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<std::string> normalizeSha256Hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  std::string out(hex);
  for (char& c : out) {
    if (hexDigitValue(c) < 0) return std::nullopt;
    c = lowerAscii(c);
  }
  return out;
}

IndexParse parsePipSimpleHtml(std::string_view html, std::string_view page_url, std::string_view project) {
  IndexParse out;
  size_t i = 0;
  while ((i = html.find('<', i)) != std::string_view::npos) {
    const std::string_view rest = html.substr(i + 1);
    if (!(startsWithIgnoreCase(rest, "a") && rest.size() > 1 &&
          (rest[1] == ' ' || rest[1] == '\t' || rest[1] == '\n' || rest[1] == '\r'))) {
      ++i;
      continue;
    }
    const size_t end = html.find('>', i);
    if (end == std::string_view::npos) break;
    const std::string_view tag = html.substr(i + 2, end - i - 2);
    i = end + 1;
    const auto href = attribute(tag, "href");
    if (!href || href->empty()) {
      ++out.skipped;
      continue;
    }
    AdvertisedFile f;
    f.url = resolveUrl(page_url, *href);
    f.filename = lastSegment(f.url);
    if (const size_t hash = href->find('#'); hash != std::string::npos) {
      const std::string_view fragment = std::string_view(*href).substr(hash + 1);
      if (fragment.substr(0, 7) == "sha256=") {
        if (auto hex = normalizeSha256Hex(fragment.substr(7))) f.sha256 = *hex;
      }
    }
    if (auto name = artifactFromPath("/" + f.filename)) {
      f.name = name->name;
      f.version = name->version;
    } else {
      f.name = std::string(project);
    }
    out.files.push_back(std::move(f));
  }
  return out;
}

IndexParse parsePipSimpleJson(std::string_view text, std::string_view page_url, std::string_view project) {
  IndexParse out;
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    out.error = "not a JSON object";
    return out;
  }
  const auto files = j.find("files");
  if (files == j.end() || !files->is_array()) {
    out.error = "no \"files\" array";
    return out;
  }
  const std::string name = str(j, "name").empty() ? std::string(project) : normalizePipName(str(j, "name"));
  for (const json& file : *files) {
    const std::string url = str(file, "url");
    if (url.empty()) {
      ++out.skipped;
      continue;
    }
    AdvertisedFile f;
    f.url = resolveUrl(page_url, url);
    f.filename = str(file, "filename").empty() ? lastSegment(f.url) : str(file, "filename");
    if (const auto hashes = file.find("hashes"); hashes != file.end() && hashes->is_object()) {
      if (auto hex = normalizeSha256Hex(str(*hashes, "sha256"))) f.sha256 = *hex;
    }
    if (const auto size = file.find("size"); size != file.end() && size->is_number_unsigned()) {
      f.size = size->get<uint64_t>();
    }
    if (auto parsed = artifactFromPath("/" + f.filename)) {
      f.name = parsed->name;
      f.version = parsed->version;
    } else {
      f.name = name;
    }
    out.files.push_back(std::move(f));
  }
  return out;
}

IndexParse parseNpmMetadata(std::string_view text, std::string_view page_url) {
  IndexParse out;
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    out.error = "not a JSON object";
    return out;
  }
  const auto versions = j.find("versions");
  if (versions == j.end() || !versions->is_object()) {
    out.error = "no \"versions\" object";
    return out;
  }
  const std::string name = str(j, "name");
  for (const auto& [version, manifest] : versions->items()) {
    const auto dist = manifest.is_object() ? manifest.find("dist") : manifest.end();
    if (!manifest.is_object() || dist == manifest.end() || !dist->is_object()) {
      ++out.skipped;
      continue;
    }
    const std::string tarball = str(*dist, "tarball");
    if (tarball.empty()) {
      ++out.skipped;
      continue;
    }
    AdvertisedFile f;
    f.url = resolveUrl(page_url, tarball);
    f.filename = lastSegment(f.url);
    f.name = str(manifest, "name").empty() ? name : str(manifest, "name");
    f.version = version;
    // integrity: one or more "<algo>-<base64>" separated by spaces; the strongest we can check wins.
    std::string sha512;
    const std::string integrity = str(*dist, "integrity");
    size_t i = 0;
    while (i < integrity.size()) {
      size_t end = integrity.find(' ', i);
      if (end == std::string::npos) end = integrity.size();
      const std::string_view item = std::string_view(integrity).substr(i, end - i);
      const std::string_view digest = item.substr(0, item.find('?'));  // SRI options
      if (digest.substr(0, 7) == "sha256-") {
        if (auto raw = base64Decode(digest.substr(7)); raw && raw->size() == 32) f.sha256 = hexEncode(*raw);
      } else if (digest.substr(0, 7) == "sha512-") {
        if (auto raw = base64Decode(digest.substr(7)); raw && raw->size() == 64) sha512 = std::string(digest);
      }
      i = end + 1;
    }
    if (f.sha256.empty()) {
      if (!sha512.empty()) {
        f.other_digest = sha512;
      } else if (const std::string shasum = str(*dist, "shasum"); shasum.size() == 40) {
        bool hex = std::all_of(shasum.begin(), shasum.end(), [](char c) { return hexDigitValue(c) >= 0; });
        if (hex) {
          std::string lower = shasum;
          for (char& c : lower) c = lowerAscii(c);
          f.other_digest = "sha1:" + lower;
        }
      }
    }
    if (const auto size = dist->find("unpackedSize"); size != dist->end()) {
      (void)size;  // unpacked, not the tarball's size: not a size we can check
    }
    out.files.push_back(std::move(f));
  }
  return out;
}

std::vector<ReleaseEntry> parseAptRelease(std::string_view text) {
  std::vector<ReleaseEntry> out;
  bool in_sha256 = false;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = text.find('\n', i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(i, end - i);
    i = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      in_sha256 = false;
      continue;
    }
    if (line[0] != ' ' && line[0] != '\t') {
      in_sha256 = line == "SHA256:";
      continue;
    }
    if (!in_sha256) continue;
    // " <hex> <size> <path>"
    const size_t a = line.find_first_not_of(" \t");
    const size_t b = line.find_first_of(" \t", a);
    if (a == std::string_view::npos || b == std::string_view::npos) continue;
    const size_t c = line.find_first_not_of(" \t", b);
    const size_t d = c == std::string_view::npos ? c : line.find_first_of(" \t", c);
    if (c == std::string_view::npos || d == std::string_view::npos) continue;
    const size_t e = line.find_first_not_of(" \t", d);
    if (e == std::string_view::npos) continue;
    auto hex = normalizeSha256Hex(line.substr(a, b - a));
    uint64_t size = 0;
    const std::string_view digits = line.substr(c, d - c);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size);
    if (!hex || ec != std::errc() || p != digits.data() + digits.size()) continue;
    std::string_view path = line.substr(e);
    while (!path.empty() && (path.back() == ' ' || path.back() == '\t')) path.remove_suffix(1);
    if (path.empty() || out.size() >= 100000) continue;
    out.push_back({*hex, size, std::string(path)});
  }
  return out;
}

void AptPackagesParser::feed(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t end = text.find('\n', i);
    const std::string_view piece = text.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
    if (!line_too_long_) {
      if (line_.size() + piece.size() > kMaxAptLine) {
        line_too_long_ = true;
        line_.clear();
      } else {
        line_.append(piece);
      }
    }
    if (end == std::string_view::npos) return;
    i = end + 1;
    if (!line_too_long_) {
      std::string_view line(line_);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      onLine(line);
    }
    line_.clear();
    line_too_long_ = false;
  }
}

void AptPackagesParser::onLine(std::string_view line) {
  if (line.empty()) {
    endStanza();
    return;
  }
  in_stanza_ = true;
  if (line[0] == ' ' || line[0] == '\t') return;  // a continuation line (Description, ...)
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  const std::string_view field = line.substr(0, colon);
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (field == "Package") {
    current_.package.assign(value.substr(0, 256));
  } else if (field == "Version") {
    current_.version.assign(value.substr(0, 256));
  } else if (field == "Filename") {
    current_.filename.assign(value.substr(0, 4096));
  } else if (field == "SHA256") {
    if (auto hex = normalizeSha256Hex(value)) current_.sha256 = *hex;
  } else if (field == "Size") {
    uint64_t size = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), size);
    if (ec == std::errc() && p == value.data() + value.size()) current_.size = size;
  }
}

void AptPackagesParser::endStanza() {
  if (!in_stanza_) return;
  in_stanza_ = false;
  ++stanzas_;
  if (!current_.filename.empty() && sink_) sink_(std::move(current_));
  current_ = Stanza{};
}

void AptPackagesParser::finish() {
  if (!line_.empty() && !line_too_long_) {
    std::string_view line(line_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    onLine(line);
  }
  line_.clear();
  endStanza();
}

}  // namespace warden::proxy::inspect

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace warden::policy {

// A compiled glob over paths (executables, HTTP paths) or free text (query strings).
//
// Path globs (Kind::kPath): `*` matches any run of characters within one `/` segment (possibly
// empty), `**` matches any run including `/`. A pattern ending in `/**` also matches the
// directory itself: "/repos/**" matches "/repos", "/repos/" and "/repos/a/b", not "/reposx".
// Text globs (Kind::kText): `*` and `**` both match any run of characters.
// Every other byte, `?` and `[` included, is literal; matching is byte-wise and case-sensitive.
// Matching is O(pattern x text), never exponential. Immutable; thread-safe.
class Glob {
 public:
  enum class Kind { kPath, kText };

  // Rejects `***`, control bytes and patterns over 4 KiB. Path globs must start with `/`; a text
  // glob may be empty (it then matches only the empty string).
  static Result<Glob> create(std::string_view pattern, Kind kind = Kind::kPath);

  // An empty glob; it matches only the empty string.
  Glob() = default;

  bool matches(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }
  // True if the pattern has no wildcard.
  bool isLiteral() const { return literal_; }

 private:
  enum class Token : uint8_t { kChar, kStar, kDoubleStar };
  struct Piece {
    Token token;
    char c;
  };

  bool matchPieces(size_t piece_count, std::string_view text) const;

  std::string pattern_;
  Kind kind_ = Kind::kPath;
  std::vector<Piece> pieces_;
  bool literal_ = true;
  bool dir_suffix_ = false;  // pattern ends in "/**"
};

// Normalises a host name or IP literal as a client gave it (CONNECT target, Host header, DNS
// query): lower-cased, one trailing dot removed, IPv6 brackets removed, IP literals in canonical
// text form. nullopt if it is neither a valid DNS name (labels of [a-z0-9_-], 1-63 bytes, at most
// 253 in all) nor an IP literal.
std::optional<std::string> normalizeHost(std::string_view host);

// A compiled endpoint host: an exact name ("api.github.com"), an IP literal ("10.30.1.5",
// "fd00::5"), or a name with leading wildcard labels: `*` is exactly one label, `**` one or
// more ("*.example.com" matches a.example.com, not example.com nor a.b.example.com;
// "**.example.com" matches both a.example.com and a.b.example.com). Wildcards are whole labels,
// only on the left, and at least one literal label must follow. Matching is case-insensitive and
// ignores a trailing dot. Immutable; thread-safe.
class HostPattern {
 public:
  static Result<HostPattern> create(std::string_view pattern);

  // A pattern that matches nothing.
  HostPattern() = default;

  // `host` may be in any case, with or without a trailing dot.
  bool matches(std::string_view host) const;
  // Same, for a host already passed through normalizeHost (the engine's hot path).
  bool matchesNormalized(std::string_view normalized_host) const;

  // The pattern as written, normalised (lower case, no trailing dot).
  const std::string& pattern() const { return pattern_; }
  bool isWildcard() const { return wildcard_labels_ > 0; }
  bool isIpLiteral() const { return ip_literal_; }

 private:
  std::string pattern_;
  std::string suffix_;       // the literal labels, e.g. "example.com"
  int wildcard_labels_ = 0;  // how many leading `*`/`**` labels
  bool any_depth_ = false;   // one of them is `**`
  bool ip_literal_ = false;
  bool valid_ = false;
};

}  // namespace warden::policy

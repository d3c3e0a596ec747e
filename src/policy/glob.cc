#include "policy/glob.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/ip_address.h"

namespace warden::policy {
namespace {

constexpr size_t kMaxHostLength = 253;
constexpr size_t kMaxLabelLength = 63;
constexpr size_t kMaxPatternLength = 4096;

char toLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool isLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Checks one literal label of a lower-cased name.
bool validLabel(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  return std::all_of(label.begin(), label.end(), isLabelChar);
}

std::vector<std::string_view> splitLabels(std::string_view name) {
  std::vector<std::string_view> labels;
  size_t start = 0;
  while (true) {
    const size_t dot = name.find('.', start);
    labels.push_back(
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels;
}

std::string lowerNoTrailingDot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), toLower);
  return out;
}

}  // namespace

// ---- Glob -----------------------------------------------------------------------------------

Result<Glob> Glob::create(std::string_view pattern, Kind kind) {
  if (pattern.size() > kMaxPatternLength) {
    return invalidArgument(fmt::format("pattern is longer than {} bytes", kMaxPatternLength));
  }
  if (kind == Kind::kPath && pattern.empty()) return invalidArgument("empty path");
  if (kind == Kind::kPath && pattern.front() != '/') {
    return invalidArgument(fmt::format("'{}' must be an absolute path starting with '/'", pattern));
  }
  if (pattern.find("***") != std::string_view::npos) {
    return invalidArgument(fmt::format("'{}' has '***'; use '*' (one segment) or '**' (any depth)", pattern));
  }
  for (const char c : pattern) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return invalidArgument("pattern contains a control character");
  }
  Glob g;
  g.pattern_ = std::string(pattern);
  g.kind_ = kind;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '*') {
      g.pieces_.push_back({Token::kChar, pattern[i]});
      continue;
    }
    g.literal_ = false;
    if (i + 1 < pattern.size() && pattern[i + 1] == '*') {
      g.pieces_.push_back({Token::kDoubleStar, '*'});
      ++i;
    } else {
      g.pieces_.push_back({kind == Kind::kText ? Token::kDoubleStar : Token::kStar, '*'});
    }
  }
  const size_t n = g.pieces_.size();
  g.dir_suffix_ = kind == Kind::kPath && n >= 3 && g.pieces_[n - 1].token == Token::kDoubleStar &&
                  g.pieces_[n - 2].token == Token::kChar && g.pieces_[n - 2].c == '/';
  return g;
}

bool Glob::matchPieces(size_t piece_count, std::string_view text) const {
  // row[j]: the first i pieces match text[0, j). One row per piece; O(pieces x text).
  std::vector<uint8_t> row(text.size() + 1, 0);
  row[0] = 1;
  for (size_t i = 0; i < piece_count; ++i) {
    const Piece& p = pieces_[i];
    switch (p.token) {
      case Token::kChar:
        for (size_t j = text.size(); j > 0; --j) row[j] = row[j - 1] && text[j - 1] == p.c;
        row[0] = 0;
        break;
      case Token::kStar:
        for (size_t j = 1; j <= text.size(); ++j) {
          if (!row[j] && row[j - 1] && text[j - 1] != '/') row[j] = 1;
        }
        break;
      case Token::kDoubleStar:
        for (size_t j = 1; j <= text.size(); ++j) {
          if (!row[j] && row[j - 1]) row[j] = 1;
        }
        break;
    }
  }
  return row[text.size()] != 0;
}

bool Glob::matches(std::string_view text) const {
  if (literal_) return text == pattern_;
  if (matchPieces(pieces_.size(), text)) return true;
  return dir_suffix_ && matchPieces(pieces_.size() - 2, text);
}

// ---- Hosts ----------------------------------------------------------------------------------

std::optional<std::string> normalizeHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    const auto ip = IpAddress::parse(host.substr(1, host.size() - 2));
    if (!ip || !ip->isV6()) return std::nullopt;
    return ip->toString();
  }
  if (const auto ip = IpAddress::parse(host)) return ip->toString();
  std::string name = lowerNoTrailingDot(host);
  if (name.empty() || name.size() > kMaxHostLength) return std::nullopt;
  for (const auto label : splitLabels(name)) {
    if (!validLabel(label)) return std::nullopt;
  }
  return name;
}

Result<HostPattern> HostPattern::create(std::string_view pattern) {
  if (pattern.empty()) return invalidArgument("empty host");
  HostPattern h;
  if (const auto ip = IpAddress::parse(pattern)) {
    h.pattern_ = ip->toString();
    h.suffix_ = h.pattern_;
    h.ip_literal_ = true;
    h.valid_ = true;
    return h;
  }
  const std::string name = lowerNoTrailingDot(pattern);
  if (name.empty()) return invalidArgument("empty host");
  if (name.size() > kMaxHostLength) {
    return invalidArgument(fmt::format("host is longer than {} characters", kMaxHostLength));
  }
  const auto labels = splitLabels(name);
  size_t i = 0;
  for (; i < labels.size() && (labels[i] == "*" || labels[i] == "**"); ++i) {
    ++h.wildcard_labels_;
    if (labels[i] == "**") h.any_depth_ = true;
  }
  if (i == labels.size()) {
    return invalidArgument(fmt::format(
        "host '{}' matches every name; a wildcard needs a domain after it (e.g. *.example.com)", pattern));
  }
  for (size_t k = i; k < labels.size(); ++k) {
    const auto label = labels[k];
    if (label.find('*') != std::string_view::npos) {
      if (label == "*" || label == "**") {
        return invalidArgument(fmt::format(
            "host '{}': wildcards are allowed only as the leftmost labels (e.g. *.example.com)", pattern));
      }
      return invalidArgument(fmt::format(
          "host '{}': '*' must be a whole label ('*.example.com' = one label, '**.example.com' = any depth), "
          "not part of '{}'",
          pattern, label));
    }
    if (!validLabel(label)) {
      if (label.empty()) return invalidArgument(fmt::format("host '{}' has an empty label", pattern));
      return invalidArgument(fmt::format(
          "host '{}': label '{}' is not valid (letters, digits, '-' and '_', at most 63 characters)", pattern,
          label));
    }
  }
  h.pattern_ = name;
  h.suffix_ = name.substr(static_cast<size_t>(labels[i].data() - name.data()));
  h.valid_ = true;
  return h;
}

bool HostPattern::matches(std::string_view host) const {
  const auto normalized = normalizeHost(host);
  return normalized && matchesNormalized(*normalized);
}

bool HostPattern::matchesNormalized(std::string_view host) const {
  if (!valid_) return false;
  if (wildcard_labels_ == 0) return host == suffix_;
  // host = <prefix labels> "." suffix_
  if (host.size() < suffix_.size() + 2) return false;
  if (host.substr(host.size() - suffix_.size()) != suffix_) return false;
  if (host[host.size() - suffix_.size() - 1] != '.') return false;
  const std::string_view prefix = host.substr(0, host.size() - suffix_.size() - 1);
  const int labels = static_cast<int>(std::count(prefix.begin(), prefix.end(), '.')) + 1;
  return any_depth_ ? labels >= wildcard_labels_ : labels == wildcard_labels_;
}

}  // namespace warden::policy

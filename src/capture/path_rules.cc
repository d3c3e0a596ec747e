#include "capture/path_rules.h"

#include <fmt/format.h>

namespace warden::capture {

std::string resolveLexically(std::string_view base, std::string_view path) {
  std::vector<std::string_view> parts;
  auto feed = [&parts](std::string_view s) {
    size_t i = 0;
    while (i <= s.size()) {
      size_t j = s.find('/', i);
      if (j == std::string_view::npos) j = s.size();
      const std::string_view c = s.substr(i, j - i);
      if (c.empty() || c == ".") {
      } else if (c == "..") {
        if (!parts.empty()) parts.pop_back();
      } else {
        parts.push_back(c);
      }
      i = j + 1;
    }
  };
  if (path.empty() || path.front() != '/') feed(base);
  feed(path);
  std::string out;
  for (const auto& p : parts) {
    out.push_back('/');
    out.append(p);
  }
  return out.empty() ? "/" : out;
}

namespace {

std::string expandHome(std::string_view pattern, std::string_view home) {
  if (pattern == "~") return std::string(home);
  if (pattern.size() >= 2 && pattern[0] == '~' && pattern[1] == '/') return std::string(home) + std::string(pattern.substr(1));
  return std::string(pattern);
}

bool hasWildcard(std::string_view s) { return s.find('*') != std::string_view::npos; }

}  // namespace

Result<PathRules> PathRules::create(const std::vector<std::string>& sensitive, const std::vector<std::string>& exclude,
                                    std::string_view home) {
  PathRules rules;
  auto compile = [&](const std::string& raw, std::vector<Rule>& into) -> Result<std::string> {
    std::string pattern = expandHome(raw, home);
    if (pattern.size() > 1 && pattern.back() == '/') pattern.pop_back();
    if (pattern.rfind("**/", 0) == 0) pattern = "/" + pattern;  // "**/.env": anywhere
    auto self = policy::Glob::create(pattern);
    if (!self.ok()) return invalidArgument(fmt::format("path pattern '{}': {}", raw, self.error().message()));
    auto below = policy::Glob::create(pattern == "/" ? "/**" : pattern + "/**");
    if (!below.ok()) return invalidArgument(fmt::format("path pattern '{}': {}", raw, below.error().message()));
    Rule rule{Rule::Kind::kGlob, {}, std::move(*self), std::move(*below)};
    if (!hasWildcard(pattern)) {
      rule.kind = Rule::Kind::kLiteral;
      rule.text = pattern;
    } else if (pattern.rfind("/**/", 0) == 0) {
      const std::string_view name = std::string_view(pattern).substr(4);
      if (!name.empty() && name.find('/') == std::string_view::npos && !hasWildcard(name)) {
        rule.kind = Rule::Kind::kName;
        rule.text = std::string(name);
      }
    }
    into.push_back(std::move(rule));
    return pattern;
  };
  for (const auto& raw : sensitive) {
    auto pattern = compile(raw, rules.sensitive_);
    if (!pattern.ok()) return pattern.error();
    const std::string& p = *pattern;
    if (!hasWildcard(p)) {
      rules.prefixes_.push_back(p);
      continue;
    }
    // "/**/NAME" with a plain NAME: sensitive wherever it is.
    if (p.rfind("/**/", 0) == 0) {
      const std::string_view name = std::string_view(p).substr(4);
      if (!name.empty() && name.find('/') == std::string_view::npos && !hasWildcard(name) && name.size() < 32) {
        rules.names_.emplace_back(name);
        continue;
      }
    }
    const size_t star = p.find('*');
    const size_t slash = p.rfind('/', star);
    if (slash != std::string::npos && slash > 0) {
      rules.prefixes_.push_back(p.substr(0, slash));
    } else {
      rules.unfiltered_.push_back(raw);
    }
  }
  for (const auto& raw : exclude) {
    auto pattern = compile(raw, rules.exclude_);
    if (!pattern.ok()) return pattern.error();
  }
  return rules;
}

bool PathRules::matches(const Rule& r, std::string_view path) {
  switch (r.kind) {
    case Rule::Kind::kLiteral:
      if (r.text == "/") return !path.empty() && path.front() == '/';
      return path.size() >= r.text.size() && path.compare(0, r.text.size(), r.text) == 0 &&
             (path.size() == r.text.size() || path[r.text.size()] == '/');
    case Rule::Kind::kName: {
      // NAME as a whole component: "/a/NAME" or "/a/NAME/b".
      size_t at = 0;
      while ((at = path.find(r.text, at)) != std::string_view::npos) {
        const size_t end = at + r.text.size();
        if (at > 0 && path[at - 1] == '/' && (end == path.size() || path[end] == '/')) return true;
        at = end;
      }
      return false;
    }
    case Rule::Kind::kGlob: return r.self.matches(path) || r.below.matches(path);
  }
  return false;
}

bool PathRules::matchesAny(const std::vector<Rule>& rules, std::string_view path) {
  for (const auto& r : rules) {
    if (matches(r, path)) return true;
  }
  return false;
}

bool PathRules::sensitive(std::string_view path) const { return matchesAny(sensitive_, path); }
bool PathRules::excluded(std::string_view path) const { return matchesAny(exclude_, path); }

}  // namespace warden::capture

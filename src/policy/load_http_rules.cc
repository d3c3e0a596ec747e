// L7 request rules of an endpoint (`rules: [{allow: ...}]`, `deny_rules: [...]`).

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "policy/policy_reader.h"

namespace warden::policy {
namespace {

constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"};

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

}  // namespace

std::vector<std::string> PolicyReader::loadMethods(const YAML::Node& n, const std::string& path, SourceLocation at) {
  std::vector<std::string> out;
  auto one = [&](const YAML::Node& v, const std::string& item_path) {
    const auto text = scalar(v, item_path, at, "a method");
    if (!text) return;
    if (*text == "*" || std::find(std::begin(kMethods), std::end(kMethods), *text) != std::end(kMethods)) {
      out.push_back(*text);
      return;
    }
    std::string upper = *text;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; });
    if (std::find(std::begin(kMethods), std::end(kMethods), upper) != std::end(kMethods)) {
      error(v,
            fmt::format("{}: method '{}' must be upper case ('{}'); HTTP methods are case-sensitive", item_path,
                        echoValue(*text), upper),
            at);
      return;
    }
    error(v,
          fmt::format("{}: unknown method '{}' (expected '*' or one of: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, "
                      "TRACE, CONNECT)",
                      item_path, echoValue(*text)),
          at);
  };
  if (n.IsSequence()) {
    forEachItem(n, path, at, [&](size_t, const std::string& item_path, const YAML::Node& v) { one(v, item_path); });
    if (n.size() == 0) error(n, fmt::format("{}: empty list of methods", path), at);
  } else {
    one(n, path);
  }
  return out;
}

std::optional<HttpRule> PolicyReader::loadHttpRule(const YAML::Node& n, const std::string& path, SourceLocation at) {
  HttpRule rule;
  rule.location = locate(n, at);
  const size_t errors_before = errors();
  bool have_method = false;
  std::optional<std::string> path_text;
  bool have_path = false;
  forEachEntry(n, path, {"method", "path", "query", "case_insensitive"}, at,
               [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
                 const std::string field = yamlChildPath(path, key);
                 if (key == "method") {
                   have_method = true;
                   rule.methods = loadMethods(value, field, key_at);
                   return;
                 }
                 if (key == "case_insensitive") {
                   if (const auto on = boolean(value, field, key_at)) rule.case_insensitive = *on;
                   return;
                 }
                 const auto text = scalar(value, field, key_at);
                 if (key == "path") have_path = true;
                 if (!text) return;
                 if (key == "path") {
                   if (text->find_first_of("?#") != std::string::npos) {
                     error(value, fmt::format("{}: '{}' contains '?' or '#'; put the query in 'query'", field,
                                              echoValue(*text)),
                           key_at);
                     return;
                   }
                   auto g = Glob::create(*text, Glob::Kind::kPath);
                   if (!g.ok()) {
                     error(value, fmt::format("{}: {}", field, g.error().message()), key_at);
                     return;
                   }
                   path_text = *text;
                   rule.path = std::move(g).value();
                 } else {
                   auto g = Glob::create(*text, Glob::Kind::kText);
                   if (!g.ok()) {
                     error(value, fmt::format("{}: {}", field, g.error().message()), key_at);
                     return;
                   }
                   rule.query = std::move(g).value();
                 }
               });
  if (!n.IsMap()) return std::nullopt;
  if (!have_method) error(rule.location, fmt::format("{}: missing 'method' (a method, a list of them, or \"*\")", path));
  if (!have_path) error(rule.location, fmt::format("{}: missing 'path' (e.g. \"/repos/**\")", path));
  if (errors() != errors_before) return std::nullopt;
  // A case-insensitive rule matches lower-cased request paths against its lower-cased pattern.
  if (rule.case_insensitive && path_text) rule.path = Glob::create(lowerAscii(*path_text), Glob::Kind::kPath).value();
  return rule;
}

}  // namespace warden::policy

#pragma once

// Reading a hand-written YAML configuration file (a policy, a rule file, the gateway's config) with
// diagnostics an author can act on: every problem with its file:line:col, unknown keys with a
// suggestion, duplicate keys, wrong kinds ("expected a list, got a value"), a bound on the nodes
// walked (alias bombs), and values echoed safely (control bytes escaped, long values cut).
//
// parseYamlDocument() turns text into one YAML document (yaml-cpp throws; nothing thrown leaves it);
// YamlReader walks it. Both are single-use, single-thread values; every yaml-cpp call YamlReader makes
// is on a node it has type-checked first.

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/diagnostics.h"

namespace warden {

// Parses `text` as exactly one YAML document. A syntax error, a second document or a file over
// `max_bytes` is recorded in `diagnostics` (named `file`) and yields nullopt.
std::optional<YAML::Node> parseYamlDocument(std::string_view text, std::string_view file, size_t max_bytes,
                                            Diagnostics& diagnostics);

// `s` for a message: at most 80 bytes, control bytes as \xNN, "..." when cut.
std::string echoValue(std::string_view s);
// "a value", "a list", "a mapping", "nothing".
std::string_view yamlKindOf(const YAML::Node& n);
// Strict whole-string numbers (no sign games, no trailing bytes, finite).
std::optional<int64_t> parseWholeNumber(std::string_view s);
std::optional<double> parseFiniteNumber(std::string_view s);
// "path.key" / "key" at the top; "path[3]".
std::string yamlChildPath(std::string_view path, std::string_view key);
std::string yamlItemPath(std::string_view path, size_t index);

class YamlReader {
 public:
  using Keys = std::initializer_list<std::string_view>;
  // A walk stops (with one diagnostic) past this many visited nodes: YAML aliases are walked every
  // time they are used, so a small file can describe a huge tree.
  static constexpr size_t kMaxNodes = 100'000;

  // `with_codes`: each diagnostic carries its code ("unknown-key", "expected-list", ...) for formats
  // whose checkers print codes (rule files); off, diagnostics are the message alone (policies).
  YamlReader(std::string_view file, Diagnostics& diagnostics, bool with_codes = false)
      : file_(file), diagnostics_(diagnostics), with_codes_(with_codes) {}
  YamlReader(const YamlReader&) = delete;
  YamlReader& operator=(const YamlReader&) = delete;

  const std::string& file() const { return file_; }
  // Problems recorded by this reader so far (including any past the diagnostics' cap).
  size_t errors() const { return errors_; }
  bool stopped() const { return too_large_; }

  SourceLocation locate(const YAML::Node& n, SourceLocation fallback = {}) const;
  void error(SourceLocation at, std::string message, std::string code = {});
  // Reports at `at`'s position; an empty value (`key:`) is reported at its key, `fallback`.
  void error(const YAML::Node& at, std::string message, SourceLocation fallback = {}, std::string code = {});

  // Counts a visited node; false once the document is too large to walk.
  bool tick();

  // Calls f(key, key_location, value) for each entry of a mapping, rejecting non-mappings, keys that
  // are not strings, duplicate keys and (unless `any_key`) keys not in `allowed`. `path` names the
  // mapping in messages ("" is the top level).
  template <typename F>
  void forEachEntry(const YAML::Node& map, const std::string& path, Keys allowed, SourceLocation fallback, F&& f,
                    bool any_key = false) {
    if (!map.IsMap()) {
      error(map, expectedMessage(path, "a mapping", map), fallback, "expected-mapping");
      return;
    }
    std::unordered_map<std::string, int> seen;  // key -> line of its first use
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!tick()) return;
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      if (!key_node.IsScalar()) {
        error(key_node, (path.empty() ? std::string("keys") : path + ": keys") + " must be plain strings", fallback,
              "bad-key");
        continue;
      }
      const std::string key = key_node.Scalar();
      const SourceLocation at = locate(key_node, fallback);
      if (!noteKey(seen, path, key, at)) continue;
      if (!any_key && !isAllowed(allowed, key)) {
        error(at, unknownKey(path, key, allowed), "unknown-key");
        continue;
      }
      f(key, at, value);
    }
  }

  // Calls f(index, item_path, node) for each element of a list.
  template <typename F>
  void forEachItem(const YAML::Node& list, const std::string& path, SourceLocation fallback, F&& f) {
    if (!list.IsSequence()) {
      error(list, expectedMessage(path, "a list", list), fallback, "expected-list");
      return;
    }
    size_t index = 0;
    for (auto it = list.begin(); it != list.end(); ++it, ++index) {
      if (!tick()) return;
      f(index, yamlItemPath(path, index), *it);
    }
  }

  // The scalar's text, or a recorded "expected <what>" problem.
  std::optional<std::string> scalar(const YAML::Node& n, const std::string& path, SourceLocation fallback,
                                    std::string_view expected = "a string");
  // true/false (also True/TRUE/yes/no are refused: only the two words and their capitalisations).
  std::optional<bool> boolean(const YAML::Node& n, const std::string& path, SourceLocation fallback);
  // One of `choices`, else a problem listing them.
  std::optional<std::string> oneOf(const YAML::Node& n, const std::string& path, SourceLocation fallback,
                                   Keys choices);

  // "unknown key 'x' in path (did you mean 'y'?)" / "(expected one of: ...)".
  static std::string unknownKey(const std::string& path, const std::string& key, Keys allowed);

 private:
  static bool isAllowed(Keys allowed, std::string_view key);
  static std::string expectedMessage(const std::string& path, std::string_view what, const YAML::Node& got);
  bool noteKey(std::unordered_map<std::string, int>& seen, const std::string& path, const std::string& key,
               SourceLocation at);

  std::string file_;
  Diagnostics& diagnostics_;
  size_t errors_ = 0;
  bool with_codes_ = false;
  size_t visited_ = 0;
  bool too_large_ = false;
};

}  // namespace warden

#include "common/yaml_reader.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <sstream>
#include <vector>

namespace warden {
namespace {

constexpr size_t kMaxEcho = 80;

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string joinKeys(YamlReader::Keys items) {
  std::string out;
  for (const auto item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// Counts documents without building them, stopping at the second. (YAML::LoadAll is not used:
// yaml-cpp 0.7 can report an endless stream of documents for some malformed input.)
class DocumentCounter final : public YAML::EventHandler {
 public:
  std::optional<SourceLocation> second;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ == 2) second = mark.is_null() ? SourceLocation{} : SourceLocation{mark.line + 1, mark.column + 1};
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  int documents_ = 0;
};

// Where the second YAML document in `text` starts, if there is one. May throw YAML::Exception.
std::optional<SourceLocation> secondDocument(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
  }
  return counter.second;
}

}  // namespace

std::optional<YAML::Node> parseYamlDocument(std::string_view text, std::string_view file, size_t max_bytes,
                                            Diagnostics& diagnostics) {
  if (text.size() > max_bytes) {
    diagnostics.add(file, {}, fmt::format("the file is {} bytes; it may be at most {} bytes", text.size(), max_bytes),
                    "too-large");
    return std::nullopt;
  }
  try {
    const std::string buffer(text);
    YAML::Node root = YAML::Load(buffer);
    if (const auto second = secondDocument(buffer)) {
      diagnostics.add(file, *second, "the file holds more than one YAML document; it must be exactly one",
                      "yaml-syntax");
      return std::nullopt;
    }
    return root;
  } catch (const YAML::Exception& e) {
    const SourceLocation at = e.mark.is_null() ? SourceLocation{} : SourceLocation{e.mark.line + 1, e.mark.column + 1};
    diagnostics.add(file, at, fmt::format("YAML syntax error: {}", e.msg), "yaml-syntax");
  } catch (const std::exception& e) {
    diagnostics.add(file, {}, fmt::format("could not read the file: {}", e.what()), "yaml-syntax");
  }
  return std::nullopt;
}

std::string echoValue(std::string_view s) {
  std::string out;
  const size_t n = std::min(s.size(), kMaxEcho);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += s[i];
    }
  }
  if (s.size() > kMaxEcho) out += "...";
  return out;
}

std::string_view yamlKindOf(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return "a value";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::optional<int64_t> parseWholeNumber(std::string_view s) {
  int64_t v = 0;
  const auto* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || p != end) return std::nullopt;
  return v;
}

std::optional<double> parseFiniteNumber(std::string_view s) {
  double v = 0;
  const auto* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || p != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string yamlChildPath(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string yamlItemPath(std::string_view path, size_t index) { return fmt::format("{}[{}]", path, index); }

SourceLocation YamlReader::locate(const YAML::Node& n, SourceLocation fallback) const {
  const YAML::Mark m = n.Mark();
  if (m.is_null() || m.line < 0 || m.column < 0) return fallback;
  return {m.line + 1, m.column + 1};
}

void YamlReader::error(SourceLocation at, std::string message, std::string code) {
  ++errors_;
  if (too_large_) return;  // what is left unwalked would only produce noise
  diagnostics_.add(file_, at, std::move(message), with_codes_ ? std::move(code) : std::string());
}

void YamlReader::error(const YAML::Node& at, std::string message, SourceLocation fallback, std::string code) {
  const bool use_fallback = at.IsNull() && fallback.line > 0;
  error(use_fallback ? fallback : locate(at, fallback), std::move(message), std::move(code));
}

bool YamlReader::tick() {
  if (++visited_ <= kMaxNodes) return true;
  if (!too_large_) {
    error(SourceLocation{1, 1},
          fmt::format("the file has more than {} YAML nodes (aliases count every time they are used); it is too "
                      "large to check",
                      kMaxNodes),
          "too-large");
    too_large_ = true;
  }
  return false;
}

std::optional<std::string> YamlReader::scalar(const YAML::Node& n, const std::string& path, SourceLocation fallback,
                                              std::string_view expected) {
  if (n.IsScalar()) return n.Scalar();
  error(n, fmt::format("{}: expected {}, got {}", path, expected, yamlKindOf(n)), fallback, "type-mismatch");
  return std::nullopt;
}

std::optional<bool> YamlReader::boolean(const YAML::Node& n, const std::string& path, SourceLocation fallback) {
  const auto text = scalar(n, path, fallback, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "True" || *text == "TRUE") return true;
  if (*text == "false" || *text == "False" || *text == "FALSE") return false;
  error(n, fmt::format("{}: '{}' is not true or false", path, echoValue(*text)), fallback, "type-mismatch");
  return std::nullopt;
}

std::optional<std::string> YamlReader::oneOf(const YAML::Node& n, const std::string& path, SourceLocation fallback,
                                             Keys choices) {
  const auto text = scalar(n, path, fallback);
  if (!text) return std::nullopt;
  if (isAllowed(choices, *text)) return text;
  error(n, fmt::format("{}: unknown value '{}' (expected one of: {})", path, echoValue(*text), joinKeys(choices)),
        fallback, "bad-value");
  return std::nullopt;
}

std::string YamlReader::unknownKey(const std::string& path, const std::string& key, Keys allowed) {
  const std::string where = path.empty() ? "at the top level" : fmt::format("in {}", path);
  for (const auto candidate : allowed) {
    if (editDistance(key, candidate) <= 2) {
      return fmt::format("unknown key '{}' {} (did you mean '{}'?)", echoValue(key), where, candidate);
    }
  }
  return fmt::format("unknown key '{}' {} (expected one of: {})", echoValue(key), where, joinKeys(allowed));
}

bool YamlReader::isAllowed(Keys allowed, std::string_view key) {
  return std::find(allowed.begin(), allowed.end(), key) != allowed.end();
}

std::string YamlReader::expectedMessage(const std::string& path, std::string_view what, const YAML::Node& got) {
  return fmt::format("{}: expected {}, got {}", path, what, yamlKindOf(got));
}

bool YamlReader::noteKey(std::unordered_map<std::string, int>& seen, const std::string& path, const std::string& key,
                         SourceLocation at) {
  const auto [first, inserted] = seen.emplace(key, at.line);
  if (inserted) return true;
  error(at, fmt::format("duplicate key '{}' (first at line {})", echoValue(yamlChildPath(path, key)), first->second),
        "duplicate-key");
  return false;
}

}  // namespace warden

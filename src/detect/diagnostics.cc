#include "detect/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>

namespace warden::detect {

std::string_view codeName(Code code) {
  switch (code) {
    case Code::kUnreadable: return "unreadable";
    case Code::kTooLarge: return "too-large";
    case Code::kYamlError: return "yaml-error";
    case Code::kUnknownKey: return "unknown-key";
    case Code::kMissingKey: return "missing-key";
    case Code::kBadValue: return "bad-value";
    case Code::kDuplicateName: return "duplicate-name";
    case Code::kSyntaxError: return "syntax-error";
    case Code::kUnknownField: return "unknown-field";
    case Code::kTypeMismatch: return "type-mismatch";
    case Code::kUnknownList: return "unknown-list";
    case Code::kUnknownMacro: return "unknown-macro";
    case Code::kUnknownFunction: return "unknown-function";
    case Code::kUnknownClass: return "unknown-class";
    case Code::kBadRegex: return "bad-regex";
    case Code::kBadGlob: return "bad-glob";
    case Code::kMacroCycle: return "macro-cycle";
    case Code::kUnreachableRule: return "unreachable-rule";
    case Code::kUnknownRule: return "unknown-rule";
  }
  return "unknown";
}

std::string Diagnostic::toString() const {
  if (pos.line > 0) return fmt::format("{}:{}:{}: {}: {}", file, pos.line, pos.column, codeName(code), message);
  return fmt::format("{}: {}: {}", file, codeName(code), message);
}

void Diagnostics::add(Diagnostic d) {
  for (const auto& e : entries_) {
    if (e.file == d.file && e.pos.line == d.pos.line && e.pos.column == d.pos.column && e.code == d.code &&
        e.message == d.message) {
      return;
    }
  }
  if (entries_.size() >= kMaxDiagnostics) {
    ++dropped_;
    return;
  }
  entries_.push_back(std::move(d));
}

void Diagnostics::add(std::string_view file, SourcePos pos, Code code, std::string message) {
  add(Diagnostic{std::string(file), pos, code, std::move(message)});
}

void Diagnostics::append(const Diagnostics& other) {
  for (const auto& e : other.entries_) add(e);
  dropped_ += other.dropped_;
}

void Diagnostics::sort() {
  std::vector<std::string> files;
  for (const auto& e : entries_) {
    if (std::find(files.begin(), files.end(), e.file) == files.end()) files.push_back(e.file);
  }
  auto rank = [&](const std::string& f) { return std::find(files.begin(), files.end(), f) - files.begin(); };
  std::stable_sort(entries_.begin(), entries_.end(), [&](const Diagnostic& a, const Diagnostic& b) {
    const auto ra = rank(a.file);
    const auto rb = rank(b.file);
    if (ra != rb) return ra < rb;
    if (a.pos.line != b.pos.line) return a.pos.line < b.pos.line;
    return a.pos.column < b.pos.column;
  });
}

std::string Diagnostics::toString() const {
  std::string out;
  for (const auto& e : entries_) {
    if (!out.empty()) out.push_back('\n');
    out.append(e.toString());
  }
  if (dropped_ > 0) {
    if (!out.empty()) out.push_back('\n');
    out.append(fmt::format("... and {} more problem{}", dropped_, dropped_ == 1 ? "" : "s"));
  }
  return out;
}

}  // namespace warden::detect

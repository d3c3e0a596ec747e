#include "common/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>

namespace warden {

std::string Diagnostic::toString() const {
  const std::string tail = code.empty() ? message : fmt::format("{} [{}]", message, code);
  if (location.line <= 0) return fmt::format("{}: {}", file, tail);
  return fmt::format("{}:{}:{}: {}", file, location.line, location.column, tail);
}

void Diagnostics::add(Diagnostic diagnostic) {
  if (entries_.size() >= kMaxDiagnostics) {
    ++dropped_;
    return;
  }
  entries_.push_back(std::move(diagnostic));
}

void Diagnostics::add(std::string_view file, SourceLocation location, std::string message, std::string code) {
  add(Diagnostic{std::string(file), location, std::move(message), std::move(code)});
}

void Diagnostics::sortByLocation() {
  std::stable_sort(entries_.begin(), entries_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.location.line != b.location.line) return a.location.line < b.location.line;
    return a.location.column < b.location.column;
  });
}

void Diagnostics::append(const Diagnostics& other) {
  for (const auto& d : other.entries_) add(d);
  dropped_ += other.dropped_;
}

std::string Diagnostics::toString() const {
  std::string out;
  for (const auto& d : entries_) {
    if (!out.empty()) out += '\n';
    out += d.toString();
  }
  if (dropped_ > 0) out += fmt::format("\n... and {} more problems", dropped_);
  return out;
}

}  // namespace warden

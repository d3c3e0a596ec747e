#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace warden {

// A position in a configuration file (a policy, a rule file, the gateway's config), 1-based as
// editors show it. 0 means "not known" (the whole file).
struct SourceLocation {
  int line = 0;
  int column = 0;
};

// One problem found while loading a file: where it is and what is wrong, worded so that the author
// can fix it without reading the loader. `code` is a stable name for the kind of problem
// ("unknown-key", "bad-regex", ...) where the file format defines codes; empty otherwise.
struct Diagnostic {
  std::string file;
  SourceLocation location;
  std::string message;
  std::string code;

  // "file:line:col: message" ("file: message" when the position is not known), with " [code]"
  // appended when there is a code.
  std::string toString() const;
};

// Every problem found in one load, in the order found. A plain value; not thread-safe.
// Keeps at most kMaxDiagnostics entries and counts the rest, so that a pathological file cannot
// produce an unbounded report; dropped() says how many were left out.
class Diagnostics {
 public:
  static constexpr size_t kMaxDiagnostics = 200;

  void add(Diagnostic diagnostic);
  void add(std::string_view file, SourceLocation location, std::string message, std::string code = {});
  // Orders entries by line, then column (position-less ones first), keeping the order of equals.
  void sortByLocation();
  // Adds every entry of `other`, and its dropped count.
  void append(const Diagnostics& other);

  bool empty() const { return entries_.empty(); }
  // Problems kept plus problems dropped.
  size_t count() const { return entries_.size() + dropped_; }
  size_t dropped() const { return dropped_; }
  const std::vector<Diagnostic>& entries() const { return entries_; }

  // One "file:line:col: message" per line, plus "... and N more problems" when some were dropped.
  // No trailing newline.
  std::string toString() const;

 private:
  std::vector<Diagnostic> entries_;
  size_t dropped_ = 0;
};

}  // namespace warden

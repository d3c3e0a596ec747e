#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "policy/glob.h"

namespace warden::capture {

// `path` made absolute against `base` (when relative) and normalised lexically: "//" and "." dropped,
// ".." removes the previous component (never above "/"). Symlinks are not followed (the kernel
// resolved what it could; what is left was named by the process).
std::string resolveLexically(std::string_view base, std::string_view path);

// The capture's path rules: which paths are sensitive (their reads are recorded, their events say
// `[sensitive]`) and which are excluded (never recorded). A pattern is a path glob (policy/glob.h:
// `*` within a segment, `**` across); "~" at its start is the agent's home; a pattern also covers
// everything below what it matches ("~/.ssh" covers "~/.ssh/id_rsa"). Immutable; thread-safe.
class PathRules {
 public:
  // InvalidArgument naming the pattern when one does not compile (relative after "~" expansion,
  // control bytes, "***").
  static Result<PathRules> create(const std::vector<std::string>& sensitive, const std::vector<std::string>& exclude,
                                  std::string_view home);
  PathRules() = default;

  bool sensitive(std::string_view path) const;
  bool excluded(std::string_view path) const;

  // Hints for the kernel's read filter (eBPF): literal absolute paths (a file, or a directory whose
  // subtree is sensitive) and the directory before a pattern's first wildcard ("/etc/ssl/**/*.key"
  // -> "/etc/ssl"); and names a pattern "**/NAME" makes sensitive anywhere (".env").
  const std::vector<std::string>& kernelPrefixes() const { return prefixes_; }
  const std::vector<std::string>& kernelNames() const { return names_; }
  // Patterns with no literal directory and no plain name ("**/*.pem"): reads they cover are not
  // filtered in the kernel, so only writes and refused opens of such paths are seen (docs/capture.md).
  const std::vector<std::string>& unfilteredReadPatterns() const { return unfiltered_; }

 private:
  // A literal pattern is matched as a path prefix (itself or below it); "/**/NAME" with a plain NAME
  // as a component anywhere; only the rest go through the globs (the reader matches every event).
  struct Rule {
    enum class Kind { kLiteral, kName, kGlob } kind = Kind::kGlob;
    std::string text;  // the literal path, or NAME
    policy::Glob self;
    policy::Glob below;
  };
  static bool matches(const Rule& rule, std::string_view path);
  static bool matchesAny(const std::vector<Rule>& rules, std::string_view path);

  std::vector<Rule> sensitive_;
  std::vector<Rule> exclude_;
  std::vector<std::string> prefixes_;
  std::vector<std::string> names_;
  std::vector<std::string> unfiltered_;
};

}  // namespace warden::capture

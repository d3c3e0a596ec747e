#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace warden::ocsf {

// One regular expression of the OCSF dictionary (`dictionary.types.attributes.*.regex`: ip_t,
// mac_t, email_t, uuid_t, file_hash_t, datetime_t, bytestring_t), compiled once with PCRE2 the way
// the official validator compiles it (Elixir's Regex.compile/1: Perl syntax, no flags, so bytes
// rather than code points, unanchored unless the pattern anchors itself, `$` also before a final
// newline), JIT-compiled when the platform allows.
//
// Immutable after compile(); copies share the compiled code. matches() is safe to call from any
// number of threads at once (each thread keeps its own match scratch).
class TypeRegex {
 public:
  // InvalidArgument "<pcre2 message> at offset N" when the pattern does not compile.
  static Result<TypeRegex> compile(std::string_view pattern);

  // True when the pattern matches somewhere in `subject`. A match that PCRE2 gives up on (match or
  // depth limit) counts as no match, so the value is reported rather than waved through.
  bool matches(std::string_view subject) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Code;
  TypeRegex(std::shared_ptr<const Code> code, std::string pattern)
      : code_(std::move(code)), pattern_(std::move(pattern)) {}

  std::shared_ptr<const Code> code_;  // never null
  std::string pattern_;
};

}  // namespace warden::ocsf

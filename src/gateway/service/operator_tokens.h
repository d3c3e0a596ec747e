#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace warden::gateway {

// The gateway's operator tokens (docs/gateway.md "Authentication"): a file of lines
//
//   # comment
//   ops-1 3f1c...   (an id, then the token: at least 32 printable bytes, no spaces)
//
// that only root may read: owned by root (or by the user the gateway runs as) and without any
// group or other permission bits, else it is refused (a token others can read is no secret). Only
// the tokens' SHA-256 are kept in memory. Immutable after loading; thread-safe.
class OperatorTokens {
 public:
  struct Entry {
    std::string id;
    std::string hash;  // lower-case hex SHA-256 of the token
  };

  // InvalidArgument names the line (file:N) of a malformed or duplicate entry; PermissionDenied for
  // a file with group/other bits or another owner; NotFound/... for one that cannot be read.
  static Result<OperatorTokens> load(const std::filesystem::path& file);
  // The same checks on text already read (for tests; `name` appears in messages).
  static Result<OperatorTokens> parse(std::string_view text, std::string_view name);

  // The id of the token that `presented` is, comparing it with every entry in time independent of
  // where (and whether) it matches.
  std::optional<std::string> match(std::string_view presented) const;
  size_t size() const { return entries_.size(); }

 private:
  std::vector<Entry> entries_;
};

}  // namespace warden::gateway

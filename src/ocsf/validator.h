#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "ocsf/schema.h"

namespace warden::ocsf {

// One thing wrong with an event. `path` is a JSON path into the event: "$" for the event
// itself, "$.dst_endpoint.port", "$.answers[0].rdata"; a member whose name is not a plain
// identifier is written as a JSON string in brackets ($.unmapped["a b"]). Both fields are
// single-line printable ASCII whatever the input was, so they can be printed as-is.
struct Problem {
  std::string path;
  std::string message;

  bool operator==(const Problem&) const = default;
};

// Counts over a whole JSONL file.
struct FileSummary {
  std::size_t events = 0;   // lines read, blank ones included
  std::size_t invalid = 0;  // lines with at least one problem
};

// Checks OCSF events against a Schema: the class exists, category_uid and type_uid agree with
// it, metadata.version is the schema's, declared profiles are ones the class allows, and then
// recursively through objects and arrays: every attribute is defined (anything goes under the
// top-level `unmapped`, and in other members of the generic `object` type), profile-gated
// attributes appear only with their profile, required attributes (including profile-gated ones
// whose profile is declared) are present, values have the attribute's type (port_t within its
// range, strings within max_len), integer enums hold a listed value, class and object
// constraints (at_least_one, just_one) hold, and no value is null.
//
// Borrows the Schema, which must outlive it. Holds no mutable state: every method is const
// and safe to call from any number of threads at once. Never throws on any input: bad input is
// reported as Problems (only std::bad_alloc can escape).
class Validator {
 public:
  explicit Validator(const Schema& schema) : schema_(schema) {}

  // Problems of a parsed event; empty when it is valid.
  std::vector<Problem> validate(const nlohmann::json& event) const;
  // Parses one JSONL line, then validates it. A blank line, malformed JSON, binary garbage or a
  // JSON value that is not an object is one Problem at "$".
  std::vector<Problem> validateLine(std::string_view line) const;

  // Called once per line that has problems, with its 1-based line number.
  using BadLineFn = std::function<void(std::size_t line, const std::vector<Problem>& problems)>;
  // Validates every line of a JSONL stream. FailedPrecondition "empty file — no events" when the
  // stream has no bytes at all; DataLoss when reading fails part-way.
  Result<FileSummary> validateStream(std::istream& in, const BadLineFn& on_bad_line) const;
  // Same for a file. NotFound "<path>: no such file", InvalidArgument for a directory, the errno
  // error when it cannot be opened; every error message starts with the path.
  Result<FileSummary> validateFile(const std::filesystem::path& path, const BadLineFn& on_bad_line) const;

 private:
  const Schema& schema_;
};

}  // namespace warden::ocsf

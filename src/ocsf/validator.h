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
#include "ocsf/validation_codes.h"

namespace warden::ocsf {

// One thing wrong with an event. `code` is the check's code (validation_codes.h: the official
// validator's, e.g. "attribute_enum_value_unknown", or Warden's own), `severity` that check's.
// `path` is a JSON path into the event: "$" for the event itself, "$.dst_endpoint.port",
// "$.answers[0].rdata"; a member whose name is not a plain identifier is written as a JSON string
// in brackets ($.unmapped["a b"]). Path and message are single-line printable ASCII whatever the
// input was, so they can be printed as-is.
struct Problem {
  std::string_view code;  // static storage (a CheckCode's)
  ProblemSeverity severity = ProblemSeverity::kError;
  std::string path;
  std::string message;

  bool isError() const { return severity == ProblemSeverity::kError; }
  bool operator==(const Problem&) const = default;
};

struct ValidatorOptions {
  // The official validator's `missing_recommended`: a missing recommended attribute is a warning
  // (attribute_recommended_missing). Off by default, as there.
  bool warn_missing_recommended = false;
};

// Counts over a whole JSONL file.
struct FileSummary {
  std::size_t events = 0;               // lines read, blank ones included
  std::size_t errors = 0;               // problems of severity error
  std::size_t warnings = 0;             // problems of severity warning
  std::size_t lines_with_errors = 0;    // lines with at least one error
  std::size_t lines_with_warnings = 0;  // lines with at least one warning
};

// Checks OCSF events against a Schema with the checks of the OCSF project's own validator
// (ocsf-server lib/schema/validator2.ex), each problem carrying that validator's code and severity:
// the class, profiles, every attribute (known, in a declared profile's scope, required ones
// present, of its type: JSON shape, the dictionary type's range, max_len, regex and values, arrays
// vs scalars, objects recursively), enums (integer and string) with their sibling captions,
// deprecations, class and object constraints, metadata.version, type_uid and observables.
// docs/validation.md lists every check and where Warden is stricter.
//
// Borrows the Schema, which must outlive it. Holds no mutable state: every method is const
// and safe to call from any number of threads at once. Never throws on any input: bad input is
// reported as Problems (only std::bad_alloc can escape).
class Validator {
 public:
  explicit Validator(const Schema& schema, ValidatorOptions options = {})
      : schema_(schema), options_(options) {}

  // Problems of a parsed event; empty when it is valid and has no warnings.
  std::vector<Problem> validate(const nlohmann::json& event) const;
  // Parses one JSONL line, then validates it. A blank line, malformed JSON, binary garbage or a
  // JSON value that is not an object is one error at "$".
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
  ValidatorOptions options_;
};

}  // namespace warden::ocsf

#include "ocsf/validator.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <istream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "ocsf/validator_internal.h"

namespace warden::ocsf {

using nlohmann::json;
using namespace validator_detail;  // NOLINT: this file is the detail's front door

std::string_view severityName(ProblemSeverity s) {
  return s == ProblemSeverity::kError ? "error" : "warning";
}

namespace {

// Only used after a failed parse, to say where and why: records the first parse error.
class ParseErrorSax final : public nlohmann::json_sax<json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    position_ = position;
    std::string_view what = ex.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 4: syntax error ..." -> "syntax error
    // ..."
    if (const auto col = what.find("column "); col != std::string_view::npos) {
      if (const auto colon = what.find(": ", col); colon != std::string_view::npos)
        what.remove_prefix(colon + 2);
    }
    reason_ = sanitize(what, 160);
    return false;
  }

  std::string message() const {
    if (reason_.empty()) return "malformed JSON";
    return fmt::format("malformed JSON at byte {}: {}", position_, reason_);
  }

 private:
  std::size_t position_ = 0;
  std::string reason_;
};

std::string describeParseFailure(std::string_view line) {
  ParseErrorSax sax;
  json::sax_parse(line.begin(), line.end(), &sax);
  return sax.message();
}

bool isBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

Problem problem(const CheckCode& check, std::string path, std::string message) {
  return Problem{check.code, check.severity, std::move(path), std::move(message)};
}

}  // namespace

std::vector<Problem> Validator::validate(const json& event) const {
  std::vector<Problem> out;
  if (!event.is_object()) {
    out.push_back(problem(checks::kEventNotObject, "$",
                          fmt::format("event is not a JSON object (got {})", typeOf(event))));
    return out;
  }
  Reporter r(out);

  // The class decides everything else: without one, nothing more is checked (as officially).
  const json* class_uid = member(event, "class_uid");
  if (!class_uid) {
    r.reportAt(checks::kAttributeRequiredMissing, "$.class_uid", "required attribute 'class_uid' is missing");
    return out;
  }
  if (!class_uid->is_number_integer() || !asInt64(*class_uid)) {
    r.reportAt(checks::kAttributeWrongType, "$.class_uid",
               fmt::format("expected integer_t, got {}", typeOf(*class_uid)));
    return out;
  }
  const ClassSpec* cls = schema_.findClass(*asInt64(*class_uid));
  if (!cls) {
    r.reportAt(checks::kClassUidUnknown, "$.class_uid",
               fmt::format("unknown class_uid {}: OCSF {} defines no such class", valueText(*class_uid),
                           schema_.version()));
    return out;
  }

  const ProfileMask declared = checkProfiles(r, schema_, *cls, event);
  if (cls->deprecated) {
    r.reportAt(checks::kClassDeprecated, "$",
               fmt::format("class {} ({}) is deprecated{}", cls->body.name, cls->uid,
                           deprecationText(*cls->deprecated)));
  }
  walkObject(r, cls->body, event, declared, options_, 0);
  checkVersion(r, schema_, event);
  checkTypeUid(r, event);
  checkObservables(r, *cls, event, declared);
  return out;
}

std::vector<Problem> Validator::validateLine(std::string_view line) const {
  if (isBlank(line)) return {problem(checks::kLineBlank, "$", "blank line: no event")};
  const json doc = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return {problem(checks::kJsonInvalid, "$", describeParseFailure(line))};
  try {
    return validate(doc);
  } catch (const json::exception& e) {  // defensive: every access in validate() is type-checked
    return {problem(checks::kValidatorInternalError, "$",
                    fmt::format("internal validator error: {}", sanitize(e.what(), 160)))};
  }
}

Result<FileSummary> Validator::validateStream(std::istream& in, const BadLineFn& on_bad_line) const {
  FileSummary summary;
  std::string line;
  bool any_bytes = false;
  while (std::getline(in, line)) {
    any_bytes = true;
    ++summary.events;
    const auto problems = validateLine(line);
    if (problems.empty()) continue;
    std::size_t errors = 0;
    for (const auto& p : problems) errors += p.isError() ? 1 : 0;
    summary.errors += errors;
    summary.warnings += problems.size() - errors;
    summary.lines_with_errors += errors > 0 ? 1 : 0;
    summary.lines_with_warnings += errors < problems.size() ? 1 : 0;
    if (on_bad_line) on_bad_line(summary.events, problems);
  }
  if (in.bad()) return dataLoss(fmt::format("read failed after line {}", summary.events));
  if (!any_bytes) return failedPrecondition("empty file — no events");
  return summary;
}

Result<FileSummary> Validator::validateFile(const std::filesystem::path& path,
                                            const BadLineFn& on_bad_line) const {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return notFound(fmt::format("{}: no such file", path.string()));
  }
  if (status.type() == std::filesystem::file_type::directory) {
    return invalidArgument(fmt::format("{}: is a directory, not a JSONL file", path.string()));
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) return errnoError(path.string(), errno != 0 ? errno : EIO);
  auto summary = validateStream(in, on_bad_line);
  if (!summary.ok()) return summary.error().withContext(path.string());
  return summary;
}

}  // namespace warden::ocsf

// libFuzzer target: arbitrary bytes as one JSONL line through Validator::validateLine.
// Whatever the input, validation must return (problems or none) without crashing, throwing,
// hanging or tripping ASan/UBSan; every problem must be one printable line with a code; and a
// line that does not parse as a JSON object must get at least one error.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "ocsf/embedded_schema.h"
#include "ocsf/validator.h"

namespace {

const warden::ocsf::Schema& schema() {
  static const warden::ocsf::Schema* loaded = [] {
    auto s = warden::ocsf::embeddedSchema();
    if (!s.ok()) {
      std::fprintf(stderr, "ocsf_validate_fuzz: %s\n", s.error().toString().c_str());
      std::abort();
    }
    return new warden::ocsf::Schema(std::move(s).value());  // lives for the process
  }();
  return *loaded;
}

bool printableLine(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return false;
  }
  return true;
}

}  // namespace

// The 3 MB schema is indexed once before fuzzing starts, so its load (seconds under ASan and
// coverage) never counts against the first input's timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)schema();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const warden::ocsf::Validator validator(schema());
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const auto problems = validator.validateLine(line);
  bool any_error = false;
  for (const auto& problem : problems) {
    if (problem.path.empty() || problem.path[0] != '$' || !printableLine(problem.path) ||
        !printableLine(problem.message) || problem.code.empty() || !printableLine(problem.code)) {
      std::abort();
    }
    any_error = any_error || problem.isError();
  }
  // Not an object (or not JSON): the first byte that is not blank is not '{', so it must fail.
  const auto first = line.find_first_not_of(" \t\r\n");
  if ((first == std::string_view::npos || line[first] != '{') && !any_error) std::abort();
  return 0;
}

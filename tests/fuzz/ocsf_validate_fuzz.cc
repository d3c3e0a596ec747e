// libFuzzer target: arbitrary bytes as one JSONL line through Validator::validateLine.
// Whatever the input, validation must return (problems or none) without crashing, throwing,
// hanging or tripping ASan/UBSan, and every problem must be one printable line.

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

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const warden::ocsf::Validator validator(schema());
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  for (const auto& problem : validator.validateLine(line)) {
    if (problem.path.empty() || problem.path[0] != '$' || !printableLine(problem.path) ||
        !printableLine(problem.message)) {
      std::abort();
    }
  }
  return 0;
}

// libFuzzer: a rule file (untrusted config) through the whole loader — YAML, the condition
// parser, the schema checks, regex and glob compilation. Must never crash, hang or leak;
// every input is either a RuleSet or diagnostics.

#include <cstddef>
#include <cstdint>
#include <string>

#include "detect/rule_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::detect;
  Diagnostics d;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto r = RuleSet::compile({RuleSource{"fuzz.yaml", text}}, {}, &d);
  if (r.ok() == !d.empty()) __builtin_trap();  // loaded iff no problem
  return 0;
}

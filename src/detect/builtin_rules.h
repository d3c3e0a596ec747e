#pragma once

#include <string_view>

namespace warden::detect {

// The built-in rule pack (detect.md "Built-in pack"), embedded in the binary as rule-file YAML.
// It loads before any --rules file: its lists and macros are available to every rule file, and
// its rules are on unless `--rules-builtin off`. docs/detection.md documents each rule.
// `warden rules builtin` prints it.
inline constexpr std::string_view kBuiltinRulesName = "builtin";
std::string_view builtinRulesText();

}  // namespace warden::detect

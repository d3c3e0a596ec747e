#pragma once

#include <cstdint>
#include <string_view>

namespace warden::ocsf {

// How bad a problem is. An error means the event is not valid OCSF; a warning means it is valid but
// something is off (deprecated, a caption that does not match, a value that fails its type's
// regex). `warden ocsf validate --strict` fails on either.
enum class ProblemSeverity : std::uint8_t { kError, kWarning };

std::string_view severityName(ProblemSeverity s);  // "error", "warning"

// One kind of problem: its code and its severity. The codes marked official are the OCSF
// project's own (ocsf-server lib/schema/validator2.ex), with the same severity; the others are
// Warden's (what a line-oriented file adds: JSON that does not parse, a line that is not an
// object) or checks stricter than the official validator. docs/validation.md lists them all.
struct CheckCode {
  std::string_view code;
  ProblemSeverity severity;
  bool official;
};

namespace checks {

using enum ProblemSeverity;

// ----- official: errors -----
inline constexpr CheckCode kAttributeUnknown{"attribute_unknown", kError, true};
inline constexpr CheckCode kAttributeRequiredMissing{"attribute_required_missing", kError, true};
inline constexpr CheckCode kAttributeWrongType{"attribute_wrong_type", kError, true};
inline constexpr CheckCode kClassUidUnknown{"class_uid_unknown", kError, true};
inline constexpr CheckCode kProfileUnknown{"profile_unknown", kError, true};
inline constexpr CheckCode kVersionIncompatibleInitialDevelopment{"version_incompatible_initial_development",
                                                                  kError, true};
inline constexpr CheckCode kVersionIncompatiblePrerelease{"version_incompatible_prerelease", kError, true};
inline constexpr CheckCode kVersionIncompatibleLater{"version_incompatible_later", kError, true};
inline constexpr CheckCode kTypeUidIncorrect{"type_uid_incorrect", kError, true};
inline constexpr CheckCode kConstraintFailed{"constraint_failed", kError, true};
inline constexpr CheckCode kConstraintUnknown{"constraint_unknown", kError, true};
inline constexpr CheckCode kObservableNameInvalidReference{"observable_name_invalid_reference", kError, true};
inline constexpr CheckCode kAttributeEnumValueUnknown{"attribute_enum_value_unknown", kError, true};
inline constexpr CheckCode kAttributeEnumArrayValueUnknown{"attribute_enum_array_value_unknown", kError,
                                                           true};
inline constexpr CheckCode kAttributeEnumArraySiblingMissing{"attribute_enum_array_sibling_missing", kError,
                                                             true};
inline constexpr CheckCode kAttributeEnumArraySiblingIncorrect{"attribute_enum_array_sibling_incorrect",
                                                               kError, true};
inline constexpr CheckCode kAttributeValueNotInTypeValues{"attribute_value_not_in_type_values", kError, true};
inline constexpr CheckCode kAttributeValueNotInSuperTypeValues{"attribute_value_not_in_super_type_values",
                                                               kError, true};
inline constexpr CheckCode kAttributeValueExceedsRange{"attribute_value_exceeds_range", kError, true};
inline constexpr CheckCode kAttributeValueExceedsSuperTypeRange{"attribute_value_exceeds_super_type_range",
                                                                kError, true};
inline constexpr CheckCode kAttributeValueExceedsMaxLen{"attribute_value_exceeds_max_len", kError, true};
inline constexpr CheckCode kAttributeValueExceedsSuperTypeMaxLen{"attribute_value_exceeds_super_type_max_len",
                                                                 kError, true};
inline constexpr CheckCode kSchemaBugTypeMissing{"schema_bug_type_missing", kError, true};
inline constexpr CheckCode kSchemaBugPrimitiveTypeUnknown{"schema_bug_primitive_type_unknown", kError, true};
inline constexpr CheckCode kSchemaBugTypeRegexInvalid{"schema_bug_type_regex_invalid", kError, true};

// ----- official: warnings -----
inline constexpr CheckCode kClassDeprecated{"class_deprecated", kWarning, true};
inline constexpr CheckCode kObjectDeprecated{"object_deprecated", kWarning, true};
inline constexpr CheckCode kAttributeDeprecated{"attribute_deprecated", kWarning, true};
inline constexpr CheckCode kAttributeEnumValueDeprecated{"attribute_enum_value_deprecated", kWarning, true};
inline constexpr CheckCode kAttributeEnumArrayValueDeprecated{"attribute_enum_array_value_deprecated",
                                                              kWarning, true};
inline constexpr CheckCode kAttributeEnumSiblingIncorrect{"attribute_enum_sibling_incorrect", kWarning, true};
inline constexpr CheckCode kAttributeEnumSiblingSuspiciousOther{"attribute_enum_sibling_suspicious_other",
                                                                kWarning, true};
inline constexpr CheckCode kAttributeRecommendedMissing{"attribute_recommended_missing", kWarning, true};
inline constexpr CheckCode kAttributeValueRegexNotMatched{"attribute_value_regex_not_matched", kWarning,
                                                          true};
inline constexpr CheckCode kAttributeValueSuperTypeRegexNotMatched{
    "attribute_value_super_type_regex_not_matched", kWarning, true};
inline constexpr CheckCode kVersionEarlier{"version_earlier", kWarning, true};

// ----- Warden's: a line of a JSONL file that is not an event -----
inline constexpr CheckCode kLineBlank{"line_blank", kError, false};
inline constexpr CheckCode kJsonInvalid{"json_invalid", kError, false};
inline constexpr CheckCode kEventNotObject{"event_not_object", kError, false};
// ----- Warden's: stricter than the official validator (docs/validation.md says why) -----
inline constexpr CheckCode kVersionMalformed{"version_malformed", kError, false};
inline constexpr CheckCode kNestingTooDeep{"nesting_too_deep", kError, false};
inline constexpr CheckCode kAttributeValueNull{"attribute_value_null", kWarning, false};
inline constexpr CheckCode kProfileNotInClass{"profile_not_in_class", kWarning, false};
// A bug in the validator itself (a JSON access that threw); never expected, reported not thrown.
inline constexpr CheckCode kValidatorInternalError{"validator_internal_error", kError, false};

}  // namespace checks

}  // namespace warden::ocsf

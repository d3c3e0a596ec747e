// The recursive part of validation: an object against its spec, each attribute against its type,
// each enum against its values and its sibling caption (docs/validation.md).

#include <fmt/format.h>

#include "ocsf/validator_internal.h"

namespace warden::ocsf::validator_detail {

using nlohmann::json;

namespace {

// Objects nested deeper than this are reported, not walked: bounds the stack whatever the input.
constexpr int kMaxDepth = 128;

bool inScope(const AttributeSpec& a, ProfileMask declared) {
  return a.profiles == 0 || (a.profiles & declared) != 0;
}

std::string_view ownerKind(const ObjectSpec& spec) {
  return spec.is_class ? "class" : "object";
}

// Code points of valid UTF-8 (the parser rejects invalid UTF-8): never fewer than the grapheme
// clusters the official validator counts (String.length/1).
std::size_t characters(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// "port_t (integer_t)" for a subtype, "string_t" for a primitive: the official wording.
std::string typeLabel(const TypeSpec& t) {
  return t.super || t.primitive_name != t.name ? fmt::format("{} ({})", t.name, t.primitive_name) : t.name;
}

// An enum value looked up as the official validator does: by its text (Kernel.to_string/1).
const EnumEntry* findEnum(const EnumSpec& e, const json& v) {
  switch (v.type()) {
    case json::value_t::number_integer:
      return e.findInt(v.get<std::int64_t>());
    case json::value_t::number_unsigned:
      if (const auto i = asInt64(v)) return e.findInt(*i);
      return e.findText(std::to_string(v.get<std::uint64_t>()));
    case json::value_t::string:
      return e.findText(v.get_ref<const std::string&>());
    case json::value_t::boolean:
      return e.findText(v.get<bool>() ? "true" : "false");
    case json::value_t::null:
      return e.findText("");
    default:
      // A float's text ("1.0") is no enum key of OCSF; an object or array has no text.
      return nullptr;
  }
}

bool isOther(const json& v) {  // Elixir's `value == 99`
  return (v.is_number_integer() && asInt64(v) == 99) || (v.is_number_float() && v.get<double>() == 99.0);
}

class Walk {
 public:
  Walk(Reporter& r, ProfileMask declared, const ValidatorOptions& options)
      : r_(r), declared_(declared), options_(options) {}

  void object(const ObjectSpec& spec, const json& obj, int depth) {
    if (spec.free_form) return;  // no attributes defined: anything goes (the generic `object`)
    PathBuilder& path = r_.path();
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      const std::string& key = it.key();
      const AttributeSpec* attr = spec.find(key);
      if (!attr) {
        r_.reportBelow(checks::kAttributeUnknown, key,
                       fmt::format("unknown attribute {}: {} {} does not define it", quoteName(key),
                                   ownerKind(spec), spec.name));
        continue;
      }
      if (!inScope(*attr, declared_)) {
        r_.reportBelow(
            checks::kAttributeUnknown, key,
            fmt::format("attribute '{}' belongs to profile(s) {}, which the event does not declare",
                        attr->name, fmt::join(attr->profile_names, ", ")));
        continue;
      }
      const auto mark = path.pushKey(key);
      attribute(*attr, *it, depth);
      path.pop(mark);
      if (attr->enumeration) enumeration(*attr, *it, obj);
    }

    for (const AttributeSpec* req : spec.required) {
      if (!inScope(*req, declared_) || obj.contains(req->name)) continue;
      r_.reportBelow(checks::kAttributeRequiredMissing, req->name,
                     req->profiles == 0
                         ? fmt::format("required attribute '{}' is missing", req->name)
                         : fmt::format("required attribute '{}' is missing (required by profile {})",
                                       req->name, fmt::join(req->profile_names, ", ")));
    }
    if (options_.warn_missing_recommended) {
      for (const AttributeSpec* rec : spec.recommended) {
        if (!inScope(*rec, declared_) || obj.contains(rec->name)) continue;  // a null: attribute()
        r_.reportBelow(checks::kAttributeRecommendedMissing, rec->name,
                       fmt::format("recommended attribute '{}' is missing", rec->name));
      }
    }
    constraints(spec, obj);
  }

 private:
  // One attribute's value, at its path.
  void attribute(const AttributeSpec& a, const json& value, int depth) {
    if (value.is_null()) {
      // The official validator treats null as absent; Warden also warns, except where an error
      // already says it (a required attribute, an enum: attribute_enum_value_unknown).
      if (a.requirement == Requirement::kRequired) {
        r_.report(checks::kAttributeRequiredMissing, fmt::format("required attribute '{}' is null", a.name));
      } else if (a.requirement == Requirement::kRecommended && options_.warn_missing_recommended) {
        r_.report(checks::kAttributeRecommendedMissing,
                  fmt::format("recommended attribute '{}' is null", a.name));
      } else if (!a.enumeration) {
        r_.report(checks::kAttributeValueNull, "null value: omit the attribute instead");
      }
      return;
    }
    if (a.deprecated) {
      r_.report(checks::kAttributeDeprecated,
                fmt::format("attribute '{}' is deprecated{}", a.name, deprecationText(*a.deprecated)));
    }
    if (a.base != BaseType::kObject && !a.dictionary_type) {
      r_.report(checks::kSchemaBugTypeMissing,
                fmt::format("schema bug: type {} is not defined in the dictionary", jsonQuoted(a.type)));
      return;
    }
    if (!a.is_array) {
      element(a, value, depth);
      return;
    }
    if (!value.is_array()) {
      r_.report(checks::kAttributeWrongType,
                fmt::format("expected array of {}, got {}",
                            a.base == BaseType::kObject ? a.object->name : a.type, typeOf(value)));
      return;
    }
    PathBuilder& path = r_.path();
    for (std::size_t i = 0; i < value.size(); ++i) {
      const auto mark = path.pushIndex(i);
      element(a, value[i], depth);
      path.pop(mark);
    }
  }

  // A scalar value or one element of an array.
  void element(const AttributeSpec& a, const json& value, int depth) {
    if (a.base == BaseType::kObject) {
      if (!value.is_object()) {
        r_.report(checks::kAttributeWrongType,
                  fmt::format("expected {} (object), got {}", a.object->name, typeOf(value)));
        return;
      }
      if (depth + 1 > kMaxDepth) {
        r_.report(checks::kNestingTooDeep,
                  fmt::format("objects nested deeper than {} levels are not checked", kMaxDepth));
        return;
      }
      if (a.object->deprecated) {
        r_.report(checks::kObjectDeprecated, fmt::format("object {} is deprecated{}", a.object->name,
                                                         deprecationText(*a.object->deprecated)));
      }
      object(*a.object, value, depth + 1);
      return;
    }
    typed(*a.dictionary_type, value);
  }

  void typed(const TypeSpec& t, const json& value) {
    const auto wrong = [&] {
      r_.report(checks::kAttributeWrongType, fmt::format("expected {}, got {}", typeLabel(t), typeOf(value)));
    };
    switch (t.base) {
      case BaseType::kBoolean:
        if (!value.is_boolean()) return wrong();
        break;
      case BaseType::kFloat:
        if (!value.is_number_float()) return wrong();
        range(t, value);
        break;
      case BaseType::kInteger:
        if (!value.is_number_integer() || !asInt64(value)) return wrong();
        range(t, value);
        break;
      case BaseType::kLong:
        if (!value.is_number_integer()) return wrong();
        range(t, value);
        break;
      case BaseType::kJson:
        return;  // any JSON value, unchecked
      case BaseType::kString:
        if (!value.is_string()) return wrong();
        maxLen(t, value.get_ref<const std::string&>());
        regex(t, value.get_ref<const std::string&>());
        break;
      case BaseType::kObject:
      case BaseType::kUnknown:
        r_.report(checks::kSchemaBugPrimitiveTypeUnknown,
                  fmt::format("schema bug: type {} has unknown primitive type {}", jsonQuoted(t.name),
                              jsonQuoted(t.primitive_name)));
        return;
    }
    values(t, value);
  }

  static bool outside(const NumericRange& range, const json& value) {
    if (range.integral && value.is_number_integer()) {
      const auto v = asInt64(value);
      if (!v) return true;  // above INT64_MAX: above any int64 bound
      return *v < range.integral->first || *v > range.integral->second;
    }
    const double v = value.get<double>();
    return v < range.low || v > range.high;
  }

  static std::string rangeText(const NumericRange& range) {
    if (range.integral) return fmt::format("{} to {}", range.integral->first, range.integral->second);
    return fmt::format("{} to {}", range.low, range.high);
  }

  void range(const TypeSpec& t, const json& value) {
    if (t.range) {
      if (outside(*t.range, value)) {
        r_.report(checks::kAttributeValueExceedsRange,
                  fmt::format("value {} is outside {}'s range of {}", valueText(value), t.name,
                              rangeText(*t.range)));
      }
    } else if (t.super && t.super->range && outside(*t.super->range, value)) {
      r_.report(checks::kAttributeValueExceedsSuperTypeRange,
                fmt::format("value {} is outside the range of {} of {}, the super type of {}",
                            valueText(value), rangeText(*t.super->range), t.super->name, t.name));
    }
  }

  void maxLen(const TypeSpec& t, std::string_view s) {
    if (t.max_len) {
      const auto n = characters(s);
      if (n > *t.max_len) {
        r_.report(checks::kAttributeValueExceedsMaxLen,
                  fmt::format("length {} exceeds {}'s max length {}", n, t.name, *t.max_len));
      }
    } else if (t.super && t.super->max_len) {
      const auto n = characters(s);
      if (n > *t.super->max_len) {
        r_.report(checks::kAttributeValueExceedsSuperTypeMaxLen,
                  fmt::format("length {} exceeds the max length {} of {}, the super type of {}", n,
                              *t.super->max_len, t.super->name, t.name));
      }
    }
  }

  void regex(const TypeSpec& t, std::string_view s) {
    const TypeSpec* owner = t.regex || !t.regex_error.empty() ? &t : nullptr;
    bool super = false;
    if (!owner && t.super && (t.super->regex || !t.super->regex_error.empty())) {
      owner = t.super;  // the official validator would use the subtype's (absent) regex here: a bug
      super = true;
    }
    if (!owner) return;
    if (!owner->regex) {
      r_.report(checks::kSchemaBugTypeRegexInvalid,
                fmt::format("schema bug: the regex of type {} does not compile: {}", owner->name,
                            sanitize(owner->regex_error, 120)));
      return;
    }
    if (owner->regex->matches(s)) return;
    if (super) {
      r_.report(checks::kAttributeValueSuperTypeRegexNotMatched,
                fmt::format("value {} does not match the regex of {}, the super type of {}", jsonQuoted(s),
                            owner->name, t.name));
    } else {
      r_.report(checks::kAttributeValueRegexNotMatched,
                fmt::format("value {} does not match the regex of {}", jsonQuoted(s), t.name));
    }
  }

  void values(const TypeSpec& t, const json& value) {
    const auto allowed = [&](const json& list) {
      for (const auto& v : list) {
        if (v == value) return true;
      }
      return false;
    };
    if (t.values) {
      if (!allowed(*t.values)) {
        r_.report(checks::kAttributeValueNotInTypeValues,
                  fmt::format("value {} is not one of {}'s allowed values", valueText(value), t.name));
      }
    } else if (t.super && t.super->values && !allowed(*t.super->values)) {
      r_.report(checks::kAttributeValueNotInSuperTypeValues,
                fmt::format("value {} is not one of the allowed values of {}, the super type of {}",
                            valueText(value), t.super->name, t.name));
    }
  }

  // The enum of attribute `a` holding `value`, inside `obj` (which has its sibling). The reporter's
  // path is the object's.
  void enumeration(const AttributeSpec& a, const json& value, const json& obj) {
    const EnumSpec& e = *a.enumeration;
    PathBuilder& path = r_.path();
    if (!a.is_array) {
      const EnumEntry* entry = findEnum(e, value);
      if (!entry) {
        r_.reportBelow(checks::kAttributeEnumValueUnknown, a.name,
                       fmt::format("value {} is not defined for enum {}", valueText(value), a.name));
        return;
      }
      scalarSibling(a, value, *entry, obj);
      if (entry->deprecated) {
        r_.reportBelow(checks::kAttributeEnumValueDeprecated, a.name,
                       fmt::format("value {} of enum {} is deprecated{}", valueText(value), a.name,
                                   deprecationText(*entry->deprecated)));
      }
      return;
    }
    const auto mark = path.pushKey(a.name);
    if (value.is_null()) {
      // The official validator cannot iterate a null here (it fails the request): an error.
      r_.report(checks::kAttributeEnumArrayValueUnknown,
                fmt::format("null is no array of enum {} values", a.name));
    } else if (value.is_array()) {  // anything else is already attribute_wrong_type
      for (std::size_t i = 0; i < value.size(); ++i) {
        const auto at = path.pushIndex(i);
        const EnumEntry* entry = findEnum(e, value[i]);
        if (!entry) {
          r_.report(checks::kAttributeEnumArrayValueUnknown,
                    fmt::format("value {} is not defined for enum {}", valueText(value[i]), a.name));
        } else if (entry->deprecated) {
          r_.report(checks::kAttributeEnumArrayValueDeprecated,
                    fmt::format("value {} of enum {} is deprecated{}", valueText(value[i]), a.name,
                                deprecationText(*entry->deprecated)));
        }
        path.pop(at);
      }
    }
    path.pop(mark);
    if (value.is_array()) arraySiblings(a, value, obj);
  }

  // Path: the object's.
  void scalarSibling(const AttributeSpec& a, const json& value, const EnumEntry& entry, const json& obj) {
    if (a.sibling.empty()) return;
    const json* sibling = member(obj, a.sibling);
    if (!sibling) return;  // a caption is optional
    const bool matches = sibling->is_string() && sibling->get_ref<const std::string&>() == entry.caption;
    if (isOther(value)) {
      if (matches) {
        r_.reportBelow(
            checks::kAttributeEnumSiblingSuspiciousOther, a.sibling,
            fmt::format("{} is the caption of {} 99; for 99 the sibling should carry the source's own "
                        "name, or be left out",
                        jsonQuoted(entry.caption), a.name));
      }
    } else if (!matches) {
      r_.reportBelow(checks::kAttributeEnumSiblingIncorrect, a.sibling,
                     fmt::format("expected {} (the caption of {} {}), got {}", jsonQuoted(entry.caption),
                                 a.name, valueText(value), valueText(*sibling)));
    }
  }

  // Each element's caption in the sibling array, element by element (99 may have any). Path: the
  // object's.
  void arraySiblings(const AttributeSpec& a, const json& values, const json& obj) {
    if (a.sibling.empty()) return;
    const json* sibling = member(obj, a.sibling);
    if (!sibling) return;  // captions are optional
    PathBuilder& path = r_.path();
    const auto mark = path.pushKey(a.sibling);
    for (std::size_t i = 0; i < values.size(); ++i) {
      const EnumEntry* entry = findEnum(*a.enumeration, values[i]);
      if (!entry || isOther(values[i])) continue;
      const json* at = sibling->is_array() && i < sibling->size() ? &(*sibling)[i] : nullptr;
      const auto at_mark = path.pushIndex(i);
      if (!at || at->is_null()) {
        r_.report(checks::kAttributeEnumArraySiblingMissing,
                  fmt::format("no caption for {}[{}] = {} (expected {})", a.name, i, valueText(values[i]),
                              jsonQuoted(entry->caption)));
      } else if (!(at->is_string() && at->get_ref<const std::string&>() == entry->caption)) {
        r_.report(checks::kAttributeEnumArraySiblingIncorrect,
                  fmt::format("expected {} (the caption of {}[{}] = {}), got {}", jsonQuoted(entry->caption),
                              a.name, i, valueText(values[i]), valueText(*at)));
      }
      path.pop(at_mark);
    }
    path.pop(mark);
  }

  void constraints(const ObjectSpec& spec, const json& obj) {
    for (const Constraint& c : spec.constraints) {
      std::size_t found = 0;
      for (const auto& key : c.keys) {
        const json* v = member(obj, key);
        found += v && !v->is_null() ? 1 : 0;  // stricter than the official: a null is no value
      }
      switch (c.kind) {
        case Constraint::Kind::kAtLeastOne:
          if (found == 0) {
            r_.report(checks::kConstraintFailed,
                      fmt::format("at least one of {} is required ({} of {} {})", c.text, c.kind_name,
                                  ownerKind(spec), spec.name));
          }
          break;
        case Constraint::Kind::kJustOne:
          if (found != 1) {
            r_.report(checks::kConstraintFailed,
                      fmt::format("exactly one of {} is required, found {} ({} of {} {})", c.text, found,
                                  c.kind_name, ownerKind(spec), spec.name));
          }
          break;
        case Constraint::Kind::kUnknown:
          r_.report(checks::kConstraintUnknown,
                    fmt::format("schema bug: unknown constraint {} of {} {}", jsonQuoted(c.kind_name),
                                ownerKind(spec), spec.name));
          break;
      }
    }
  }

  Reporter& r_;
  ProfileMask declared_;
  const ValidatorOptions& options_;
};

}  // namespace

void walkObject(Reporter& r, const ObjectSpec& spec, const json& object, ProfileMask declared,
                const ValidatorOptions& options, int depth) {
  Walk(r, declared, options).object(spec, object, depth);
}

}  // namespace warden::ocsf::validator_detail

// The dictionary's types: what each one asks of a value (docs/validation.md, "Types").

#include <fmt/format.h>

#include <cstdint>

#include "ocsf/schema_index.h"

namespace warden::ocsf::schema_detail {

using nlohmann::json;

namespace {

std::optional<BaseType> primitiveBase(std::string_view type) {
  if (type == "string_t") return BaseType::kString;
  if (type == "integer_t") return BaseType::kInteger;
  if (type == "long_t") return BaseType::kLong;
  if (type == "float_t") return BaseType::kFloat;
  if (type == "boolean_t") return BaseType::kBoolean;
  if (type == "json_t") return BaseType::kJson;
  return std::nullopt;
}

Result<void> fillConstraints(std::string_view name, const json& def, TypeSpec& t) {
  if (const json* r = member(def, "range")) {
    if (!r->is_array() || r->size() != 2 || !(*r)[0].is_number() || !(*r)[1].is_number()) {
      return invalidArgument(fmt::format("dictionary type '{}' has a range that is not [low, high]", name));
    }
    NumericRange range;
    range.low = (*r)[0].get<double>();
    range.high = (*r)[1].get<double>();
    if ((*r)[0].is_number_integer() && (*r)[1].is_number_integer() && !(*r)[0].is_number_unsigned() &&
        !(*r)[1].is_number_unsigned()) {
      range.integral = std::make_pair((*r)[0].get<std::int64_t>(), (*r)[1].get<std::int64_t>());
    } else if ((*r)[0].is_number_integer() && (*r)[1].is_number_integer()) {
      // Unsigned JSON numbers: exact when they fit int64.
      const auto lo = (*r)[0].get<std::uint64_t>();
      const auto hi = (*r)[1].get<std::uint64_t>();
      constexpr auto kMax = static_cast<std::uint64_t>(INT64_MAX);
      if (lo <= kMax && hi <= kMax)
        range.integral = std::make_pair(static_cast<std::int64_t>(lo), static_cast<std::int64_t>(hi));
    }
    t.range = range;
  }
  if (const json* m = member(def, "max_len")) {
    if (!m->is_number_unsigned()) {
      return invalidArgument(fmt::format("dictionary type '{}' has a max_len that is not a count", name));
    }
    t.max_len = m->get<std::size_t>();
  }
  if (const json* re = member(def, "regex")) {
    if (!re->is_string())
      return invalidArgument(fmt::format("dictionary type '{}' has a non-string regex", name));
    auto compiled = TypeRegex::compile(re->get_ref<const std::string&>());
    if (compiled.ok()) {
      t.regex = std::move(compiled).value();
    } else {
      // Reported per value (schema_bug_type_regex_invalid), as the official validator does.
      t.regex_error = compiled.error().message();
    }
  }
  if (const json* v = member(def, "values")) {
    if (!v->is_array())
      return invalidArgument(fmt::format("dictionary type '{}' has values that are not a list", name));
    t.values = std::make_shared<const json>(*v);
  }
  return okResult();
}

}  // namespace

Result<void> buildTypes(const json& doc, Schema::Index& index) {
  const json* dictionary = member(doc, "dictionary");
  const json* types = dictionary ? member(*dictionary, "types") : nullptr;
  const json* defs = types ? member(*types, "attributes") : nullptr;
  if (!defs || !defs->is_object()) return invalidArgument("schema has no dictionary.types.attributes");

  for (const auto& [name, def] : defs->items()) {
    if (!def.is_object()) return invalidArgument(fmt::format("dictionary type '{}' is not an object", name));
    TypeSpec t;
    t.name = name;
    const json* parent = member(def, "type");
    if (parent && !parent->is_string()) {
      return invalidArgument(fmt::format("dictionary type '{}' has a non-string parent type", name));
    }
    // One level, as the official validator reads it: a subtype's `type` must be a primitive.
    t.primitive_name = parent ? parent->get<std::string>() : name;
    t.base = primitiveBase(t.primitive_name).value_or(BaseType::kUnknown);
    WARDEN_RETURN_IF_ERROR(fillConstraints(name, def, t));
    index.types.emplace(name, std::move(t));
  }
  for (auto& [name, t] : index.types) {
    if (t.primitive_name == name) continue;
    const auto it = index.types.find(t.primitive_name);
    if (it != index.types.end()) t.super = &it->second;  // node-based map: the address is stable
  }
  return okResult();
}

}  // namespace warden::ocsf::schema_detail

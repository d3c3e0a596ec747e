#include "ocsf/schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <system_error>

namespace warden::ocsf {

using nlohmann::json;

struct Schema::Index {
  std::string version;
  std::unordered_map<std::string, ObjectSpec, StringHash, std::equal_to<>> objects;
  std::unordered_map<std::int64_t, ClassSpec> classes;
  std::vector<std::string> profile_names;
  std::unordered_map<std::string, ProfileMask, StringHash, std::equal_to<>> profile_bits;
};

namespace {

// The generic object type: "an unordered collection of attributes", used for `unmapped` and
// a few `xattributes`; its members are free-form.
constexpr std::string_view kGenericObject = "object";
constexpr int kMaxTypeChain = 16;

struct TypeInfo {
  BaseType base = BaseType::kString;
  std::optional<std::pair<std::int64_t, std::int64_t>> range;
  std::optional<std::size_t> max_len;
};

using TypeTable = std::unordered_map<std::string, TypeInfo, StringHash, std::equal_to<>>;

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::optional<BaseType> primitiveBase(std::string_view type) {
  if (type == "string_t") return BaseType::kString;
  if (type == "integer_t") return BaseType::kInteger;
  if (type == "long_t") return BaseType::kLong;
  if (type == "float_t") return BaseType::kFloat;
  if (type == "boolean_t") return BaseType::kBoolean;
  if (type == "json_t") return BaseType::kJson;
  return std::nullopt;
}

// dictionary.types.attributes maps each type name to {type: <parent>, range, max_len, regex, ...};
// the primitives (string_t, integer_t, long_t, float_t, boolean_t, json_t) have no parent.
Result<TypeTable> buildTypeTable(const json& doc) {
  const json* dictionary = member(doc, "dictionary");
  const json* types = dictionary ? member(*dictionary, "types") : nullptr;
  const json* defs = types ? member(*types, "attributes") : nullptr;
  if (!defs || !defs->is_object()) return invalidArgument("schema has no dictionary.types.attributes");

  TypeTable table;
  for (const auto& [name, def] : defs->items()) {
    TypeInfo info;
    std::string current = name;
    const json* cur_def = &def;
    bool resolved = false;
    for (int step = 0; step < kMaxTypeChain && cur_def; ++step) {
      if (!info.range) {
        if (const json* r = member(*cur_def, "range"); r && r->is_array() && r->size() == 2 &&
                                                       (*r)[0].is_number_integer() &&
                                                       (*r)[1].is_number_integer()) {
          info.range = std::make_pair((*r)[0].get<std::int64_t>(), (*r)[1].get<std::int64_t>());
        }
      }
      if (!info.max_len) {
        if (const json* m = member(*cur_def, "max_len"); m && m->is_number_unsigned()) {
          info.max_len = m->get<std::size_t>();
        }
      }
      if (const auto base = primitiveBase(current)) {
        info.base = *base;
        resolved = true;
        break;
      }
      const json* parent = member(*cur_def, "type");
      if (!parent || !parent->is_string()) break;
      current = parent->get<std::string>();
      cur_def = member(*defs, current);
    }
    if (!resolved)
      return invalidArgument(fmt::format("dictionary type '{}' does not resolve to a primitive type", name));
    table.emplace(name, std::move(info));
  }
  return table;
}

Result<ProfileMask> profileMask(Schema::Index& index, const json* names,
                                std::vector<std::string>* out_names) {
  ProfileMask mask = 0;
  if (!names || names->is_null()) return mask;
  if (!names->is_array()) return invalidArgument("'profiles' is not a list");
  for (const auto& n : *names) {
    if (!n.is_string()) return invalidArgument("'profiles' holds a non-string");
    const auto& name = n.get_ref<const std::string&>();
    auto it = index.profile_bits.find(name);
    if (it == index.profile_bits.end()) {
      // A profile referenced but not described: still give it a bit so gating works.
      if (index.profile_names.size() >= 64) return invalidArgument("more than 64 profiles");
      it = index.profile_bits.emplace(name, ProfileMask{1} << index.profile_names.size()).first;
      index.profile_names.push_back(name);
    }
    mask |= it->second;
    if (out_names) out_names->push_back(name);
  }
  return mask;
}

Result<void> fillAttributes(Schema::Index& index, const TypeTable& types, const json& owner,
                            ObjectSpec& spec) {
  const json* attrs = member(owner, "attributes");
  if (!attrs || !attrs->is_object())
    return invalidArgument(fmt::format("'{}' has no attributes table", spec.name));

  for (const auto& [name, def] : attrs->items()) {
    const auto where = [&, n = std::string_view(name)] { return fmt::format("{}.{}", spec.name, n); };
    if (!def.is_object()) return invalidArgument(fmt::format("attribute {} is not an object", where()));
    AttributeSpec a;
    a.name = name;

    const json* type = member(def, "type");
    if (!type || !type->is_string()) return invalidArgument(fmt::format("attribute {} has no type", where()));
    a.type = type->get<std::string>();
    if (a.type == "object_t") {
      a.base = BaseType::kObject;
      const json* object_type = member(def, "object_type");
      if (!object_type || !object_type->is_string()) {
        return invalidArgument(fmt::format("attribute {} is object_t without object_type", where()));
      }
      const auto it = index.objects.find(object_type->get_ref<const std::string&>());
      if (it == index.objects.end()) {
        return invalidArgument(fmt::format("attribute {} refers to unknown object '{}'", where(),
                                           object_type->get_ref<const std::string&>()));
      }
      a.object = &it->second;  // node-based map: the address is stable
    } else {
      const auto it = types.find(a.type);
      if (it == types.end())
        return invalidArgument(fmt::format("attribute {} has unknown type '{}'", where(), a.type));
      a.base = it->second.base;
      a.range = it->second.range;
      a.max_len = it->second.max_len;
    }

    if (const json* arr = member(def, "is_array"); arr && arr->is_boolean()) a.is_array = arr->get<bool>();

    const json* req = member(def, "requirement");
    if (req && req->is_string()) {
      const auto& r = req->get_ref<const std::string&>();
      a.requirement = r == "required"      ? Requirement::kRequired
                      : r == "recommended" ? Requirement::kRecommended
                                           : Requirement::kOptional;
    }

    auto mask = profileMask(index, member(def, "profiles"), &a.profile_names);
    if (!mask.ok()) return mask.error().withContext(fmt::format("attribute {}", where()));
    a.profiles = *mask;

    if (const json* e = member(def, "enum");
        e && e->is_object() && (a.base == BaseType::kInteger || a.base == BaseType::kLong)) {
      for (const auto& [key, unused] : e->items()) {
        std::int64_t v = 0;
        const auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), v);
        if (ec != std::errc() || ptr != key.data() + key.size()) {
          return invalidArgument(fmt::format("attribute {} has a non-integer enum key '{}'", where(), key));
        }
        a.int_enum.push_back(v);
      }
      std::sort(a.int_enum.begin(), a.int_enum.end());
    }
    // String enums (http_method, cvss.depth, osint.tlp) are descriptive lists of common values
    // in OCSF, not closed sets: they are not enforced.

    spec.attributes.emplace(name, std::move(a));
  }

  for (const auto& [name, a] : spec.attributes) {
    if (a.requirement == Requirement::kRequired) spec.required.push_back(&a);
  }
  std::sort(spec.required.begin(), spec.required.end(),
            [](const AttributeSpec* l, const AttributeSpec* r) { return l->name < r->name; });

  if (const json* cons = member(owner, "constraints"); cons && cons->is_object()) {
    for (const auto& [kind, list] : cons->items()) {
      Constraint c;
      if (kind == "at_least_one") {
        c.kind = Constraint::Kind::kAtLeastOne;
      } else if (kind == "just_one") {
        c.kind = Constraint::Kind::kJustOne;
      } else {
        continue;  // a constraint kind this validator does not know is not enforced
      }
      if (!list.is_array())
        return invalidArgument(fmt::format("constraint {} of '{}' is not a list", kind, spec.name));
      for (const auto& p : list) {
        if (!p.is_string())
          return invalidArgument(fmt::format("constraint {} of '{}' holds a non-string", kind, spec.name));
        const auto& text = p.get_ref<const std::string&>();
        std::vector<std::string> parts;
        std::string_view rest = text;
        while (true) {
          const auto dot = rest.find('.');
          parts.emplace_back(rest.substr(0, dot));
          if (dot == std::string_view::npos) break;
          rest.remove_prefix(dot + 1);
        }
        if (!c.text.empty()) c.text += ", ";
        c.text += text;
        c.paths.push_back(std::move(parts));
      }
      if (!c.paths.empty()) spec.constraints.push_back(std::move(c));
    }
  }
  return okResult();
}

Result<std::shared_ptr<Schema::Index>> buildIndex(const json& doc) {
  if (!doc.is_object()) return invalidArgument("schema is not a JSON object");
  auto index = std::make_shared<Schema::Index>();

  const json* version = member(doc, "version");
  if (!version || !version->is_string()) return invalidArgument("schema has no version");
  index->version = version->get<std::string>();

  if (const json* profiles = member(doc, "profiles"); profiles && profiles->is_object()) {
    for (const auto& [name, unused] : profiles->items()) {
      if (index->profile_names.size() >= 64) return invalidArgument("more than 64 profiles");
      index->profile_bits.emplace(name, ProfileMask{1} << index->profile_names.size());
      index->profile_names.push_back(name);
    }
  }

  auto types = buildTypeTable(doc);
  if (!types.ok()) return types.error();

  const json* objects = member(doc, "objects");
  if (!objects || !objects->is_object()) return invalidArgument("schema has no objects");
  // Two passes: every object exists before any attribute points at one.
  for (const auto& [name, unused] : objects->items()) {
    ObjectSpec spec;
    spec.name = name;
    spec.free_form = name == kGenericObject;
    index->objects.emplace(name, std::move(spec));
  }
  for (const auto& [name, def] : objects->items()) {
    WARDEN_RETURN_IF_ERROR(fillAttributes(*index, *types, def, index->objects.find(name)->second));
  }

  const json* classes = member(doc, "classes");
  if (!classes || !classes->is_object()) return invalidArgument("schema has no classes");
  for (const auto& [name, def] : classes->items()) {
    const json* uid = member(def, "uid");
    const json* category = member(def, "category_uid");
    if (!uid || !uid->is_number_integer() || !category || !category->is_number_integer()) {
      return invalidArgument(fmt::format("class '{}' has no integer uid/category_uid", name));
    }
    ClassSpec cls;
    cls.uid = uid->get<std::int64_t>();
    cls.category_uid = category->get<std::int64_t>();
    if (const json* caption = member(def, "caption"); caption && caption->is_string()) {
      cls.caption = caption->get<std::string>();
    }
    auto mask = profileMask(*index, member(def, "profiles"), &cls.profile_names);
    if (!mask.ok()) return mask.error().withContext(fmt::format("class '{}'", name));
    cls.profiles = *mask;
    cls.body.name = name;
    cls.body.is_class = true;
    WARDEN_RETURN_IF_ERROR(fillAttributes(*index, *types, def, cls.body));
    // class_uid, category_uid and type_uid get dedicated checks with better messages.
    for (const char* own : {"class_uid", "category_uid", "type_uid"}) {
      if (auto it = cls.body.attributes.find(std::string_view(own)); it != cls.body.attributes.end()) {
        it->second.int_enum.clear();
      }
    }
    const auto cls_uid = cls.uid;
    if (!index->classes.emplace(cls_uid, std::move(cls)).second) {
      return invalidArgument(fmt::format("two classes share uid {}", cls_uid));
    }
  }
  return index;
}

}  // namespace

Result<Schema> Schema::parse(std::string_view text) {
  const json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return dataLoss("schema is not valid JSON");
  try {
    auto index = buildIndex(doc);
    if (!index.ok()) return index.error();
    return Schema(std::shared_ptr<const Index>(std::move(index).value()));
  } catch (const json::exception& e) {  // defensive: every access above is type-checked first
    return invalidArgument(fmt::format("schema: {}", e.what()));
  }
}

Result<Schema> Schema::load(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return notFound(fmt::format("{}: no such file", path.string()));
  if (std::filesystem::is_directory(path, ec))
    return invalidArgument(fmt::format("{}: is a directory", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) return errnoError(path.string());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return errnoError(path.string());
  auto schema = parse(text);
  if (!schema.ok()) return schema.error().withContext(path.string());
  return schema;
}

const std::string& Schema::version() const {
  return index_->version;
}

const ClassSpec* Schema::findClass(std::int64_t uid) const {
  const auto it = index_->classes.find(uid);
  return it == index_->classes.end() ? nullptr : &it->second;
}

const ObjectSpec* Schema::findObject(std::string_view name) const {
  const auto it = index_->objects.find(name);
  return it == index_->objects.end() ? nullptr : &it->second;
}

std::optional<ProfileMask> Schema::profileBit(std::string_view name) const {
  const auto it = index_->profile_bits.find(name);
  if (it == index_->profile_bits.end()) return std::nullopt;
  return it->second;
}

std::string Schema::profileList(ProfileMask mask) const {
  std::string out;
  for (std::size_t i = 0; i < index_->profile_names.size(); ++i) {
    if (mask & (ProfileMask{1} << i)) {
      if (!out.empty()) out += ", ";
      out += index_->profile_names[i];
    }
  }
  return out;
}

std::size_t Schema::classCount() const {
  return index_->classes.size();
}
std::size_t Schema::objectCount() const {
  return index_->objects.size();
}

}  // namespace warden::ocsf

#include "ocsf/schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <system_error>

#include "ocsf/schema_index.h"

namespace warden::ocsf {

using nlohmann::json;

namespace schema_detail {

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::optional<Deprecation> deprecationOf(const json& def) {
  const json* d = member(def, "@deprecated");
  if (!d) return std::nullopt;
  Deprecation out;
  if (const json* m = member(*d, "message"); m && m->is_string()) {
    bool in_tag = false;
    for (const char c : m->get_ref<const std::string&>()) {
      if (c == '<') {
        in_tag = true;
      } else if (c == '>' && in_tag) {
        in_tag = false;
      } else if (!in_tag) {
        out.message += c;
      }
    }
  }
  if (const json* s = member(*d, "since"); s && s->is_string()) out.since = s->get<std::string>();
  return out;
}

}  // namespace schema_detail

using schema_detail::deprecationOf;
using schema_detail::member;

const EnumEntry* EnumSpec::findText(std::string_view key) const {
  const auto it = std::lower_bound(entries.begin(), entries.end(), key,
                                   [](const EnumEntry& e, std::string_view k) { return e.key < k; });
  return it != entries.end() && it->key == key ? &*it : nullptr;
}

const EnumEntry* EnumSpec::findInt(std::int64_t key) const {
  const auto it = std::lower_bound(
      ints.begin(), ints.end(), key,
      [](const std::pair<std::int64_t, std::size_t>& e, std::int64_t k) { return e.first < k; });
  return it != ints.end() && it->first == key ? &entries[it->second] : nullptr;
}

namespace {

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

Result<EnumSpec> buildEnum(const json& e, const std::string& where) {
  if (!e.is_object())
    return invalidArgument(fmt::format("attribute {} has an enum that is not an object", where));
  EnumSpec spec;
  for (const auto& [key, def] : e.items()) {
    EnumEntry entry;
    entry.key = key;
    if (const json* c = member(def, "caption"); c && c->is_string()) entry.caption = c->get<std::string>();
    entry.deprecated = deprecationOf(def);
    spec.entries.push_back(std::move(entry));
  }
  std::sort(spec.entries.begin(), spec.entries.end(),
            [](const EnumEntry& a, const EnumEntry& b) { return a.key < b.key; });
  for (std::size_t i = 0; i < spec.entries.size(); ++i) {
    const std::string& key = spec.entries[i].key;
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), v);
    // Only the canonical text of an integer: "07" or "+7" would not be what to_string(7) gives.
    if (ec == std::errc() && ptr == key.data() + key.size() && std::to_string(v) == key)
      spec.ints.emplace_back(v, i);
  }
  std::sort(spec.ints.begin(), spec.ints.end());
  return spec;
}

Result<void> fillAttributes(Schema::Index& index, const json& owner, ObjectSpec& spec) {
  const json* attrs = member(owner, "attributes");
  if (!attrs || !attrs->is_object())
    return invalidArgument(fmt::format("'{}' has no attributes table", spec.name));

  for (const auto& [name, def] : attrs->items()) {
    const std::string where = fmt::format("{}.{}", spec.name, name);
    if (!def.is_object()) return invalidArgument(fmt::format("attribute {} is not an object", where));
    AttributeSpec a;
    a.name = name;

    const json* type = member(def, "type");
    if (!type || !type->is_string()) return invalidArgument(fmt::format("attribute {} has no type", where));
    a.type = type->get<std::string>();
    if (a.type == "object_t") {
      a.base = BaseType::kObject;
      const json* object_type = member(def, "object_type");
      if (!object_type || !object_type->is_string()) {
        return invalidArgument(fmt::format("attribute {} is object_t without object_type", where));
      }
      const auto it = index.objects.find(object_type->get_ref<const std::string&>());
      if (it == index.objects.end()) {
        return invalidArgument(fmt::format("attribute {} refers to unknown object '{}'", where,
                                           object_type->get_ref<const std::string&>()));
      }
      a.object = &it->second;  // node-based map: the address is stable
    } else if (const auto it = index.types.find(a.type); it != index.types.end()) {
      a.dictionary_type = &it->second;
      a.base = it->second.base;
    }
    // else: a type the dictionary does not define; each value is reported (schema_bug_type_missing).

    if (const json* arr = member(def, "is_array"); arr && arr->is_boolean()) a.is_array = arr->get<bool>();

    if (const json* req = member(def, "requirement"); req && req->is_string()) {
      const auto& r = req->get_ref<const std::string&>();
      a.requirement = r == "required"      ? Requirement::kRequired
                      : r == "recommended" ? Requirement::kRecommended
                                           : Requirement::kOptional;
    }

    auto mask = profileMask(index, member(def, "profiles"), &a.profile_names);
    if (!mask.ok()) return mask.error().withContext(fmt::format("attribute {}", where));
    a.profiles = *mask;

    if (const json* e = member(def, "enum")) {
      auto spec_enum = buildEnum(*e, where);
      if (!spec_enum.ok()) return spec_enum.error();
      a.enumeration = std::move(spec_enum).value();
    }
    if (const json* s = member(def, "sibling"); s && s->is_string()) a.sibling = s->get<std::string>();
    a.deprecated = deprecationOf(def);

    spec.attributes.emplace(name, std::move(a));
  }
  spec.free_form = spec.attributes.empty();

  for (const auto& [name, a] : spec.attributes) {
    if (a.requirement == Requirement::kRequired) spec.required.push_back(&a);
    if (a.requirement == Requirement::kRecommended) spec.recommended.push_back(&a);
  }
  const auto byName = [](const AttributeSpec* l, const AttributeSpec* r) { return l->name < r->name; };
  std::sort(spec.required.begin(), spec.required.end(), byName);
  std::sort(spec.recommended.begin(), spec.recommended.end(), byName);

  if (const json* cons = member(owner, "constraints"); cons && cons->is_object()) {
    for (const auto& [kind, list] : cons->items()) {
      Constraint c;
      c.kind_name = kind;
      c.kind = kind == "at_least_one" ? Constraint::Kind::kAtLeastOne
               : kind == "just_one"   ? Constraint::Kind::kJustOne
                                      : Constraint::Kind::kUnknown;  // reported as constraint_unknown
      if (!list.is_array())
        return invalidArgument(fmt::format("constraint {} of '{}' is not a list", kind, spec.name));
      for (const auto& p : list) {
        if (!p.is_string()) {
          return invalidArgument(fmt::format("constraint {} of '{}' holds a non-string", kind, spec.name));
        }
        if (!c.text.empty()) c.text += ", ";
        c.text += p.get_ref<const std::string&>();
        c.keys.push_back(p.get<std::string>());
      }
      spec.constraints.push_back(std::move(c));
    }
  }
  spec.deprecated = deprecationOf(owner);
  return okResult();
}

Result<std::shared_ptr<Schema::Index>> buildIndex(const json& doc) {
  if (!doc.is_object()) return invalidArgument("schema is not a JSON object");
  auto index = std::make_shared<Schema::Index>();

  const json* version = member(doc, "version");
  if (!version || !version->is_string()) return invalidArgument("schema has no version");
  index->version = version->get<std::string>();
  index->parsed_version = parseSemVer(index->version);

  if (const json* profiles = member(doc, "profiles"); profiles && profiles->is_object()) {
    for (const auto& [name, unused] : profiles->items()) {
      if (index->profile_names.size() >= 64) return invalidArgument("more than 64 profiles");
      index->profile_bits.emplace(name, ProfileMask{1} << index->profile_names.size());
      index->profile_names.push_back(name);
      index->described_profiles.insert(name);
    }
  }

  WARDEN_RETURN_IF_ERROR(schema_detail::buildTypes(doc, *index));

  const json* objects = member(doc, "objects");
  if (!objects || !objects->is_object()) return invalidArgument("schema has no objects");
  // Two passes: every object exists before any attribute points at one.
  for (const auto& [name, unused] : objects->items()) {
    ObjectSpec spec;
    spec.name = name;
    index->objects.emplace(name, std::move(spec));
  }
  for (const auto& [name, def] : objects->items()) {
    WARDEN_RETURN_IF_ERROR(fillAttributes(*index, def, index->objects.find(name)->second));
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
    WARDEN_RETURN_IF_ERROR(fillAttributes(*index, def, cls.body));
    cls.deprecated = cls.body.deprecated;
    cls.body.deprecated.reset();  // a class's deprecation is class_deprecated, not object_deprecated
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

const std::optional<SemVer>& Schema::parsedVersion() const {
  return index_->parsed_version;
}

const ClassSpec* Schema::findClass(std::int64_t uid) const {
  const auto it = index_->classes.find(uid);
  return it == index_->classes.end() ? nullptr : &it->second;
}

const ObjectSpec* Schema::findObject(std::string_view name) const {
  const auto it = index_->objects.find(name);
  return it == index_->objects.end() ? nullptr : &it->second;
}

const TypeSpec* Schema::findType(std::string_view name) const {
  const auto it = index_->types.find(name);
  return it == index_->types.end() ? nullptr : &it->second;
}

std::optional<ProfileMask> Schema::profileBit(std::string_view name) const {
  const auto it = index_->profile_bits.find(name);
  if (it == index_->profile_bits.end()) return std::nullopt;
  return it->second;
}

bool Schema::describesProfile(std::string_view name) const {
  return index_->described_profiles.find(name) != index_->described_profiles.end();
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

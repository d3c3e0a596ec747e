#include "ocsf/validator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <istream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>

namespace warden::ocsf {

using nlohmann::json;

namespace {

// Deeper events are reported, not walked: bounds the stack whatever the input nests.
constexpr int kMaxDepth = 64;
// Longest piece of event-controlled text quoted in a message.
constexpr std::size_t kMaxQuoted = 80;
// Enum values listed in a message before "...".
constexpr std::size_t kMaxEnumListed = 32;

bool isIdentifier(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// `s` as a JSON string literal in printable ASCII (so it cannot break a line), cut to kMaxQuoted.
std::string jsonQuoted(std::string_view s) {
  const bool cut = s.size() > kMaxQuoted;
  const json j = std::string(s.substr(0, kMaxQuoted));
  std::string out = j.dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
  if (cut) out.insert(out.size() - 1, "...");
  return out;
}

// A member name for a message: 'name' when it is a plain identifier, else a JSON literal.
std::string quoteName(std::string_view s) {
  return isIdentifier(s) ? fmt::format("'{}'", s) : jsonQuoted(s);
}

// Printable-ASCII copy of library text that may echo input bytes.
std::string sanitize(std::string_view s, std::size_t limit) {
  std::string out;
  for (const char c : s) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  return out;
}

std::string_view jsonKind(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "float";
    case json::value_t::binary:
      return "binary";
    case json::value_t::discarded:
      return "discarded";
  }
  return "unknown";
}

std::string_view baseName(BaseType base) {
  switch (base) {
    case BaseType::kString:
      return "string";
    case BaseType::kInteger:
    case BaseType::kLong:
      return "integer";
    case BaseType::kFloat:
      return "number";
    case BaseType::kBoolean:
      return "boolean";
    case BaseType::kJson:
      return "any JSON value";
    case BaseType::kObject:
      return "object";
  }
  return "?";
}

std::string expected(const AttributeSpec& a) {
  const std::string_view detail = a.base == BaseType::kObject ? std::string_view(a.object->name) : a.type;
  return fmt::format("{} ({})", baseName(a.base), detail);
}

// The value of a JSON integer as int64, or nullopt when it is above INT64_MAX.
std::optional<std::int64_t> asInt64(const json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  return v.get<std::int64_t>();
}

std::string integerText(const json& v) {
  return v.is_number_unsigned() ? std::to_string(v.get<std::uint64_t>())
                                : std::to_string(v.get<std::int64_t>());
}

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// Present and not null, following a dotted constraint path.
bool present(const json& object, const std::vector<std::string>& path) {
  const json* cur = &object;
  for (const auto& part : path) {
    cur = member(*cur, part);
    if (!cur) return false;
  }
  return !cur->is_null();
}

// Keeps the path of the value being looked at; appends and truncates, never reallocates per step
// once warmed up.
class PathBuilder {
 public:
  PathBuilder() : path_("$") {}
  std::size_t pushKey(std::string_view key) {
    const auto mark = path_.size();
    if (isIdentifier(key)) {
      path_ += '.';
      path_ += key;
    } else {
      path_ += '[';
      path_ += jsonQuoted(key);
      path_ += ']';
    }
    return mark;
  }
  std::size_t pushIndex(std::size_t i) {
    const auto mark = path_.size();
    path_ += fmt::format("[{}]", i);
    return mark;
  }
  void pop(std::size_t mark) { path_.resize(mark); }
  const std::string& str() const { return path_; }

 private:
  std::string path_;
};

// One event's walk: the profiles it declares and the problems found so far.
class Walker {
 public:
  Walker(ProfileMask declared, std::vector<Problem>& out) : declared_(declared), out_(out) {}

  void walkObject(const ObjectSpec& spec, const json& object, int depth) {
    for (auto it = object.begin(); it != object.end(); ++it) {
      const std::string& key = it.key();
      const auto mark = path_.pushKey(key);
      const AttributeSpec* attr = spec.find(key);
      if (!attr) {
        report(fmt::format("unknown attribute {}: {} {} does not define it", quoteName(key),
                           spec.is_class ? "class" : "object", spec.name));
      } else if (attr->profiles != 0 && (attr->profiles & declared_) == 0) {
        report(fmt::format("attribute '{}' belongs to profile(s) {} which the event does not declare",
                           attr->name, fmt::join(attr->profile_names, ", ")));
      } else {
        walkValue(*attr, *it, depth);
      }
      path_.pop(mark);
    }

    for (const AttributeSpec* req : spec.required) {
      const bool in_scope = req->profiles == 0 || (req->profiles & declared_) != 0;
      if (!in_scope || object.contains(req->name)) continue;
      const auto mark = path_.pushKey(req->name);
      if (req->profiles == 0) {
        report(fmt::format("required attribute '{}' is missing", req->name));
      } else {
        report(fmt::format("required attribute '{}' is missing (required by profile {})", req->name,
                           fmt::join(req->profile_names, ", ")));
      }
      path_.pop(mark);
    }

    for (const Constraint& c : spec.constraints) {
      std::size_t found = 0;
      for (const auto& p : c.paths) found += present(object, p) ? 1 : 0;
      if (c.kind == Constraint::Kind::kAtLeastOne && found == 0) {
        report(fmt::format("at least one of {} is required ({} {})", c.text,
                           spec.is_class ? "class" : "object", spec.name));
      } else if (c.kind == Constraint::Kind::kJustOne && found != 1) {
        report(fmt::format("exactly one of {} is required, found {} ({} {})", c.text, found,
                           spec.is_class ? "class" : "object", spec.name));
      }
    }
  }

  void report(std::string message) { out_.push_back(Problem{path_.str(), std::move(message)}); }

 private:
  void walkValue(const AttributeSpec& attr, const json& value, int depth) {
    if (value.is_null()) {
      report("null value: omit the attribute instead");
      return;
    }
    if (!attr.is_array) {
      walkScalar(attr, value, depth);
      return;
    }
    if (!value.is_array()) {
      report(fmt::format("expected array of {}, got {}", expected(attr), jsonKind(value)));
      return;
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
      const auto mark = path_.pushIndex(i);
      if (value[i].is_null()) {
        report("null value: omit the attribute instead");
      } else {
        walkScalar(attr, value[i], depth);
      }
      path_.pop(mark);
    }
  }

  void walkScalar(const AttributeSpec& attr, const json& value, int depth) {
    const auto wrongType = [&] {
      report(fmt::format("expected {}, got {}", expected(attr), jsonKind(value)));
    };
    switch (attr.base) {
      case BaseType::kString:
        if (!value.is_string()) return wrongType();
        if (attr.max_len) {
          const auto n = value.get_ref<const std::string&>().size();
          if (n > *attr.max_len) {
            report(
                fmt::format("string of {} bytes is longer than {} allows ({})", n, attr.type, *attr.max_len));
          }
        }
        return;
      case BaseType::kInteger:
      case BaseType::kLong: {
        if (!value.is_number_integer()) return wrongType();
        const auto v = asInt64(value);
        if (attr.range && (!v || *v < attr.range->first || *v > attr.range->second)) {
          report(fmt::format("value {} is out of range {}..{} for {}", integerText(value), attr.range->first,
                             attr.range->second, attr.type));
        }
        if (!attr.int_enum.empty() &&
            (!v || !std::binary_search(attr.int_enum.begin(), attr.int_enum.end(), *v))) {
          const auto shown = std::min(attr.int_enum.size(), kMaxEnumListed);
          report(fmt::format("value {} is not in the enum of {} ({}{})", integerText(value), attr.name,
                             fmt::join(attr.int_enum.begin(),
                                       attr.int_enum.begin() + static_cast<std::ptrdiff_t>(shown), ", "),
                             shown < attr.int_enum.size() ? ", ..." : ""));
        }
        return;
      }
      case BaseType::kFloat:
        if (!value.is_number()) return wrongType();
        return;
      case BaseType::kBoolean:
        if (!value.is_boolean()) return wrongType();
        return;
      case BaseType::kJson:
        walkFreeForm(value, depth + 1);
        return;
      case BaseType::kObject:
        if (!value.is_object()) return wrongType();
        if (depth + 1 > kMaxDepth) {
          report(fmt::format("nested deeper than {} levels", kMaxDepth));
          return;
        }
        if (attr.object->free_form) {
          walkFreeForm(value, depth + 1);
        } else {
          walkObject(*attr.object, value, depth + 1);
        }
        return;
    }
  }

  // Anything goes except null; bounded depth.
  void walkFreeForm(const json& value, int depth) {
    if (value.is_null()) {
      report("null value: omit the attribute instead");
      return;
    }
    if (!value.is_structured()) return;
    if (depth > kMaxDepth) {
      report(fmt::format("nested deeper than {} levels", kMaxDepth));
      return;
    }
    if (value.is_object()) {
      for (auto it = value.begin(); it != value.end(); ++it) {
        const auto mark = path_.pushKey(it.key());
        walkFreeForm(*it, depth + 1);
        path_.pop(mark);
      }
    } else {
      for (std::size_t i = 0; i < value.size(); ++i) {
        const auto mark = path_.pushIndex(i);
        walkFreeForm(value[i], depth + 1);
        path_.pop(mark);
      }
    }
  }

  ProfileMask declared_;
  std::vector<Problem>& out_;
  PathBuilder path_;
};

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

}  // namespace

std::vector<Problem> Validator::validate(const json& event) const {
  std::vector<Problem> out;
  if (!event.is_object()) {
    out.push_back({"$", fmt::format("event is not a JSON object (got {})", jsonKind(event))});
    return out;
  }

  // The class decides everything else.
  const json* class_uid = member(event, "class_uid");
  if (!class_uid) {
    out.push_back({"$.class_uid", "required attribute 'class_uid' is missing"});
    return out;
  }
  if (!class_uid->is_number_integer()) {
    out.push_back({"$.class_uid", fmt::format("expected integer (integer_t), got {}", jsonKind(*class_uid))});
    return out;
  }
  const auto uid = asInt64(*class_uid);
  const ClassSpec* cls = uid ? schema_.findClass(*uid) : nullptr;
  if (!cls) {
    out.push_back({"$.class_uid", fmt::format("unknown class_uid {}: not a class of OCSF {}",
                                              integerText(*class_uid), schema_.version())});
    return out;
  }

  if (const json* category = member(event, "category_uid"); category && category->is_number_integer()) {
    const auto cat = asInt64(*category);
    if (!cat || *cat != cls->category_uid) {
      out.push_back({"$.category_uid",
                     fmt::format("category_uid {} does not match class {} ({}), whose category_uid is {}",
                                 integerText(*category), cls->uid, cls->body.name, cls->category_uid)});
    }
  }
  const json* type_uid = member(event, "type_uid");
  const json* activity = member(event, "activity_id");
  if (type_uid && type_uid->is_number_integer() && activity && activity->is_number_integer()) {
    const auto t = asInt64(*type_uid);
    const auto a = asInt64(*activity);
    // |activity_id| is bounded so the product cannot overflow.
    constexpr std::int64_t kBound = std::int64_t{1} << 40;
    if (a && *a > -kBound && *a < kBound) {
      const std::int64_t want = cls->uid * 100 + *a;
      if (!t || *t != want) {
        out.push_back({"$.type_uid", fmt::format("type_uid {} is not class_uid * 100 + activity_id = {}",
                                                 integerText(*type_uid), want)});
      }
    }
  }

  ProfileMask declared = 0;
  const json* metadata = member(event, "metadata");
  if (metadata && metadata->is_object()) {
    if (const json* version = member(*metadata, "version"); version && version->is_string()) {
      if (version->get_ref<const std::string&>() != schema_.version()) {
        out.push_back(
            {"$.metadata.version", fmt::format("expected \"{}\", got {}", schema_.version(),
                                               jsonQuoted(version->get_ref<const std::string&>()))});
      }
    }
    if (const json* profiles = member(*metadata, "profiles"); profiles && profiles->is_array()) {
      for (std::size_t i = 0; i < profiles->size(); ++i) {
        const json& p = (*profiles)[i];
        if (!p.is_string()) continue;  // the walk reports the type
        const auto& name = p.get_ref<const std::string&>();
        const auto bit = schema_.profileBit(name);
        const std::string path = fmt::format("$.metadata.profiles[{}]", i);
        if (!bit) {
          out.push_back({path, fmt::format("unknown profile {}", jsonQuoted(name))});
        } else if ((*bit & cls->profiles) == 0) {
          out.push_back({path, fmt::format("profile '{}' is not one class {} allows ({})", name,
                                           cls->body.name, fmt::join(cls->profile_names, ", "))});
        } else {
          declared |= *bit;
        }
      }
    }
  }

  Walker walker(declared, out);
  walker.walkObject(cls->body, event, 0);
  return out;
}

std::vector<Problem> Validator::validateLine(std::string_view line) const {
  if (isBlank(line)) return {{"$", "blank line: no event"}};
  const json doc = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return {{"$", describeParseFailure(line)}};
  try {
    return validate(doc);
  } catch (const json::exception& e) {  // defensive: every access in validate() is type-checked
    return {{"$", fmt::format("internal validator error: {}", sanitize(e.what(), 160))}};
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
    if (!problems.empty()) {
      ++summary.invalid;
      if (on_bad_line) on_bad_line(summary.events, problems);
    }
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

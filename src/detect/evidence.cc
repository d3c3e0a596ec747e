#include "detect/evidence.h"

#include <string_view>

#include "common/encoding.h"
#include "ocsf/enums.h"

namespace warden::detect {

ocsf::Value toValue(simdjson::dom::element e, size_t max_string_bytes) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      ocsf::Value::Object members;
      simdjson::dom::object object;
      if (e.get_object().get(object) != simdjson::SUCCESS) return {};
      for (const auto field : object) {
        if (field.value.is_null()) continue;
        members.emplace_back(std::string(field.key), toValue(field.value, max_string_bytes));
      }
      return ocsf::Value(std::move(members));
    }
    case simdjson::dom::element_type::ARRAY: {
      ocsf::Value::Array items;
      simdjson::dom::array array;
      if (e.get_array().get(array) != simdjson::SUCCESS) return {};
      for (const auto item : array) {
        if (item.is_null()) continue;
        items.push_back(toValue(item, max_string_bytes));
      }
      return ocsf::Value(std::move(items));
    }
    case simdjson::dom::element_type::STRING: {
      std::string_view s;
      if (e.get_string().get(s) != simdjson::SUCCESS) return {};
      if (s.size() <= max_string_bytes) return ocsf::Value(s);
      std::string cut(s.substr(0, utf8PrefixLength(s, max_string_bytes)));
      cut += "...";
      return ocsf::Value(std::move(cut));
    }
    case simdjson::dom::element_type::INT64: {
      int64_t v = 0;
      return e.get_int64().get(v) == simdjson::SUCCESS ? ocsf::Value(v) : ocsf::Value();
    }
    case simdjson::dom::element_type::UINT64: {
      uint64_t v = 0;
      return e.get_uint64().get(v) == simdjson::SUCCESS ? ocsf::Value(v) : ocsf::Value();
    }
    case simdjson::dom::element_type::DOUBLE: {
      double v = 0;
      return e.get_double().get(v) == simdjson::SUCCESS ? ocsf::Value(v) : ocsf::Value();
    }
    case simdjson::dom::element_type::BOOL: {
      bool v = false;
      return e.get_bool().get(v) == simdjson::SUCCESS ? ocsf::Value(v) : ocsf::Value();
    }
    default: return {};
  }
}

std::string stringAt(simdjson::dom::element object, std::string_view key) {
  std::string_view s;
  if (object[key].get_string().get(s) != simdjson::SUCCESS) return {};
  return std::string(s);
}

int64_t intAt(simdjson::dom::element object, std::string_view key, int64_t fallback) {
  int64_t v = 0;
  if (object[key].get_int64().get(v) != simdjson::SUCCESS) return fallback;
  return v;
}

uint8_t evidenceProfiles(simdjson::dom::element event) {
  simdjson::dom::array profiles;
  if (event.at_pointer("/metadata/profiles").get_array().get(profiles) != simdjson::SUCCESS) return 0;
  uint8_t bits = 0;
  for (const auto p : profiles) {
    std::string_view name;
    if (p.get_string().get(name) == simdjson::SUCCESS && name == "linux/linux_users") bits |= ocsf::kProfileLinuxUsers;
  }
  return bits;
}

ocsf::Value evidenceFrom(simdjson::dom::element event) {
  ocsf::Value ev = ocsf::Value::object();
  static constexpr std::string_view kKeys[] = {"actor", "api",          "connection_info", "dst_endpoint",
                                               "file",  "http_request", "http_response",   "process",
                                               "query", "src_endpoint"};
  for (const auto key : kKeys) {
    simdjson::dom::element member;
    if (event[key].get(member) != simdjson::SUCCESS || member.is_null()) continue;
    ocsf::Value v = toValue(member);
    if (!v.isEmptyForJson()) ev.set(key, std::move(v));
  }
  simdjson::dom::element metadata;
  const bool has_metadata = event["metadata"].get(metadata) == simdjson::SUCCESS;
  const std::string uid = has_metadata ? stringAt(metadata, "uid") : std::string();
  if (!uid.empty()) ev.set("uid", uid);
  const std::string type_name = stringAt(event, "type_name");
  if (!type_name.empty()) ev.set("name", type_name);
  // `data` is always there (the schema wants at least one evidence member): the sequence, 0 for an
  // event that was never sequenced.
  ocsf::Value data = ocsf::Value::object();
  const int64_t seq = has_metadata ? intAt(metadata, "sequence", 0) : 0;
  data.set("sequence", seq < 0 ? 0 : seq);
  const int64_t type_uid = intAt(event, "type_uid", -1);
  if (type_uid >= 0) data.set("type_uid", type_uid);
  ev.set("data", std::move(data));
  return ev;
}

}  // namespace warden::detect

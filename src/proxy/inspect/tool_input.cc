#include "proxy/inspect/tool_input.h"

#include "common/encoding.h"
#include "common/secret_shape.h"

namespace warden::proxy::inspect {

namespace {

using nlohmann::json;

constexpr size_t kMaxSummaryBytes = 256;
constexpr size_t kMaxValueBytes = 64;
constexpr int kMaxDepth = 64;

std::string dumpSafe(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string valueSummary(const json& v) {
  switch (v.type()) {
    case json::value_t::string: {
      const std::string& s = v.get_ref<const std::string&>();
      if (looksLikeSecret(s)) return std::string(kRedacted);
      if (s.size() <= kMaxValueBytes) return s;
      return s.substr(0, utf8PrefixLength(s, kMaxValueBytes)) + "... (" + std::to_string(s.size()) + " bytes)";
    }
    case json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, ignored] : v.items()) {
        (void)ignored;
        if (!first) out += ",";
        first = false;
        out += k;
        if (out.size() > kMaxValueBytes) {
          out += "...";
          break;
        }
      }
      return out + "}";
    }
    case json::value_t::array: return "[" + std::to_string(v.size()) + " items]";
    default: return dumpSafe(v);
  }
}

std::string cutSummary(std::string s) {
  if (s.size() <= kMaxSummaryBytes) return s;
  return s.substr(0, utf8PrefixLength(s, kMaxSummaryBytes - 3)) + "...";
}

json redactAt(const json& v, int depth) {
  if (depth > kMaxDepth) return json(std::string(kRedacted));
  switch (v.type()) {
    case json::value_t::string: {
      const std::string& s = v.get_ref<const std::string&>();
      return looksLikeSecret(s) ? json(std::string(kRedacted)) : json(redactSecrets(s));
    }
    case json::value_t::object: {
      json out = json::object();
      for (const auto& [k, child] : v.items()) {
        out[k] = isSecretKeyName(k) ? json(std::string(kRedacted)) : redactAt(child, depth + 1);
      }
      return out;
    }
    case json::value_t::array: {
      json out = json::array();
      for (const auto& child : v) out.push_back(redactAt(child, depth + 1));
      return out;
    }
    default: return v;
  }
}

}  // namespace

json redactJson(const json& document) { return redactAt(document, 0); }

std::string summarizeToolInput(const json& arguments, policy::ToolInputs level) {
  if (level == policy::ToolInputs::kNone || arguments.is_null()) return "";
  if (!arguments.is_object()) return cutSummary(valueSummary(arguments));
  std::string out;
  if (level == policy::ToolInputs::kKeys) {
    out = "keys:";
    bool first = true;
    for (const auto& [k, ignored] : arguments.items()) {
      (void)ignored;
      out += first ? " " : ", ";
      first = false;
      out += k;
      if (out.size() > kMaxSummaryBytes) break;
    }
    return cutSummary(std::move(out));
  }
  for (const auto& [k, v] : arguments.items()) {
    if (!out.empty()) out += " ";
    out += k;
    out += "=";
    out += isSecretKeyName(k) ? std::string(kRedacted) : valueSummary(v);
    if (out.size() > kMaxSummaryBytes) break;
  }
  return cutSummary(std::move(out));
}

std::string fullToolInput(const json& arguments, policy::ToolInputs level) {
  if (level != policy::ToolInputs::kFull || arguments.is_null()) return "";
  return dumpSafe(redactJson(arguments));
}

}  // namespace warden::proxy::inspect

#include "gateway/store/store.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "common/encoding.h"

namespace warden::gateway {
namespace {

using nlohmann::json;

// The string at `a`.`b` (and `c`), or "" when any step is missing or not of the right type.
std::string stringAt(const json& j, std::initializer_list<const char*> keys) {
  const json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object()) return {};
    auto it = cur->find(k);
    if (it == cur->end()) return {};
    cur = &*it;
  }
  return cur->is_string() ? cur->get<std::string>() : std::string();
}

}  // namespace

bool isValidSessionId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string_view shorthandKind(std::string_view shorthand) {
  const size_t colon = shorthand.find(':');
  if (colon == std::string_view::npos) return {};
  const std::string_view kind = shorthand.substr(0, colon);
  for (const char c : kind) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return {};
  }
  return kind;
}

Result<void> validateEvent(const StoredEvent& e) {
  if (!isValidSessionId(e.session_id)) {
    return invalidArgument("event session_id '" + e.session_id.substr(0, 64) +
                           "' is not 1..128 bytes of [A-Za-z0-9._:-]");
  }
  if (e.sequence == 0) return invalidArgument("event of session " + e.session_id + ": sequence must be >= 1");
  if (e.sequence > static_cast<uint64_t>(INT64_MAX)) {
    return invalidArgument("event of session " + e.session_id + ": sequence " + std::to_string(e.sequence) +
                           " is out of range");
  }
  const std::string where = "event " + e.session_id + "#" + std::to_string(e.sequence) + ": ";
  if (e.kind.empty()) return invalidArgument(where + "kind is empty");
  if (e.json.empty()) return invalidArgument(where + "json is empty");
  if (e.json.size() > kMaxEventBytes) {
    return invalidArgument(where + "json is " + std::to_string(e.json.size()) + " bytes, more than the " +
                           std::to_string(kMaxEventBytes) + " allowed");
  }
  if (e.json.find('\n') != std::string::npos) return invalidArgument(where + "json contains a newline");
  return okResult();
}

bool isRetainedForever(const StoredEvent& e) {
  if (e.sequence == 1) return true;
  if (e.class_uid != 1008) return false;
  if (e.kind == "LOG" && e.shorthand.find("CHECKPOINT") != std::string::npos) return true;
  if (e.kind == "LOG" && e.shorthand.rfind("LOG:DELETE", 0) == 0) return true;
  const json j = json::parse(e.json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  if (stringAt(j, {"activity_name"}) == "Checkpoint") return true;
  const auto u = j.find("unmapped");
  return u != j.end() && u->is_object() && (u->contains("checkpoint") || u->contains("retention"));
}

std::string stopReasonForRecord(std::string_view stop_reason) {
  stop_reason = stop_reason.substr(0, stop_reason.find('\0'));
  return std::string(stop_reason.substr(0, utf8PrefixLength(stop_reason, 256)));
}

Result<void> validateSettingWrite(std::string_view session, std::string_view key,
                                  const std::optional<std::string>& value, uint64_t revision) {
  if (key.empty() || key.size() > kMaxSettingKeyBytes) {
    return invalidArgument("setting key must be 1.." + std::to_string(kMaxSettingKeyBytes) + " bytes");
  }
  if (session.size() > kMaxSettingSessionBytes) {
    return invalidArgument("setting session is over " + std::to_string(kMaxSettingSessionBytes) + " bytes");
  }
  if (value && value->size() > kMaxSettingValueBytes) {
    return invalidArgument("value of setting '" + std::string(key) + "' is over " +
                           std::to_string(kMaxSettingValueBytes) + " bytes");
  }
  if (revision > static_cast<uint64_t>(INT64_MAX)) {
    return invalidArgument("config revision " + std::to_string(revision) + " is out of range");
  }
  return okResult();
}

Result<void> validateQuery(const EventQuery& q) {
  if (q.limit == 0 || q.limit > kMaxQueryLimit) {
    return invalidArgument("query limit " + std::to_string(q.limit) + " is outside 1.." +
                           std::to_string(kMaxQueryLimit));
  }
  if (q.session && !isValidSessionId(*q.session)) return invalidArgument("query session id is not valid");
  if (q.since_ms && q.until_ms && *q.since_ms > *q.until_ms) {
    return invalidArgument("query since (" + std::to_string(*q.since_ms) + ") is after until (" +
                           std::to_string(*q.until_ms) + ")");
  }
  if (q.after_sequence > static_cast<uint64_t>(INT64_MAX)) return invalidArgument("query after_sequence is out of range");
  if (q.after_sequence > 0 && !q.session) return invalidArgument("query after_sequence needs a session");
  for (const auto& [name, value] : {std::pair{"domain", &q.domain}, std::pair{"path", &q.path},
                                    std::pair{"package", &q.package}, std::pair{"stop_reason", &q.stop_reason}}) {
    if (*value && (*value)->empty()) return invalidArgument(std::string("query ") + name + " is empty");
  }
  for (const auto& k : q.kinds) {
    if (k.empty()) return invalidArgument("query kind is empty");
  }
  return okResult();
}

bool isValidSightingKey(std::string_view key) {
  if (key.size() != 64) return false;
  for (const char c : key) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<void> validateExportCursors(std::string_view export_name,
                                   const std::vector<std::pair<std::string, uint64_t>>& cursors) {
  if (export_name.empty() || export_name.size() > kMaxSettingKeyBytes) {
    return invalidArgument("an export cursor needs an export name of 1-256 bytes");
  }
  for (const auto& [session, sequence] : cursors) {
    if (!isValidSessionId(session)) return invalidArgument("export cursor: invalid session id");
    if (sequence > static_cast<uint64_t>(INT64_MAX)) return invalidArgument("export cursor: sequence out of range");
  }
  return okResult();
}

}  // namespace warden::gateway

#pragma once

// The reference extractFacts(): a full nlohmann parse of the event's JSON, then lookups — what the
// store did before its streaming scanner (src/gateway/store/event_facts.cc). The unit test and the
// stored_event_facts fuzz target check that the scanner answers exactly this for every input.

#include <nlohmann/json.hpp>

#include <climits>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "gateway/store/store.h"

namespace warden::testing {

namespace facts_reference {

using nlohmann::json;

inline std::string stringAt(const json& j, std::initializer_list<const char*> keys) {
  const json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object()) return {};
    auto it = cur->find(k);
    if (it == cur->end()) return {};
    cur = &*it;
  }
  return cur->is_string() ? cur->get<std::string>() : std::string();
}

inline int64_t intAt(const json& j, std::initializer_list<const char*> keys) {
  const json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object()) return 0;
    auto it = cur->find(k);
    if (it == cur->end()) return 0;
    cur = &*it;
  }
  if (cur->is_number_integer()) return cur->get<int64_t>();
  if (cur->is_number_unsigned()) return static_cast<int64_t>(cur->get<uint64_t>());
  return 0;
}

}  // namespace facts_reference

using gateway::StoredEvent;

inline StoredEvent extractFactsReference(StoredEvent e) {
  using namespace facts_reference;
  const json j = json::parse(e.json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return e;
  if (e.class_uid == 0) e.class_uid = static_cast<int>(intAt(j, {"class_uid"}));
  if (e.severity_id == 0) e.severity_id = static_cast<int>(intAt(j, {"severity_id"}));
  if (e.time_ms == 0) e.time_ms = intAt(j, {"time"});
  if (e.sequence == 0) {
    const int64_t seq = intAt(j, {"metadata", "sequence"});
    if (seq > 0) e.sequence = static_cast<uint64_t>(seq);
  }
  if (e.session_id.empty()) e.session_id = stringAt(j, {"metadata", "correlation_uid"});
  if (e.domain.empty()) {
    for (auto keys : {std::initializer_list<const char*>{"dst_endpoint", "domain"},
                      std::initializer_list<const char*>{"http_request", "url", "hostname"},
                      std::initializer_list<const char*>{"query", "hostname"},
                      std::initializer_list<const char*>{"dst_endpoint", "hostname"}}) {
      e.domain = stringAt(j, keys);
      if (!e.domain.empty()) break;
    }
  }
  if (e.path.empty()) e.path = stringAt(j, {"file", "path"});
  const bool pkg = e.kind == "PKG" || (j.contains("unmapped") && j["unmapped"].is_object() &&
                                       j["unmapped"].contains("package") && j.contains("app"));
  if (e.package.empty() && pkg) e.package = stringAt(j, {"app", "name"});
  if (e.package.empty() && e.kind == "TOOL" && !stringAt(j, {"api", "operation"}).empty()) {
    e.package = "tool:" + stringAt(j, {"api", "operation"});
  }
  const bool session = e.kind == "SESSION" || (e.kind.empty() && stringAt(j, {"app", "name"}) == "warden-session");
  if (session && intAt(j, {"activity_id"}) == 4) {
    e.session_stop = true;
    if (e.stop_reason.empty()) e.stop_reason = stringAt(j, {"status_detail"});
    if (!e.exit_code) {
      const auto u = j.find("unmapped");
      if (u != j.end() && u->is_object()) {
        const auto code = u->find("exit_code");
        if (code != u->end() && code->is_number_integer()) {
          const int64_t v = code->get<int64_t>();
          if (v >= INT32_MIN && v <= INT32_MAX) e.exit_code = static_cast<int>(v);
        }
      }
    }
  }
  return e;
}


// Every field extractFacts() fills, equal.
inline bool sameFacts(const gateway::StoredEvent& a, const gateway::StoredEvent& b) {
  return a.session_id == b.session_id && a.sequence == b.sequence && a.time_ms == b.time_ms &&
         a.class_uid == b.class_uid && a.severity_id == b.severity_id && a.kind == b.kind && a.json == b.json &&
         a.shorthand == b.shorthand && a.domain == b.domain && a.path == b.path && a.package == b.package &&
         a.stop_reason == b.stop_reason && a.session_stop == b.session_stop && a.exit_code == b.exit_code;
}

}  // namespace warden::testing

#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "gateway/store/store.h"

namespace warden::gateway {

// A bound SQL parameter: an integer or a byte string.
struct SqlParam {
  bool is_int = false;
  int64_t i = 0;
  std::string s;
  bool literal = false;  // `s` is in the server's text input syntax (a PostgreSQL array literal)
  static SqlParam integer(int64_t v) { return SqlParam{true, v, {}, false}; }
  static SqlParam text(std::string v) { return SqlParam{false, 0, std::move(v), false}; }
  static SqlParam literalText(std::string v) { return SqlParam{false, 0, std::move(v), true}; }
};

// ---- Schema 3 (docs/gateway-store.md "Schema"): what both backends share ---------------------------
//
// `streams (sid, session_id, contiguous, bytes)`: one row per session with events, its small integer
// key `sid`, the acknowledged high-water mark and the stored JSON bytes.
// `event_rows (sid, seq, time_ms, class_uid, severity_id, kind, keep, bytes, dict, body, shorthand,
// domain, path, package, stop_reason)`, primary key (sid, seq); indexes (sid, time_ms) and (time_ms);
// the facts are columns (NULL when none), not indexed.
// `session_facts (fact, value, sid, events)`: how many stored events of session `sid` carry the fact.
// `event_dicts (id, dict, created_ms)`: the zstd dictionaries bodies are compressed with.

// The fact kinds as session_facts numbers them.
enum class FactKind : int { kDomain = 1, kPath = 2, kPackage = 3, kStopReason = 4 };

// Counts of events per (fact, value, sid) added (+) or removed (-) by one append or deletion.
using FactCounts = std::map<std::tuple<int, std::string, int64_t>, int64_t>;
void countFacts(FactCounts& counts, int64_t sid, std::string_view domain, std::string_view path,
                std::string_view package, std::string_view stop_reason, int64_t delta);

// The conditions of `q` on event_rows other than the session and paging (time window, kinds,
// severity, facts), each prefixed with " AND ", and their parameters, numbered from
// `first_param` with `placeholder(n)` ("?n", "$n"). An empty fact value matches nothing. Pure.
struct SqlFilter {
  std::string where;
  std::vector<SqlParam> params;
};
SqlFilter rowFilter(const EventQuery& q, const std::function<std::string(size_t)>& placeholder, size_t first_param);

// The facts `q` filters on, as (kind, value), in a fixed order.
std::vector<std::pair<FactKind, std::string>> factFilters(const EventQuery& q);
// True when `q` is "which sessions have fact F" and nothing else: session_facts answers it alone.
bool isSingleFactQuestion(const EventQuery& q);

// The columns query() reads, after sid: in this order.
inline constexpr const char* kRowColumns =
    "seq, time_ms, class_uid, severity_id, kind, dict, body, shorthand, domain, path, package, stop_reason";

}  // namespace warden::gateway

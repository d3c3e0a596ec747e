#pragma once

#include <cstdint>
#include <functional>
#include <string>
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

// The WHERE clause of an EventQuery (without "WHERE"; "TRUE" when it has no filter) and its
// parameters, for both backends: `placeholder(n)` writes the n-th (1-based) parameter ("?1", "$1").
// The fact filters repeat the partial indexes' predicate (`domain <> ''`) so both planners can use
// them with a bound value. Pure; the query must have passed validateQuery().
struct SqlFilter {
  std::string where;
  std::vector<SqlParam> params;
};
SqlFilter eventFilter(const EventQuery& q, const std::function<std::string(size_t)>& placeholder,
                      bool with_after_sequence);

// sessionsMatching()'s statement for a filter made by eventFilter(q, ...): the session ids with a
// matching event, in order. A filter of exactly one fact (domain, path, package or stop reason) and
// nothing else is a loose index scan over the fact's (fact, session_id) index — one probe per
// matching session instead of one step per matching event (pypi.org over 10M events: 1.5 s → 0.1 s
// cold on SQLite, 2 s → 15 ms warm on PostgreSQL; BENCHMARKS.md); any other filter is a DISTINCT.
std::string sessionsMatchingSql(const EventQuery& q, const SqlFilter& f);

// The columns query() reads, in StoredEvent order.
inline constexpr const char* kEventColumns =
    "session_id, sequence, time_ms, class_uid, severity_id, kind, json, shorthand, domain, path, package, "
    "stop_reason";

// The retention predicate both backends use: deletable when not kept forever and acknowledged (at or
// below the session's contiguous high-water mark), so retention never opens a gap that append()
// would wait on.
inline constexpr const char* kRetentionDeletable =
    "keep = 0 AND sequence <= (SELECT p.contiguous FROM session_progress p WHERE p.session_id = "
    "events.session_id)";

}  // namespace warden::gateway

#include "gateway/store/query_sql.h"

namespace warden::gateway {

SqlFilter eventFilter(const EventQuery& q, const std::function<std::string(size_t)>& placeholder,
                      bool with_after_sequence) {
  SqlFilter f;
  std::vector<std::string> terms;
  auto bind = [&](SqlParam p) {
    f.params.push_back(std::move(p));
    return placeholder(f.params.size());
  };
  if (q.session) terms.push_back("session_id = " + bind(SqlParam::text(*q.session)));
  if (q.since_ms) terms.push_back("time_ms >= " + bind(SqlParam::integer(*q.since_ms)));
  if (q.until_ms) terms.push_back("time_ms < " + bind(SqlParam::integer(*q.until_ms)));
  if (!q.kinds.empty()) {
    std::string in = "kind IN (";
    for (size_t i = 0; i < q.kinds.size(); ++i) in += (i ? ", " : "") + bind(SqlParam::text(q.kinds[i]));
    terms.push_back(in + ")");
  }
  if (q.min_severity) terms.push_back("severity_id >= " + bind(SqlParam::integer(*q.min_severity)));
  const std::pair<const char*, const std::optional<std::string>*> facts[] = {
      {"domain", &q.domain}, {"path", &q.path}, {"package", &q.package}, {"stop_reason", &q.stop_reason}};
  for (const auto& [column, value] : facts) {
    if (*value) terms.push_back(std::string(column) + " = " + bind(SqlParam::text(**value)) + " AND " + column + " <> ''");
  }
  if (with_after_sequence && q.after_sequence > 0) {
    terms.push_back("sequence > " + bind(SqlParam::integer(static_cast<int64_t>(q.after_sequence))));
  }
  if (terms.empty()) {
    f.where = "TRUE";
  } else {
    for (size_t i = 0; i < terms.size(); ++i) f.where += (i ? " AND " : "") + terms[i];
  }
  return f;
}

std::string sessionsMatchingSql(const EventQuery& q, const SqlFilter& f) {
  const int facts = (q.domain ? 1 : 0) + (q.path ? 1 : 0) + (q.package ? 1 : 0) + (q.stop_reason ? 1 : 0);
  const bool one_fact_only = facts == 1 && !q.session && !q.since_ms && !q.until_ms && q.kinds.empty() && !q.min_severity;
  if (!one_fact_only) return "SELECT DISTINCT session_id FROM events WHERE " + f.where + " ORDER BY session_id";
  // The filter's placeholders are used twice; both backends bind a numbered parameter wherever it
  // appears.
  return "WITH RECURSIVE s(id) AS (SELECT MIN(session_id) FROM events WHERE " + f.where +
         " UNION ALL SELECT (SELECT MIN(session_id) FROM events WHERE " + f.where +
         " AND session_id > s.id) FROM s WHERE s.id IS NOT NULL) SELECT id FROM s WHERE id IS NOT NULL ORDER BY id";
}

}  // namespace warden::gateway

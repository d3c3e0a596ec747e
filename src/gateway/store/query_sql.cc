#include "gateway/store/query_sql.h"

namespace warden::gateway {

void countFacts(FactCounts& counts, int64_t sid, std::string_view domain, std::string_view path,
                std::string_view package, std::string_view stop_reason, int64_t delta) {
  const std::pair<FactKind, std::string_view> facts[] = {{FactKind::kDomain, domain},
                                                         {FactKind::kPath, path},
                                                         {FactKind::kPackage, package},
                                                         {FactKind::kStopReason, stop_reason}};
  for (const auto& [kind, value] : facts) {
    if (value.empty()) continue;
    counts[{static_cast<int>(kind), std::string(value), sid}] += delta;
  }
}

std::vector<std::pair<FactKind, std::string>> factFilters(const EventQuery& q) {
  std::vector<std::pair<FactKind, std::string>> out;
  if (q.domain) out.emplace_back(FactKind::kDomain, *q.domain);
  if (q.path) out.emplace_back(FactKind::kPath, *q.path);
  if (q.package) out.emplace_back(FactKind::kPackage, *q.package);
  if (q.stop_reason) out.emplace_back(FactKind::kStopReason, *q.stop_reason);
  return out;
}

bool isSingleFactQuestion(const EventQuery& q) {
  return factFilters(q).size() == 1 && !q.since_ms && !q.until_ms && q.kinds.empty() && !q.min_severity;
}

SqlFilter rowFilter(const EventQuery& q, const std::function<std::string(size_t)>& placeholder, size_t first_param) {
  SqlFilter f;
  auto bind = [&](SqlParam p) {
    f.params.push_back(std::move(p));
    return placeholder(first_param + f.params.size() - 1);
  };
  if (q.since_ms) f.where += " AND time_ms >= " + bind(SqlParam::integer(*q.since_ms));
  if (q.until_ms) f.where += " AND time_ms < " + bind(SqlParam::integer(*q.until_ms));
  if (!q.kinds.empty()) {
    std::string in = " AND kind IN (";
    for (size_t i = 0; i < q.kinds.size(); ++i) in += (i ? ", " : "") + bind(SqlParam::text(q.kinds[i]));
    f.where += in + ")";
  }
  if (q.min_severity) f.where += " AND severity_id >= " + bind(SqlParam::integer(*q.min_severity));
  const std::pair<const char*, const std::optional<std::string>*> facts[] = {
      {"domain", &q.domain}, {"path", &q.path}, {"package", &q.package}, {"stop_reason", &q.stop_reason}};
  for (const auto& [column, value] : facts) {
    if (!*value) continue;
    if ((*value)->empty()) {
      f.where += " AND FALSE";  // an absent fact is NULL: nothing has the empty value
    } else {
      f.where += std::string(" AND ") + column + " = " + bind(SqlParam::text(**value));
    }
  }
  return f;
}

}  // namespace warden::gateway

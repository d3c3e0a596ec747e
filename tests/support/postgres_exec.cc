#include "support/postgres_exec.h"

#include <libpq-fe.h>

namespace warden::testing {

PostgresOutcome execPostgres(const std::string& url, const std::string& sql) {
  PostgresOutcome out;
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    out.message = PQerrorMessage(conn);
    PQfinish(conn);
    return out;
  }
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  PGresult* r = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(r);
  out.ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  out.message = PQresultErrorMessage(r);
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j), static_cast<size_t>(PQgetlength(r, i, j)));
    out.rows.push_back(std::move(row));
  }
  PQclear(r);
  PQfinish(conn);
  return out;
}

}  // namespace warden::testing

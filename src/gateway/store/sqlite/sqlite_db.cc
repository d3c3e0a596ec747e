#include "gateway/store/sqlite/sqlite_db.h"

namespace warden::gateway::sqlite {

Error sqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return unavailable(msg + " (the database is locked by another connection past the busy timeout; retry)");
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
      return unavailable(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return dataLoss(msg);
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return resourceExhausted(msg);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return permissionDenied(msg);
    default:
      return internalError(msg);
  }
}

Result<Statement> Statement::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return sqliteError(db, rc, "prepare");
  return Statement(db, stmt);
}

void Statement::bind(int index, const SqlParam& p) {
  if (p.is_int) {
    bind(index, p.i);
  } else {
    bind(index, std::string_view(p.s));
  }
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqliteError(db_, rc, "step");
}

std::string Statement::text(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  const int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(p, static_cast<size_t>(n)) : std::string();
}

Result<void> exec(sqlite3* db, const char* sql, std::string_view what) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    return sqliteError(db, rc, what);
  }
  return okResult();
}

}  // namespace warden::gateway::sqlite

#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "gateway/store/query_sql.h"

namespace warden::gateway::sqlite {

// Maps an SQLite result code to a canonical error: BUSY/LOCKED (past the busy timeout) and
// CANTOPEN -> Unavailable, CORRUPT/NOTADB -> DataLoss, FULL/NOMEM -> ResourceExhausted,
// anything else -> Internal. The message is "<what>: <sqlite message>".
Error sqliteError(sqlite3* db, int rc, std::string_view what);

// One prepared statement, finalized on destruction. Borrows `db`, which must outlive it.
// Not thread-safe (used under the store's mutex).
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }

  static Result<Statement> prepare(sqlite3* db, std::string_view sql);
  void bind(int index, int64_t v) { sqlite3_bind_int64(stmt_, index, v); }
  void bind(int index, std::string_view v) {
    sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind(int index, const SqlParam& p);
  // Binds bytes the caller keeps alive until the next reset() (no copy): a BLOB, or TEXT.
  void bindBlobStatic(int index, std::string_view v) {
    sqlite3_bind_blob(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void bindTextStatic(int index, std::string_view v) {
    sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  // NULL for an empty value, else the text (the stores keep absent facts as NULL).
  void bindTextOrNull(int index, std::string_view v) {
    if (v.empty()) {
      sqlite3_bind_null(stmt_, index);
    } else {
      bindTextStatic(index, v);
    }
  }
  // true: a row is ready; false: done. Errors mapped with sqliteError.
  Result<bool> step();
  void reset() { sqlite3_reset(stmt_); sqlite3_clear_bindings(stmt_); }
  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const;  // TEXT or BLOB bytes, exactly
  std::string_view view(int col) const {  // valid until the next step()/reset()
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string_view();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// Runs one or more statements without results.
Result<void> exec(sqlite3* db, const char* sql, std::string_view what);

}  // namespace warden::gateway::sqlite

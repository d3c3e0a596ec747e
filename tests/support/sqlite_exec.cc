#include "support/sqlite_exec.h"

#include <sqlite3.h>

namespace warden::testing {

SqliteOutcome execSqlite(const std::filesystem::path& file, const std::string& statement) {
  SqliteOutcome out;
  sqlite3* db = nullptr;
  out.rc = sqlite3_open(file.c_str(), &db);
  if (out.rc != SQLITE_OK) {
    out.message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return out;
  }
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  out.rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error);
  out.message = error != nullptr ? error : "";
  sqlite3_free(error);
  out.changed = sqlite3_changes(db);
  sqlite3_close(db);
  return out;
}

}  // namespace warden::testing

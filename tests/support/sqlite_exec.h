#pragma once

#include <filesystem>
#include <string>

namespace warden::testing {

// One SQL statement run on an SQLite file from a connection of its own (5 s busy timeout), as a
// test tampering with a gateway's store does: SQLite's result code (of the open, when that fails),
// its message, and how many rows the statement changed.
struct SqliteOutcome {
  int rc = 0;
  std::string message;
  int changed = 0;
};
SqliteOutcome execSqlite(const std::filesystem::path& file, const std::string& statement);

}  // namespace warden::testing

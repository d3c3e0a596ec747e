#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include "common/result.h"
#include "gateway/store/store.h"

namespace warden::gateway {

struct SqliteOptions {
  // How long a write waits for another connection's write transaction before giving up with
  // Unavailable (callers retry).
  std::chrono::milliseconds busy_timeout{5000};
};

// Opens (creating if needed) the SQLite store in `file`: WAL journal (readers never block the
// writer), synchronous=FULL (every commit is fsynced before append() returns, so an acknowledged
// event survives a power cut, not just a crash of the gateway), busy_timeout from `options`.
// Call migrate() before use. The returned store serialises calls on one connection (thread-safe).
// Unavailable when the file cannot be opened, DataLoss when it is not a database.
Result<std::unique_ptr<EventStore>> openSqliteStore(const std::filesystem::path& file,
                                                    const SqliteOptions& options);
Result<std::unique_ptr<EventStore>> openSqliteStore(const std::filesystem::path& file);

}  // namespace warden::gateway

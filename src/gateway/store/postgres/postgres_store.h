#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "gateway/store/store.h"

namespace warden::gateway {

// Connects to the PostgreSQL store at `url` (postgresql://user[:password]@host[:port]/db[?...];
// connect_timeout defaults to 5 s unless the URL sets it). Several gateways may share one database:
// migrations take an advisory lock, append() locks each session's progress row. Every commit is
// durable as the server is configured (synchronous_commit on by default). Call migrate() before use.
// The store serialises calls on one connection (thread-safe) and reconnects on the next call after
// the server went away. Unavailable when the server cannot be reached.
Result<std::unique_ptr<EventStore>> openPostgresStore(const std::string& url);

}  // namespace warden::gateway

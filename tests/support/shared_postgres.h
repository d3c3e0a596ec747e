#pragma once

#include <memory>
#include <string>

#include "support/postgres_server.h"

namespace warden::testing {

// One PostgreSQL server for a whole test binary: started on first use, stopped when the run ends
// (a gtest Environment registered with this file). `server` is null, and `why` says why, when it
// cannot start (tests then GTEST_SKIP with it). Tests number their fresh databases with next_db.
struct SharedPostgres {
  std::unique_ptr<PostgresServer> server;
  std::string why;
  int next_db = 0;
};
SharedPostgres& sharedPostgres();

}  // namespace warden::testing

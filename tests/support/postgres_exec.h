#pragma once

#include <string>
#include <vector>

namespace warden::testing {

// SQL run on a PostgreSQL database from a connection of its own (the simple protocol: a script of
// several statements is fine), as a test setting up or inspecting a gateway's store does: whether
// it worked, the server's message when not, and the last statement's rows as text (NULL as "").
struct PostgresOutcome {
  bool ok = false;
  std::string message;
  std::vector<std::vector<std::string>> rows;
};
PostgresOutcome execPostgres(const std::string& url, const std::string& sql);

}  // namespace warden::testing

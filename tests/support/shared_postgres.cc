#include "support/shared_postgres.h"

#include <gtest/gtest.h>

namespace warden::testing {

SharedPostgres& sharedPostgres() {
  static SharedPostgres* shared = [] {
    auto* s = new SharedPostgres();
    s->server = PostgresServer::start(&s->why);
    return s;
  }();
  return *shared;
}

namespace {

class StopSharedPostgres : public ::testing::Environment {
 public:
  void TearDown() override { sharedPostgres().server.reset(); }
};
const auto* const kStopSharedPostgres = ::testing::AddGlobalTestEnvironment(new StopSharedPostgres);

}  // namespace
}  // namespace warden::testing

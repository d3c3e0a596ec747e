// ConnectionRegistry: which connections a policy swap closes, closeAll, and that a close never
// reaches a connection that has already gone.

#include "proxy/server/connection_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "server_test_util.h"

namespace warden::proxy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Closed {
  std::vector<std::string> reasons;
  ConnectionRegistry::CloseFn fn() {
    return [this](const std::string& r) { reasons.push_back(r); };
  }
};

RegisteredTarget target(uint16_t port, std::string rule = "local") {
  return RegisteredTarget{std::move(rule), "127.0.0.1", port, "/usr/bin/curl", {}};
}

TEST(ConnectionRegistryTest, RecheckClosesOnlyConnectionsTheNewPolicyNoLongerAllows) {
  boost::asio::io_context io;
  ConnectionRegistry registry;
  Closed kept, dropped, undecided;
  auto a = registry.add(io.get_executor(), kept.fn());
  a.setTarget(target(1000));
  auto b = registry.add(io.get_executor(), dropped.fn());
  b.setTarget(target(2000, "old"));
  auto c = registry.add(io.get_executor(), undecided.fn());  // not decided yet: never re-checked
  EXPECT_EQ(registry.size(), 3u);

  const auto next = testutil::policyFrom(testutil::loopbackPolicy(1000));
  EXPECT_EQ(registry.recheck(*next), 1u);
  EXPECT_TRUE(dropped.reasons.empty());  // posted, not run on the caller's thread
  io.run();
  EXPECT_TRUE(kept.reasons.empty());
  EXPECT_TRUE(undecided.reasons.empty());
  ASSERT_EQ(dropped.reasons.size(), 1u);
  EXPECT_THAT(dropped.reasons[0], HasSubstr("rule old removed or changed on policy reload"));
  EXPECT_THAT(dropped.reasons[0], HasSubstr("no policy allows 127.0.0.1:2000"));
}

TEST(ConnectionRegistryTest, ACloseForAConnectionThatEndedMeanwhileIsDropped) {
  boost::asio::io_context io;
  ConnectionRegistry registry;
  Closed closed;
  {
    auto handle = registry.add(io.get_executor(), closed.fn());
    handle.setTarget(target(2000));
    EXPECT_EQ(registry.recheck(*testutil::policyFrom(testutil::loopbackPolicy(1000))), 1u);
  }  // the connection ends before its executor runs the close
  EXPECT_EQ(registry.size(), 0u);
  io.run();
  EXPECT_TRUE(closed.reasons.empty());
}

TEST(ConnectionRegistryTest, CloseAllClosesEveryConnectionOnceAndEveryLaterOne) {
  boost::asio::io_context io;
  ConnectionRegistry registry;
  Closed first, second, late;
  auto a = registry.add(io.get_executor(), first.fn());
  auto b = registry.add(io.get_executor(), second.fn());
  b.setTarget(target(2000));
  EXPECT_EQ(registry.closeAll("stopping"), 2u);
  // A re-check after closeAll does not close anything twice.
  registry.recheck(*testutil::policyFrom(testutil::loopbackPolicy(1000)));
  auto c = registry.add(io.get_executor(), late.fn());
  io.run();
  EXPECT_THAT(first.reasons, ElementsAre("stopping"));
  EXPECT_THAT(second.reasons, ElementsAre("stopping"));
  EXPECT_THAT(late.reasons, ElementsAre("stopping"));
}

TEST(ConnectionRegistryTest, MovedHandleUnregistersOnce) {
  boost::asio::io_context io;
  ConnectionRegistry registry;
  Closed closed;
  ConnectionRegistry::Handle outer;
  {
    auto inner = registry.add(io.get_executor(), closed.fn());
    outer = std::move(inner);
    EXPECT_FALSE(inner.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  }
  EXPECT_EQ(registry.size(), 1u);
  outer = ConnectionRegistry::Handle();
  EXPECT_EQ(registry.size(), 0u);
}

TEST(PolicyStoreListenerTest, ListenersHearEverySwapWithTheNewGenerationUntilRemoved) {
  policy::PolicyStore store;
  std::vector<uint64_t> seen;
  const uint64_t id = store.addListener([&](const std::shared_ptr<const policy::Policy>& p, uint64_t generation) {
    EXPECT_EQ(p, store.current());  // already in force
    seen.push_back(generation);
  });
  store.swap(testutil::policyFrom(testutil::loopbackPolicy(1000)));
  store.swap(nullptr);  // ignored: no swap, no call
  store.swap(testutil::policyFrom(testutil::loopbackPolicy(2000)));
  store.removeListener(id);
  store.swap(testutil::policyFrom(testutil::loopbackPolicy(3000)));
  EXPECT_THAT(seen, ElementsAre(2u, 3u));
}

}  // namespace
}  // namespace warden::proxy

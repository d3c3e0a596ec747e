#include "policy/snapshot.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "policy/engine.h"
#include "policy/loader.h"

namespace warden::policy {
namespace {

std::shared_ptr<const Policy> policyAllowing(const std::string& host) {
  auto p = loadPolicyText("version: 1\nnetwork:\n  r:\n    endpoints: [{host: " + host +
                              ", ports: [443]}]\n    binaries: [{path: '/**'}]\n",
                          host);
  EXPECT_TRUE(p.ok());
  return std::make_shared<const Policy>(std::move(p).value());
}

ConnectRequest to(const std::string& host) {
  return ConnectRequest{host, 443, "/usr/bin/curl", {}};
}

TEST(PolicyStoreTest, StartsWithAnEmptyPolicyThatAllowsNoEgress) {
  PolicyStore store;
  ASSERT_NE(store.current(), nullptr);
  EXPECT_TRUE(store.current()->network.empty());
  EXPECT_FALSE(decideConnect(*store.current(), to("a.example.com")).allowed());
  EXPECT_EQ(store.generation(), 1u);
  PolicyStore from_null(nullptr);
  EXPECT_NE(from_null.current(), nullptr);
}

TEST(PolicyStoreTest, SwapPutsTheNewPolicyInForceForLaterReaders) {
  PolicyStore store(policyAllowing("a.example.com"));
  const auto before = store.current();
  const auto previous = store.swap(policyAllowing("b.example.com"));
  EXPECT_EQ(previous, before);
  EXPECT_EQ(store.generation(), 2u);
  EXPECT_TRUE(decideConnect(*store.current(), to("b.example.com")).allowed());
  EXPECT_FALSE(decideConnect(*store.current(), to("a.example.com")).allowed());
}

TEST(PolicyStoreTest, HeldSnapshotAndItsEndpointsOutliveASwap) {
  PolicyStore store(policyAllowing("a.example.com"));
  const auto held = store.current();
  const Decision d = decideConnect(*held, to("a.example.com"));
  ASSERT_NE(d.endpoint, nullptr);
  store.swap(policyAllowing("b.example.com"));
  EXPECT_EQ(d.endpoint->host.pattern(), "a.example.com");  // still valid: `held` keeps it alive
  EXPECT_TRUE(decideConnect(*held, to("a.example.com")).allowed());
}

TEST(PolicyStoreTest, SwappingInNullKeepsThePolicyInForce) {
  PolicyStore store(policyAllowing("a.example.com"));
  const auto before = store.current();
  EXPECT_EQ(store.swap(nullptr), before);
  EXPECT_EQ(store.current(), before);
  EXPECT_EQ(store.generation(), 1u);
}

TEST(PolicyStoreTest, ConcurrentReadersAlwaysSeeAWholePolicy) {
  const auto a = policyAllowing("a.example.com");
  const auto b = policyAllowing("b.example.com");
  PolicyStore store(a);
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const auto p = store.current();
        const bool allows_a = decideConnect(*p, to("a.example.com")).allowed();
        const bool allows_b = decideConnect(*p, to("b.example.com")).allowed();
        if (allows_a == allows_b) ++torn;
      }
    });
  }
  for (int i = 0; i < 2000; ++i) store.swap(i % 2 ? a : b);
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(store.generation(), 2001u);
}

}  // namespace
}  // namespace warden::policy

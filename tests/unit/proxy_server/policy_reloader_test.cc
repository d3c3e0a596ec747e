// PolicyReloader: a valid file is swapped in with CONFIG:UPDATED; an invalid one leaves the
// previous policy in force and records CONFIG:FAILED with the errors; an unchanged file records
// nothing.

#include "proxy/server/policy_reloader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server_test_util.h"

namespace warden::proxy {
namespace {

using ::testing::HasSubstr;
using warden::testing::TempDir;
using warden::testing::writeFile;

struct ReloaderFixture {
  ReloaderFixture() : store(testutil::policyFrom(testutil::loopbackPolicy(1000, "first"))) {
    session.session_id = "reloader-unit";
    session.hostname = "test-host";
    writeFile(dir / "policy.yaml", testutil::loopbackPolicy(1000, "first"));
    auto r = PolicyReloader::create({.policy_file = dir / "policy.yaml", .watch_file = false}, store, emitter,
                                    session);
    EXPECT_TRUE(r.ok()) << r.error().toString();
    if (r.ok()) reloader = std::move(r).value();
  }
  TempDir dir;
  policy::PolicyStore store;
  testutil::CollectingEmitter emitter;
  ocsf::SessionContext session;
  std::unique_ptr<PolicyReloader> reloader;
};

TEST(PolicyReloaderTest, ValidFileIsSwappedInAndRecordedAsUpdated) {
  ReloaderFixture f;
  ASSERT_NE(f.reloader, nullptr);
  writeFile(f.dir / "policy.yaml", testutil::loopbackPolicy(2000, "second"));
  EXPECT_TRUE(f.reloader->reloadNow());
  EXPECT_EQ(f.store.generation(), 2u);
  ASSERT_EQ(f.store.current()->network.size(), 1u);
  EXPECT_EQ(f.store.current()->network[0].name, "second");
  const auto updated = f.emitter.find({"CONFIG:UPDATED"});
  ASSERT_TRUE(updated.has_value()) << f.emitter.allShorthand();
  EXPECT_EQ(testutil::schemaProblems(*updated), "");
  EXPECT_EQ(f.reloader->reloads(), 1u);
}

TEST(PolicyReloaderTest, InvalidFileKeepsThePreviousPolicyAndRecordsFailedWithTheErrors) {
  ReloaderFixture f;
  ASSERT_NE(f.reloader, nullptr);
  const auto before = f.store.current();
  writeFile(f.dir / "policy.yaml", "version: 1\nnetwork:\n  broken:\n    endpoints: 7\n");
  EXPECT_FALSE(f.reloader->reloadNow());
  EXPECT_EQ(f.store.current(), before);
  EXPECT_EQ(f.store.generation(), 1u);
  const auto failed = f.emitter.find({"CONFIG:FAILED"});
  ASSERT_TRUE(failed.has_value()) << f.emitter.allShorthand();
  EXPECT_THAT(failed->status_detail, HasSubstr("policy.yaml:3"));
  EXPECT_EQ(testutil::schemaProblems(*failed), "");
  EXPECT_EQ(f.reloader->failures(), 1u);
}

TEST(PolicyReloaderTest, UnchangedFileRecordsNothing) {
  ReloaderFixture f;
  ASSERT_NE(f.reloader, nullptr);
  EXPECT_FALSE(f.reloader->reloadNow());
  EXPECT_TRUE(f.emitter.events().empty()) << f.emitter.allShorthand();
  EXPECT_EQ(f.store.generation(), 1u);
}

TEST(PolicyReloaderTest, TriggerReloadsOnTheReloaderThread) {
  ReloaderFixture f;
  ASSERT_NE(f.reloader, nullptr);
  f.reloader->start();
  writeFile(f.dir / "policy.yaml", testutil::loopbackPolicy(2000, "second"));
  f.reloader->trigger();
  EXPECT_TRUE(warden::testing::waitFor([&] { return f.store.generation() == 2; }));
  f.reloader->stop();
  EXPECT_TRUE(f.emitter.find({"CONFIG:UPDATED"}).has_value());
}

}  // namespace
}  // namespace warden::proxy

// PolicySource over real files in a temp dir, with a hand-driven clock for the check interval.

#include "gateway/service/policy_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/encoding.h"
#include "support/test_env.h"

namespace warden::gateway {
namespace {

using ::testing::HasSubstr;
using warden::testing::TempDir;
using warden::testing::writeFile;

std::string policyFor(int port) {
  return "version: 1\nnetwork:\n  api:\n    endpoints: [{host: api.example.com, ports: [" + std::to_string(port) +
         "]}]\n    binaries: [{path: /usr/bin/curl}]\n";
}

class PolicySourceTest : public ::testing::Test {
 protected:
  void SetUp() override { writeFile(file_, policyFor(443)); }

  std::unique_ptr<PolicySource> open(std::chrono::milliseconds interval = std::chrono::milliseconds(1000)) {
    auto initial = PolicySource::load(file_);
    EXPECT_TRUE(initial.ok()) << initial.error().toString();
    initial->version = 1;
    PolicySourceOptions o;
    o.file = file_;
    o.check_interval = interval;
    o.clock = &clock_;
    o.on_change = [this](const ServedPolicy& next) -> Result<void> {
      if (fail_change_) return unavailable("database is locked");
      changes_.push_back(next.version);
      return okResult();
    };
    o.on_rejected = [this](const std::string& problems) { rejected_.push_back(problems); };
    return std::make_unique<PolicySource>(std::move(o), std::move(*initial));
  }

  TempDir dir_;
  std::filesystem::path file_ = dir_ / "policy.yaml";
  ManualClock clock_{1'000'000};
  bool fail_change_ = false;
  std::vector<uint64_t> changes_;
  std::vector<std::string> rejected_;
};

TEST_F(PolicySourceTest, LoadReturnsTheBytesAndTheirHash) {
  auto p = PolicySource::load(file_);
  ASSERT_TRUE(p.ok()) << p.error().toString();
  EXPECT_EQ(p->yaml, policyFor(443));
  EXPECT_EQ(p->hash, sha256Hex(policyFor(443)));
  EXPECT_EQ(p->version, 0u);
}

TEST_F(PolicySourceTest, LoadRefusesAnInvalidFileWithTheLoadersPositions) {
  writeFile(file_, "version: 1\nnetwork:\n  api:\n    endpoint: []\n");
  auto p = PolicySource::load(file_);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(p.error().message(), HasSubstr(file_.string() + ":4:5:"));
  auto missing = PolicySource::load(dir_ / "absent.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
}

TEST_F(PolicySourceTest, LooksAtTheFileAtMostOncePerInterval) {
  auto source = open();
  EXPECT_FALSE(source->maybeCheck());  // the first look: same bytes
  writeFile(file_, policyFor(8443));
  EXPECT_FALSE(source->maybeCheck()) << "within the interval the file is not looked at";
  EXPECT_EQ(source->current()->version, 1u);
  clock_.advanceMillis(999);
  EXPECT_FALSE(source->maybeCheck());
  clock_.advanceMillis(1);
  EXPECT_TRUE(source->maybeCheck());
  EXPECT_EQ(source->current()->version, 2u);
  EXPECT_EQ(source->current()->yaml, policyFor(8443));
  EXPECT_EQ(changes_, (std::vector<uint64_t>{2}));
}

TEST_F(PolicySourceTest, SameBytesAreNoChange) {
  auto source = open(std::chrono::milliseconds(0));
  writeFile(file_, policyFor(443));  // rewritten, same content
  EXPECT_FALSE(source->checkNow());
  EXPECT_EQ(source->current()->version, 1u);
  EXPECT_TRUE(changes_.empty());
}

TEST_F(PolicySourceTest, AnInvalidEditIsReportedOnceAndTheLastGoodPolicyStays) {
  auto source = open(std::chrono::milliseconds(0));
  writeFile(file_, "version: 1\nnetwork:\n  api:\n    endpoint: []\n");
  EXPECT_FALSE(source->checkNow());
  writeFile(file_, "version: 1\nnetwork:\n  api:\n    endpoint: []\n");  // touched again, same bad bytes
  EXPECT_FALSE(source->checkNow());
  ASSERT_EQ(rejected_.size(), 1u);
  EXPECT_THAT(rejected_[0], HasSubstr(file_.string() + ":4:5:"));
  EXPECT_EQ(source->current()->yaml, policyFor(443));
  EXPECT_EQ(source->current()->version, 1u);
  writeFile(file_, policyFor(8443));
  EXPECT_TRUE(source->checkNow());
  EXPECT_EQ(source->current()->version, 2u);
}

TEST_F(PolicySourceTest, AnUnreadableFileKeepsThePolicyAndIsReported) {
  auto source = open(std::chrono::milliseconds(0));
  std::filesystem::remove(file_);
  EXPECT_FALSE(source->checkNow());
  ASSERT_EQ(rejected_.size(), 1u);
  EXPECT_THAT(rejected_[0], HasSubstr("cannot open policy file"));
  EXPECT_EQ(source->current()->version, 1u);
  writeFile(file_, policyFor(8443));
  EXPECT_TRUE(source->checkNow());
}

TEST_F(PolicySourceTest, AFailedChangeHookKeepsTheOldPolicyAndIsRetried) {
  auto source = open(std::chrono::milliseconds(0));
  writeFile(file_, policyFor(8443));
  fail_change_ = true;
  EXPECT_FALSE(source->checkNow());
  EXPECT_EQ(source->current()->version, 1u);
  EXPECT_EQ(source->current()->yaml, policyFor(443));
  fail_change_ = false;
  EXPECT_TRUE(source->checkNow()) << "the same file is looked at again";
  EXPECT_EQ(source->current()->version, 2u);
}

TEST_F(PolicySourceTest, WithServedGivesThePolicyUnderTheChangeLock) {
  auto source = open(std::chrono::milliseconds(0));
  uint64_t seen = 0;
  source->withServed([&](const ServedPolicy& p) { seen = p.version; });
  EXPECT_EQ(seen, 1u);
}

}  // namespace
}  // namespace warden::gateway

#pragma once

// Fixtures for tests that run real `warden run` sessions: an agent-writable workspace (outside /tmp,
// which is private inside the sandbox) and an upstream host in a network namespace the test creates
// (never an outside address).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "support/child_process.h"
#include "support/test_env.h"

namespace warden::testing {

inline constexpr uid_t kAgentUid = 64000;  // the default agent user (src/sandbox/agent_user.h)

// A fresh directory under /var/tmp owned by the agent uid, removed with its contents on destruction.
class Workspace {
 public:
  Workspace();
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A host at 10.201.<k>.2 in its own network namespace, reached from this host through a veth whose
// host side is 10.201.<k>.1/30, running `python3 -m http.server` on port 8080 over a directory holding
// `status.json` ({"status":"ok"}). create() returns nullptr and *why when something fails; the
// destructor stops the server and deletes the namespace and the veth.
class UpstreamHost {
 public:
  static std::unique_ptr<UpstreamHost> create(std::string* why);
  ~UpstreamHost();
  UpstreamHost(const UpstreamHost&) = delete;
  UpstreamHost& operator=(const UpstreamHost&) = delete;
  const std::string& ip() const { return ip_; }
  uint16_t port() const { return 8080; }
  // The directory the server serves (files written here are served at once).
  const std::filesystem::path& docRoot() const { return root_; }
  const std::string& netns() const { return netns_; }
  // The server's request log so far (one line per request it received).
  std::string requestLog();

 private:
  UpstreamHost() = default;
  std::string netns_;
  std::string veth_;
  std::string ip_;
  std::filesystem::path root_;
  std::unique_ptr<ChildProcess> server_;
};

// "" when the sandbox can run here, else why not (not root, no cgroups, ...), for GTEST_SKIP.
std::string sandboxUnavailableReason();

// A test that runs `warden run` sessions: skipped (with the reason) where the sandbox cannot run; a
// temp directory, an agent-writable workspace and the session's log directory (tmp_/log).
class WardenRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = sandboxUnavailableReason();
    if (!why.empty()) GTEST_SKIP() << why;
    log_dir_ = tmp_ / "log";
  }

  // The shell command `cd WORKSPACE && PREFIX warden run --log-dir LOG --ocsf-json ARGS -- sh -c SCRIPT`
  // (PREFIX: environment assignments, or `exec`).
  std::string wardenRun(const std::string& args, const std::string& script, const std::string& prefix = "") const {
    return "cd " + ws_.path().string() + " && " + prefix + " " + wardenBinary().string() + " run --log-dir " +
           log_dir_.string() + " --ocsf-json " + args + " -- sh -c " + shellQuote(script);
  }
  std::string log() const { return readFile(log_dir_ / "warden.log"); }
  // The session's JSONL verifies (chain and checkpoints) and validates against the schema
  // (`--strict`: warnings fail too).
  void expectVerified(bool strict = false) const {
    const auto jsonl = (log_dir_ / "warden-ocsf.log").string();
    const auto verify = runCommand(wardenBinary().string() + " audit verify " + jsonl + " 2>&1");
    EXPECT_EQ(verify.status, 0) << verify.output;
    const auto validate =
        runCommand(wardenBinary().string() + " ocsf validate " + (strict ? "--strict " : "") + jsonl + " 2>&1");
    EXPECT_EQ(validate.status, 0) << validate.output;
  }

  TempDir tmp_;
  Workspace ws_;
  std::filesystem::path log_dir_;
};

}  // namespace warden::testing

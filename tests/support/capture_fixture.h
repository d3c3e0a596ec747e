#pragma once

// Shared by the kernel capture tests: a cgroup v2 directory of the test's own under the host's v2
// mount, children started inside it, the collected events checked against the OCSF schema.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ocsf/event.h"
#include "ocsf/schema.h"
#include "support/collecting_emitter.h"
#include "support/test_env.h"

namespace warden::capture::testing {

// The cgroup2 mount point ("" when the host has none).
std::string cgroup2Mount();

// A fresh cgroup under the v2 mount, removed (after its processes ended) by the destructor.
class TestCgroup {
 public:
  static std::optional<TestCgroup> create();  // nullopt: no v2 mount or not root
  TestCgroup(TestCgroup&& other) noexcept;
  ~TestCgroup();
  const std::string& path() const { return path_; }

 private:
  explicit TestCgroup(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Forks; the child joins `cgroup` (empty: stays where it is), optionally drops to `uid`, changes to
// `cwd`, runs `body` (or execs argv when body is empty) and exits. Returns the child's pid.
pid_t spawnIn(const std::string& cgroup, const std::vector<std::string>& argv, const std::string& cwd = "/",
              std::optional<uid_t> uid = std::nullopt, const std::function<int()>& body = {});
// waitpid; returns the raw status.
int waitChild(pid_t pid);

// Every event as a JSONL line checked against the embedded schema; the problems, one per line.
std::string schemaProblems(const std::vector<ocsf::Event>& events);

const ocsf::Value* unmappedAt(const ocsf::Event& e, std::string_view key);

}  // namespace warden::capture::testing

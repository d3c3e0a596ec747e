#include "support/capture_fixture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "ocsf/jsonl_formatter.h"
#include "ocsf/shorthand.h"
#include "ocsf/validator.h"

namespace warden::capture::testing {

std::string cgroup2Mount() {
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mi, line)) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream in(line.substr(0, dash));
    std::string id, parent, devno, root, point;
    in >> id >> parent >> devno >> root >> point;
    return point;
  }
  return {};
}

std::optional<TestCgroup> TestCgroup::create() {
  if (geteuid() != 0) return std::nullopt;
  const std::string mount = cgroup2Mount();
  if (mount.empty()) return std::nullopt;
  static std::atomic<int> n{0};
  // Not "warden-...": `warden run` sweeps leftover cgroups of that name (sandbox/cgroup_cleanup.cc).
  const std::string path = mount + "/capture-test-" + std::to_string(getpid()) + "-" + std::to_string(n++);
  if (mkdir(path.c_str(), 0755) != 0) return std::nullopt;
  return TestCgroup(path);
}

TestCgroup::TestCgroup(TestCgroup&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TestCgroup::~TestCgroup() {
  if (path_.empty()) return;
  warden::testing::waitFor([&] { return rmdir(path_.c_str()) == 0 || errno == ENOENT; }, std::chrono::seconds(5));
}

pid_t spawnIn(const std::string& cgroup, const std::vector<std::string>& argv, const std::string& cwd,
              std::optional<uid_t> uid, const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  if (!cgroup.empty()) {
    const int fd = open((cgroup + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    const std::string me = std::to_string(getpid());
    if (fd < 0 || write(fd, me.data(), me.size()) < 0) _exit(120);
    close(fd);
  }
  if (chdir(cwd.c_str()) != 0) _exit(121);
  if (uid) {
    if (setgid(*uid) != 0 || setuid(*uid) != 0) _exit(122);
  }
  if (body) _exit(body());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  _exit(127);
}

int waitChild(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string schemaProblems(const std::vector<ocsf::Event>& events) {
  static const auto schema = ocsf::Schema::load(warden::testing::schemaPath());
  if (!schema.ok()) return "schema: " + schema.error().message();
  const ocsf::Validator validator(*schema);
  std::string report;
  uint64_t seq = 1;
  for (ocsf::Event e : events) {
    e.metadata.sequence = seq++;
    e.integrity_prev = std::string(64, 'a');
    const std::string line = ocsf::toJsonl(e);
    for (const auto& p : validator.validateLine(line)) {
      report += ocsf::toShorthand(e) + ": " + p.path + ": " + p.message + "\n";
    }
  }
  return report;
}

const ocsf::Value* unmappedAt(const ocsf::Event& e, std::string_view key) { return e.unmapped.find(key); }

}  // namespace warden::capture::testing

#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace warden::testing {

// A long-running child process for tests (a node server, the warden binary), with its stdout and
// stderr captured together through a pipe and its stdin a pipe this object holds open (scripts that
// exit when stdin closes then die with the test). Every wait is bounded. The destructor sends SIGTERM,
// waits up to 5 s, then SIGKILLs, and reaps. Not thread-safe.
class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> argv;           // argv[0] is looked up on PATH
    std::vector<std::string> set_env;        // "NAME=VALUE", added to (or replacing in) this process's environment
    std::vector<std::string> unset_env;      // names removed
    std::filesystem::path working_directory; // empty: this process's
  };
  // nullptr (and *why) when the pipes or fork fail; an exec failure shows as exit 127.
  static std::unique_ptr<ChildProcess> start(const Options& options, std::string* why = nullptr);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits until the output has a complete line containing `needle`; returns that line ("" on timeout
  // or when the process exits first).
  std::string waitForLine(std::string_view needle, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Everything the process printed so far (reads what is available without waiting).
  const std::string& output();
  // SIGTERM, then waits up to `timeout` for the exit; the wait status's exit code, 128+signal, or -1
  // if it did not exit in time (it is then SIGKILLed by the destructor).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends `signal` (0: none, just wait for the exit), then the same as terminate().
  int signalAndWait(int signal, std::chrono::milliseconds timeout);

 private:
  ChildProcess() = default;
  // Reads what is available within `timeout`; false at EOF.
  bool pump(std::chrono::milliseconds timeout);
  bool reap(int* exit_code);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int in_fd_ = -1;
  bool eof_ = false;
  std::string output_;
};

// The real path of a command found on PATH (`readlink -f "$(command -v name)"`); "" when not found.
std::string realExecutable(const std::string& command);

}  // namespace warden::testing

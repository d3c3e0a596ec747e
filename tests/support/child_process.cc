#include "support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "support/test_env.h"

extern char** environ;

namespace warden::testing {

std::unique_ptr<ChildProcess> ChildProcess::start(const Options& options, std::string* why) {
  if (options.argv.empty()) {
    if (why) *why = "no argv";
    return nullptr;
  }
  // Everything the child needs is built before fork (the parent has threads: the child only dup2s,
  // chdirs and execs).
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& name : options.unset_env) env.erase(name);
  for (const auto& kv : options.set_env) {
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = options.argv;
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string cwd = options.working_directory.string();

  int out[2];
  int in[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    if (why) *why = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  if (::pipe2(in, O_CLOEXEC) != 0) {
    if (why) *why = std::string("pipe: ") + std::strerror(errno);
    ::close(out[0]);
    ::close(out[1]);
    return nullptr;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    if (why) *why = std::string("fork: ") + std::strerror(errno);
    for (int fd : {out[0], out[1], in[0], in[1]}) ::close(fd);
    return nullptr;
  }
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::execvpe(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(in[0]);
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->pid_ = pid;
  child->out_fd_ = out[0];
  child->in_fd_ = in[1];
  return child;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int code = 0;
    if (!waitFor([&] { return reap(&code); }, std::chrono::seconds(5))) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  if (out_fd_ >= 0) ::close(out_fd_);
  if (in_fd_ >= 0) ::close(in_fd_);
}

bool ChildProcess::pump(std::chrono::milliseconds timeout) {
  if (eof_) return false;
  pollfd p{out_fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return true;
  char buf[4096];
  const ssize_t n = ::read(out_fd_, buf, sizeof buf);
  if (n > 0) {
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  eof_ = true;
  return false;
}

const std::string& ChildProcess::output() {
  while (!eof_) {
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) break;
    if (!pump(std::chrono::milliseconds(0))) break;
  }
  return output_;
}

std::string ChildProcess::waitForLine(std::string_view needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    size_t start = 0;
    for (size_t nl; (nl = output_.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string line = output_.substr(start, nl - start);
      if (line.find(needle) != std::string::npos) return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || eof_) return "";
    pump(std::min(left, std::chrono::milliseconds(100)));
  }
}

bool ChildProcess::reap(int* exit_code) {
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return false;
  pid_ = -1;
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

int ChildProcess::terminate(std::chrono::milliseconds timeout) { return signalAndWait(SIGTERM, timeout); }

int ChildProcess::signalAndWait(int signal, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (signal != 0) ::kill(pid_, signal);
  int code = -1;
  if (!waitFor(
          [&] {
            output();  // keep the pipe drained so the child never blocks writing
            return reap(&code);
          },
          timeout)) {
    return -1;
  }
  output();
  return code;
}

std::string realExecutable(const std::string& command) {
  const auto r = runCommand("p=$(command -v '" + command + "') && readlink -f \"$p\"");
  if (r.status != 0) return "";
  std::string path = r.output;
  while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
  return path;
}

}  // namespace warden::testing

#include "sandbox/session_process.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string_view>

namespace warden::sandbox {
namespace {

constexpr std::string_view kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

bool isExecutableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string_view basename(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::optional<std::string> findExecutable(const std::string& command, const std::vector<std::string>& env) {
  if (command.empty()) return std::nullopt;
  if (command.find('/') != std::string::npos) return command;
  std::string_view path = kDefaultPath;
  for (const std::string& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) path = std::string_view(entry).substr(5);
  }
  while (true) {
    const size_t colon = path.find(':');
    const std::string_view dir = path.substr(0, colon);
    std::string candidate(dir.empty() ? std::string_view(".") : dir);
    candidate.push_back('/');
    candidate.append(command);
    if (isExecutableFile(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

ocsf::Process mainProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          const std::string& cwd, uid_t uid) {
  ocsf::Process process;
  process.pid = 1;
  process.uid = static_cast<int64_t>(uid);
  process.working_directory = cwd;
  for (const std::string& arg : argv) {
    if (!process.cmd_line.empty()) process.cmd_line += ' ';
    process.cmd_line += arg;
  }
  const std::string command = argv.empty() ? std::string() : argv.front();
  const std::optional<std::string> exe = findExecutable(command, env);
  process.name = std::string(basename(exe ? *exe : command));
  ocsf::File file;
  file.path = exe ? *exe : command;
  file.name = process.name;
  process.file = file;
  return process;
}

}  // namespace warden::sandbox

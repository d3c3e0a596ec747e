#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

namespace warden::testing {

// The source tree (WARDEN_SOURCE_DIR, set by CTest) and the built binary (WARDEN_BINARY if set,
// else the warden beside the test binary's tests/ directory).
std::filesystem::path sourceDir();
std::filesystem::path wardenBinary();
// The OCSF schema the project carries: data/ocsf/schema-1.7.0.json in the source tree.
std::filesystem::path schemaPath();

// A fresh directory under /tmp, removed with everything in it when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Polls `condition` until it is true or `timeout` passes; returns its last value.
// The way tests wait: on a condition with a deadline, never a bare sleep.
bool waitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

// `text` as one single-quoted shell word ("it's" -> 'it'\''s'), for commands given to runCommand().
std::string shellQuote(const std::string& text);

// Runs a shell command, capturing stdout+stderr; returns the exit status (or -1).
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult runCommand(const std::string& shell_command);

std::string readFile(const std::filesystem::path& path);
void writeFile(const std::filesystem::path& path, const std::string& content);

}  // namespace warden::testing

#include "support/test_env.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace warden::testing {

std::filesystem::path sourceDir() {
  const char* d = std::getenv("WARDEN_SOURCE_DIR");
  return d ? std::filesystem::path(d) : std::filesystem::current_path();
}

std::filesystem::path wardenBinary() {
  if (const char* b = std::getenv("WARDEN_BINARY")) return b;
  // Test binaries live in <build>/tests/; the warden binary in <build>/.
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) return self.parent_path().parent_path() / "warden";
  return sourceDir() / "build" / "warden";
}

std::filesystem::path schemaPath() { return sourceDir() / "data" / "ocsf" / "schema-1.7.0.json"; }

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "warden-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

CommandResult runCommand(const std::string& shell_command) {
  CommandResult r;
  const std::string cmd = shell_command + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string shellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace warden::testing

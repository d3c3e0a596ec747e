#pragma once

// The real warden binary running `warden proxy` on 127.0.0.1:0 for e2e tests, its log directory, and
// the client environment it prints (HTTP(S)_PROXY, http(s)_proxy, CURL_CA_BUNDLE, ...). The upstream's
// self-signed certificate is trusted through SSL_CERT_FILE (OpenSSL's default verify paths, which the
// proxy's upstream context loads, honour it). Not thread-safe.

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace warden::testing {

class WardenProxy {
 public:
  // nullptr (and *why) when it does not come up. `extra_env` ("NAME=VALUE") goes to the warden process,
  // `extra_args` to its command line.
  static std::unique_ptr<WardenProxy> start(const std::filesystem::path& dir, const std::string& policy_yaml,
                                            const std::filesystem::path& upstream_ca, std::string* why,
                                            const std::vector<std::string>& extra_env = {},
                                            const std::vector<std::string>& extra_args = {});
  // A shell prefix: the printed variables, and no NO_PROXY/ALL_PROXY from the test's environment
  // (127.0.0.1 must go through the proxy).
  std::string env() const;
  std::string variable(const std::string& name) const;
  const std::filesystem::path& logDir() const { return log_dir_; }
  // Waits (10 s) until warden.log has a line containing every one of `parts`; that line, or "".
  std::string waitForLine(const std::vector<std::string>& parts) const;
  std::string shorthand() const { return read("warden.log"); }
  std::vector<nlohmann::json> events() const;
  // The first HTTP event (class 4002) for `path` with `action`, waited for; null if none in 10 s.
  nlohmann::json waitForHttpEvent(const std::string& path, const std::string& action) const;
  // SIGTERM and wait: the exit code (-1 if it did not exit in 10 s).
  int stop() { return process_->terminate(); }
  ChildProcess& process() { return *process_; }

 private:
  WardenProxy() = default;
  std::string read(const char* name) const;

  std::filesystem::path log_dir_;
  std::unique_ptr<ChildProcess> process_;
  std::vector<std::string> env_;
};

}  // namespace warden::testing

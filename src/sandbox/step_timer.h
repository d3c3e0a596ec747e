#pragma once

// Where a session's start-up and teardown time goes: named marks on the monotonic clock, rendered
// as one operational line ("start-up: policy 0.2 ms, record 1.9 ms, ...") in warden.log, so the
// session-start benchmark can be explained from any session's log. Single-threaded.

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden::sandbox {

class StepTimer {
 public:
  StepTimer() : last_(std::chrono::steady_clock::now()) {}
  // Closes the step that ran since the previous mark (or construction) under `name`.
  void mark(std::string_view name) {
    const auto now = std::chrono::steady_clock::now();
    steps_.emplace_back(std::string(name), std::chrono::duration<double, std::milli>(now - last_).count());
    last_ = now;
  }
  // "policy 0.2 ms, record 1.9 ms, ... (total 23.4 ms)".
  std::string describe() const {
    std::string out;
    double total = 0;
    char buf[64];
    for (const auto& [name, ms] : steps_) {
      if (!out.empty()) out += ", ";
      std::snprintf(buf, sizeof buf, " %.1f ms", ms);
      out += name + buf;
      total += ms;
    }
    std::snprintf(buf, sizeof buf, " (total %.1f ms)", total);
    return out + buf;
  }

 private:
  std::chrono::steady_clock::time_point last_;
  std::vector<std::pair<std::string, double>> steps_;
};

}  // namespace warden::sandbox

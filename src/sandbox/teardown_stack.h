#pragma once

// Teardowns registered by a session's start-up steps, run in reverse order exactly once. A step
// pushed as `independent` (it shares nothing with the steps after it: the network, the cgroup) is
// started on its own thread in its turn, and runAll() returns when every step is done — the kernel
// makes several of them wait for an RCU grace period, and they need not wait for each other.
// Single-threaded: push() and runAll() from the session's main thread.

#include <functional>
#include <future>
#include <string>
#include <utility>
#include <vector>

namespace warden::sandbox {

class TeardownStack {
 public:
  void push(std::string what, std::function<void()> undo, bool independent = false) {
    steps_.push_back({std::move(what), std::move(undo), independent});
  }
  void runAll() {
    std::vector<std::future<void>> running;
    while (!steps_.empty()) {
      auto step = std::move(steps_.back());
      steps_.pop_back();
      if (step.independent) {
        running.push_back(std::async(std::launch::async, std::move(step.undo)));
      } else {
        step.undo();
      }
    }
    for (auto& f : running) f.wait();
  }
  ~TeardownStack() { runAll(); }

 private:
  struct Step {
    std::string what;
    std::function<void()> undo;
    bool independent = false;
  };
  std::vector<Step> steps_;
};

}  // namespace warden::sandbox

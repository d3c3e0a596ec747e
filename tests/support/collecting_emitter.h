#pragma once

// An audit::Emitter for unit tests: keeps every event and operational line in memory.
// Thread-safe. Header-only: its users link warden_audit already.

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "audit/emitter.h"
#include "ocsf/event.h"

namespace warden::testing {

class CollectingEmitter final : public audit::Emitter {
 public:
  void emit(ocsf::Event&& event) override {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(event));
  }
  void operational(audit::Level level, std::string_view component, std::string_view message) override {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(std::string(audit::levelName(level)) + " " + std::string(component) + ": " +
                     std::string(message));
  }
  std::vector<ocsf::Event> events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  // "<LEVEL> <component>: <message>" per operational line.
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<ocsf::Event> events_;
  std::vector<std::string> lines_;
};

}  // namespace warden::testing

// libFuzzer: an event line (an offline trail is untrusted input) through the engine with the
// built-in pack and rules that use every operator, a sequence, a threshold and first_seen.
// Must never crash, hang or leak, whatever the JSON holds.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "detect/engine.h"
#include "detect/rule_set.h"

namespace {

constexpr std::string_view kRules = R"yaml(rules:
  - name: ops
    condition: >
      process.name in (shells) or process.cmd_line icontains "CURL" or unmapped.argv contains "-d"
      or process.file.path glob "/usr/**" or process.cmd_line regex "a+b" or process.pid >= 3
      or unmapped.x != "y" or first_seen(process.name)
    title: "%{process.name} %{unmapped.argv}"
  - name: seq
    sequence: [class_uid = 1001, class_uid in (4001, 4002)]
    within: 60s
    same: process_tree
    join: [actor.process.name, actor.process.name]
  - name: burst
    condition: class_uid = 4001
    threshold: 3
    within: 10s
    same: process
)yaml";

warden::detect::Engine& engine() {
  static auto* e = [] {
    auto set = warden::detect::RuleSet::compile({warden::detect::RuleSource{"fuzz.yaml", std::string(kRules)}});
    if (!set.ok()) __builtin_trap();
    warden::detect::EngineOptions options;
    options.limits.max_sessions = 8;
    options.limits.max_partials_per_rule = 16;
    options.limits.max_pids_per_session = 64;
    return new warden::detect::Engine(set.value(), options);
  }();
  return *e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  warden::detect::EngineOutput out;
  engine().evaluate(std::string_view(reinterpret_cast<const char*>(data), size), out);
  return 0;
}

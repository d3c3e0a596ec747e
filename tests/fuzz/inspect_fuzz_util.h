#pragma once

// What the proxy/inspect fuzz targets share: a recorder whose emitter drops events after checking
// each one renders, and a check that traps.

#include <string>

#include "audit/emitter.h"
#include "common/clock.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/shorthand.h"
#include "proxy/inspect/context.h"

namespace warden::fuzz {

inline void check(bool condition) {
  if (!condition) __builtin_trap();
}

// Renders every event (shorthand: one line, no raw newline) and keeps a count.
class RenderingEmitter final : public audit::Emitter {
 public:
  void emit(ocsf::Event&& event) override {
    const std::string line = ocsf::toShorthand(event);
    check(line.find('\n') == std::string::npos);
    (void)ocsf::toJsonl(event);
    ++events;
  }
  void operational(audit::Level, std::string_view, std::string_view) override {}
  size_t events = 0;
};

struct FuzzRecorder {
  RenderingEmitter emitter;
  ocsf::SessionContext session{"fuzz-host", "fuzz-session", "fuzz", "", {}, "0"};
  ManualClock clock{1700000000000};
  proxy::inspect::Recorder recorder{&emitter, &session, &clock};
  proxy::inspect::Parties parties;
  FuzzRecorder() {
    parties.host = "fuzz.example";
    parties.port = 443;
    parties.tls = true;
    parties.rule = "fuzz";
  }
};

}  // namespace warden::fuzz

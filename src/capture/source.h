#pragma once

// A kernel event source (style.md: capture/ holds one folder per source behind this interface): it
// watches something the kernel reports — the kernel log, a cgroup's event files, exec/exit — and turns
// what it sees into audit events through an Emitter it borrows.
//
// Lifecycle: a source is created ready to run by its own factory (which takes its options, the
// Emitter and the SessionContext), start() begins watching (normally on a thread the source owns),
// stop() ends it and joins; stop() is idempotent and also run by the destructor. Events already seen
// when stop() is called are emitted before it returns. Thread-safe: start/stop from one thread.

#include <memory>
#include <string_view>

#include "common/result.h"

namespace warden::capture {

class Source {
 public:
  virtual ~Source() = default;
  // A short name for operational lines and LIFECYCLE events ("kmsg", "cgroup").
  virtual std::string_view name() const = 0;
  virtual Result<void> start() = 0;
  virtual void stop() = 0;
};

// A made source as a Source (for lists of them): the error, or the same object.
template <typename T>
Result<std::unique_ptr<Source>> asSource(Result<std::unique_ptr<T>> made) {
  if (!made.ok()) return made.error();
  return std::unique_ptr<Source>(std::move(made).value());
}

}  // namespace warden::capture

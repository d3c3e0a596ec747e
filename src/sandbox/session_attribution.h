#pragma once

// The session's bridge between the proxy and the kernel capture (docs/capture.md "Attribution"):
// the proxy's and the DNS resolver's CaptureAttribution hook answered from the capture's process
// table. sandbox/ is the one layer that sees both; the proxy never includes capture headers.

#include <chrono>
#include <memory>

#include "capture/process_table.h"
#include "proxy/capture_attribution.h"

namespace warden::sandbox {

// How long a lookup that missed in /proc waits for the capture's reader to catch up.
inline constexpr std::chrono::milliseconds kCaptureAttributionWait{200};

// A hook that asks `table` who connected from the client's address to the server's
// (ProcessTable::bySource at the current time, waiting at most `wait`). Holds the table (shared);
// thread-safe as the table is. A table no capture feeds answers nullopt at once.
proxy::CaptureAttribution captureAttribution(std::shared_ptr<capture::ProcessTable> table,
                                             std::chrono::milliseconds wait = kCaptureAttributionWait);

}  // namespace warden::sandbox

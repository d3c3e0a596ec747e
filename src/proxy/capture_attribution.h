#pragma once

// The kernel capture's answer when caller identity misses (docs/capture.md "Attribution"). A client
// that exits before the proxy or the DNS resolver looks it up in /proc (a short-lived curl, a one-shot
// DNS query) leaves no holder of its socket; the session's kernel capture recorded its connect(2) with
// both ends, so it can still say who connected from that source address. `warden run` wires this hook
// to the capture's process table; standalone `warden proxy` has no capture and no hook. The proxy
// never includes capture headers: this std::function is the whole interface.
//
// What it names is for the record only: the event's actor, marked `unmapped.actor_source: "kernel
// capture"`. It is never an identity — no executable was hashed, no holder checked — so a rule that
// names binaries treats such a caller as unknown and denies it (docs/policy.md "Binary identity").

#include <functional>
#include <optional>
#include <string_view>

#include "ocsf/event.h"
#include "proxy/caller_identity.h"

namespace warden::proxy {

// ocsf::Process::attribution of an actor named this way (written as unmapped.actor_source).
inline constexpr std::string_view kCaptureAttribution = "kernel capture";

// The process that connect(2)ed a `protocol` socket from `client` (its source address) to `server`
// (the proxy's or the resolver's address), or nullopt when the capture does not know. Called on a
// lookup thread, never an io thread; may block, bounded by the implementation (it waits for the
// capture's reader to catch up). Must be thread-safe.
using CaptureAttribution = std::function<std::optional<ocsf::Process>(
    SocketProtocol protocol, const TcpEndpoint& client, const TcpEndpoint& server)>;

// `captured` as an event's actor: marked as named by the kernel capture, its command line redacted
// like every actor's (argv carries tokens).
ocsf::Process capturedActor(ocsf::Process captured);

}  // namespace warden::proxy

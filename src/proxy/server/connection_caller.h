#pragma once

// Adapts the /proc caller-identity resolver (caller_identity.h) to the proxy's CallerLookup, and runs
// lookups off the io thread.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "proxy/caller_identity.h"
#include "proxy/capture_attribution.h"
#include "proxy/server/connection.h"

namespace warden::proxy {

// A CallerLookup backed by `resolver` (shared: the lookup keeps it alive; may be null). Lookups that
// fail (the process exited, another namespace) give nullopt: the caller is unknown and no binary rule
// matches it. With `capture`, a lookup that found no holder of the socket (NotFound; or no resolver)
// asks the kernel capture who connected from the client's address: that caller is named for the
// record (CallerInfo::attribution) and is still unknown to the policy.
CallerLookup makeProcCallerLookup(std::shared_ptr<CallerIdentityResolver> resolver,
                                  CaptureAttribution capture = {});

// The same conversion, for tests.
CallerInfo toCallerInfo(const CallerIdentity& identity);
// A caller the kernel capture named (capturedActor()): pid, name, executable, uid and command line for
// the record, `attribution` set so the policy sees no caller.
CallerInfo capturedCaller(const ocsf::Process& actor);

// Runs `lookup` (blocking: it reads /proc) on `pool` and resumes on the awaiting coroutine's executor,
// so the io thread keeps serving other connections meanwhile. Waits at most `timeout`; then (and when
// the lookup throws) nullopt: the caller is unknown, and a late result is dropped. Without a pool,
// runs `lookup` inline. `lookup` is copied; `pool` must outlive the work posted to it (the Server
// joins it before destroying the io_contexts). Cancellable (e.g. as one side of `||`): then nullopt at
// once. Never throws.
boost::asio::awaitable<std::optional<CallerInfo>> lookupCallerOffThread(CallerLookup lookup,
                                                                        boost::asio::thread_pool* pool,
                                                                        boost::asio::ip::tcp::endpoint peer,
                                                                        boost::asio::ip::tcp::endpoint local,
                                                                        std::chrono::milliseconds timeout);

}  // namespace warden::proxy

#pragma once

// Adapts the /proc caller-identity resolver (caller_identity.h) to the proxy's CallerLookup.

#include <memory>

#include "proxy/caller_identity.h"
#include "proxy/server/connection.h"

namespace warden::proxy {

// A CallerLookup backed by `resolver` (shared: the lookup keeps it alive). Lookups that fail
// (the process exited, another namespace) give nullopt: the caller is unknown and no binary rule
// matches it.
CallerLookup makeProcCallerLookup(std::shared_ptr<CallerIdentityResolver> resolver);

// The same conversion, for tests.
CallerInfo toCallerInfo(const CallerIdentity& identity);

}  // namespace warden::proxy

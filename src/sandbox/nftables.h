#pragma once

// Loading and removing nftables tables through libnftables, in the calling thread's network
// namespace (run it on a netlink_netns.h thread for the sandbox's).

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace warden::sandbox {

// Runs nft(8) commands (one transaction per call, as `nft -f`) with a fresh libnftables context.
// Calls are serialised process-wide (libnftables keeps some global state). Returns what nft printed
// on success; on failure Internal (PermissionDenied for EPERM) with nft's own error text.
Result<std::string> runNft(std::string_view commands);

// The names of the tables of `family` ("inet") in the calling thread's namespace.
Result<std::vector<std::string>> listNftTables(std::string_view family);

// Deletes table `family` `name` if it exists. Returns true when it was there.
Result<bool> deleteNftTableIfPresent(std::string_view family, std::string_view name);

}  // namespace warden::sandbox

#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace warden::gateway {

// Who a spool belongs to and where it goes: kept as `<spool dir>/link` (JSON, mode 0600, root-only
// like the spool) so that a restarted supervisor can push a crashed session's leftover events as that
// session (docs/gateway-link.md "Leftover spools"). The token is a secret: it is written only here,
// never logged.
struct LinkRecord {
  std::string gateway_url;
  std::string session_id;
  std::string session_name;
  std::string hostname;
  std::string public_key;  // hex Ed25519, as LOG:START carries it
  std::string token;       // empty until the gateway issued one

  bool operator==(const LinkRecord&) const = default;
};

// Writes the record atomically (temp file, fsync, rename); the file is created 0600.
Result<void> writeLinkFile(const std::filesystem::path& path, const LinkRecord& record);
// Reads it back. NotFound when missing; InvalidArgument naming the field for anything malformed
// (not JSON, a field missing or not a string, over 64 KiB). Not agent-reachable (the spool directory
// is root-only and hidden from the sandbox), but a torn or hand-edited file must not crash a replay.
Result<LinkRecord> readLinkFile(const std::filesystem::path& path);
Result<LinkRecord> parseLinkRecord(std::string_view text);

}  // namespace warden::gateway

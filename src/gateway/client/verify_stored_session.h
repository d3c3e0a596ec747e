#pragma once

#include <string_view>

#include "audit/verify.h"
#include "common/result.h"
#include "gateway/client/operator_client.h"

namespace warden::gateway {

// `warden audit verify --gateway URL --session ID`: verifies one session as the gateway stores it,
// exactly as `warden audit verify` verifies files (audit::Verifier: the hash chain from the session
// seed, every checkpoint's head and Ed25519 signature, missing / modified / inserted / reordered /
// truncated named by sequence).
//
// Reads the session's verification material (GetVerificationMaterial: NotFound for an unknown
// session), then every stored event in sequence order (GetLogs pages), feeding each stored JSON
// line to the verifier as one line of a file named "gateway:<session id>" (so a finding's
// "file:line" is the event's position in the stored order). Nothing is written to disk; memory is
// one page of events plus the verifier's bounded window.
//
// Retention: the LOG:DELETE events in the gateway's own trails (sessions named "gateway") that name
// this session become options.deletions, so events retention deleted are a warning, not "missing"
// (audit::VerifyOptions::deletions; more missing inside those ranges than they count is still a
// problem). The records are taken as stored: verify the gateway's own session to trust them.
//
// The key: `options.public_key_hex` when set (--key); else the public key registered with the
// session (key_origin says so); else LOG:START's key (trust on first use), as for files.
// An Error only when the gateway cannot be read (then nothing was verified); every defect of the
// stored events is a Finding in the report. Borrows `client` for the call.
Result<audit::VerifyReport> verifyStoredSession(OperatorClient& client, std::string_view session_id,
                                                audit::VerifyOptions options);

}  // namespace warden::gateway

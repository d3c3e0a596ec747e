#pragma once

// Where a session's record goes besides its own files, and where live configuration comes from:
// the session's uplink. `warden run --gateway URL` wires the gateway link (gateway/client/
// gateway_uplink.h) through RunOptions::uplink; the sandbox only knows this interface, so it never
// includes gateway code.
//
// The session calls, in this order and from its main thread unless said otherwise:
//   hiddenPaths()           while planning the agent's view (the spool must stay out of it);
//   onEvents(batch)         on the pipeline's writer thread, for every written batch from LOG:START on
//                           (the views are valid only during the call);
//   start(identity, hooks)  once the pipeline exists (its public key is in LOG:START);
//   waitFirstContact()      before the sandbox is planned (the gateway's policy then applies whole);
//   finishNotes()           before SESSION:STOP (what happened to leftovers of earlier sessions);
//   close(err)              after the pipeline's final checkpoint: wait for the last acknowledgement,
//                           stop, and say on `err` what is left for the next session to send.
// Hooks are called on the uplink's own threads; they are quick and never call back into it.

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/emitter.h"
#include "audit/sink.h"
#include "common/result.h"
#include "ocsf/builders.h"

namespace warden::sandbox {

struct UplinkIdentity {
  std::string session_id;
  std::string session_name;
  std::string hostname;
  std::string public_key_hex;  // the session's checkpoint key
};

struct UplinkHooks {
  // A newer SandboxConfig: JSONL on or off from now on.
  std::function<void(bool ocsf_enabled, uint64_t config_revision)> on_config;
  // A policy served by the gateway (YAML), to load and apply.
  std::function<void(const std::string& yaml, uint64_t config_revision)> on_policy;
  // The uplink's own events (the gateway unreachable, reconnected), recorded in the session.
  std::function<void(ocsf::Event&&)> emit;
  std::function<void(audit::Level, std::string_view)> note;
};

class SessionUplink {
 public:
  virtual ~SessionUplink() = default;
  virtual std::string describe() const = 0;  // "gateway http://127.0.0.1:50051"
  virtual std::vector<std::string> hiddenPaths() const = 0;
  virtual void onEvents(const audit::SinkBatch& batch) = 0;
  virtual Result<void> start(const UplinkIdentity& identity, const ocsf::SessionContext& session,
                             UplinkHooks hooks) = 0;
  virtual bool waitFirstContact() = 0;
  virtual std::vector<std::pair<audit::Level, std::string>> finishNotes() = 0;
  virtual void close(std::FILE* err) = 0;
};

// Makes the uplink of a new session (its id is known, its pipeline not yet started).
using UplinkFactory = std::function<Result<std::unique_ptr<SessionUplink>>(const std::string& session_id)>;

}  // namespace warden::sandbox

#pragma once

#include <string>
#include <string_view>

#include "audit/sink.h"

namespace warden::audit::exporting {

// RFC 5424 messages for one written event (detect.md "Delivery (exports)"). Pure functions.
//
//   <PRI>1 TIMESTAMP HOSTNAME warden PROCID MSGID [warden@32473 session="ID" seq="N"] JSON
//
// PRI: facility 13 (log audit) and the severity the event's shorthand carries ([INFO] 6,
// [LOW] 5, [MED] 4, [HIGH] 3, [CRIT] 2, [FATAL] 1; anything else 6). TIMESTAMP: the event's time,
// UTC with milliseconds. HOSTNAME: the session's host ("-" when empty). PROCID: the writer's pid.
// MSGID: the shorthand's type ("NET:OPEN", "LOG:CHECKPOINT"), or "-" when it is not 1-32 printable
// ASCII characters. MSG: the canonical JSON exactly as the chain covers it (no BOM, no newline),
// so the receiver's copy can be verified (`warden audit verify --from-syslog`).
struct SyslogHeader {
  std::string hostname;    // the session's host
  std::string session_id;  // the session's id (SD-PARAM session)
  std::string app_name = "warden";
  long procid = 0;
};

// Appends the RFC 5424 message for `record` to `out`.
void appendSyslogMessage(std::string& out, const SyslogHeader& header, const SinkRecord& record);
// Appends "<length> <message>" (RFC 6587 octet counting) for `record` to `out`.
void appendOctetCounted(std::string& out, const SyslogHeader& header, const SinkRecord& record);

}  // namespace warden::audit::exporting

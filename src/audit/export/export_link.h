#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"

namespace warden::audit::exporting {

// One live connection to an export's receiver, as the delivery loop (export_delivery.h) drives it:
// it sends batches of events already rendered for the receiver and says which batches are
// delivered. Each batch carries a mark (marks grow); "delivered up to mark m" is what the loop
// acknowledges in its backlog. What a link had not delivered when it broke is sent again on the
// next one (at least once, in order).
//
// Implementations: SyslogStreamLink (RFC 6587 octet counting over TCP/TLS; delivered = the
// receiver's TCP acknowledged the bytes and the connection then stayed up for the settle time) and
// HttpExportLink (one POST per batch; delivered = a 2xx answer).
// Threads: one thread (the delivery loop's) does everything except interrupt(), which any thread
// may call to make a blocked send() return.
class ExportLink {
 public:
  virtual ~ExportLink() = default;
  // Sends `payloads` (each one event as the receiver takes it), in order, as the batch `mark`. An
  // error means the link is unusable; ResourceExhausted says the receiver refused the batch as too
  // large (HTTP 413): the loop sends fewer events per batch on a new link.
  virtual Result<void> send(std::span<const std::string> payloads, uint64_t mark) = 0;
  // The highest mark delivered on this link so far (0: none). `settle_waived` (the end of a
  // session): what the receiver acknowledged counts at once.
  virtual uint64_t delivered(bool settle_waived) = 0;
  // Every batch sent on this link is delivered.
  virtual bool settled() const = 0;
  // The receiver closed the connection while the link was idle (checked without blocking).
  virtual bool peerGone() = 0;
  // True when the receiver closing an idle connection is routine (HTTP keep-alive timeouts): the
  // loop reconnects without recording an outage. False for syslog, where it is one.
  virtual bool idleCloseIsNormal() const = 0;
  // True when a working connection shows the receiver is back (syslog: it takes whatever is
  // written); false when only an accepted batch does (HTTP: a server may accept connections and
  // answer 503), so an outage is not closed by a connection alone.
  virtual bool upWhenConnected() const = 0;
  // Makes a blocked send() return at once. Thread-safe.
  virtual void interrupt() = 0;
};

}  // namespace warden::audit::exporting

#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "audit/export/export_link.h"
#include "audit/export/stream_connection.h"

namespace warden::audit::exporting {

// An ExportLink to a syslog receiver over TCP or TLS (docs/export.md "Delivery (TCP and TLS)"):
// each payload (an RFC 5424 message) is sent octet-counted ("LEN SP MSG", RFC 6587). Syslog has no
// application-level acknowledgement, so a batch counts as delivered once the receiver's TCP has
// acknowledged its last byte (SIOCOUTQ) and the connection then stayed up for `settle`.
// Owns its connection. Threads: as ExportLink.
class SyslogStreamLink final : public ExportLink {
 public:
  SyslogStreamLink(std::unique_ptr<StreamConnection> conn, std::chrono::milliseconds settle)
      : conn_(std::move(conn)), settle_(settle) {}

  Result<void> send(std::span<const std::string> payloads, uint64_t mark) override;
  uint64_t delivered(bool settle_waived) override;
  bool settled() const override { return in_flight_.empty(); }
  bool peerGone() override { return conn_->peerGone(); }
  bool idleCloseIsNormal() const override { return false; }
  bool upWhenConnected() const override { return true; }
  void interrupt() override { conn_->interrupt(); }

 private:
  struct InFlight {
    uint64_t mark = 0;
    uint64_t end_bytes = 0;  // bytesSent() after the write
    std::chrono::steady_clock::time_point acked_at{};
  };
  std::unique_ptr<StreamConnection> conn_;
  const std::chrono::milliseconds settle_;
  std::deque<InFlight> in_flight_;
  uint64_t delivered_ = 0;
  std::string frame_;
};

}  // namespace warden::audit::exporting

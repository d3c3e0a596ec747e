#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "audit/export/export_url.h"
#include "audit/export/syslog_message.h"
#include "audit/sink.h"
#include "common/unique_fd.h"

namespace warden::audit::exporting {

// An audit::Sink exporting every event as one RFC 5426 syslog datagram (syslog+udp://), lossy by
// nature: nothing is spooled or resent. write() sends each event's message on a connected,
// non-blocking UDP socket from the writer thread (a send never waits). What this side can see is
// counted as lost and recorded as LOG:SINK_OVERFLOW (at most once a second, with the count and
// sequence window): a message over the largest datagram (65,507 bytes), a full socket buffer, an
// ICMP "port unreachable" reported on the socket. What the network or the receiver drops after a
// successful send cannot be seen by the sender (docs/export.md).
// Threads: writer thread only (stats() too, or after close()).
class UdpExportSink final : public Sink {
 public:
  // Resolves the host (first address) and connects the socket; Unavailable when that fails.
  static Result<std::shared_ptr<UdpExportSink>> make(const ExportUrl& url);

  std::string_view name() const override { return url_.name; }
  Result<void> open(SinkContext& context) override;
  void write(const SinkBatch& batch) override;
  void tick() override { report(false); }
  Result<void> close() override {
    report(true);
    return okResult();
  }

  uint64_t sent() const { return sent_; }
  uint64_t lost() const { return lost_total_; }

 private:
  explicit UdpExportSink(ExportUrl url) : url_(std::move(url)) {}
  void report(bool force);

  const ExportUrl url_;
  UniqueFd fd_;
  SinkContext* context_ = nullptr;
  SyslogHeader header_;
  std::string message_;
  uint64_t sent_ = 0;
  uint64_t lost_total_ = 0;
  uint64_t unreported_ = 0, first_seq_ = 0, last_seq_ = 0;
  std::string error_;
  std::chrono::steady_clock::time_point last_report_{};
};

}  // namespace warden::audit::exporting

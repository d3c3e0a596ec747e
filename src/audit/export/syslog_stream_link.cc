#include "audit/export/syslog_stream_link.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace warden::audit::exporting {

Result<void> SyslogStreamLink::send(std::span<const std::string> payloads, uint64_t mark) {
  frame_.clear();
  for (const std::string& p : payloads) fmt::format_to(std::back_inserter(frame_), "{} {}", p.size(), p);
  if (auto written = conn_->write(frame_); !written.ok()) return written;
  in_flight_.push_back({mark, conn_->bytesSent(), {}});
  return okResult();
}

uint64_t SyslogStreamLink::delivered(bool settle_waived) {
  const uint64_t sent = conn_->bytesSent();
  const uint64_t unacked = std::min(conn_->unacknowledged(), sent);
  const uint64_t acked_bytes = sent - unacked;
  const auto now = std::chrono::steady_clock::now();
  for (InFlight& f : in_flight_) {
    if (f.end_bytes > acked_bytes) break;
    if (f.acked_at == std::chrono::steady_clock::time_point{}) f.acked_at = now;
  }
  while (!in_flight_.empty() && in_flight_.front().acked_at != std::chrono::steady_clock::time_point{} &&
         (settle_waived || now - in_flight_.front().acked_at >= settle_)) {
    delivered_ = in_flight_.front().mark;
    in_flight_.pop_front();
  }
  return delivered_;
}

}  // namespace warden::audit::exporting

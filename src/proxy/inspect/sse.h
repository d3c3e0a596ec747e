#pragma once

// Server-sent events (the WHATWG "text/event-stream" format): the framing of streamed model answers
// and of MCP answers over streamable HTTP.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace warden::proxy::inspect {

// One dispatched event. The views are valid only during the sink's call.
struct SseEvent {
  std::string_view type;  // the `event:` field; empty means "message"
  std::string_view data;  // the `data:` lines joined with '\n'
  std::string_view id;    // the last `id:` seen on the stream
  bool oversized = false;  // the event was longer than the limit: `data` holds what fitted
};
using SseSink = std::function<void(const SseEvent&)>;

// An incremental event-stream parser: bytes in any split give the same events. Lines end with
// CRLF, LF or CR; a blank line dispatches; `:` lines are comments; `retry:` and unknown fields are
// ignored; a leading BOM is skipped. Memory is bounded: an event keeps at most `max_event_bytes` of
// data (the rest is dropped and the event is flagged oversized), a field line at most that much.
// Single-threaded; no exceptions (beyond std::bad_alloc).
class SseParser {
 public:
  explicit SseParser(size_t max_event_bytes = 1024 * 1024);

  void feed(std::string_view bytes, const SseSink& sink);
  // The stream ended. True when it ended between events; false when an event was still being
  // received (it is not dispatched, as the format says) — a stream cut in the middle.
  bool finish() const;

  uint64_t eventsDispatched() const { return dispatched_; }
  uint64_t oversizedEvents() const { return oversized_events_; }
  uint64_t bytesSeen() const { return bytes_seen_; }

 private:
  void onLine(const SseSink& sink);
  void dispatch(const SseSink& sink);

  size_t max_event_bytes_;
  std::string line_;
  bool line_too_long_ = false;
  bool pending_cr_ = false;  // the previous chunk ended in CR: a leading LF belongs to it
  bool at_start_ = true;     // for the BOM
  std::string type_;
  std::string data_;
  std::string id_;
  bool has_data_ = false;
  bool event_oversized_ = false;
  bool in_event_ = false;  // some field of the current event was seen
  uint64_t dispatched_ = 0;
  uint64_t oversized_events_ = 0;
  uint64_t bytes_seen_ = 0;
};

}  // namespace warden::proxy::inspect

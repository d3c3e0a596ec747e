#include "proxy/inspect/sse.h"

namespace warden::proxy::inspect {

SseParser::SseParser(size_t max_event_bytes) : max_event_bytes_(max_event_bytes == 0 ? 1 : max_event_bytes) {}

void SseParser::feed(std::string_view bytes, const SseSink& sink) {
  bytes_seen_ += bytes.size();
  if (at_start_ && !bytes.empty()) {
    // A UTF-8 BOM may open the stream; it can arrive split, so compare what we have.
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    const std::string probe = line_ + std::string(bytes.substr(0, kBom.size()));
    if (probe.size() < kBom.size() && kBom.substr(0, probe.size()) == probe) {
      line_ = probe;
      return;
    }
    at_start_ = false;
    if (probe.compare(0, kBom.size(), kBom) == 0) {
      bytes.remove_prefix(kBom.size() - line_.size());
      line_.clear();
    }
  }
  size_t i = 0;
  if (pending_cr_ && !bytes.empty()) {
    pending_cr_ = false;
    if (bytes[0] == '\n') i = 1;
  }
  while (i < bytes.size()) {
    const size_t end = bytes.find_first_of("\r\n", i);
    const std::string_view piece = bytes.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
    if (!line_too_long_) {
      if (line_.size() + piece.size() > max_event_bytes_) {
        line_.append(piece.substr(0, max_event_bytes_ - line_.size()));
        line_too_long_ = true;
      } else {
        line_.append(piece);
      }
    }
    if (end == std::string_view::npos) return;
    if (bytes[end] == '\r') {
      if (end + 1 < bytes.size()) {
        i = end + (bytes[end + 1] == '\n' ? 2 : 1);
      } else {
        pending_cr_ = true;
        i = end + 1;
      }
    } else {
      i = end + 1;
    }
    onLine(sink);
  }
}

void SseParser::onLine(const SseSink& sink) {
  if (line_too_long_) event_oversized_ = true;
  line_too_long_ = false;
  if (line_.empty()) {
    dispatch(sink);
    return;
  }
  if (line_[0] == ':') {  // a comment
    line_.clear();
    return;
  }
  in_event_ = true;
  std::string_view line(line_);
  std::string_view field = line;
  std::string_view value;
  if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    const size_t room = max_event_bytes_ > data_.size() ? max_event_bytes_ - data_.size() : 0;
    if (has_data_) {
      if (room > 0) {
        data_.push_back('\n');
      } else {
        event_oversized_ = true;
      }
    }
    const size_t fits = room > (has_data_ ? 1 : 0) ? room - (has_data_ ? 1 : 0) : 0;
    if (value.size() > fits) event_oversized_ = true;
    data_.append(value.substr(0, fits));
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_.assign(value);
  }
  line_.clear();
}

void SseParser::dispatch(const SseSink& sink) {
  in_event_ = false;
  if (!has_data_) {  // an event without data is not dispatched
    type_.clear();
    event_oversized_ = false;
    return;
  }
  ++dispatched_;
  if (event_oversized_) ++oversized_events_;
  if (sink) sink(SseEvent{type_, data_, id_, event_oversized_});
  type_.clear();
  data_.clear();
  has_data_ = false;
  event_oversized_ = false;
}

bool SseParser::finish() const { return !in_event_ && line_.empty(); }

}  // namespace warden::proxy::inspect

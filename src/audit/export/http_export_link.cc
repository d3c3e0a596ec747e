#include "audit/export/http_export_link.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>

#include "proxy/chunked.h"
#include "proxy/http_response.h"

namespace warden::audit::exporting {
namespace {

constexpr std::chrono::milliseconds kResponseTimeout{30000};
constexpr size_t kMaxKeptBody = 4u << 20;  // an answer's body beyond this is read and dropped

}  // namespace

HttpExportLink::HttpExportLink(std::unique_ptr<StreamConnection> conn, const ExportUrl& url,
                               std::vector<std::pair<std::string, std::string>> headers)
    : conn_(std::move(conn)), es_bulk_(url.format == ExportUrl::Format::kEsBulk) {
  const bool v6 = url.host.find(':') != std::string::npos;
  const bool default_port = url.port == (url.transport == ExportUrl::Transport::kHttps ? 443 : 80);
  head_ = fmt::format("POST {} HTTP/1.1\r\nHost: {}{}{}{}\r\nUser-Agent: warden-export\r\n"
                      "Content-Type: application/x-ndjson\r\n",
                      url.target, v6 ? "[" : "", url.host, v6 ? "]" : "",
                      default_port ? std::string() : fmt::format(":{}", url.port));
  for (const auto& [name, value] : headers) fmt::format_to(std::back_inserter(head_), "{}: {}\r\n", name, value);
}

Result<void> HttpExportLink::send(std::span<const std::string> payloads, uint64_t mark) {
  size_t body_bytes = 0;
  for (const std::string& p : payloads) body_bytes += p.size() + 1;
  request_.clear();
  request_.reserve(head_.size() + 32 + body_bytes);
  request_ += head_;
  fmt::format_to(std::back_inserter(request_), "Content-Length: {}\r\n\r\n", body_bytes);
  for (const std::string& p : payloads) {
    request_ += p;
    request_ += '\n';
  }
  if (auto written = conn_->write(request_); !written.ok()) return written;
  auto answer = readResponse();
  if (!answer.ok()) return answer.error();
  const auto& [status, body] = *answer;
  if (status == 413) return resourceExhausted(fmt::format("HTTP 413: the receiver refused a batch of {} events ({} bytes) as too large", payloads.size(), body_bytes));
  if (status < 200 || status > 299) return unavailable(fmt::format("HTTP {}", status));
  if (es_bulk_) {
    if (auto checked = checkBulkResponse(body); !checked.ok()) return checked;
  }
  delivered_ = mark;
  return okResult();
}

Result<std::pair<int, std::string>> HttpExportLink::readResponse() {
  proxy::HttpResponseParser parser("POST");
  char chunk[16384];
  auto fill = [&]() -> Result<void> {
    auto n = conn_->read(chunk, sizeof chunk, kResponseTimeout);
    if (!n.ok()) return n.error().withContext("HTTP answer");
    if (*n == 0) return unavailable("HTTP answer: the receiver closed the connection");
    buffer_.append(chunk, *n);
    return okResult();
  };
  // The head (interim 1xx answers skipped).
  while (true) {
    if (buffer_.empty()) WARDEN_RETURN_IF_ERROR(fill());
    const proxy::FeedResult r = parser.feed(buffer_);
    if (r.state == proxy::ParseState::kRejected) {
      return unavailable(fmt::format("HTTP answer: {}", parser.rejection().detail));
    }
    if (r.state == proxy::ParseState::kNeedMore) {
      // The parser keeps what it consumed; only new bytes are fed next.
      buffer_.erase(0, r.consumed);
      WARDEN_RETURN_IF_ERROR(fill());
      continue;
    }
    buffer_.erase(0, r.consumed);
    if (parser.head().isInterim()) {
      parser.reset();
      continue;
    }
    break;
  }
  const proxy::HttpResponseHead head = parser.takeHead();
  std::string body;
  auto keep = [&](std::string_view bytes) {
    if (body.size() < kMaxKeptBody) body.append(bytes.substr(0, kMaxKeptBody - body.size()));
  };
  switch (head.body) {
    case proxy::BodyFraming::kNone:
      break;
    case proxy::BodyFraming::kContentLength: {
      uint64_t left = head.content_length.value_or(0);
      while (left > 0) {
        if (buffer_.empty()) WARDEN_RETURN_IF_ERROR(fill());
        const size_t take = static_cast<size_t>(std::min<uint64_t>(left, buffer_.size()));
        keep(std::string_view(buffer_).substr(0, take));
        buffer_.erase(0, take);
        left -= take;
      }
      break;
    }
    case proxy::BodyFraming::kChunked: {
      proxy::ChunkedDecoder decoder(502);
      while (true) {
        if (buffer_.empty()) WARDEN_RETURN_IF_ERROR(fill());
        const proxy::FeedResult r = decoder.feed(buffer_, keep);
        if (r.state == proxy::ParseState::kRejected) {
          return unavailable(fmt::format("HTTP answer: {}", decoder.rejection().detail));
        }
        buffer_.erase(0, r.consumed);
        if (r.state == proxy::ParseState::kDone) break;
      }
      break;
    }
    case proxy::BodyFraming::kUntilClose:
      keep(buffer_);
      buffer_.clear();
      while (true) {
        auto n = conn_->read(chunk, sizeof chunk, kResponseTimeout);
        if (!n.ok()) return n.error().withContext("HTTP answer");
        if (*n == 0) break;
        keep(std::string_view(chunk, *n));
      }
      closed_ = true;
      break;
  }
  if (!head.keep_alive) closed_ = true;
  return std::make_pair(head.status, std::move(body));
}

Result<void> checkBulkResponse(std::string_view body) {
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return unavailable("Elasticsearch _bulk answer is not a JSON object");
  const auto errors = doc.find("errors");
  if (errors == doc.end() || !errors->is_boolean()) return unavailable("Elasticsearch _bulk answer has no 'errors'");
  if (!errors->get<bool>()) return okResult();
  const auto items = doc.find("items");
  if (items == doc.end() || !items->is_array()) return unavailable("Elasticsearch _bulk answer has errors and no 'items'");
  size_t failed = 0;
  std::string first;
  for (const nlohmann::json& item : *items) {
    if (!item.is_object() || item.empty()) continue;
    const nlohmann::json& result = item.begin().value();
    if (!result.is_object()) continue;
    const auto status = result.find("status");
    const int code = status != result.end() && status->is_number_integer() ? status->get<int>() : 0;
    if (code >= 200 && code <= 299) continue;
    if (code == 409) continue;  // the document exists: this event was delivered before
    ++failed;
    if (first.empty()) {
      const auto error = result.find("error");
      std::string type = "unknown", reason;
      if (error != result.end() && error->is_object()) {
        if (auto t = error->find("type"); t != error->end() && t->is_string()) type = t->get<std::string>();
        if (auto w = error->find("reason"); w != error->end() && w->is_string()) reason = w->get<std::string>();
      }
      first = fmt::format("status {} {}{}{}", code, type, reason.empty() ? "" : ": ", reason.substr(0, 200));
    }
  }
  if (failed == 0) return okResult();
  return unavailable(fmt::format("Elasticsearch refused {} of {} events (first: {})", failed, items->size(), first));
}

}  // namespace warden::audit::exporting

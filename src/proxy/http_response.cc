#include "proxy/http_response.h"

#include <fmt/format.h>

namespace warden::proxy {

namespace {

constexpr int kBadGateway = 502;

HttpRejection bad(RejectReason reason, std::string detail) {
  return HttpRejection{kBadGateway, reason, std::move(detail)};
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

HttpResponseParser::HttpResponseParser(std::string_view request_method, size_t max_head_bytes)
    : head_request_(request_method == "HEAD"), reader_(max_head_bytes, kBadGateway, kBadGateway) {}

void HttpResponseParser::reset() {
  reader_.reset();
  state_ = ParseState::kNeedMore;
  seen_status_line_ = false;
  head_ = HttpResponseHead{};
  rejection_ = HttpRejection{};
}

FeedResult HttpResponseParser::reject(HttpRejection rejection) {
  state_ = ParseState::kRejected;
  rejection_ = std::move(rejection);
  return {state_, 0};
}

FeedResult HttpResponseParser::feed(std::string_view data) {
  if (state_ != ParseState::kNeedMore) return {state_, 0};
  const size_t taken = reader_.append(data);
  std::string_view line;
  HttpRejection rejection;
  while (true) {
    const HeadReader::Step step = reader_.nextLine(&line, &rejection);
    if (step == HeadReader::Step::kRejected) return reject(std::move(rejection));
    if (step == HeadReader::Step::kNeedMore) return {state_, data.size()};
    if (!seen_status_line_) {
      seen_status_line_ = true;
      if (auto r = onStatusLine(line)) return reject(std::move(*r));
      continue;
    }
    if (line.empty()) {
      head_.head_length = reader_.lineBytes();
      if (auto r = onHeadersDone()) return reject(std::move(*r));
      state_ = ParseState::kDone;
      return {state_, taken - reader_.unreadBytes()};
    }
    if (head_.headers.size() >= kMaxHeaderCount) {
      return reject(
          bad(RejectReason::kTooManyHeaders, fmt::format("more than {} header fields", kMaxHeaderCount)));
    }
    HeaderField field;
    if (auto r = parseFieldLine(line, kBadGateway, &field)) return reject(std::move(*r));
    head_.headers.push_back(std::move(field));
  }
}

std::optional<HttpRejection> HttpResponseParser::onStatusLine(std::string_view line) {
  // HTTP-version SP 3DIGIT SP reason-phrase; a missing SP after the code (empty reason) is tolerated.
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || !isDigit(line[5]) || line[6] != '.' ||
      !isDigit(line[7]) || line[8] != ' ') {
    return bad(RejectReason::kInvalidStatusLine, "the status line is not 'HTTP/x.y NNN reason'");
  }
  const std::string_view version = line.substr(0, 8);
  if (version == "HTTP/1.1") {
    head_.version = HttpVersion::kHttp11;
  } else if (version == "HTTP/1.0") {
    head_.version = HttpVersion::kHttp10;
  } else {
    return bad(RejectReason::kUnsupportedVersion,
               "the upstream answered with an HTTP version other than 1.0/1.1");
  }
  if (!isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11])) {
    return bad(RejectReason::kInvalidStatusCode, "the status code is not three digits");
  }
  head_.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (head_.status < 100 || head_.status > 599) {
    return bad(RejectReason::kInvalidStatusCode, "the status code is outside 100-599");
  }
  std::string_view reason = line.substr(12);
  if (!reason.empty()) {
    if (reason.front() != ' ') return bad(RejectReason::kInvalidStatusLine, "no space after the status code");
    reason.remove_prefix(1);
  }
  for (const char c : reason) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return bad(RejectReason::kInvalidStatusLine, "a control byte in the reason phrase");
    }
  }
  head_.reason.assign(reason);
  return std::nullopt;
}

std::optional<HttpRejection> HttpResponseParser::onHeadersDone() {
  bool saw_te = false;
  std::string te;
  for (const auto& h : head_.headers) {
    if (equalsIgnoreCase(h.name, "Content-Length")) {
      const auto v = parseContentLength(h.value);
      if (!v)
        return bad(RejectReason::kInvalidContentLength, "Content-Length is not a number (or overflows)");
      if (head_.content_length && *head_.content_length != *v) {
        return bad(RejectReason::kConflictingContentLength, "Content-Length headers disagree");
      }
      head_.content_length = v;
    } else if (equalsIgnoreCase(h.name, "Transfer-Encoding")) {
      if (saw_te) te += ",";
      te += h.value;
      saw_te = true;
    }
  }
  if (saw_te) {
    if (head_.content_length) {
      return bad(RejectReason::kContentLengthWithTransferEncoding,
                 "Content-Length and Transfer-Encoding together (response smuggling risk)");
    }
    if (head_.version == HttpVersion::kHttp10) {
      return bad(RejectReason::kTransferEncodingInHttp10, "Transfer-Encoding in an HTTP/1.0 response");
    }
    if (!equalsIgnoreCase(te, "chunked")) {
      return bad(RejectReason::kUnsupportedTransferEncoding, "only 'Transfer-Encoding: chunked' is accepted");
    }
    head_.chunked = true;
  }
  const int s = head_.status;
  const bool no_body = (s >= 100 && s < 200) || s == 204 || s == 304 || head_request_;
  if (no_body) {
    head_.body = BodyFraming::kNone;
  } else if (head_.chunked) {
    head_.body = BodyFraming::kChunked;
  } else if (head_.content_length) {
    head_.body = *head_.content_length > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
  } else {
    head_.body = BodyFraming::kUntilClose;
  }
  if (head_.body == BodyFraming::kUntilClose) {
    head_.keep_alive = false;
  } else if (head_.version == HttpVersion::kHttp11) {
    head_.keep_alive = !headerHasToken(head_.headers, "Connection", "close");
  } else {
    head_.keep_alive = headerHasToken(head_.headers, "Connection", "keep-alive") &&
                       !headerHasToken(head_.headers, "Connection", "close");
  }
  return std::nullopt;
}

}  // namespace warden::proxy

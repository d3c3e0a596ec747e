#include "proxy/http_codec.h"

#include <fmt/format.h>

#include <algorithm>

namespace warden::proxy {

std::string_view rejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kBareLf:
      return "bare_lf";
    case RejectReason::kBareCr:
      return "bare_cr";
    case RejectReason::kHeadTooLarge:
      return "head_too_large";
    case RejectReason::kTooManyHeaders:
      return "too_many_headers";
    case RejectReason::kInvalidRequestLine:
      return "invalid_request_line";
    case RejectReason::kInvalidMethod:
      return "invalid_method";
    case RejectReason::kInvalidTarget:
      return "invalid_target";
    case RejectReason::kTargetFormMismatch:
      return "target_form_mismatch";
    case RejectReason::kUnsupportedScheme:
      return "unsupported_scheme";
    case RejectReason::kUserinfoInUri:
      return "userinfo_in_uri";
    case RejectReason::kInvalidHost:
      return "invalid_host";
    case RejectReason::kInvalidVersion:
      return "invalid_version";
    case RejectReason::kUnsupportedVersion:
      return "unsupported_version";
    case RejectReason::kObsFold:
      return "obs_fold";
    case RejectReason::kWhitespaceBeforeColon:
      return "whitespace_before_colon";
    case RejectReason::kInvalidHeaderName:
      return "invalid_header_name";
    case RejectReason::kMalformedHeaderLine:
      return "malformed_header_line";
    case RejectReason::kInvalidHeaderValue:
      return "invalid_header_value";
    case RejectReason::kContentLengthWithTransferEncoding:
      return "content_length_with_transfer_encoding";
    case RejectReason::kConflictingContentLength:
      return "conflicting_content_length";
    case RejectReason::kInvalidContentLength:
      return "invalid_content_length";
    case RejectReason::kUnsupportedTransferEncoding:
      return "unsupported_transfer_encoding";
    case RejectReason::kTransferEncodingInHttp10:
      return "transfer_encoding_in_http10";
    case RejectReason::kMissingHost:
      return "missing_host";
    case RejectReason::kMultipleHost:
      return "multiple_host";
    case RejectReason::kConnectWithBody:
      return "connect_with_body";
    case RejectReason::kInvalidStatusLine:
      return "invalid_status_line";
    case RejectReason::kInvalidStatusCode:
      return "invalid_status_code";
    case RejectReason::kInvalidChunkSize:
      return "invalid_chunk_size";
    case RejectReason::kChunkSizeOverflow:
      return "chunk_size_overflow";
    case RejectReason::kChunkLineTooLong:
      return "chunk_line_too_long";
    case RejectReason::kInvalidChunkExtension:
      return "invalid_chunk_extension";
    case RejectReason::kMissingChunkCrlf:
      return "missing_chunk_crlf";
    case RejectReason::kTrailerTooLarge:
      return "trailer_too_large";
    case RejectReason::kInvalidTrailer:
      return "invalid_trailer";
  }
  return "unknown";
}

std::string_view httpVersionText(HttpVersion version) {
  return version == HttpVersion::kHttp10 ? "HTTP/1.0" : "HTTP/1.1";
}

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool isOws(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), isTokenChar);
}

const HeaderField* findHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (equalsIgnoreCase(h.name, name)) return &h;
  }
  return nullptr;
}

bool headerHasToken(const HeaderList& headers, std::string_view name, std::string_view token) {
  for (const auto& h : headers) {
    if (!equalsIgnoreCase(h.name, name)) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view item = trimOws(rest.substr(0, comma));
      if (equalsIgnoreCase(item, token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

std::optional<uint64_t> parseContentLength(std::string_view value) {
  std::optional<uint64_t> result;
  while (true) {
    const size_t comma = value.find(',');
    const std::string_view item = trimOws(value.substr(0, comma));
    if (item.empty()) return std::nullopt;
    uint64_t v = 0;
    for (const char c : item) {
      if (c < '0' || c > '9') return std::nullopt;
      const auto d = static_cast<uint64_t>(c - '0');
      if (v > (UINT64_MAX - d) / 10) return std::nullopt;
      v = v * 10 + d;
    }
    if (result && *result != v) return std::nullopt;
    result = v;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return result;
}

std::optional<HttpRejection> parseFieldLine(std::string_view line, int status, HeaderField* out) {
  if (!line.empty() && isOws(line.front())) {
    return HttpRejection{status, RejectReason::kObsFold, "a field line starts with whitespace (obs-fold)"};
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return HttpRejection{status, RejectReason::kMalformedHeaderLine, "a field line has no 'name:' part"};
  }
  const std::string_view name = line.substr(0, colon);
  if (isOws(name.back())) {
    return HttpRejection{status, RejectReason::kWhitespaceBeforeColon,
                         "whitespace between a field name and its colon"};
  }
  if (!isToken(name)) {
    return HttpRejection{status, RejectReason::kInvalidHeaderName, "a field name has a non-token character"};
  }
  const std::string_view value = trimOws(line.substr(colon + 1));
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return HttpRejection{status, RejectReason::kInvalidHeaderValue,
                           fmt::format("field '{}' has a control byte in its value", name.substr(0, 64))};
    }
  }
  out->name.assign(name);
  out->value.assign(value);
  return std::nullopt;
}

HeadReader::HeadReader(size_t max_bytes, int error_status, int too_large_status)
    : max_bytes_(max_bytes), error_status_(error_status), too_large_status_(too_large_status) {}

size_t HeadReader::append(std::string_view data) {
  const size_t room = max_bytes_ - std::min(max_bytes_, buf_.size());
  const size_t take = std::min(room, data.size());
  buf_.append(data.data(), take);
  return take;
}

HeadReader::Step HeadReader::nextLine(std::string_view* line, HttpRejection* rejection) {
  while (scan_ < buf_.size()) {
    const char c = buf_[scan_];
    if (c == '\n') {
      if (scan_ == line_start_ || buf_[scan_ - 1] != '\r') {
        *rejection =
            HttpRejection{error_status_, RejectReason::kBareLf, "a line ends with a bare LF (CRLF required)"};
        return Step::kRejected;
      }
      *line = std::string_view(buf_).substr(line_start_, scan_ - 1 - line_start_);
      ++scan_;
      line_start_ = scan_;
      return Step::kLine;
    }
    if (c == '\r') {
      if (scan_ + 1 == buf_.size()) break;  // need the next byte to judge
      if (buf_[scan_ + 1] != '\n') {
        *rejection = HttpRejection{error_status_, RejectReason::kBareCr, "a CR is not followed by LF"};
        return Step::kRejected;
      }
    }
    ++scan_;
  }
  if (buf_.size() >= max_bytes_) {
    *rejection = HttpRejection{too_large_status_, RejectReason::kHeadTooLarge,
                               fmt::format("the message head exceeds {} bytes", max_bytes_)};
    return Step::kRejected;
  }
  return Step::kNeedMore;
}

void HeadReader::reset() {
  buf_.clear();
  line_start_ = 0;
  scan_ = 0;
}

}  // namespace warden::proxy

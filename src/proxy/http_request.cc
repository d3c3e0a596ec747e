#include "proxy/http_request.h"

#include <fmt/format.h>

#include <algorithm>

#include "proxy/ssrf.h"

namespace warden::proxy {

namespace {

constexpr int kBadRequest = 400;

HttpRejection bad(RejectReason reason, std::string detail) {
  return HttpRejection{kBadRequest, reason, std::move(detail)};
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// Visible ASCII except '#': what a request-target may contain (RFC 3986 characters, plus the
// printable ones common clients send unescaped in queries, e.g. '|' '{' '"').
bool isTargetChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && c != '#';
}

struct Authority {
  std::string host;
  std::optional<uint16_t> port;
};

// host [":" port] with host a hostname, IPv4 (any inet_aton spelling) or "[IPv6]". No userinfo, no
// empty port, port 1-65535.
std::optional<Authority> parseAuthority(std::string_view s, bool port_required, std::string* why) {
  Authority a;
  std::string_view host;
  std::string_view rest;
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find(']');
    if (close == std::string_view::npos) {
      *why = "an unterminated IPv6 literal";
      return std::nullopt;
    }
    host = s.substr(0, close + 1);
    rest = s.substr(close + 1);
  } else {
    const size_t colon = s.find(':');
    host = s.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : s.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) {
      *why = "a malformed port";
      return std::nullopt;
    }
    uint32_t port = 0;
    for (const char c : rest.substr(1)) {
      if (!isDigit(c)) {
        *why = "a malformed port";
        return std::nullopt;
      }
      port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    if (port == 0 || port > 65535) {
      *why = "a port outside 1-65535";
      return std::nullopt;
    }
    a.port = static_cast<uint16_t>(port);
  } else if (port_required) {
    *why = "no port";
    return std::nullopt;
  }
  const ParsedHost parsed = parseHost(host);
  if (parsed.kind == HostKind::kInvalid) {
    *why = parsed.reason;
    return std::nullopt;
  }
  a.host = toLower(host);
  return a;
}

void splitPathQuery(std::string_view pq, HttpRequestHead* head) {
  const size_t q = pq.find('?');
  head->path.assign(pq.substr(0, q));
  if (q != std::string_view::npos) head->query.emplace(pq.substr(q + 1));
}

std::optional<HttpRejection> parseTarget(std::string_view target, HttpRequestHead* head) {
  for (const char c : target) {
    if (!isTargetChar(c)) {
      return bad(RejectReason::kInvalidTarget,
                 "the request-target has a byte that is not visible ASCII, or a '#'");
    }
  }
  const bool is_connect = head->method == "CONNECT";
  std::string why;
  if (is_connect) {
    auto a = parseAuthority(target, /*port_required=*/true, &why);
    if (!a) {
      return HttpRejection{kBadRequest, RejectReason::kTargetFormMismatch,
                           "CONNECT needs an authority-form target host:port (" + why + ")"};
    }
    head->form = RequestTargetForm::kAuthority;
    head->host = std::move(a->host);
    head->port = a->port;
    return std::nullopt;
  }
  if (target == "*") {
    if (head->method != "OPTIONS") {
      return bad(RejectReason::kTargetFormMismatch, "the asterisk-form target is only for OPTIONS");
    }
    head->form = RequestTargetForm::kAsterisk;
    return std::nullopt;
  }
  if (target.front() == '/') {
    head->form = RequestTargetForm::kOrigin;
    splitPathQuery(target, head);
    return std::nullopt;
  }
  // absolute-form: scheme "://" authority path-abempty [ "?" query ]
  const size_t sep = target.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return bad(RejectReason::kInvalidTarget, "the request-target is not origin-, absolute- or asterisk-form");
  }
  const std::string scheme = toLower(target.substr(0, sep));
  for (const char c : scheme) {
    if (!((c >= 'a' && c <= 'z') || isDigit(c) || c == '+' || c == '-' || c == '.')) {
      return bad(RejectReason::kInvalidTarget, "the request-target has a malformed scheme");
    }
  }
  if (scheme != "http" && scheme != "https") {
    return bad(RejectReason::kUnsupportedScheme, "only http and https URIs are proxied");
  }
  std::string_view rest = target.substr(sep + 3);
  const size_t end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) {
    return bad(RejectReason::kUserinfoInUri, "userinfo (user:password@) in the URI is not accepted");
  }
  auto a = parseAuthority(authority, /*port_required=*/false, &why);
  if (!a) return bad(RejectReason::kInvalidHost, "the URI's host is invalid: " + why);
  head->form = RequestTargetForm::kAbsolute;
  head->scheme = scheme;
  head->host = std::move(a->host);
  head->port = a->port ? a->port : std::optional<uint16_t>(scheme == "https" ? 443 : 80);
  if (end == std::string_view::npos) {
    head->path = "/";
  } else {
    splitPathQuery(rest.substr(end), head);
    if (head->path.empty()) head->path = "/";
  }
  return std::nullopt;
}

}  // namespace

std::string HttpRequestHead::authority() const {
  if (!port) return host;
  // Only an absolute-form URI says which scheme (and so which default port) applies; in a tunnel
  // "Host: a.example:80" must not become "a.example", which would mean 443 under TLS.
  if (!scheme.empty() && *port == (scheme == "https" ? 443 : 80)) return host;
  return fmt::format("{}:{}", host, *port);
}

HttpRequestParser::HttpRequestParser(size_t max_head_bytes) : reader_(max_head_bytes, kBadRequest, 431) {}

void HttpRequestParser::reset() {
  reader_.reset();
  state_ = ParseState::kNeedMore;
  seen_request_line_ = false;
  head_ = HttpRequestHead{};
  rejection_ = HttpRejection{};
}

FeedResult HttpRequestParser::reject(HttpRejection rejection) {
  state_ = ParseState::kRejected;
  rejection_ = std::move(rejection);
  return {state_, 0};
}

FeedResult HttpRequestParser::feed(std::string_view data) {
  if (state_ != ParseState::kNeedMore) return {state_, 0};
  const size_t taken = reader_.append(data);
  std::string_view line;
  HttpRejection rejection;
  while (true) {
    const HeadReader::Step step = reader_.nextLine(&line, &rejection);
    if (step == HeadReader::Step::kRejected) return reject(std::move(rejection));
    if (step == HeadReader::Step::kNeedMore) return {state_, data.size()};
    if (!seen_request_line_) {
      if (line.empty()) continue;  // leading CRLFs before the request line
      seen_request_line_ = true;
      if (auto r = onRequestLine(line)) return reject(std::move(*r));
      continue;
    }
    if (line.empty()) {
      head_.head_length = reader_.lineBytes();
      if (auto r = onHeadersDone()) return reject(std::move(*r));
      state_ = ParseState::kDone;
      // Every byte before this call was part of an unfinished line, so what is left over is ours.
      return {state_, taken - reader_.unreadBytes()};
    }
    if (head_.headers.size() >= kMaxHeaderCount) {
      return reject(HttpRejection{431, RejectReason::kTooManyHeaders,
                                  fmt::format("more than {} header fields", kMaxHeaderCount)});
    }
    HeaderField field;
    if (auto r = parseFieldLine(line, kBadRequest, &field)) return reject(std::move(*r));
    head_.headers.push_back(std::move(field));
  }
}

std::optional<HttpRejection> HttpRequestParser::onRequestLine(std::string_view line) {
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) {
    return bad(RejectReason::kInvalidRequestLine, "the request line is not 'METHOD target HTTP/x.y'");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view rest = line.substr(sp1 + 1);
  const size_t sp2 = rest.find(' ');
  if (sp2 == std::string_view::npos) {
    return bad(RejectReason::kInvalidRequestLine, "the request line is not 'METHOD target HTTP/x.y'");
  }
  const std::string_view target = rest.substr(0, sp2);
  const std::string_view version = rest.substr(sp2 + 1);
  if (!isToken(method)) return bad(RejectReason::kInvalidMethod, "the method is not a token");
  if (target.empty()) {
    return bad(RejectReason::kInvalidRequestLine, "the request line has an empty target (double space?)");
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !isDigit(version[5]) || version[6] != '.' ||
      !isDigit(version[7])) {
    return bad(RejectReason::kInvalidVersion, "the request line does not end in HTTP/x.y");
  }
  if (version == "HTTP/1.1") {
    head_.version = HttpVersion::kHttp11;
  } else if (version == "HTTP/1.0") {
    head_.version = HttpVersion::kHttp10;
  } else {
    return HttpRejection{505, RejectReason::kUnsupportedVersion, "only HTTP/1.0 and HTTP/1.1 are supported"};
  }
  head_.method.assign(method);
  head_.target.assign(target);
  return parseTarget(target, &head_);
}

std::optional<HttpRejection> HttpRequestParser::onHeadersDone() {
  const HeaderField* host = nullptr;
  bool saw_te = false;
  std::string te;
  for (const auto& h : head_.headers) {
    if (equalsIgnoreCase(h.name, "Host")) {
      if (host) return bad(RejectReason::kMultipleHost, "more than one Host header");
      host = &h;
    } else if (equalsIgnoreCase(h.name, "Content-Length")) {
      const auto v = parseContentLength(h.value);
      if (!v) {
        return bad(RejectReason::kInvalidContentLength, "Content-Length is not a number (or overflows)");
      }
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
                 "Content-Length and Transfer-Encoding together (request smuggling risk)");
    }
    if (head_.version == HttpVersion::kHttp10) {
      return bad(RejectReason::kTransferEncodingInHttp10, "Transfer-Encoding in an HTTP/1.0 request");
    }
    if (!equalsIgnoreCase(te, "chunked")) {
      return HttpRejection{501, RejectReason::kUnsupportedTransferEncoding,
                           "only 'Transfer-Encoding: chunked' is accepted"};
    }
    head_.chunked = true;
    head_.body = BodyFraming::kChunked;
  } else if (head_.content_length && *head_.content_length > 0) {
    head_.body = BodyFraming::kContentLength;
  }
  if (head_.form == RequestTargetForm::kAuthority && head_.body != BodyFraming::kNone) {
    return bad(RejectReason::kConnectWithBody, "a CONNECT request must not have a body");
  }
  if (!host && head_.version == HttpVersion::kHttp11) {
    return bad(RejectReason::kMissingHost, "an HTTP/1.1 request without a Host header");
  }
  if (host && head_.form == RequestTargetForm::kOrigin) {
    std::string why;
    auto a = parseAuthority(host->value, /*port_required=*/false, &why);
    if (!a) return bad(RejectReason::kInvalidHost, "the Host header is invalid: " + why);
    head_.host = std::move(a->host);
    head_.port = a->port;
  }
  if (head_.version == HttpVersion::kHttp11) {
    head_.keep_alive = !headerHasToken(head_.headers, "Connection", "close");
    head_.upgrade = findHeader(head_.headers, "Upgrade") != nullptr &&
                    headerHasToken(head_.headers, "Connection", "upgrade");
  } else {
    head_.keep_alive = headerHasToken(head_.headers, "Connection", "keep-alive") &&
                       !headerHasToken(head_.headers, "Connection", "close");
  }
  head_.expect_continue = headerHasToken(head_.headers, "Expect", "100-continue");
  return std::nullopt;
}

std::string serializeRequestHead(const HttpRequestHead& head, std::string_view canonical_path) {
  static constexpr std::string_view kHopByHop[] = {"Connection",
                                                   "Keep-Alive",
                                                   "Proxy-Connection",
                                                   "Proxy-Authorization",
                                                   "Proxy-Authenticate",
                                                   "TE",
                                                   "Trailer",
                                                   "Upgrade",
                                                   "Host"};
  static constexpr std::string_view kFraming[] = {"Content-Length", "Transfer-Encoding", "Host"};

  std::string out;
  out.reserve(head.head_length + 64);
  out += head.method;
  out += ' ';
  switch (head.form) {
    case RequestTargetForm::kOrigin:
    case RequestTargetForm::kAbsolute:
      out += canonical_path;
      if (head.query) {
        out += '?';
        out += *head.query;
      }
      break;
    case RequestTargetForm::kAuthority:
      out += fmt::format("{}:{}", head.host, head.port.value_or(443));
      break;
    case RequestTargetForm::kAsterisk:
      out += '*';
      break;
  }
  out += ' ';
  out += httpVersionText(head.version);
  out += "\r\n";
  if (!head.host.empty()) {
    out += "Host: ";
    out += head.authority();
    out += "\r\n";
  }
  bool wrote_content_length = false;
  for (const auto& h : head.headers) {
    const bool framing = std::any_of(std::begin(kFraming), std::end(kFraming),
                                     [&](std::string_view n) { return equalsIgnoreCase(h.name, n); });
    const bool kept_upgrade = head.upgrade && equalsIgnoreCase(h.name, "Upgrade");
    if (!framing && !kept_upgrade && headerHasToken(head.headers, "Connection", h.name)) continue;
    const bool hop = std::any_of(std::begin(kHopByHop), std::end(kHopByHop),
                                 [&](std::string_view n) { return equalsIgnoreCase(h.name, n); });
    if (hop && !kept_upgrade) continue;
    if (equalsIgnoreCase(h.name, "Transfer-Encoding")) {
      // The relay re-frames the body (ChunkedReframer): the coding is ours, written one way.
      if (head.chunked) out += "Transfer-Encoding: chunked\r\n";
      continue;
    }
    if (equalsIgnoreCase(h.name, "Content-Length")) {
      if (wrote_content_length || !head.content_length) continue;
      wrote_content_length = true;
      out += fmt::format("{}: {}\r\n", h.name, *head.content_length);
      continue;
    }
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  if (head.upgrade) {
    out += "Connection: Upgrade\r\n";
  } else if (!head.keep_alive) {
    if (head.version == HttpVersion::kHttp11) out += "Connection: close\r\n";
  } else if (head.version == HttpVersion::kHttp10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace warden::proxy

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace warden::audit::exporting {

// An `--export URL` (detect.md "Delivery (exports)", docs/export.md) taken apart. Pure value; no I/O.
//   syslog+tcp://HOST:PORT          RFC 5424 over TCP, octet-counted framing (RFC 6587)
//   syslog+tls://HOST:PORT?ca=FILE  the same over TLS (RFC 5425), the server verified against FILE
//   syslog+udp://HOST:PORT          RFC 5426, one datagram per event (lossy)
//   https://HOST[:PORT]/PATH        batches POSTed as NDJSON (one canonical event per line); 2xx
//                                   acknowledges the batch. Parameters: ca=FILE, header=Name:Value
//                                   (repeatable, percent-decoded), header_file=FILE ("Name: Value"
//                                   lines, read when the sink starts), format=ndjson|es-bulk.
//                                   Other parameters stay in the request target.
//   http://HOST[:PORT]/PATH         the same without TLS, only to a loopback address (127.0.0.0/8,
//                                   ::1, localhost): events never cross a network in the clear.
// HOST is a DNS name, an IPv4 address or a bracketed IPv6 address ("[::1]"). PORT is required for
// syslog (1-65535); HTTP defaults to 443 / 80. Anything else — another scheme, a path on a syslog
// URL, a fragment, user info, an unknown syslog parameter — is InvalidArgument naming the URL (never
// a header's value) and the problem.
struct ExportUrl {
  enum class Transport { kTcp, kTls, kUdp, kHttps, kHttp };
  // What an HTTP export's request body holds: NDJSON (Splunk HEC's raw endpoint, Logstash, Vector,
  // any NDJSON ingest), or Elasticsearch's `_bulk` shape (a `create` action naming the document
  // `<session>-<sequence>` before each event, so a duplicate from at-least-once delivery is refused
  // by the index instead of stored twice).
  enum class Format { kNdjson, kEsBulk };
  Transport transport = Transport::kTcp;
  std::string host;  // without brackets
  uint16_t port = 0;
  std::optional<std::string> ca_file;
  // HTTP only.
  std::string target = "/";  // path and the receiver's own query parameters, as sent
  Format format = Format::kNdjson;
  std::vector<std::pair<std::string, std::string>> headers;  // secrets: never logged
  std::optional<std::string> header_file;
  std::string text;  // the URL as given (usage errors)
  // "scheme://host:port[/path]" without the query: the sink's name in events and warden.log (query
  // strings — tokens in headers — are never logged).
  std::string name;

  bool isHttp() const { return transport == Transport::kHttps || transport == Transport::kHttp; }
  bool usesTls() const { return transport == Transport::kTls || transport == Transport::kHttps; }

  static Result<ExportUrl> parse(std::string_view url);
};

// The URL as errors may show it: every header= parameter's value replaced by "[redacted]".
std::string redactedExportUrl(std::string_view url);

// Reads a header_file: one "Name: Value" per line, blank lines and '#' comments skipped. Names are
// HTTP tokens; values have no control characters. Errors name the file and line, never a value.
Result<std::vector<std::pair<std::string, std::string>>> readHeaderFile(const std::string& path);

}  // namespace warden::audit::exporting

#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "audit/export/export_link.h"
#include "audit/export/export_url.h"
#include "audit/export/stream_connection.h"
#include "audit/export/syslog_message.h"
#include "audit/sink.h"

namespace warden::audit::exporting {

// One stream or HTTP export's receiver (syslog+tcp, syslog+tls, https, http): what each event
// becomes for it and how a link to it is opened. Immutable after make(); usable from any thread.
class ExportReceiver {
 public:
  // Loads the CA file (TLS) and reads header_file (HTTP). InvalidArgument naming the URL (never a
  // header's value); UDP URLs are not stream receivers.
  static Result<std::shared_ptr<const ExportReceiver>> make(const ExportUrl& url,
                                                            std::chrono::milliseconds settle = std::chrono::seconds(2));

  const ExportUrl& url() const { return url_; }
  // Appends what one event becomes for this receiver — what a spool keeps and a link sends: the
  // RFC 5424 message (syslog), the canonical JSON (NDJSON), or Elasticsearch's create action naming
  // the document "<session>-<sequence>", '\n', the JSON (es-bulk). `origin` is the event's session
  // (its id and host) and the process that wrote it.
  void render(std::string& out, const SyslogHeader& origin, const SinkRecord& record) const;
  // Connects (and handshakes) within `timeout`. Unavailable with what failed.
  Result<std::unique_ptr<ExportLink>> connect(std::chrono::milliseconds timeout) const;

 private:
  ExportReceiver(ExportUrl url, std::chrono::milliseconds settle) : url_(std::move(url)), settle_(settle) {}

  const ExportUrl url_;
  const std::chrono::milliseconds settle_;
  std::shared_ptr<TlsClientContext> tls_;
  std::vector<std::pair<std::string, std::string>> headers_;  // the URL's and header_file's
};

}  // namespace warden::audit::exporting

#include "audit/export/export_receiver.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "audit/export/http_export_link.h"
#include "audit/export/syslog_stream_link.h"

namespace warden::audit::exporting {

Result<std::shared_ptr<const ExportReceiver>> ExportReceiver::make(const ExportUrl& url,
                                                                   std::chrono::milliseconds settle) {
  if (url.transport == ExportUrl::Transport::kUdp) {
    return invalidArgument(fmt::format("export URL '{}': not a stream or HTTP transport", url.name));
  }
  std::shared_ptr<ExportReceiver> out(new ExportReceiver(url, settle));
  if (url.usesTls()) {
    auto tls = TlsClientContext::make(url);
    if (!tls.ok()) return tls.error();
    out->tls_ = std::move(tls).value();
  }
  out->headers_ = url.headers;
  if (url.header_file) {
    auto more = readHeaderFile(*url.header_file);
    if (!more.ok()) return more.error().withContext(fmt::format("export URL '{}'", url.name));
    out->headers_.insert(out->headers_.end(), more->begin(), more->end());
  }
  return std::shared_ptr<const ExportReceiver>(std::move(out));
}

void ExportReceiver::render(std::string& out, const SyslogHeader& origin, const SinkRecord& record) const {
  if (!url_.isHttp()) {
    appendSyslogMessage(out, origin, record);
    return;
  }
  if (url_.format == ExportUrl::Format::kEsBulk) {
    const std::string id = nlohmann::json(fmt::format("{}-{}", origin.session_id, record.sequence))
                               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    fmt::format_to(std::back_inserter(out), "{{\"create\":{{\"_id\":{}}}}}\n", id);
  }
  out.append(record.json);
}

Result<std::unique_ptr<ExportLink>> ExportReceiver::connect(std::chrono::milliseconds timeout) const {
  auto conn = StreamConnection::connect(url_, tls_.get(), timeout);
  if (!conn.ok()) return conn.error();
  if (url_.isHttp()) return std::unique_ptr<ExportLink>(new HttpExportLink(std::move(conn).value(), url_, headers_));
  return std::unique_ptr<ExportLink>(new SyslogStreamLink(std::move(conn).value(), settle_));
}

}  // namespace warden::audit::exporting

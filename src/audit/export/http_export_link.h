#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "audit/export/export_link.h"
#include "audit/export/export_url.h"
#include "audit/export/stream_connection.h"

namespace warden::audit::exporting {

// An ExportLink to an HTTP(S) receiver (docs/export.md "HTTPS"): each batch is one
// `POST <target>` on a keep-alive HTTP/1.1 connection, the body the batch's payloads each followed
// by '\n' (NDJSON, or Elasticsearch's _bulk pairs), Content-Type application/x-ndjson, the URL's
// headers added. A 2xx answer within 30 s delivers the batch; for format=es-bulk the answer's
// `errors` must be false or every failed item a 409 (the document exists: a duplicate of an
// earlier delivery). 413 is ResourceExhausted (the loop halves its batches); any other answer, a
// malformed one or none in time is Unavailable ("HTTP 503 Service Unavailable") and the link is
// done. A `Connection: close` answer ends the link quietly after its batch (peerGone()).
// Owns its connection. Threads: as ExportLink.
class HttpExportLink final : public ExportLink {
 public:
  HttpExportLink(std::unique_ptr<StreamConnection> conn, const ExportUrl& url,
                 std::vector<std::pair<std::string, std::string>> headers);

  Result<void> send(std::span<const std::string> payloads, uint64_t mark) override;
  uint64_t delivered(bool) override { return delivered_; }
  bool settled() const override { return true; }
  bool peerGone() override { return closed_ || conn_->peerGone(); }
  bool idleCloseIsNormal() const override { return true; }
  bool upWhenConnected() const override { return false; }
  void interrupt() override { conn_->interrupt(); }

 private:
  // Reads one whole answer: its status and (bounded) body.
  Result<std::pair<int, std::string>> readResponse();

  std::unique_ptr<StreamConnection> conn_;
  std::string head_;  // the request head up to (not including) Content-Length
  bool es_bulk_ = false;
  uint64_t delivered_ = 0;
  bool closed_ = false;
  std::string request_;
  std::string buffer_;  // bytes read beyond the answer being parsed
};

// Whether an Elasticsearch _bulk answer accepted every item (409s count as accepted: duplicates).
// An error names how many items failed and the first failure's type and reason. Pure.
Result<void> checkBulkResponse(std::string_view body);

}  // namespace warden::audit::exporting

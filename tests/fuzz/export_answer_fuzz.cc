// libFuzzer target: what an export reads that it does not control — an Elasticsearch `_bulk` answer
// from the receiver (checkBulkResponse), and the forms of an `--export URL` (ExportUrl::parse,
// redactedExportUrl) as an operator or a gateway config file gives them.
// Checks: no crash or sanitizer report; a parsed URL's name never carries its query (tokens live
// there), and every header= parameter of a redacted URL reads "[redacted]".

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/export/export_url.h"
#include "audit/export/http_export_link.h"

using namespace warden::audit::exporting;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)checkBulkResponse(text);
  const std::string_view url_text = text.substr(0, 4096);
  auto url = ExportUrl::parse(url_text);
  if (url.ok()) {
    if (url->name.find('?') != std::string::npos) std::abort();
  }
  // Every header= parameter of the redacted form holds "[redacted]", never a value.
  const std::string redacted = redactedExportUrl(url_text);
  if (const size_t q = redacted.find('?'); q != std::string::npos) {
    std::string_view query = std::string_view(redacted).substr(q + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      const std::string_view param = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
      if (param.substr(0, param.find('=')) == "header" && param != "header=[redacted]") std::abort();
    }
  }
  return 0;
}

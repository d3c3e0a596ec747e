#include "audit/export/export_sinks.h"

#include <fmt/format.h>
#include <unistd.h>

#include "audit/export/spooled_export_sink.h"
#include "audit/export/udp_export_sink.h"

namespace warden::audit::exporting {

Result<std::vector<ExportUrl>> parseExportUrls(const std::vector<std::string>& urls) {
  std::vector<ExportUrl> out;
  for (const std::string& text : urls) {
    auto url = ExportUrl::parse(text);
    if (!url.ok()) return url.error();
    if (url->ca_file && ::access(url->ca_file->c_str(), R_OK) != 0) {
      return invalidArgument(fmt::format("export URL '{}': cannot read the CA file {}", url->name, *url->ca_file));
    }
    if (url->header_file) {
      if (auto headers = readHeaderFile(*url->header_file); !headers.ok()) {
        return invalidArgument(fmt::format("export URL '{}': {}", url->name, headers.error().message()));
      }
    }
    out.push_back(std::move(url).value());
  }
  return out;
}

Result<std::vector<std::shared_ptr<Sink>>> makeExportSinks(const std::vector<ExportUrl>& urls,
                                                           const std::filesystem::path& spool_root) {
  std::vector<std::shared_ptr<Sink>> sinks;
  for (size_t i = 0; i < urls.size(); ++i) {
    if (urls[i].transport == ExportUrl::Transport::kUdp) {
      auto sink = UdpExportSink::make(urls[i]);
      if (!sink.ok()) return sink.error();
      sinks.push_back(std::move(sink).value());
      continue;
    }
    SpooledExportOptions options;
    options.url = urls[i];
    options.spool_dir = spool_root / fmt::format(".export-{}", i + 1);
    auto sink = SpooledExportSink::make(std::move(options));
    if (!sink.ok()) return sink.error();
    sinks.push_back(std::move(sink).value());
  }
  return sinks;
}

}  // namespace warden::audit::exporting

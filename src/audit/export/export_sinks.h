#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "audit/export/export_url.h"
#include "audit/sink.h"

namespace warden::audit::exporting {

// Parses every `--export URL` (repeatable) up front, so a bad one is a usage error before anything
// starts. InvalidArgument naming the first bad URL; also when a ca= or header_file= file cannot be
// read or a header file is malformed.
Result<std::vector<ExportUrl>> parseExportUrls(const std::vector<std::string>& urls);

// The sinks for `urls`, in order: syslog+tcp/tls and https/http → SpooledExportSink with its spool in
// `<spool_root>/.export-<index>` (1-based), syslog+udp → UdpExportSink. The first error names its URL.
Result<std::vector<std::shared_ptr<Sink>>> makeExportSinks(const std::vector<ExportUrl>& urls,
                                                           const std::filesystem::path& spool_root);

}  // namespace warden::audit::exporting

#include "cli/export_option.h"

#include <cstdio>

#include "audit/export/export_sinks.h"

namespace warden::cli {

void addExportOption(CLI::App& app, std::vector<std::string>* urls) {
  app.add_option("--export", *urls,
                 "stream every event to a SIEM (repeatable): syslog+tcp://HOST:PORT, "
                 "syslog+tls://HOST:PORT?ca=FILE, syslog+udp://HOST:PORT (docs/export.md)");
}

std::optional<std::vector<audit::exporting::ExportUrl>> checkExportUrls(std::string_view command,
                                                                        const std::vector<std::string>& urls) {
  auto parsed = audit::exporting::parseExportUrls(urls);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%.*s: --export: %s\n", static_cast<int>(command.size()), command.data(),
                 parsed.error().message().c_str());
    return std::nullopt;
  }
  return std::move(parsed).value();
}

Result<std::vector<std::shared_ptr<audit::Sink>>> makeExports(const std::vector<audit::exporting::ExportUrl>& urls,
                                                              const std::filesystem::path& log_dir) {
  if (urls.empty()) return std::vector<std::shared_ptr<audit::Sink>>{};
  // The spools go inside the log directory: create it root-only first, as the pipeline would.
  std::error_code ec;
  if (!std::filesystem::exists(log_dir, ec)) {
    std::filesystem::create_directories(log_dir, ec);
    if (ec) return errnoError("create " + log_dir.string(), ec.value());
    std::filesystem::permissions(log_dir, std::filesystem::perms::owner_all, ec);
  }
  return audit::exporting::makeExportSinks(urls, log_dir);
}

}  // namespace warden::cli

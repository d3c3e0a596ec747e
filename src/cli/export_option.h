#pragma once

// `--export URL` (repeatable) on `warden run` and `warden proxy` (detect.md "Delivery (exports)",
// docs/export.md): the flag, its usage check, and the sinks it makes.

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/export/export_url.h"
#include "audit/sink.h"
#include "common/result.h"

namespace warden::cli {

// Adds `--export URL` to `app`, collecting into `urls`.
void addExportOption(CLI::App& app, std::vector<std::string>* urls);

// Parses every URL before anything starts. On a bad one prints "<command>: --export: <why naming
// the URL>" on stderr and returns nullopt (the caller exits with the usage status).
std::optional<std::vector<audit::exporting::ExportUrl>> checkExportUrls(std::string_view command,
                                                                        const std::vector<std::string>& urls);

// The export sinks for a log directory: their spools go to `<log_dir>/.export-N` (removed once all is delivered).
Result<std::vector<std::shared_ptr<audit::Sink>>> makeExports(const std::vector<audit::exporting::ExportUrl>& urls,
                                                              const std::filesystem::path& log_dir);

}  // namespace warden::cli

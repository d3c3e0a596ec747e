#pragma once

// What the export tests drive: an audit pipeline (test session, ManualClock at noon, both files on)
// writing to `log_dir` with one SpooledExportSink. A sink or pipeline that does not start is a test
// failure and leaves `pipeline` null (callers ASSERT_TRUE(s.pipeline)).

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audit/export/spooled_export_sink.h"
#include "audit/pipeline.h"
#include "unit/audit/audit_test_util.h"

namespace warden::audit::exporting {

struct ExportSession {
  std::filesystem::path log_dir;
  std::shared_ptr<SpooledExportSink> sink;
  ManualClock clock{testutil::kNoon};
  std::unique_ptr<Pipeline> pipeline;

  ExportSession(std::filesystem::path dir, SpooledExportOptions o) : log_dir(std::move(dir)) {
    auto made = SpooledExportSink::make(std::move(o));
    if (!made.ok()) {
      ADD_FAILURE() << made.error().toString();
      return;
    }
    sink = made.value();
    PipelineOptions options = testutil::testOptions(log_dir, clock);
    options.jsonl_enabled = true;
    options.sinks.push_back(sink);
    auto started = Pipeline::start(std::move(options));
    if (!started.ok()) {
      ADD_FAILURE() << started.error().toString();
      return;
    }
    pipeline = std::move(started).value();
  }
  // warden-ocsf.log's lines.
  std::vector<std::string> jsonl() const { return testutil::fileLines(log_dir / "warden-ocsf.log").lines; }
  // How many of them hold `needle`.
  size_t count(std::string_view needle) const {
    size_t n = 0;
    for (const auto& line : jsonl()) n += line.find(needle) != std::string::npos;
    return n;
  }
};

}  // namespace warden::audit::exporting

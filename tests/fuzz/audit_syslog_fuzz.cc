// libFuzzer target: arbitrary bytes as a syslog receiver's output file for `warden audit verify
// --from-syslog` (audit/verify_syslog.h). Must never crash, hang or leak; the extracted JSON is
// always part of its line; every input yields a report.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "audit/verify.h"
#include "audit/verify_report.h"
#include "audit/verify_syslog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  warden::audit::VerifyOptions options;
  options.max_line_bytes = 1u << 16;
  warden::audit::Verifier verifier(options);
  verifier.beginFile("fuzz.log");
  // A small window so that sequences wrap around it.
  warden::audit::SyslogLineFeeder feeder(verifier, 8);
  size_t begin = 0;
  while (begin < content.size()) {
    const size_t nl = content.find('\n', begin);
    const std::string_view line = content.substr(begin, nl == std::string_view::npos ? std::string_view::npos : nl - begin);
    const std::string_view json = warden::audit::syslogMessageJson(line);
    if (json.data() < line.data() || json.data() + json.size() > line.data() + line.size()) std::abort();
    feeder.addLine(line, nl != std::string_view::npos);
    if (nl == std::string_view::npos) break;
    begin = nl + 1;
  }
  feeder.finish("fuzz.log");
  const auto report = verifier.finish();
  (void)warden::audit::formatReportText(report);
  (void)warden::audit::formatReportJson(report);
  return 0;
}

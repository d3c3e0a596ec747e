// libFuzzer target: arbitrary bytes as the content of a warden-ocsf.log, through the verifier
// library. Must never crash, hang or leak; every input yields a report. Also checks, line by
// line, that the fast line scanner never accepts what the full parser rejects and reads the
// chain fields the same way.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/verify.h"
#include "audit/verify_line.h"
#include "audit/verify_report.h"

namespace {

void checkLineParsers(std::string_view line) {
  using namespace warden::audit::verify_line;
  ParsedLine fast, full;
  fast.reset();
  full.reset();
  std::string error;
  if (!scanLineFast(line, fast)) return;
  if (!parseLineFull(line, full, error)) std::abort();  // fast path accepted invalid JSON
  if (fast.has_seq != full.has_seq || fast.seq != full.seq || fast.seq_mistyped != full.seq_mistyped ||
      fast.session != full.session || fast.prev != full.prev || fast.class_uid != full.class_uid ||
      fast.activity_id != full.activity_id || fast.time != full.time || fast.message != full.message ||
      fast.state != full.state || fast.checkpoint.head != full.checkpoint.head ||
      fast.checkpoint.signature != full.checkpoint.signature || fast.checkpoint.final != full.checkpoint.final) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  size_t begin = 0;
  while (begin <= content.size()) {
    const size_t nl = content.find('\n', begin);
    checkLineParsers(content.substr(begin, nl == std::string_view::npos ? std::string_view::npos : nl - begin));
    if (nl == std::string_view::npos) break;
    begin = nl + 1;
  }

  warden::audit::VerifyOptions options;
  options.max_line_bytes = 1u << 16;
  const auto report = warden::audit::verifyText(content, "fuzz.log", options);
  (void)warden::audit::formatReportText(report);
  (void)warden::audit::formatReportJson(report);
  return 0;
}

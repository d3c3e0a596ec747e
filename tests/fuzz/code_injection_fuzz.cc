// libFuzzer target: the /proc/<pid>/environ and /proc/<pid>/maps readers behind the binary-identity
// injection check (src/proxy/code_injection.h). Checks: no out-of-bounds reads (ASan), every loader
// variable found is one of the three names with a bounded value, and a parsed maps line has ordered
// addresses and a path that came from the input.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/code_injection.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace warden::proxy;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  for (const auto& variable : loaderVariables(data)) {
    check(variable.starts_with("LD_PRELOAD=") || variable.starts_with("LD_AUDIT=") ||
          variable.starts_with("LD_LIBRARY_PATH="));
    check(variable.size() <= 16 + 256 + 3);
  }
  size_t start = 0;
  while (start <= data.size()) {
    size_t end = data.find('\n', start);
    if (end == std::string_view::npos) end = data.size();
    const std::string_view line = data.substr(start, end - start);
    if (const auto entry = parseMapsLine(line)) {
      check(entry->start <= entry->end);
      check(entry->path.size() <= line.size());
      check(entry->path.empty() || line.find(entry->path) != std::string_view::npos);
      const CodeOrigin origin = codeOrigin(*entry);
      check(entry->executable || origin == CodeOrigin::kNotCode);
    }
    start = end + 1;
  }
  return 0;
}

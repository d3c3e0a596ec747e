#include "gateway/client/token_file.h"

#include <string_view>

#include "common/error.h"
#include "common/file_io.h"

namespace warden::gateway {

namespace {
constexpr size_t kMaxTokenFileBytes = 64 * 1024;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
}  // namespace

Result<std::string> readTokenFile(const std::filesystem::path& file) {
  auto text = readFileBounded(file, kMaxTokenFileBytes, OverLimit::kFail);
  if (!text.ok()) return text.error().withContext("token file");
  std::string_view rest = *text;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = trim(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    const size_t blank = line.find_first_of(" \t");
    return std::string(blank == std::string_view::npos ? line : trim(line.substr(blank)));
  }
  return invalidArgument("token file " + file.string() + " holds no token");
}

}  // namespace warden::gateway

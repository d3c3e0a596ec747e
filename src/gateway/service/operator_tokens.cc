#include "gateway/service/operator_tokens.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "common/encoding.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/unique_fd.h"

namespace warden::gateway {

namespace {

constexpr size_t kMaxTokenFileBytes = 64 * 1024;
constexpr size_t kMinTokenBytes = 32;
constexpr size_t kMaxTokenBytes = 256;
constexpr size_t kMaxIdBytes = 64;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Splits "a b" at the first run of blanks; `second` is empty for one word.
void splitWords(std::string_view line, std::string_view* first, std::string_view* second) {
  const size_t blank = line.find_first_of(" \t");
  *first = line.substr(0, blank);
  *second = blank == std::string_view::npos ? std::string_view() : trim(line.substr(blank));
}

bool validToken(std::string_view t) {
  if (t.size() < kMinTokenBytes || t.size() > kMaxTokenBytes) return false;
  for (const char c : t) {
    if (c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

bool validId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return false;
  return id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
         std::string_view::npos;
}

// Calls `each(line_number, line)` for every line that is not blank or a comment.
template <typename F>
Result<void> forEachEntry(std::string_view text, F&& each) {
  size_t number = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    WARDEN_RETURN_IF_ERROR(each(number, line));
  }
  return okResult();
}

}  // namespace

Result<OperatorTokens> OperatorTokens::parse(std::string_view text, std::string_view name) {
  OperatorTokens out;
  std::set<std::string, std::less<>> ids;
  auto r = forEachEntry(text, [&](size_t number, std::string_view line) -> Result<void> {
    const std::string where = std::string(name) + ":" + std::to_string(number);
    std::string_view id, token;
    splitWords(line, &id, &token);
    if (token.empty()) return invalidArgument(where + ": expected 'ID TOKEN'");
    if (!validId(id)) return invalidArgument(where + ": the id must be 1..64 bytes of [A-Za-z0-9._-]");
    if (!validToken(token)) {
      return invalidArgument(where + ": the token of '" + std::string(id) + "' must be " +
                             std::to_string(kMinTokenBytes) + ".." + std::to_string(kMaxTokenBytes) +
                             " printable bytes without spaces");
    }
    if (!ids.insert(std::string(id)).second) return invalidArgument(where + ": id '" + std::string(id) + "' appears twice");
    out.entries_.push_back({std::string(id), sha256Hex(token)});
    return okResult();
  });
  if (!r.ok()) return r.error();
  if (out.entries_.empty()) return invalidArgument(std::string(name) + ": no 'ID TOKEN' line");
  return out;
}

Result<OperatorTokens> OperatorTokens::load(const std::filesystem::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return errnoError("operator token file " + file.string());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errnoError("operator token file " + file.string());
  if (!S_ISREG(st.st_mode)) return invalidArgument("operator token file " + file.string() + " is not a regular file");
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    return permissionDenied("operator token file " + file.string() + " is owned by uid " + std::to_string(st.st_uid) +
                            "; it must belong to root (or to the user the gateway runs as)");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return permissionDenied("operator token file " + file.string() + " has mode " + mode +
                            "; others must not read it: chmod 600");
  }
  auto text = readAll(fd.get(), file.string(), kMaxTokenFileBytes, OverLimit::kFail);
  if (!text.ok()) return text.error();
  return parse(*text, file.string());
}

std::optional<std::string> OperatorTokens::match(std::string_view presented) const {
  const std::string hash = sha256Hex(presented);
  std::optional<std::string> found;
  // Every entry is compared, all bytes of each: the time does not depend on which one matches.
  for (const Entry& e : entries_) {
    unsigned char diff = e.hash.size() == hash.size() ? 0 : 1;
    for (size_t i = 0; i < hash.size() && i < e.hash.size(); ++i) {
      diff |= static_cast<unsigned char>(e.hash[i] ^ hash[i]);
    }
    if (diff == 0 && !found) found = e.id;
  }
  return found;
}

}  // namespace warden::gateway

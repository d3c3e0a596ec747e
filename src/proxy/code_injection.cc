#include "proxy/code_injection.h"

#include <charconv>

namespace warden::proxy {
namespace {

constexpr size_t kMaxValueBytes = 256;
constexpr std::string_view kLoaderNames[] = {"LD_PRELOAD", "LD_AUDIT", "LD_LIBRARY_PATH"};

// Reads a hex number up to `stop`; advances `text` past it and the stop byte.
std::optional<uint64_t> hexField(std::string_view& text, char stop) {
  const size_t end = text.find(stop);
  if (end == 0 || end == std::string_view::npos || end > 16) return std::nullopt;
  uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, value, 16);
  if (ec != std::errc() || ptr != text.data() + end) return std::nullopt;
  text.remove_prefix(end + 1);
  return value;
}

// The next space-separated field (no leading spaces allowed); advances past it and one space.
std::optional<std::string_view> field(std::string_view& text) {
  const size_t end = text.find(' ');
  if (end == 0 || end == std::string_view::npos) return std::nullopt;
  const std::string_view f = text.substr(0, end);
  text.remove_prefix(end + 1);
  return f;
}

}  // namespace

std::vector<std::string> loaderVariables(std::string_view block) {
  std::vector<std::string> out;
  while (!block.empty()) {
    const size_t end = block.find('\0');
    const std::string_view entry = block.substr(0, end);
    block.remove_prefix(end == std::string_view::npos ? block.size() : end + 1);
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq + 1 == entry.size()) continue;
    const std::string_view name = entry.substr(0, eq);
    for (std::string_view loader : kLoaderNames) {
      if (name != loader) continue;
      std::string text(entry.substr(0, eq + 1 + kMaxValueBytes));
      if (entry.size() > text.size()) text += "...";
      out.push_back(std::move(text));
    }
  }
  return out;
}

std::optional<MapsEntry> parseMapsLine(std::string_view line) {
  MapsEntry e;
  const auto start = hexField(line, '-');
  if (!start) return std::nullopt;
  const auto end = hexField(line, ' ');
  if (!end || *end < *start) return std::nullopt;
  const auto perms = field(line);
  if (!perms || perms->size() != 4) return std::nullopt;
  if (((*perms)[0] != 'r' && (*perms)[0] != '-') || ((*perms)[1] != 'w' && (*perms)[1] != '-') ||
      ((*perms)[2] != 'x' && (*perms)[2] != '-') || ((*perms)[3] != 'p' && (*perms)[3] != 's')) {
    return std::nullopt;
  }
  e.start = *start;
  e.end = *end;
  e.readable = (*perms)[0] == 'r';
  e.writable = (*perms)[1] == 'w';
  e.executable = (*perms)[2] == 'x';
  if (!hexField(line, ' ')) return std::nullopt;  // offset
  const auto dev = field(line);
  if (!dev || dev->find(':') == std::string_view::npos) return std::nullopt;
  // The inode, then (for a mapping with a path) padding spaces and the path to the end of the line.
  const size_t inode_end = line.find(' ');
  const std::string_view inode_text = line.substr(0, inode_end);
  const auto [ptr, ec] = std::from_chars(inode_text.data(), inode_text.data() + inode_text.size(), e.inode);
  if (inode_text.empty() || ec != std::errc() || ptr != inode_text.data() + inode_text.size()) return std::nullopt;
  if (inode_end != std::string_view::npos) {
    std::string_view path = line.substr(inode_end);
    while (!path.empty() && path.front() == ' ') path.remove_prefix(1);
    e.path = std::string(path);
  }
  return e;
}

CodeOrigin codeOrigin(const MapsEntry& entry) {
  if (!entry.executable) return CodeOrigin::kNotCode;
  if (entry.path.empty()) return CodeOrigin::kAnonymous;
  if (entry.path.front() == '[') return CodeOrigin::kKernel;
  constexpr std::string_view kDeleted = " (deleted)";
  const std::string_view path = entry.path;
  if (path.starts_with("/memfd:")) return CodeOrigin::kFilelessCode;
  if (path.size() > kDeleted.size() && path.ends_with(kDeleted)) return CodeOrigin::kFilelessCode;
  return CodeOrigin::kFile;
}

}  // namespace warden::proxy

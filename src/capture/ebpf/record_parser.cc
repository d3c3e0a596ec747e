#include "capture/ebpf/record_parser.h"

#include <fmt/format.h>

#include <cstring>
#include <string_view>

namespace warden::capture {

namespace {

template <typename T>
bool readFixed(std::span<const uint8_t> bytes, T& out) {
  if (bytes.size() < sizeof(T)) return false;
  std::memcpy(&out, bytes.data(), sizeof(T));
  return true;
}

// A string TLV's value up to its NUL (the kernel includes it), or all of it when there is none.
std::string cString(std::string_view v) {
  const size_t nul = v.find('\0');
  return std::string(nul == std::string_view::npos ? v : v.substr(0, nul));
}

// Calls each(type, value) for every TLV in `tlvs`; InvalidArgument when one overruns.
template <typename Fn>
Result<void> forEachTlv(std::span<const uint8_t> tlvs, Fn&& each) {
  size_t off = 0;
  while (off < tlvs.size()) {
    if (tlvs.size() - off < 4) return invalidArgument(fmt::format("TLV header cut at offset {}", off));
    uint16_t type = 0;
    uint16_t len = 0;
    std::memcpy(&type, tlvs.data() + off, 2);
    std::memcpy(&len, tlvs.data() + off + 2, 2);
    off += 4;
    if (len > tlvs.size() - off) return invalidArgument(fmt::format("TLV {} of {} bytes overruns the record", type, len));
    each(type, std::string_view(reinterpret_cast<const char*>(tlvs.data() + off), len));
    off += len;
  }
  return {};
}

Result<void> checkHeader(const wire_hdr& h, size_t size, size_t fixed) {
  if (h.version != WIRE_VERSION) return invalidArgument(fmt::format("record version {} (expected {})", h.version, WIRE_VERSION));
  if (h.size != size) return invalidArgument(fmt::format("record says {} bytes, has {}", h.size, size));
  if (size < fixed) return invalidArgument(fmt::format("kind {} record of {} bytes is shorter than {}", h.kind, size, fixed));
  return {};
}

}  // namespace

WalkPath decodeWalk(std::string_view value) {
  WalkPath w;
  if (value.empty()) {
    w.path = "/";
    w.truncated = true;
    return w;
  }
  const auto flags = static_cast<uint8_t>(value[0]);
  w.truncated = (flags & WALK_TRUNCATED) != 0;
  w.unreachable = (flags & WALK_UNREACHABLE) != 0;
  std::vector<std::string_view> parts;
  std::string_view rest = value.substr(1);
  while (!rest.empty()) {
    const size_t nul = rest.find('\0');
    const std::string_view c = rest.substr(0, nul);
    if (!c.empty()) parts.push_back(c);
    if (nul == std::string_view::npos) break;
    rest = rest.substr(nul + 1);
  }
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    w.path.push_back('/');
    w.path.append(*it);
  }
  if (w.path.empty()) w.path = "/";
  return w;
}

uint16_t recordKindOf(std::span<const uint8_t> bytes) {
  if (bytes.size() < 2) return 0;
  uint16_t kind = 0;
  std::memcpy(&kind, bytes.data(), 2);
  return kind;
}

Result<Record> parseRecord(std::span<const uint8_t> bytes) {
  wire_hdr h{};
  if (!readFixed(bytes, h)) return invalidArgument(fmt::format("record of {} bytes is shorter than its header", bytes.size()));
  switch (h.kind) {
    case WK_EXEC: {
      ExecRecord r;
      WARDEN_RETURN_IF_ERROR(checkHeader(h, bytes.size(), sizeof(wire_exec)));
      readFixed(bytes, r.fixed);
      bool exe = false;
      auto ok = forEachTlv(bytes.subspan(sizeof(wire_exec)), [&](uint16_t type, std::string_view v) {
        if (type == WT_EXE) {
          r.exe = decodeWalk(v);
          exe = true;
        } else if (type == WT_CWD) {
          r.cwd = decodeWalk(v);
        } else if (type == WT_FILENAME) {
          r.filename = cString(v);
        }
      });
      if (!ok.ok()) return ok.error();
      if (!exe) r.exe.path.clear();
      return Record(std::move(r));
    }
    case WK_ARGV: {
      WARDEN_RETURN_IF_ERROR(checkHeader(h, bytes.size(), sizeof(wire_argv)));
      wire_argv fixed{};
      readFixed(bytes, fixed);
      if (fixed.len != bytes.size() - sizeof(wire_argv))
        return invalidArgument(fmt::format("argv chunk says {} bytes, carries {}", fixed.len, bytes.size() - sizeof(wire_argv)));
      ArgvRecord r;
      r.hdr = fixed.h;
      r.exec_id = fixed.exec_id;
      r.offset = fixed.offset;
      r.data.assign(reinterpret_cast<const char*>(bytes.data() + sizeof(wire_argv)), fixed.len);
      return Record(std::move(r));
    }
    case WK_EXEC_FAIL: {
      ExecFailRecord r;
      WARDEN_RETURN_IF_ERROR(checkHeader(h, bytes.size(), sizeof(wire_exec_fail)));
      readFixed(bytes, r.fixed);
      auto ok = forEachTlv(bytes.subspan(sizeof(wire_exec_fail)), [&](uint16_t type, std::string_view v) {
        if (type == WT_FILENAME) {
          r.filename = cString(v);
        } else if (type == WT_BASE1) {
          r.base = decodeWalk(v);
        } else if (type == WT_CWD) {
          r.cwd = decodeWalk(v);
        } else if (type == WT_ARG) {
          r.argv.push_back(cString(v));
        }
      });
      if (!ok.ok()) return ok.error();
      return Record(std::move(r));
    }
    case WK_FORK: {
      ForkRecord r;
      WARDEN_RETURN_IF_ERROR(checkHeader(h, bytes.size(), sizeof(wire_fork)));
      readFixed(bytes, r.fixed);
      return Record(r);
    }
    case WK_EXIT: {
      ExitRecord r;
      WARDEN_RETURN_IF_ERROR(checkHeader(h, bytes.size(), sizeof(wire_exit)));
      readFixed(bytes, r.fixed);
      return Record(r);
    }
    case WK_FILE: {
      FileRecord r;
      WARDEN_RETURN_IF_ERROR(checkHeader(h, bytes.size(), sizeof(wire_file)));
      readFixed(bytes, r.fixed);
      if (r.fixed.op == 0 || r.fixed.op >= WF_OP_MAX) return invalidArgument(fmt::format("file record with op {}", r.fixed.op));
      auto ok = forEachTlv(bytes.subspan(sizeof(wire_file)), [&](uint16_t type, std::string_view v) {
        switch (type) {
          case WT_PATH1: r.path1 = decodeWalk(v); r.has_path1_walk = true; break;
          case WT_PATH1_STR: r.path1_str = cString(v); break;
          case WT_BASE1: r.base1 = decodeWalk(v); r.has_base1 = true; break;
          case WT_PATH2: r.path2 = decodeWalk(v); r.has_path2_walk = true; break;
          case WT_PATH2_STR: r.path2_str = cString(v); break;
          case WT_BASE2: r.base2 = decodeWalk(v); r.has_base2 = true; break;
          case WT_FSTYPE: r.fstype = cString(v); break;
          default: break;  // unknown TLVs are skipped (a newer program)
        }
      });
      if (!ok.ok()) return ok.error();
      return Record(std::move(r));
    }
    case WK_CONNECT: {
      ConnectRecord r;
      WARDEN_RETURN_IF_ERROR(checkHeader(h, bytes.size(), sizeof(wire_connect)));
      readFixed(bytes, r.fixed);
      if (r.fixed.family != 2 && r.fixed.family != 10)
        return invalidArgument(fmt::format("connect record with address family {}", r.fixed.family));
      if (r.fixed.phase != WCP_ATTEMPT && r.fixed.phase != WCP_CONNECTED)
        return invalidArgument(fmt::format("connect record with phase {}", r.fixed.phase));
      if (r.fixed.phase == WCP_ATTEMPT && (r.fixed.local_port != 0 || r.fixed.sock_type != 0))
        return invalidArgument("connect attempt record with a local end");
      return Record(r);
    }
    default: return invalidArgument(fmt::format("unknown record kind {}", h.kind));
  }
}

bool ArgvAssembler::add(ArgvRecord&& chunk, int64_t now_ms) {
  Pending& p = pending_[chunk.exec_id];
  if (p.chunks == 0) p.first_ms = now_ms;
  if (chunk.offset != p.data.size() || held_ + chunk.data.size() > max_bytes_) return false;
  held_ += chunk.data.size();
  p.data += chunk.data;
  p.chunks++;
  return true;
}

std::string ArgvAssembler::take(uint64_t exec_id, uint32_t expected_chunks, bool& complete) {
  auto it = pending_.find(exec_id);
  if (it == pending_.end()) {
    complete = expected_chunks == 0;
    return {};
  }
  complete = it->second.chunks == expected_chunks;
  std::string out = std::move(it->second.data);
  held_ -= out.size();
  pending_.erase(it);
  return out;
}

size_t ArgvAssembler::expire(int64_t now_ms, int64_t max_age_ms) {
  size_t dropped = 0;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now_ms - it->second.first_ms >= max_age_ms) {
      dropped += it->second.chunks;
      held_ -= it->second.data.size();
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  return dropped;
}

}  // namespace warden::capture

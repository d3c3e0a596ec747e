// libFuzzer target: the eBPF capture's ring-buffer record parser (capture/ebpf/record_parser.h).
// Whatever the bytes, parseRecord returns a record or an InvalidArgument, never crashes; parsed
// walks are absolute paths; argv chunks feed a bounded assembler.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <variant>

#include "capture/ebpf/record_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::capture;
  const auto parsed = parseRecord(std::span<const uint8_t>(data, size));
  if (!parsed.ok()) {
    if (parsed.error().code() != warden::Code::kInvalidArgument) std::abort();
  } else if (const auto* file = std::get_if<FileRecord>(&*parsed)) {
    if (file->has_path1_walk && (file->path1.path.empty() || file->path1.path.front() != '/')) std::abort();
  } else if (const auto* chunk = std::get_if<ArgvRecord>(&*parsed)) {
    ArgvAssembler a(1 << 16);
    ArgvRecord copy = *chunk;
    (void)a.add(std::move(copy), 0);
    bool complete = false;
    (void)a.take(chunk->exec_id, 1, complete);
    if (a.bytesHeld() != 0) std::abort();
  }
  const WalkPath w = decodeWalk(std::string_view(reinterpret_cast<const char*>(data), size));
  if (w.path.empty() || w.path.front() != '/') std::abort();
  (void)splitArgv(std::string_view(reinterpret_cast<const char*>(data), size));
  (void)recordKindOf(std::span<const uint8_t>(data, size));
  return 0;
}

#pragma once

// The byte format of one spool segment file (docs/spool.md, "Format"). Pure functions on bytes:
// no files, no state, thread-safe.
//
//   segment = magic "WSPOOL1\n" (8 bytes), then records back to back
//   record  = header (24 bytes, little-endian) + payload
//     u32 payload_len   bytes of payload (<= kMaxSpoolPayloadBytes)
//     u32 json_len      bytes of JSON at the start of the payload (<= payload_len)
//     u64 sequence      > 0, strictly increasing through the spool
//     u32 payload_crc   CRC32C of the payload
//     u32 header_crc    CRC32C of the 20 bytes before it
//     payload           json bytes, then shorthand bytes (payload_len - json_len)

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace warden::audit {

struct SpooledEvent;
struct SpooledEventView;

inline constexpr std::string_view kSpoolSegmentMagic = "WSPOOL1\n";
inline constexpr size_t kSpoolRecordHeaderBytes = 24;
// One record's payload (json + shorthand) may not exceed this; larger lengths are corruption.
inline constexpr uint32_t kMaxSpoolPayloadBytes = 16u << 20;

// CRC32C (Castagnoli), as used by iSCSI/ext4/leveldb. `crc` continues a previous value.
uint32_t crc32c(std::string_view data, uint32_t crc = 0);

// Appends the framed record for `event` to `out`. The caller has checked the payload size.
void encodeSpoolRecord(const SpooledEventView& event, std::string& out);
size_t encodedSpoolRecordBytes(const SpooledEventView& event);

// The result of reading one record at `offset` of `bytes`.
enum class RecordStatus {
  kOk,          // a whole record with valid checksums; `event` and `end` are set
  kIncomplete,  // the header or payload runs past the end of `bytes` (headers checked first)
  kCorrupt,     // a checksum or length is wrong; `reason` says which
};
struct RecordRead {
  RecordStatus status = RecordStatus::kCorrupt;
  uint64_t sequence = 0;
  size_t end = 0;       // offset just past the record (kOk)
  std::string reason;   // kCorrupt
};
// Reads the record at `offset` into `event` (when not null; on kOk only).
RecordRead readSpoolRecord(std::string_view bytes, size_t offset, SpooledEvent* event);

}  // namespace warden::audit

#pragma once

// Parses one kernel log record as /dev/kmsg gives it, when it is a log line of a Warden sandbox's
// bypass rule (sandbox_network.h: `log prefix "warden:bypass:<session-id>: " flags skuid`):
//
//   6,1234,5678901,-;warden:bypass:<id>: IN= OUT=eth0 SRC=10.200.7.2 DST=93.184.216.34 LEN=60 ...
//     PROTO=TCP SPT=40000 DPT=443 ... UID=64000 GID=64000
//
// The bytes come from the kernel but their content is driven by the agent (which addresses and
// ports it tries), so the parser trusts nothing: every field is bounded, addresses are parsed
// strictly, numbers are range-checked. Pure and socket-free (fuzzed: tests/fuzz/nft_log_line_fuzz.cc).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace warden::capture {

// What starts the message of every bypass record; the session tag and ": " follow.
inline constexpr std::string_view kBypassLogMarker = "warden:bypass:";
// Records longer than this are not ours (nftables caps a prefix at 127 bytes and nf_log's line
// is far shorter than the kernel's 1 KiB record limit); they are refused, not scanned.
inline constexpr size_t kMaxKmsgRecordBytes = 4096;
// A session tag longer than this cannot have come from a prefix nftables accepted.
inline constexpr size_t kMaxPrefixTagBytes = 127;

// One kernel log record as /dev/kmsg gives it ("6,1234,5678901,-;warden:bypass:<id>: IN= OUT=eth0
// SRC=10.200.7.2 DST=93.184.216.34 ... PROTO=TCP SPT=40000 DPT=443 ... UID=64000 GID=64000").
struct NftLogRecord {
  std::string prefix_tag;  // what stands between "warden:bypass:" and ": " (the session id)
  std::string protocol;    // "tcp", "udp", "icmp", ... lower case
  std::string src_ip, dst_ip;
  uint16_t src_port = 0, dst_port = 0;  // 0 when the protocol has none
  std::optional<uint32_t> uid;          // UID= (flags skuid)
  int64_t kernel_time_us = 0;           // the record's timestamp field
  uint64_t sequence = 0;                // the record's sequence number (gaps mean lost records)
};

// NotFound when the line is a kernel record that is not one of ours; InvalidArgument with what is wrong
// when it is ours but malformed (or is not a kmsg record at all). Never trusts lengths; bounded.
// Only the record's first line is read: /dev/kmsg continuation lines (" KEY=value") are ignored,
// and so is everything from the first '[' on (nf_log prints the packet an ICMP error quotes there).
// A trailing newline is allowed.
Result<NftLogRecord> parseNftLogRecord(std::string_view kmsg_record);

// The sequence number of any kmsg record ("<prio>,<seq>,<usec>,<flags>;..."), ours or not, for loss
// accounting; nullopt when the header does not parse. Bounded like parseNftLogRecord.
std::optional<uint64_t> kmsgSequence(std::string_view kmsg_record);

}  // namespace warden::capture

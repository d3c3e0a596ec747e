#include <unistd.h>

#include <algorithm>

#include "sandbox/run_options.h"

namespace warden::sandbox {

DefaultLimits defaultLimits(std::optional<uint64_t> memory_bytes, std::optional<uint64_t> tmp_bytes) {
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  const uint64_t physical = pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 8 * kGiB;
  DefaultLimits d;
  d.memory_bytes = memory_bytes.value_or(std::min<uint64_t>(4 * kGiB, physical / 2));
  d.pids = 2048;
  d.tmp_bytes = tmp_bytes.value_or(std::max<uint64_t>(std::min<uint64_t>(2 * kGiB, d.memory_bytes / 2), 1 << 20));
  d.shm_bytes = std::min<uint64_t>(256u << 20, d.tmp_bytes);
  return d;
}

}  // namespace warden::sandbox

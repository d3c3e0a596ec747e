#include "audit/spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>
#include <system_error>

#include <fmt/format.h>

#include "audit/spool_format.h"
#include "common/file_io.h"

namespace warden::audit {
namespace {

constexpr std::string_view kAckFile = "ack";
constexpr std::string_view kAckTmpFile = "ack.tmp";
constexpr std::string_view kLockFile = "lock";
constexpr std::string_view kAckPrefix = "warden.spool.ack.v1 ";
constexpr std::string_view kSegmentSuffix = ".seg";
constexpr uint64_t kIndexStrideBytes = 64 * 1024;
constexpr size_t kReadChunkBytes = 256 * 1024;

std::string segmentName(uint64_t first_seq) { return fmt::format("{:020}{}", first_seq, kSegmentSuffix); }

// "<20 digits>.seg" -> first sequence; 0 when the name is not a segment's.
uint64_t parseSegmentName(std::string_view name) {
  if (name.size() != 20 + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) return 0;
  uint64_t v = 0;
  const auto [p, ec] = std::from_chars(name.data(), name.data() + 20, v);
  if (ec != std::errc() || p != name.data() + 20) return 0;
  return v;
}

Result<void> writeAll(int fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError(fmt::format("write {}", what));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return okResult();
}

Result<std::string> readWhole(const std::filesystem::path& path) {
  return readFileBounded(path, SIZE_MAX, OverLimit::kFail);
}

Result<void> syncDir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) return errnoError(fmt::format("fsync directory {}", dir.string()));
  return okResult();
}

std::string ackLine(uint64_t acked) {
  std::string body = fmt::format("{}{}", kAckPrefix, acked);
  return fmt::format("{} {:08x}\n", body, crc32c(body));
}

// The acknowledged sequence in an ack file's content; nullopt when it is not one.
std::optional<uint64_t> parseAckLine(std::string_view content) {
  if (!content.starts_with(kAckPrefix) || !content.ends_with('\n')) return std::nullopt;
  content.remove_suffix(1);
  const size_t space = content.rfind(' ');
  if (space < kAckPrefix.size()) return std::nullopt;
  const std::string_view body = content.substr(0, space);
  const std::string_view crc_hex = content.substr(space + 1);
  uint32_t crc = 0;
  auto [p1, e1] = std::from_chars(crc_hex.data(), crc_hex.data() + crc_hex.size(), crc, 16);
  if (e1 != std::errc() || p1 != crc_hex.data() + crc_hex.size() || crc != crc32c(body)) return std::nullopt;
  const std::string_view digits = body.substr(kAckPrefix.size());
  uint64_t v = 0;
  auto [p2, e2] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (e2 != std::errc() || p2 != digits.data() + digits.size()) return std::nullopt;
  return v;
}

}  // namespace

void Spool::addIndex(Segment& segment, uint64_t sequence, uint64_t offset) {
  if (segment.index.empty() || offset - segment.index.back().second >= kIndexStrideBytes) {
    segment.index.emplace_back(sequence, offset);
  }
}

Spool::~Spool() = default;

Result<std::unique_ptr<Spool>> Spool::open(SpoolOptions options, std::vector<std::string>* recovered_notes) {
  if (options.dir.empty()) return invalidArgument("spool: no directory given");
  if (options.segment_bytes < kSpoolSegmentMagic.size() + kSpoolRecordHeaderBytes) {
    return invalidArgument(fmt::format("spool: segment_bytes {} is too small", options.segment_bytes));
  }
  if (options.max_bytes == 0) return invalidArgument("spool: max_bytes must be > 0");
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return errnoError(fmt::format("create spool directory {}", options.dir.string()), ec.value());
  if (!std::filesystem::is_directory(options.dir, ec)) {
    return failedPrecondition(fmt::format("spool: {} is not a directory", options.dir.string()));
  }
  if (::chmod(options.dir.c_str(), 0700) != 0) return errnoError(fmt::format("chmod 0700 {}", options.dir.string()));

  std::unique_ptr<Spool> spool(new Spool(std::move(options)));
  const auto lock_path = spool->options_.dir / kLockFile;
  spool->lock_fd_.reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!spool->lock_fd_.valid()) return errnoError(fmt::format("open {}", lock_path.string()));
  if (::flock(spool->lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return failedPrecondition(
          fmt::format("spool {} is in use by another process (one spool per session)", spool->options_.dir.string()));
    }
    return errnoError(fmt::format("flock {}", lock_path.string()));
  }
  std::vector<std::string> notes;
  auto recovered = spool->recover(notes);
  if (recovered_notes != nullptr) *recovered_notes = std::move(notes);
  if (!recovered.ok()) return recovered.error();
  WARDEN_RETURN_IF_ERROR(spool->openActive());
  return spool;
}

Result<void> Spool::recover(std::vector<std::string>& notes) {
  const auto& dir = options_.dir;
  std::error_code ec;
  std::filesystem::remove(dir / kAckTmpFile, ec);  // an ack write that never got renamed

  if (std::filesystem::exists(dir / kAckFile, ec)) {
    auto content = readWhole(dir / kAckFile);
    if (!content.ok()) return content.error();
    if (auto acked = parseAckLine(*content)) {
      acked_ = *acked;
    } else {
      // Replaced atomically, so this is damage, not a crash. Resending everything is safe (the
      // gateway stores each sequence once); skipping is not.
      notes.push_back(fmt::format("ack file {} is damaged; replaying every spooled record",
                                  (dir / kAckFile).string()));
    }
  }

  std::vector<Segment> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (const uint64_t first = parseSegmentName(name); first != 0) {
      found.push_back(Segment{entry.path(), first, 0, 0, {}});
    } else if (name != kAckFile && name != kLockFile &&
               std::find(options_.owner_files.begin(), options_.owner_files.end(), name) == options_.owner_files.end()) {
      notes.push_back(fmt::format("ignoring unexpected file {}", entry.path().string()));
    }
  }
  if (ec) return errnoError(fmt::format("list spool directory {}", dir.string()), ec.value());
  std::sort(found.begin(), found.end(), [](const Segment& a, const Segment& b) { return a.first_seq < b.first_seq; });

  uint64_t last_record = 0;
  for (size_t i = 0; i < found.size(); ++i) {
    Segment& seg = found[i];
    const bool is_last = i + 1 == found.size();
    auto bytes = readWhole(seg.path);
    if (!bytes.ok()) return bytes.error();
    size_t valid = 0;
    auto records = parseSpoolSegment(*bytes, &valid);
    if (!records.ok()) return records.error().withContext(fmt::format("spool segment {}", seg.path.string()));
    if (valid < bytes->size()) {
      if (!is_last) {
        return dataLoss(fmt::format("spool segment {}: cut short at offset {} ({} bytes) but later segments exist",
                                    seg.path.string(), valid, bytes->size()));
      }
      if (::truncate(seg.path.c_str(), static_cast<off_t>(valid)) != 0) {
        return errnoError(fmt::format("truncate {}", seg.path.string()));
      }
      notes.push_back(fmt::format("spool segment {}: torn tail of {} bytes cut at offset {} (after sequence {})",
                                  seg.path.string(), bytes->size() - valid, valid,
                                  records->empty() ? last_record : records->back().sequence));
    }
    if (records->empty()) {
      if (::unlink(seg.path.c_str()) != 0) return errnoError(fmt::format("unlink {}", seg.path.string()));
      if (valid > 0 || !bytes->empty()) notes.push_back(fmt::format("removed empty spool segment {}", seg.path.string()));
      seg.first_seq = 0;  // dropped below
      continue;
    }
    if (records->front().sequence != seg.first_seq || records->front().sequence <= last_record) {
      return dataLoss(fmt::format("spool segment {}: first sequence {} does not follow {} / match its name",
                                  seg.path.string(), records->front().sequence, last_record));
    }
    uint64_t offset = kSpoolSegmentMagic.size();
    for (const auto& r : *records) {
      addIndex(seg, r.sequence, offset);
      offset += encodedSpoolRecordBytes(r);
    }
    seg.last_seq = records->back().sequence;
    seg.size = valid;
    last_record = seg.last_seq;
  }
  std::erase_if(found, [](const Segment& s) { return s.first_seq == 0; });

  for (auto& seg : found) {
    if (seg.last_seq <= acked_) {
      if (::unlink(seg.path.c_str()) != 0 && errno != ENOENT) {
        return errnoError(fmt::format("unlink acknowledged segment {}", seg.path.string()));
      }
      continue;
    }
    bytes_ += seg.size;
    segments_.push_back(std::move(seg));
  }
  last_ = std::max(acked_, last_record);
  return okResult();
}

Result<void> Spool::openActive() {
  active_fd_.reset();
  if (segments_.empty()) return okResult();
  const auto& path = segments_.back().path;
  active_fd_.reset(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!active_fd_.valid()) return errnoError(fmt::format("open {}", path.string()));
  return okResult();
}

Result<void> Spool::startSegment(uint64_t first_seq) {
  if (active_fd_.valid()) {
    // A sealed segment is whole on disk before the next one exists: recovery may then treat a
    // cut in any segment but the last as damage.
    if (::fdatasync(active_fd_.get()) != 0) return errnoError(fmt::format("fdatasync {}", segments_.back().path.string()));
    active_fd_.reset();
  }
  Segment seg;
  seg.path = options_.dir / segmentName(first_seq);
  seg.first_seq = first_seq;
  active_fd_.reset(::open(seg.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600));
  if (!active_fd_.valid()) return errnoError(fmt::format("create {}", seg.path.string()));
  segments_.push_back(std::move(seg));
  return okResult();
}

Result<void> Spool::append(const std::vector<SpooledEvent>& batch) {
  std::vector<SpooledEventView> views(batch.begin(), batch.end());
  return append(std::span<const SpooledEventView>(views));
}

Result<void> Spool::append(std::span<const SpooledEventView> batch) {
  std::lock_guard lock(mu_);
  if (batch.empty()) return okResult();
  // Validate and plan the whole batch before touching the disk.
  uint64_t prev = last_;
  uint64_t planned = 0;
  uint64_t cur = segments_.empty() ? 0 : segments_.back().size;
  bool have_segment = !segments_.empty();
  for (const auto& e : batch) {
    if (e.sequence <= prev) {
      return invalidArgument(fmt::format("spool: sequence {} is not greater than the last spooled sequence {}",
                                         e.sequence, prev));
    }
    prev = e.sequence;
    const size_t payload = e.json.size() + e.shorthand.size();
    if (payload > kMaxSpoolPayloadBytes) {
      return invalidArgument(
          fmt::format("spool: event {} is {} bytes, more than the {} a record may hold", e.sequence, payload,
                      kMaxSpoolPayloadBytes));
    }
    const uint64_t rec = encodedSpoolRecordBytes(e);
    if (!have_segment || (cur > kSpoolSegmentMagic.size() && cur + rec > options_.segment_bytes)) {
      have_segment = true;
      cur = kSpoolSegmentMagic.size();
      planned += kSpoolSegmentMagic.size();
    }
    cur += rec;
    planned += rec;
  }
  if (bytes_ + planned > options_.max_bytes) {
    return resourceExhausted(fmt::format(
        "spool {} is full: {} bytes spooled + {} for sequences {}..{} exceeds max_bytes {}; the gateway has "
        "acknowledged up to {}",
        options_.dir.string(), bytes_, planned, batch.front().sequence, batch.back().sequence, options_.max_bytes,
        acked_));
  }

  // Write, one write() per segment touched. On failure everything of this batch is undone.
  const size_t old_count = segments_.size();
  const std::optional<Segment> old_back =
      segments_.empty() ? std::nullopt : std::optional<Segment>(segments_.back());
  bool created = false;
  const auto rollback = [&](const Error& error) -> Error {
    active_fd_.reset();
    while (segments_.size() > old_count) {
      ::unlink(segments_.back().path.c_str());
      segments_.pop_back();
    }
    if (old_back) {
      if (::truncate(old_back->path.c_str(), static_cast<off_t>(old_back->size)) != 0) {
        // The batch's bytes may stay in the file as a tail; recovery would keep them. Fail loudly.
        return errnoError(fmt::format("truncate {} after a failed append ({})", old_back->path.string(),
                                      error.toString()));
      }
      segments_.back() = *old_back;
    }
    (void)openActive();
    return error;
  };

  std::string buf;
  size_t i = 0;
  while (i < batch.size()) {
    Segment* seg = segments_.empty() ? nullptr : &segments_.back();
    const uint64_t rec0 = encodedSpoolRecordBytes(batch[i]);
    if (seg == nullptr || (seg->size > kSpoolSegmentMagic.size() && seg->size + rec0 > options_.segment_bytes)) {
      if (auto r = startSegment(batch[i].sequence); !r.ok()) return rollback(r.error());
      created = true;
      seg = &segments_.back();
      buf.assign(kSpoolSegmentMagic);
    } else {
      buf.clear();
    }
    uint64_t offset = seg->size + buf.size();
    size_t j = i;
    for (; j < batch.size(); ++j) {
      const uint64_t rec = encodedSpoolRecordBytes(batch[j]);
      if (j > i && offset + rec > options_.segment_bytes) break;
      encodeSpoolRecord(batch[j], buf);
      addIndex(*seg, batch[j].sequence, offset);
      offset += rec;
    }
    if (auto r = writeAll(active_fd_.get(), buf, seg->path.string()); !r.ok()) return rollback(r.error());
    seg->size = offset;
    seg->last_seq = batch[j - 1].sequence;
    i = j;
  }
  if (options_.fsync_each_batch) {
    if (::fdatasync(active_fd_.get()) != 0) {
      return rollback(errnoError(fmt::format("fdatasync {}", segments_.back().path.string())));
    }
    if (created) {
      if (auto r = syncDir(options_.dir); !r.ok()) return rollback(r.error());
    }
  }
  bytes_ += planned;
  last_ = batch.back().sequence;
  return okResult();
}

Result<void> Spool::writeAckFile(uint64_t acked) {
  const auto tmp = options_.dir / kAckTmpFile;
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) return errnoError(fmt::format("create {}", tmp.string()));
    WARDEN_RETURN_IF_ERROR(writeAll(fd.get(), ackLine(acked), tmp.string()));
    if (::fdatasync(fd.get()) != 0) return errnoError(fmt::format("fdatasync {}", tmp.string()));
  }
  const auto path = options_.dir / kAckFile;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errnoError(fmt::format("rename {} to {}", tmp.string(), path.string()));
  return syncDir(options_.dir);
}

Result<void> Spool::ack(uint64_t up_to_sequence) {
  std::lock_guard lock(mu_);
  if (up_to_sequence <= acked_) return okResult();
  if (up_to_sequence > last_) {
    return outOfRange(fmt::format("spool: acknowledgement of sequence {} beyond the last spooled sequence {}",
                                  up_to_sequence, last_));
  }
  WARDEN_RETURN_IF_ERROR(writeAckFile(up_to_sequence));
  acked_ = up_to_sequence;
  while (!segments_.empty() && segments_.front().last_seq <= acked_) {
    if (segments_.size() == 1) active_fd_.reset();
    if (::unlink(segments_.front().path.c_str()) != 0 && errno != ENOENT) {
      // Already acknowledged on disk; the next ack() or open() deletes it.
      return errnoError(fmt::format("unlink acknowledged segment {}", segments_.front().path.string()));
    }
    bytes_ -= segments_.front().size;
    segments_.erase(segments_.begin());
  }
  return okResult();
}

Result<bool> Spool::readRecordsFrom(const Segment& segment, uint64_t after, size_t max_records, size_t max_bytes,
                                    std::vector<SpooledEvent>& out, size_t& bytes) const {
  // Start at the last indexed record at or before the first one wanted.
  uint64_t start = kSpoolSegmentMagic.size();
  for (const auto& [seq, off] : segment.index) {
    if (seq > after + 1) break;
    start = off;
  }
  UniqueFd fd(::open(segment.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errnoError(fmt::format("open {}", segment.path.string()));
  std::string buf;
  uint64_t buf_offset = start;  // file offset of buf[0]
  size_t pos = 0;
  while (buf_offset + pos < segment.size) {
    SpooledEvent event;
    const RecordRead r = readSpoolRecord(buf, pos, &event);
    if (r.status == RecordStatus::kIncomplete) {
      const uint64_t have_end = buf_offset + buf.size();
      if (have_end >= segment.size) {
        return dataLoss(fmt::format("spool segment {} offset {}: record cut short", segment.path.string(),
                                    buf_offset + pos));
      }
      buf.erase(0, pos);
      buf_offset += pos;
      pos = 0;
      const size_t want = static_cast<size_t>(std::min<uint64_t>(
          kReadChunkBytes,
          segment.size - have_end));
      const size_t old = buf.size();
      buf.resize(old + want);
      size_t got = 0;
      while (got < want) {
        const ssize_t n = ::pread(fd.get(), buf.data() + old + got, want - got, static_cast<off_t>(have_end + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errnoError(fmt::format("read {}", segment.path.string()));
        if (n == 0) {
          return dataLoss(fmt::format("spool segment {} is shorter than the {} bytes written", segment.path.string(),
                                      segment.size));
        }
        got += static_cast<size_t>(n);
      }
      continue;
    }
    if (r.status == RecordStatus::kCorrupt) {
      return dataLoss(fmt::format("spool segment {} offset {}: {}", segment.path.string(), buf_offset + pos, r.reason));
    }
    pos = r.end;
    if (event.sequence <= after) continue;
    const size_t size = event.json.size() + event.shorthand.size();
    if (out.size() >= max_records || (!out.empty() && bytes + size > max_bytes)) return true;
    bytes += size;
    out.push_back(std::move(event));
  }
  return out.size() >= max_records;
}

Result<std::vector<SpooledEvent>> Spool::pending(uint64_t after_sequence, size_t max_records, size_t max_bytes) {
  std::lock_guard lock(mu_);
  std::vector<SpooledEvent> out;
  const uint64_t after = std::max(after_sequence, acked_);
  if (max_records == 0) return out;
  size_t bytes = 0;
  for (const auto& seg : segments_) {
    if (seg.last_seq <= after) continue;
    auto full = readRecordsFrom(seg, after, max_records, max_bytes, out, bytes);
    if (!full.ok()) return full.error();
    if (*full) break;
  }
  return out;
}

uint64_t Spool::ackedSequence() const {
  std::lock_guard lock(mu_);
  return acked_;
}

uint64_t Spool::lastSequence() const {
  std::lock_guard lock(mu_);
  return last_;
}

uint64_t Spool::bytesOnDisk() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace warden::audit

#include "gateway/service/policy_source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "common/encoding.h"
#include "common/file_io.h"
#include "common/unique_fd.h"
#include "policy/diagnostics.h"
#include "policy/loader.h"

namespace warden::gateway {
namespace {

struct FileRead {
  struct stat st {};
  std::string bytes;
};

// Opens `file`, fstat()s the descriptor and reads it whole (at most kMaxPolicyBytes).
Result<FileRead> readPolicyFile(const std::filesystem::path& file, bool want_bytes) {
  const std::string name = file.string();
  UniqueFd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errnoError(fmt::format("cannot open policy file '{}'", name));
  FileRead out;
  if (::fstat(fd.get(), &out.st) != 0) return errnoError(fmt::format("cannot stat policy file '{}'", name));
  if (S_ISDIR(out.st.st_mode)) return invalidArgument(fmt::format("'{}' is a directory, not a policy file", name));
  if (!want_bytes) return out;
  auto text = readAll(fd.get(), name, policy::kMaxPolicyBytes, OverLimit::kFail);
  if (!text.ok()) {
    if (text.error().code() == Code::kOutOfRange) {
      return invalidArgument(fmt::format("'{}' is larger than {} bytes; a policy may be at most that large", name,
                                         policy::kMaxPolicyBytes));
    }
    return text.error().withContext(fmt::format("cannot read policy file '{}'", name));
  }
  out.bytes = std::move(*text);
  return out;
}

// Validates `bytes` with the policy loader; InvalidArgument with its diagnostics, one per line.
Result<void> validate(const std::string& bytes, const std::filesystem::path& file) {
  policy::Diagnostics diagnostics;
  auto loaded = policy::loadPolicyText(bytes, file.string(), &diagnostics);
  if (loaded.ok()) return okResult();
  if (diagnostics.empty()) return loaded.error();
  return invalidArgument(diagnostics.toString());
}

}  // namespace

Result<ServedPolicy> PolicySource::load(const std::filesystem::path& file) {
  auto read = readPolicyFile(file, true);
  if (!read.ok()) return read.error();
  WARDEN_RETURN_IF_ERROR(validate(read->bytes, file));
  ServedPolicy p;
  p.hash = sha256Hex(read->bytes);
  p.yaml = std::move(read->bytes);
  return p;
}

PolicySource::PolicySource(PolicySourceOptions options, ServedPolicy initial)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::instance()),
      served_(std::make_shared<const ServedPolicy>(std::move(initial))) {}

std::shared_ptr<const ServedPolicy> PolicySource::current() const {
  std::lock_guard lock(mu_);
  return served_;
}

void PolicySource::withServed(const std::function<void(const ServedPolicy&)>& read) const {
  std::lock_guard lock(mu_);
  read(*served_);
}

bool PolicySource::maybeCheck() {
  {
    std::unique_lock check(check_mu_, std::try_to_lock);
    if (!check.owns_lock()) return false;  // another caller is looking right now
    const auto now = clock_.steadyNow();
    if (now < next_check_) return false;
    next_check_ = now + options_.check_interval;
  }
  return checkNow();
}

bool PolicySource::checkNow() {
  std::lock_guard check(check_mu_);
  auto reject = [&](const std::string& key, const std::string& problems) {
    if (key == rejected_) return;  // reported already
    rejected_ = key;
    if (options_.on_rejected) options_.on_rejected(problems);
  };
  auto read = readPolicyFile(options_.file, false);
  if (!read.ok()) {
    reject(read.error().message(), read.error().message());
    stamp_.reset();  // look again once it is readable
    return false;
  }
  const auto stampOf = [](const struct stat& st) {
    return FileStamp{st.st_dev, st.st_ino, st.st_size,
                     static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                     static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec};
  };
  if (stamp_ && *stamp_ == stampOf(read->st)) return false;
  read = readPolicyFile(options_.file, true);
  if (!read.ok()) {
    reject(read.error().message(), read.error().message());
    stamp_.reset();
    return false;
  }
  const FileStamp stamp = stampOf(read->st);
  const std::string hash = sha256Hex(read->bytes);
  const auto served = current();
  if (hash == served->hash) {  // touched or rewritten with the same bytes (or back to them)
    stamp_ = stamp;
    rejected_.clear();
    return false;
  }
  if (auto valid = validate(read->bytes, options_.file); !valid.ok()) {
    stamp_ = stamp;
    reject(hash, valid.error().message());
    return false;
  }
  ServedPolicy next;
  next.yaml = std::move(read->bytes);
  next.hash = hash;
  next.version = served->version + 1;
  {
    std::lock_guard lock(mu_);
    if (options_.on_change) {
      if (auto r = options_.on_change(next); !r.ok()) return false;  // stamp_ unchanged: tried again next time
    }
    served_ = std::make_shared<const ServedPolicy>(std::move(next));
  }
  stamp_ = stamp;
  rejected_.clear();
  return true;
}

}  // namespace warden::gateway

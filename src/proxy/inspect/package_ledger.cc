#include "proxy/inspect/package_ledger.h"

namespace warden::proxy::inspect {

void PackageLedger::add(const std::string& key, Advertisement ad) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() && entries_.size() >= max_entries_) {
    ++dropped_;
    return;
  }
  if (ad.index_file && !ad.sha256.empty()) index_by_hash_[ad.sha256] = key;
  if (it == entries_.end()) {
    entries_.emplace(key, std::move(ad));
  } else {
    it->second = std::move(ad);
  }
}

std::optional<Advertisement> PackageLedger::find(const std::string& key) const {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

std::optional<Advertisement> PackageLedger::findIndexFileByHash(const std::string& sha256) const {
  std::lock_guard lock(mu_);
  const auto key = index_by_hash_.find(sha256);
  if (key == index_by_hash_.end()) return std::nullopt;
  const auto it = entries_.find(key->second);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

size_t PackageLedger::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

uint64_t PackageLedger::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

}  // namespace warden::proxy::inspect

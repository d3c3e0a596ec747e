#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace warden::gateway {

// How the stores keep an event's canonical JSON and shorthand (docs/gateway-store.md "Compressed
// events"): zstd with a dictionary trained on the store's own events. 1,340-byte builder events
// come out at ~140 bytes; without a dictionary zstd halves them at four times the CPU, so an event
// is kept as it came (`dict` 0) until the store has a dictionary.
//
// Encoding `dict` = 0: `body` is the JSON itself and the shorthand is kept beside it (a column).
// Encoding `dict` = N > 0: `body` is a zstd frame, made with dictionary N, of the payload
// varint(json length) ‖ json ‖ shorthand, and there is no shorthand beside it. decode() gives back
// the exact bytes.
//
// Dictionaries: the store feeds the first events it stores to addSample(); with kTrainEvents of them
// (and at least kMinTrainBytes) trainDictionary() makes one (ZDICT, kDictionaryBytes at most), which
// the store persists under an id and installs with addDictionary(id, bytes, /*current=*/true). Rows
// name their dictionary, so dictionaries are never removed; a store opened later installs every
// persisted one (the highest id current).
//
// Thread-safe: encode() and decode() may run on any thread at once (a zstd context per thread,
// dictionaries immutable once added, the table under a shared mutex); the sample buffer is guarded.
class EventCodec {
 public:
  static constexpr size_t kTrainEvents = 4096;
  static constexpr size_t kMinTrainBytes = 256 * 1024;
  static constexpr size_t kDictionaryBytes = 64 * 1024;
  static constexpr int kLevel = 1;

  struct Encoded {
    int64_t dict = 0;
    std::string body;
    bool shorthand_inside = false;  // dict > 0: the shorthand is in body
  };

  EventCodec();
  ~EventCodec();
  EventCodec(const EventCodec&) = delete;
  EventCodec& operator=(const EventCodec&) = delete;

  // With the current dictionary; as it came (dict 0) when there is none or compression fails.
  Encoded encode(std::string_view json, std::string_view shorthand) const;
  // The JSON and shorthand of a stored body. For dict 0 the shorthand is `shorthand_column`.
  // FailedPrecondition for a dictionary this codec does not have (the caller loads it and retries);
  // DataLoss for a body that does not decompress or whose payload is malformed.
  Result<void> decode(int64_t dict, std::string_view body, std::string_view shorthand_column, std::string* json,
                      std::string* shorthand) const;

  bool hasDictionary(int64_t id) const;
  int64_t currentDictionary() const;  // 0: none
  // Installs a dictionary (from the store or just trained). InvalidArgument when zstd refuses it.
  Result<void> addDictionary(int64_t id, const std::string& bytes, bool make_current);

  // Training: true while no dictionary is current, none is being trained and fewer than
  // kTrainEvents samples are held.
  bool wantsSamples() const;
  void addSample(std::string_view json, std::string_view shorthand);
  // A dictionary from the samples once there are enough, trained on the calling thread without
  // holding any lock other callers wait on (the samples are taken out first; other threads stop
  // sampling meanwhile). nullopt while there are not enough, while another thread trains, or when
  // training failed (sampling then starts over).
  std::optional<std::string> trainDictionary();
  // The store's part, from append() before it takes its connection: feeds `batch` as samples while
  // wanted, and once a dictionary is trained, calls `persist(dict)` (the store saves it and returns
  // its id) and makes it current. A persist error leaves the events uncompressed for now.
  template <typename Batch, typename Persist>
  void learnFrom(const Batch& batch, Persist&& persist) {
    if (!wantsSamples()) return;
    for (const auto& e : batch) addSample(e.json, e.shorthand);
    auto dict = trainDictionary();
    if (!dict) return;
    auto id = persist(*dict);
    if (id.ok()) (void)addDictionary(*id, *dict, true);
  }

 private:
  struct Dictionary;
  mutable std::shared_mutex mu_;
  std::map<int64_t, std::shared_ptr<const Dictionary>> dictionaries_;  // Guarded by mu_.
  std::shared_ptr<const Dictionary> current_;                          // Guarded by mu_.
  mutable std::mutex samples_mu_;
  std::string samples_;                // Guarded by samples_mu_: payloads back to back
  std::vector<size_t> sample_sizes_;   // Guarded by samples_mu_.
  bool training_ = false;              // Guarded by samples_mu_.
};

}  // namespace warden::gateway

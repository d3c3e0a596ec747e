#include "gateway/store/event_codec.h"

#define ZDICT_STATIC_LINKING_ONLY  // ZDICT_trainFromBuffer_fastCover with fixed parameters
#include <zdict.h>
#include <zstd.h>

#include <cstring>

#include "common/error.h"

namespace warden::gateway {

namespace {

void appendVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads a varint at the start of `in` and removes it; false when it is malformed.
bool readVarint(std::string_view& in, uint64_t* v) {
  uint64_t out = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    out |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = out;
      return true;
    }
  }
  return false;
}

void payloadInto(std::string& p, std::string_view json, std::string_view shorthand) {
  p.clear();
  appendVarint(p, json.size());
  p.append(json);
  p.append(shorthand);
}

std::string payloadOf(std::string_view json, std::string_view shorthand) {
  std::string p;
  p.reserve(json.size() + shorthand.size() + 4);
  payloadInto(p, json, shorthand);
  return p;
}

// One zstd compression and one decompression context per thread, and buffers reused across events.
struct Contexts {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  std::string payload, frame;
  ~Contexts() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
  }
};
Contexts& contexts() {
  thread_local Contexts ctx;
  return ctx;
}

}  // namespace

struct EventCodec::Dictionary {
  int64_t id = 0;
  ZSTD_CDict* cdict = nullptr;
  ZSTD_DDict* ddict = nullptr;
  ~Dictionary() {
    ZSTD_freeCDict(cdict);
    ZSTD_freeDDict(ddict);
  }
};

EventCodec::EventCodec() = default;
EventCodec::~EventCodec() = default;

EventCodec::Encoded EventCodec::encode(std::string_view json, std::string_view shorthand) const {
  std::shared_ptr<const Dictionary> dict;
  {
    std::shared_lock lock(mu_);
    dict = current_;
  }
  Encoded out;
  if (dict) {
    Contexts& ctx = contexts();
    payloadInto(ctx.payload, json, shorthand);
    ctx.frame.resize(ZSTD_compressBound(ctx.payload.size()));
    const size_t n = ZSTD_compress_usingCDict(ctx.c, ctx.frame.data(), ctx.frame.size(), ctx.payload.data(),
                                              ctx.payload.size(), dict->cdict);
    if (!ZSTD_isError(n)) {
      out.body.assign(ctx.frame.data(), n);
      out.dict = dict->id;
      out.shorthand_inside = true;
      return out;
    }
  }
  out.body.assign(json);
  return out;
}

Result<void> EventCodec::decode(int64_t dict_id, std::string_view body, std::string_view shorthand_column,
                                std::string* json, std::string* shorthand) const {
  if (dict_id == 0) {
    json->assign(body);
    shorthand->assign(shorthand_column);
    return okResult();
  }
  std::shared_ptr<const Dictionary> dict;
  {
    std::shared_lock lock(mu_);
    const auto it = dictionaries_.find(dict_id);
    if (it != dictionaries_.end()) dict = it->second;
  }
  if (!dict) return failedPrecondition("event dictionary " + std::to_string(dict_id) + " is not loaded");
  const unsigned long long size = ZSTD_getFrameContentSize(body.data(), body.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > 16 * 1024 * 1024) {
    return dataLoss("a stored event body is not a zstd frame of a known size");
  }
  std::string payload(static_cast<size_t>(size), '\0');
  const size_t n =
      ZSTD_decompress_usingDDict(contexts().d, payload.data(), payload.size(), body.data(), body.size(), dict->ddict);
  if (ZSTD_isError(n) || n != payload.size()) {
    return dataLoss(std::string("a stored event body does not decompress: ") +
                    (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
  }
  std::string_view rest = payload;
  uint64_t json_size = 0;
  if (!readVarint(rest, &json_size) || json_size > rest.size()) {
    return dataLoss("a stored event body holds a malformed payload");
  }
  json->assign(rest.substr(0, json_size));
  shorthand->assign(rest.substr(json_size));
  return okResult();
}

bool EventCodec::hasDictionary(int64_t id) const {
  std::shared_lock lock(mu_);
  return dictionaries_.count(id) != 0;
}

int64_t EventCodec::currentDictionary() const {
  std::shared_lock lock(mu_);
  return current_ ? current_->id : 0;
}

Result<void> EventCodec::addDictionary(int64_t id, const std::string& bytes, bool make_current) {
  if (id <= 0) return invalidArgument("event dictionary ids start at 1");
  auto d = std::make_shared<Dictionary>();
  d->id = id;
  d->cdict = ZSTD_createCDict(bytes.data(), bytes.size(), kLevel);
  d->ddict = ZSTD_createDDict(bytes.data(), bytes.size());
  if (d->cdict == nullptr || d->ddict == nullptr) {
    return invalidArgument("event dictionary " + std::to_string(id) + " is not a zstd dictionary");
  }
  std::unique_lock lock(mu_);
  dictionaries_[id] = d;
  if (make_current && (!current_ || current_->id < id)) current_ = d;
  return okResult();
}

bool EventCodec::wantsSamples() const {
  {
    std::shared_lock lock(mu_);
    if (current_) return false;
  }
  std::lock_guard lock(samples_mu_);
  return !training_ && sample_sizes_.size() < kTrainEvents;
}

void EventCodec::addSample(std::string_view json, std::string_view shorthand) {
  std::lock_guard lock(samples_mu_);
  if (sample_sizes_.size() >= kTrainEvents) return;
  const std::string p = payloadOf(json, shorthand);
  samples_.append(p);
  sample_sizes_.push_back(p.size());
}

std::optional<std::string> EventCodec::trainDictionary() {
  std::string samples;
  std::vector<size_t> sizes;
  {
    std::lock_guard lock(samples_mu_);
    if (training_ || sample_sizes_.size() < kTrainEvents || samples_.size() < kMinTrainBytes) return std::nullopt;
    training_ = true;
    samples.swap(samples_);
    sizes.swap(sample_sizes_);
  }
  // fastCover with fixed parameters instead of ZDICT_trainFromBuffer's search: 57 ms instead of
  // 310 ms for 4,096 builder events, the same ratio (149 vs 147 bytes per event; BENCHMARKS.md).
  ZDICT_fastCover_params_t params;
  std::memset(&params, 0, sizeof params);
  params.k = 1024;
  params.d = 8;
  params.f = 20;
  params.accel = 5;
  params.zParams.compressionLevel = kLevel;
  std::string dict(kDictionaryBytes, '\0');
  const size_t n = ZDICT_trainFromBuffer_fastCover(dict.data(), dict.size(), samples.data(), sizes.data(),
                                                   static_cast<unsigned>(sizes.size()), params);
  {
    std::lock_guard lock(samples_mu_);
    training_ = false;
  }
  if (ZDICT_isError(n)) return std::nullopt;
  dict.resize(n);
  return dict;
}

}  // namespace warden::gateway

#include "proxy/inspect/digest.h"

#include <openssl/evp.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "common/encoding.h"

namespace warden::proxy::inspect {

struct ArtifactDigest::Contexts {
  EVP_MD_CTX* sha256 = nullptr;
  EVP_MD_CTX* sha512 = nullptr;
  EVP_MD_CTX* sha1 = nullptr;
  ~Contexts() {
    EVP_MD_CTX_free(sha256);
    EVP_MD_CTX_free(sha512);
    EVP_MD_CTX_free(sha1);
  }
};

namespace {
EVP_MD_CTX* start(const EVP_MD* md) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx != nullptr && EVP_DigestInit_ex(ctx, md, nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

std::string end(EVP_MD_CTX* ctx) {
  if (ctx == nullptr) return "";
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx, out, &n) != 1) return "";
  return std::string(reinterpret_cast<const char*>(out), n);
}
}  // namespace

struct ArtifactDigest::Worker {
  std::mutex mu;
  std::condition_variable changed;
  std::deque<std::string> queue;  // Guarded by mu.
  size_t queued_bytes = 0;        // Guarded by mu.
  bool done = false;              // Guarded by mu: no more updates.
  std::thread thread;
};

ArtifactDigest::ArtifactDigest(bool sha512, bool sha1, bool parallel) : ctx_(std::make_unique<Contexts>()) {
  ctx_->sha256 = start(EVP_sha256());
  if (sha512) ctx_->sha512 = start(EVP_sha512());
  if (sha1) ctx_->sha1 = start(EVP_sha1());
  if (!parallel) return;
  auto worker = std::make_unique<Worker>();
  Worker* w = worker.get();
  try {
    worker->thread = std::thread([this, w] {
      std::unique_lock lock(w->mu);
      for (;;) {
        w->changed.wait(lock, [w] { return w->done || !w->queue.empty(); });
        if (w->queue.empty()) return;  // done and drained
        std::string chunk = std::move(w->queue.front());
        w->queue.pop_front();
        lock.unlock();
        hash(chunk);
        lock.lock();
        w->queued_bytes -= chunk.size();
        w->changed.notify_all();
      }
    });
  } catch (const std::system_error&) {
    return;  // no thread: hash inline
  }
  worker_ = std::move(worker);
}

ArtifactDigest::~ArtifactDigest() { finish(); }

void ArtifactDigest::hash(std::string_view bytes) {
  for (EVP_MD_CTX* c : {ctx_->sha256, ctx_->sha512, ctx_->sha1}) {
    if (c != nullptr) EVP_DigestUpdate(c, bytes.data(), bytes.size());
  }
}

void ArtifactDigest::update(std::string_view bytes) {
  if (finished_ || bytes.empty()) return;
  if (!worker_) {
    hash(bytes);
    return;
  }
  std::unique_lock lock(worker_->mu);
  worker_->changed.wait(lock, [&] { return worker_->queued_bytes + bytes.size() <= kMaxBacklog || worker_->queue.empty(); });
  worker_->queue.emplace_back(bytes);
  worker_->queued_bytes += bytes.size();
  worker_->changed.notify_all();
}

void ArtifactDigest::finish() {
  if (finished_) return;
  finished_ = true;
  if (worker_) {
    {
      std::lock_guard lock(worker_->mu);
      worker_->done = true;
    }
    worker_->changed.notify_all();
    worker_->thread.join();
  }
  if (const std::string raw = end(ctx_->sha256); !raw.empty()) sha256_ = hexEncode(raw);
  if (const std::string raw = end(ctx_->sha512); !raw.empty()) sha512_ = "sha512-" + base64Encode(raw);
  if (const std::string raw = end(ctx_->sha1); !raw.empty()) sha1_ = "sha1:" + hexEncode(raw);
}

}  // namespace warden::proxy::inspect

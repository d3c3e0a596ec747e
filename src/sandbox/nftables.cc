#include "sandbox/nftables.h"

#include <nftables/libnftables.h>

#include <cerrno>
#include <memory>
#include <mutex>
#include <string>

namespace warden::sandbox {
namespace {

std::mutex& nftMutex() {
  static std::mutex mu;  // libnftables is not documented as thread-safe across contexts
  return mu;
}

struct CtxFree {
  void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};

std::string trimmed(const char* text) {
  std::string s = text != nullptr ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<std::string> runNft(std::string_view commands) {
  std::lock_guard<std::mutex> lock(nftMutex());
  std::unique_ptr<nft_ctx, CtxFree> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) return internalError("nft_ctx_new failed");
  if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
    return internalError("libnftables: cannot buffer output");
  }
  const std::string buffer(commands);
  errno = 0;
  const int rc = nft_run_cmd_from_buffer(ctx.get(), buffer.c_str());
  const int err = errno;
  if (rc != 0) {
    std::string message = trimmed(nft_ctx_get_error_buffer(ctx.get()));
    if (message.empty()) message = "nft failed (errno " + std::to_string(err) + ")";
    if (err == EPERM || message.find("Operation not permitted") != std::string::npos) {
      return permissionDenied("nftables: " + message);
    }
    return internalError("nftables: " + message);
  }
  // Each get_*_buffer() call hands out the buffer and rewinds it: read it once.
  const char* output = nft_ctx_get_output_buffer(ctx.get());
  return std::string(output != nullptr ? output : "");
}

Result<std::vector<std::string>> listNftTables(std::string_view family) {
  auto out = runNft("list tables");
  if (!out.ok()) return out.error();
  // One line per table: "table <family> <name>".
  std::vector<std::string> names;
  const std::string want = "table " + std::string(family) + " ";
  std::string_view rest = *out;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (line.substr(0, want.size()) == want) names.emplace_back(line.substr(want.size()));
  }
  return names;
}

Result<bool> deleteNftTableIfPresent(std::string_view family, std::string_view name) {
  auto tables = listNftTables(family);
  if (!tables.ok()) return tables.error();
  bool present = false;
  for (const auto& t : *tables) present = present || t == name;
  if (!present) return false;
  auto deleted = runNft("delete table " + std::string(family) + " " + std::string(name));
  if (!deleted.ok()) return deleted.error();
  return true;
}

}  // namespace warden::sandbox

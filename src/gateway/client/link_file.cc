#include "gateway/client/link_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "common/unique_fd.h"

namespace warden::gateway {
namespace {

constexpr size_t kMaxLinkBytes = 64 * 1024;

Result<void> writeAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError("writing " + what);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return okResult();
}

}  // namespace

Result<void> writeLinkFile(const std::filesystem::path& path, const LinkRecord& r) {
  const nlohmann::json j = {{"gateway", r.gateway_url}, {"session_id", r.session_id},
                            {"session_name", r.session_name}, {"hostname", r.hostname},
                            {"public_key", r.public_key}, {"token", r.token}};
  const std::string text = j.dump() + "\n";
  const std::filesystem::path tmp = path.string() + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return errnoError("creating " + tmp.string());
  if (auto w = writeAll(fd.get(), text, tmp.string()); !w.ok()) return w;
  if (::fsync(fd.get()) != 0) return errnoError("fsync " + tmp.string());
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errnoError("renaming " + tmp.string());
  return okResult();
}

Result<LinkRecord> parseLinkRecord(std::string_view text) {
  if (text.size() > kMaxLinkBytes) return invalidArgument("gateway link record: over 64 KiB");
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return invalidArgument("gateway link record: not a JSON object");
  LinkRecord r;
  for (auto [name, field] : {std::pair{"gateway", &r.gateway_url}, std::pair{"session_id", &r.session_id},
                             std::pair{"session_name", &r.session_name}, std::pair{"hostname", &r.hostname},
                             std::pair{"public_key", &r.public_key}, std::pair{"token", &r.token}}) {
    const auto it = j.find(name);
    if (it == j.end() || !it->is_string()) {
      return invalidArgument(std::string("gateway link record: '") + name + "' missing or not a string");
    }
    *field = it->get<std::string>();
  }
  if (r.gateway_url.empty()) return invalidArgument("gateway link record: 'gateway' is empty");
  if (r.session_id.empty()) return invalidArgument("gateway link record: 'session_id' is empty");
  return r;
}

Result<LinkRecord> readLinkFile(const std::filesystem::path& path) {
  auto text = readFileBounded(path, kMaxLinkBytes + 1, OverLimit::kFail);
  if (!text.ok()) return text.error();
  auto r = parseLinkRecord(*text);
  if (!r.ok()) return r.error().withContext(path.string());
  return r;
}

}  // namespace warden::gateway

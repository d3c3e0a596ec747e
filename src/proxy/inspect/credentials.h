#pragma once

// Credentials the agent never holds (sandbox.md "Credentials", docs/credentials.md). At session
// start every `credentials:` entry's value is read — env:NAME from the supervisor's environment,
// file:/path from a regular file only root can read — and a placeholder is made for it
// ("warden-cred-<name>-<32 hex>"); the agent's environment gets the placeholder. The proxy puts the
// real value in place of the placeholder in request headers (and the Basic credentials a client
// makes of URL user-info) sent to the credential's `inject` endpoints, and refuses any request that
// carries a placeholder or a real value anywhere else. Values never reach an event, a log line, an
// error message or the gateway: errors name the credential and the source, never the value.
//
// Immutable after load(); shared by every connection (std::shared_ptr<const CredentialVault>);
// thread-safe. The values live in this object's memory only, wiped on destruction.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "policy/model.h"
#include "proxy/http_request.h"

namespace warden::proxy::inspect {

class CredentialVault {
 public:
  // Reads an environment variable of the supervisor (nullopt when unset).
  using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

  // Errors (InvalidArgument / PermissionDenied / NotFound) name the credential: an unset variable, a
  // missing file, a file others can read or that root does not own, an empty value, a value with
  // CR, LF or NUL (it could not travel in a header), a value under 8 bytes (too short to be told
  // apart from ordinary text when looking for leaks).
  static Result<std::shared_ptr<const CredentialVault>> load(const std::vector<policy::Credential>& credentials,
                                                             EnvLookup environment = {});
  ~CredentialVault();
  CredentialVault(const CredentialVault&) = delete;
  CredentialVault& operator=(const CredentialVault&) = delete;

  bool empty() const { return entries_.empty(); }
  // (the agent's variable, its placeholder), in policy order: for the agent's environment.
  std::vector<std::pair<std::string, std::string>> agentEnvironment() const;
  // True when some credential is injected into requests to host:port (those connections must be
  // inspected at L7, TLS terminated).
  bool isInjectTarget(std::string_view host, uint16_t port) const;

  struct HeadResult {
    std::vector<std::string> leaked;  // names of the credentials found where they must not go
    size_t substituted = 0;           // placeholders replaced by their values
  };
  // Checks one request head bound for host:port, and substitutes where that is allowed (header values;
  // Basic credentials decoded, substituted and re-encoded). The request target (path and query) is
  // checked, never rewritten.
  HeadResult applyToHead(HttpRequestHead& head, std::string_view host, uint16_t port) const;

  // Looks for placeholders and values in a body streamed to host:port (split anywhere).
  // Single-threaded; borrows the vault.
  class BodyScanner {
   public:
    BodyScanner(const CredentialVault& vault, std::string_view host, uint16_t port);
    // The names found in `bytes` (with what came before), each reported once.
    std::vector<std::string> feed(std::string_view bytes);
    bool active() const { return !needles_.empty(); }

   private:
    std::vector<std::pair<std::string_view, std::string_view>> needles_;  // (text, credential name)
    std::vector<std::string> reported_;
    std::string tail_;  // the last (longest needle - 1) bytes seen
    size_t longest_ = 0;
  };

  // `text` with every placeholder and value replaced by "[credential:<name>]": for URLs and other
  // request text that goes into events.
  std::string scrub(std::string_view text) const;

 private:
  struct Entry {
    std::string name;
    std::string env;
    std::string placeholder;
    std::string value;
    std::vector<policy::Credential::Target> inject;
    bool allows(std::string_view host, uint16_t port) const;
  };
  CredentialVault() = default;

  std::vector<Entry> entries_;
};

// Reads a credential file: a regular file (no symlink), owned by root (or by this process's user when
// it is not root), with no permission bits for group or others; at most 64 KiB; one trailing newline
// dropped. Errors never include the content.
Result<std::string> readCredentialFile(const std::string& path);

}  // namespace warden::proxy::inspect

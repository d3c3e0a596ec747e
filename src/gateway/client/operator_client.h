#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "gateway/client/channel.h"

namespace grpc {
class ClientContext;
}  // namespace grpc

namespace warden::gateway {

// The gateway an operator's command talks to: `--gateway URL` when given, else the environment
// variable WARDEN_GATEWAY when set and non-empty, else the gateway's operator socket on this host
// (docs/gateway-client.md).
inline constexpr std::string_view kDefaultGatewayUrl = "unix:/run/warden/gateway.sock";
inline constexpr std::string_view kGatewayEnv = "WARDEN_GATEWAY";
// `env` is the variable's value as read by the caller (nullptr: unset), so tests need no setenv.
std::string resolveGatewayUrl(std::string_view flag, const char* env);

// Plain copies of the Gateway messages the operator reads (proto/warden/v1/gateway.proto); the
// generated types stay inside operator_client.cc.
struct SessionInfo {
  std::string id, name, state, stop_reason, public_key;
  std::optional<int> exit_code;
  int64_t created_ms = 0, updated_ms = 0;
  uint64_t highest_sequence = 0;  // highest contiguous sequence stored
  std::string hostname;           // the supervisor's host
};

// One stored event: the canonical JSONL line (exact bytes) and its warden.log shorthand.
struct LogEvent {
  std::string session_id;
  uint64_t sequence = 0;
  std::string json, shorthand;
  int64_t time_ms = 0;
};

// GetLogs / FollowLogs. Zero and empty fields are "no filter"; limit 0 is the gateway's default.
struct LogsRequest {
  std::string session_id;
  int64_t since_ms = 0;
  std::vector<std::string> classes;  // shorthand prefixes: NET, HTTP, ...
  int min_severity = 0;              // OCSF severity_id
  uint64_t after_sequence = 0;
  uint32_t limit = 0;
};

// Query: events of one session (or of all), or, with no session and a fact filter (domain, path,
// package, stop_reason), the ids of the sessions that match.
struct EventsQuery {
  std::string session_id;
  int64_t since_ms = 0, until_ms = 0;
  std::vector<std::string> classes;
  std::string domain, path, package, stop_reason;
  uint32_t limit = 0;
};
struct QueryAnswer {
  std::vector<LogEvent> events;
  std::vector<std::string> sessions;
};

// Where a setting is read or written: one session, or global. For reads, neither means "the value
// in force for no session".
struct SettingTarget {
  std::string session;
  bool global = false;
};
struct SettingInfo {
  std::string key, value;
  std::string scope;    // get: the source of the effective value (global, session, base, default);
                        // set/list: where the value is stored (global, session)
  std::string session;  // the session it was read or stored for
  std::string type;     // bool, int, duration, enum, string
  std::vector<std::string> allowed;
  uint64_t config_revision = 0;  // the gateway's config revision when it answered
};
struct SettingDeleted {
  bool existed = false;
  uint64_t config_revision = 0;
};

// GetSandboxPolicy's SandboxConfig for one session (present = the gateway sent one).
struct SessionConfig {
  bool present = false;
  uint64_t config_revision = 0;
  bool ocsf_enabled = false;
};

struct VerificationMaterial {
  std::string public_key;             // the key registered with the session (hex), may be empty
  std::optional<LogEvent> log_start;  // sequence 1, when stored
  std::vector<LogEvent> checkpoints;  // every stored LOG:CHECKPOINT
};

// Ends a followLogs() from another thread (a signal watcher). cancel() before the follow starts
// makes it return at once. Thread-safe; outlives the followLogs() call it is given to.
class FollowCancel {
 public:
  void cancel();
  bool cancelled() const;

 private:
  friend class OperatorClient;
  // Registers the running call's context; false when cancel() came first.
  bool attach(grpc::ClientContext* ctx);
  void detach();

  mutable std::mutex mu_;
  bool cancelled_ = false;              // Guarded by mu_.
  grpc::ClientContext* ctx_ = nullptr;  // Guarded by mu_.
};

// How an operator's command reaches and proves itself to the gateway (the commands' --gateway,
// --gateway-ca, --client-cert, --client-key and --token-file). On the unix socket the kernel tells
// the gateway who is calling; over TCP a client certificate (https) or an operator token does.
struct OperatorConnection {
  std::string gateway;  // --gateway URL; empty: WARDEN_GATEWAY, else kDefaultGatewayUrl
  ChannelOptions channel;
  std::optional<std::filesystem::path> token_file;
};

// The operator's typed client of the Gateway service: one method per RPC the CLI uses. Calls carry
// the operator token when one was given (Options::token, "authorization: Bearer"); otherwise the
// transport says who calls (docs/gateway.md "Authentication").
//
// Errors: the gRPC status becomes an Error with the same code number and the gateway's message
// (a wrong setting type keeps the registry's "...; allowed: true, false"). A gateway that cannot be
// reached is Unavailable "gateway HOST:PORT unreachable: ..."; a call that outlives its deadline
// (Options::deadline, default 10 s) is DeadlineExceeded naming the gateway, so nothing hangs.
//
// Thread-safe (a grpc::Channel and stub underneath); movable, not copyable. The channel connects
// lazily, on the first call.
class OperatorClient {
 public:
  struct Options {
    std::chrono::milliseconds deadline{10000};  // per unary call and per GetLogs page
    ChannelOptions channel;
    std::string token;  // an operator token; empty: none
  };

  // InvalidArgument for a malformed URL (see parseGatewayUrl), or the CA file's error.
  static Result<OperatorClient> create(std::string_view url, Options options);
  static Result<OperatorClient> create(std::string_view url) { return create(url, Options()); }
  // create(resolveGatewayUrl(flag, getenv(WARDEN_GATEWAY)), options): what every command uses.
  static Result<OperatorClient> forCommand(std::string_view gateway_flag, Options options);
  static Result<OperatorClient> forCommand(std::string_view gateway_flag) {
    return forCommand(gateway_flag, Options());
  }
  // The same from a command's flags: the token file is read (its error returned) and the channel
  // options applied.
  static Result<OperatorClient> forCommand(const OperatorConnection& connection);
  ~OperatorClient();
  OperatorClient(OperatorClient&&) noexcept;
  OperatorClient& operator=(OperatorClient&&) noexcept;
  OperatorClient(const OperatorClient&) = delete;
  OperatorClient& operator=(const OperatorClient&) = delete;

  // "HOST:PORT" as dialled, for messages.
  const std::string& address() const;

  Result<std::vector<SessionInfo>> listSessions();
  Result<SessionInfo> getSession(std::string_view id);
  // The session `text` names: its id; else the one session whose name is `text`; else the one
  // whose id starts with `text`. NotFound when none does, InvalidArgument (listing them) when
  // several do.
  Result<SessionInfo> resolveSession(std::string_view text);
  Result<SessionConfig> sessionConfig(std::string_view session_id);

  Result<SettingInfo> getSetting(std::string_view key, const SettingTarget& target);
  Result<SettingInfo> setSetting(std::string_view key, std::string_view value, const SettingTarget& target);
  Result<SettingDeleted> deleteSetting(std::string_view key, const SettingTarget& target);
  // Stored runtime values: global ones and, when `session` is given, that session's.
  Result<std::vector<SettingInfo>> listSettings(std::string_view session = {});

  // One page of GetLogs.
  Result<std::vector<LogEvent>> getLogs(const LogsRequest& request);
  // Every event matching `request` after request.after_sequence, page by page (GetLogs with
  // after_sequence, in sequence order; needs request.session_id), each handed to `on_event`.
  // A page over the message size limit is fetched again in smaller pages. Returns the highest
  // sequence handed over (request.after_sequence when there was none).
  Result<uint64_t> forEachLog(LogsRequest request, const std::function<void(const LogEvent&)>& on_event);
  // FollowLogs: hands each streamed event to `on_event` until it returns false (then OK), `cancel`
  // is cancelled (OK), or the stream ends (the gateway's status: an Error, or OK when it closed
  // the stream cleanly). No deadline: it runs until one of those.
  Result<void> followLogs(const LogsRequest& request, const std::function<bool(const LogEvent&)>& on_event,
                          FollowCancel* cancel = nullptr);

  Result<QueryAnswer> query(const EventsQuery& query);
  Result<VerificationMaterial> verificationMaterial(std::string_view session_id);

 private:
  struct Impl;
  explicit OperatorClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::gateway

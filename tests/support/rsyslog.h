#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/test_env.h"

namespace warden::testing {

// A real rsyslogd (Debian's rsyslog, rsyslog-gnutls for TLS) receiving syslog on 127.0.0.1, started
// in the foreground (`rsyslogd -n -f CONF -i PIDFILE`) with its own config in a temp dir: an imtcp
// input (octet-counted framing is rsyslog's default), optionally with TLS through the gtls driver,
// optionally an imudp input on the same port number, and two omfile actions: msgFile() gets each
// message's MSG alone (`%msg%\n`), protocolFile() the whole message (RSYSLOG_SyslogProtocol23Format).
// maxMessageSize is 1 MiB (rsyslog's default 8 KiB would truncate large events). stop() and
// restart() keep the port and the files. The destructor stops it (SIGTERM, then SIGKILL) and
// removes the temp dir. Not thread-safe.
class Rsyslog {
 public:
  struct Options {
    bool udp = false;  // also imudp on the same port
    // TLS (imtcp with StreamDriver gtls, anonymous client auth): the server's certificate chain.
    std::filesystem::path tls_ca, tls_cert, tls_key;
    // Also timingFile(): "<time received> <time reported>" per message (RFC 3339, rsyslog's
    // timegenerated in microseconds and the message's TIMESTAMP) — for latency benchmarks.
    bool timing = false;
    bool protocol_file = true;  // false: no protocolFile() action (less work per message, benchmarks)
  };
  // nullptr (and *why) when rsyslogd is not installed or does not accept connections in time.
  static std::unique_ptr<Rsyslog> start(const Options& options, std::string* why = nullptr);
  ~Rsyslog();
  Rsyslog(const Rsyslog&) = delete;
  Rsyslog& operator=(const Rsyslog&) = delete;

  uint16_t port() const { return port_; }
  std::filesystem::path msgFile() const { return dir_ / "msg.log"; }
  std::filesystem::path protocolFile() const { return dir_ / "rfc5424.log"; }
  std::filesystem::path timingFile() const { return dir_ / "timing.log"; }
  // The lines of msgFile() so far (complete lines only).
  std::vector<std::string> messages() const;
  // SIGTERM and wait for the exit (rsyslog writes what it accepted before it goes).
  bool stop();
  // Starts it again on the same port and files; false (and *why) when it does not come up.
  bool restart(std::string* why = nullptr);
  std::string output();

 private:
  Rsyslog() = default;
  bool launch(std::string* why);
  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// The lines of `path` (complete lines only), without their newlines.
std::vector<std::string> completeLines(const std::filesystem::path& path);

}  // namespace warden::testing

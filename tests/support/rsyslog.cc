#include "support/rsyslog.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "common/unique_fd.h"

namespace warden::testing {
namespace {

// A loopback port free for TCP and UDP at the time of the call (0 if none was found).
uint16_t freePort() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    UniqueFd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(tcp.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) continue;
    socklen_t len = sizeof a;
    ::getsockname(tcp.get(), reinterpret_cast<sockaddr*>(&a), &len);
    UniqueFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (::bind(udp.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return ntohs(a.sin_port);
  }
  return 0;
}

bool accepts(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

}  // namespace

std::vector<std::string> completeLines(const std::filesystem::path& path) {
  std::vector<std::string> out;
  const std::string text = readFile(path);
  size_t begin = 0;
  for (size_t nl; (nl = text.find('\n', begin)) != std::string::npos; begin = nl + 1) {
    out.push_back(text.substr(begin, nl - begin));
  }
  return out;
}

std::unique_ptr<Rsyslog> Rsyslog::start(const Options& options, std::string* why) {
  if (realExecutable("rsyslogd").empty()) {
    if (why) *why = "rsyslogd is not installed (Debian's rsyslog package; scripts/install-deps.sh)";
    return nullptr;
  }
  const bool tls = !options.tls_cert.empty();
  if (tls && !std::filesystem::exists("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so") &&
      !std::filesystem::exists("/usr/lib/rsyslog/lmnsd_gtls.so")) {
    if (why) *why = "rsyslog's gtls driver is not installed (Debian's rsyslog-gnutls package)";
    return nullptr;
  }
  std::unique_ptr<Rsyslog> r(new Rsyslog());
  r->port_ = freePort();
  if (r->port_ == 0) {
    if (why) *why = "no free loopback port";
    return nullptr;
  }
  const auto& d = r->dir_;
  std::string conf;
  conf += "global(workDirectory=\"" + d.path().string() + "\" maxMessageSize=\"1m\"";
  if (tls) {
    conf += " defaultNetstreamDriver=\"gtls\" defaultNetstreamDriverCAFile=\"" + options.tls_ca.string() +
            "\" defaultNetstreamDriverCertFile=\"" + options.tls_cert.string() +
            "\" defaultNetstreamDriverKeyFile=\"" + options.tls_key.string() + "\"";
  }
  conf += ")\n";
  conf += tls ? "module(load=\"imtcp\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\" "
                "streamDriver.authMode=\"anon\")\n"
              : "module(load=\"imtcp\")\n";
  if (options.udp) conf += "module(load=\"imudp\")\n";
  conf += "template(name=\"msgonly\" type=\"string\" string=\"%msg%\\n\")\n";
  conf += "template(name=\"timing\" type=\"string\" "
          "string=\"%timegenerated:::date-rfc3339% %timereported:::date-rfc3339%\\n\")\n";
  conf += "ruleset(name=\"warden\") {\n";
  conf += "  action(type=\"omfile\" file=\"" + r->msgFile().string() + "\" template=\"msgonly\")\n";
  if (options.protocol_file) {
    conf += "  action(type=\"omfile\" file=\"" + r->protocolFile().string() +
            "\" template=\"RSYSLOG_SyslogProtocol23Format\")\n";
  }
  if (options.timing) {
    conf += "  action(type=\"omfile\" file=\"" + r->timingFile().string() + "\" template=\"timing\")\n";
  }
  conf += "}\n";
  const std::string port = std::to_string(r->port_);
  conf += "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" + port + "\" ruleset=\"warden\")\n";
  if (options.udp) conf += "input(type=\"imudp\" address=\"127.0.0.1\" port=\"" + port + "\" ruleset=\"warden\")\n";
  writeFile(d / "rsyslog.conf", conf);
  if (!r->launch(why)) return nullptr;
  return r;
}

bool Rsyslog::launch(std::string* why) {
  ChildProcess::Options o;
  o.argv = {"rsyslogd", "-n", "-f", (dir_ / "rsyslog.conf").string(), "-i", (dir_ / "rsyslogd.pid").string()};
  process_ = ChildProcess::start(o, why);
  if (!process_) return false;
  // Ready when the TCP input accepts (the UDP input is bound in the same activation step).
  if (!waitFor([&] { return accepts(port_); }, std::chrono::seconds(10))) {
    if (why) *why = "rsyslogd did not accept connections on 127.0.0.1:" + std::to_string(port_) + ": " + output();
    return false;
  }
  return true;
}

Rsyslog::~Rsyslog() {
  if (process_) process_->terminate(std::chrono::seconds(5));
}

std::vector<std::string> Rsyslog::messages() const { return completeLines(msgFile()); }

bool Rsyslog::stop() {
  if (!process_) return true;
  const int rc = process_->terminate(std::chrono::seconds(10));
  process_.reset();
  return rc != -1;
}

bool Rsyslog::restart(std::string* why) {
  stop();
  std::error_code ec;
  std::filesystem::remove(dir_ / "rsyslogd.pid", ec);
  return launch(why);
}

std::string Rsyslog::output() { return process_ ? process_->output() : std::string(); }

}  // namespace warden::testing

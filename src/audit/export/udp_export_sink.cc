#include "audit/export/udp_export_sink.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "audit/log_events.h"

namespace warden::audit::exporting {
namespace {

constexpr size_t kMaxDatagram = 65507;

}  // namespace

Result<std::shared_ptr<UdpExportSink>> UdpExportSink::make(const ExportUrl& url) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(url.port);
  if (const int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    return unavailable(fmt::format("export {}: resolve {}: {}", url.name, url.host, gai_strerror(rc)));
  }
  std::shared_ptr<UdpExportSink> sink(new UdpExportSink(url));
  Error last = unavailable("no address");
  for (addrinfo* ai = list; ai != nullptr && !sink->fd_.valid(); ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_UDP));
    if (!fd.valid()) {
      last = errnoError("socket");
      continue;
    }
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      last = errnoError("connect");
      continue;
    }
    sink->fd_ = std::move(fd);
  }
  ::freeaddrinfo(list);
  if (!sink->fd_.valid()) return last.withContext(fmt::format("export {}", url.name));
  return sink;
}

Result<void> UdpExportSink::open(SinkContext& context) {
  context_ = &context;
  header_.hostname = context.session().hostname;
  header_.session_id = context.session().session_id;
  header_.procid = static_cast<long>(::getpid());
  return okResult();
}

void UdpExportSink::write(const SinkBatch& batch) {
  for (const SinkRecord& record : batch.events) {
    message_.clear();
    appendSyslogMessage(message_, header_, record);
    std::string why;
    if (message_.size() > kMaxDatagram) {
      why = fmt::format("message of {} bytes is over the largest UDP datagram", message_.size());
    } else {
      ssize_t n;
      do {
        n = ::send(fd_.get(), message_.data(), message_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      } while (n < 0 && errno == EINTR);
      if (n >= 0) {
        ++sent_;
        continue;
      }
      why = std::strerror(errno);
    }
    ++lost_total_;
    ++unreported_;
    if (first_seq_ == 0) first_seq_ = record.sequence;
    last_seq_ = record.sequence;
    error_ = why;
  }
  report(false);
}

void UdpExportSink::report(bool force) {
  if (unreported_ == 0 || context_ == nullptr) return;
  const auto now = context_->clock().steadyNow();
  if (!force && last_report_.time_since_epoch().count() != 0 && now - last_report_ < std::chrono::seconds(1)) return;
  last_report_ = now;
  SinkFacts f;
  f.sink = url_.name;
  f.error = error_;
  f.skipped = unreported_;
  f.first_seq = first_seq_;
  f.last_seq = last_seq_;
  context_->report(Level::kWarn, fmt::format("{}: {} events (sequences {}-{}) not sent: {}", url_.name, unreported_,
                                             first_seq_, last_seq_, error_));
  context_->record(sinkOverflowEvent(context_->session(), context_->clock().nowMillis(), f));
  unreported_ = 0;
  first_seq_ = last_seq_ = 0;
}

}  // namespace warden::audit::exporting

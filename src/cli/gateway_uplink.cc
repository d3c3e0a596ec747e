#include "cli/gateway_uplink.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <atomic>
#include <future>
#include <mutex>
#include <vector>

#include "audit/log_events.h"
#include "common/clock.h"
#include "gateway/client/session_link.h"
#include "gateway/client/spool_replay.h"

namespace warden::cli {
namespace {

class GatewayUplink final : public sandbox::SessionUplink {
 public:
  GatewayUplink(GatewayUplinkOptions options, std::filesystem::path spool_path, std::unique_ptr<audit::Spool> spool)
      : options_(std::move(options)), spool_path_(std::move(spool_path)), spool_(std::move(spool)) {}

  ~GatewayUplink() override {
    if (link_) link_->stop();
  }

  std::string describe() const override { return "gateway " + options_.gateway_url; }

  std::vector<std::string> hiddenPaths() const override { return {options_.spool_dir.string()}; }

  void onEvents(const audit::SinkBatch& batch) override {
    if (batch.events.empty()) return;
    const uint64_t first = batch.events.front().sequence, last = batch.events.back().sequence;
    std::vector<audit::SpooledEventView> views;
    views.reserve(batch.events.size());
    for (const auto& r : batch.events) views.emplace_back(r.sequence, r.json, r.shorthand);
    if (auto appended = spool_->append(std::span<const audit::SpooledEventView>(views)); !appended.ok()) {
      // Still in warden.log; the gateway misses them and `audit verify --gateway` names the gap. The
      // writer thread only counts; finishNotes() says it.
      std::lock_guard lock(failures_mu_);
      if (spool_failures_++ == 0) {
        first_failure_ = fmt::format("events {}-{} could not be spooled for the gateway: {}", first, last,
                                     appended.error().toString());
      }
      return;
    }
    if (gateway::SessionLink* link = link_ptr_.load()) link->notify();
  }

  Result<void> start(const sandbox::UplinkIdentity& identity, const ocsf::SessionContext& session,
                     sandbox::UplinkHooks hooks) override {
    hooks_ = std::move(hooks);
    session_ = session;
    gateway::SessionLinkOptions link_options;
    link_options.link = {.gateway_url = options_.gateway_url,
                         .session_id = identity.session_id,
                         .session_name = identity.session_name,
                         .hostname = identity.hostname,
                         .public_key = identity.public_key_hex};
    link_options.link_file = spool_path_ / "link";
    if (options_.gateway_ca) link_options.channel.ca_file = *options_.gateway_ca;
    link_options.poll_interval = options_.poll;
    if (auto written = gateway::writeLinkFile(link_options.link_file, link_options.link); !written.ok()) {
      return written.error().withContext("gateway link record");
    }
    gateway::SessionLinkHooks link_hooks;
    link_hooks.on_config = [this](const gateway::ConfigUpdate& update) {
      if (hooks_.on_config) hooks_.on_config(update.ocsf_enabled, update.config_revision);
    };
    link_hooks.on_policy = [this](const gateway::PolicyUpdate& update) {
      if (hooks_.on_policy) hooks_.on_policy(update.yaml, update.config_revision);
    };
    link_hooks.on_unreachable = [this](const audit::GatewayLinkFacts& facts) {
      if (hooks_.emit) hooks_.emit(audit::gatewayUnreachableEvent(session_, SystemClock::instance().nowMillis(), facts));
    };
    link_hooks.on_reconnected = [this](const audit::GatewayLinkFacts& facts) {
      if (hooks_.emit) hooks_.emit(audit::gatewayReconnectedEvent(session_, SystemClock::instance().nowMillis(), facts));
    };
    link_hooks.on_note = [this](audit::Level level, std::string_view message) {
      if (hooks_.note) hooks_.note(level, message);
    };
    auto link = gateway::SessionLink::start(std::move(link_options), *spool_, std::move(link_hooks));
    if (!link.ok()) return link.error().withContext("gateway link");
    link_ = std::move(link).value();
    link_ptr_.store(link_.get());
    // Leftovers of earlier sessions whose events never reached their gateway.
    gateway::ChannelOptions channel;
    if (options_.gateway_ca) channel.ca_file = *options_.gateway_ca;
    replay_ = std::async(std::launch::async, [root = options_.spool_dir, id = identity.session_id, channel] {
      return gateway::replayLeftoverSpools(root, id, std::chrono::seconds(5), channel);
    });
    return okResult();
  }

  bool waitFirstContact() override { return link_ && link_->waitFirstContact(options_.first_contact); }

  std::vector<std::pair<audit::Level, std::string>> finishNotes() override {
    std::vector<std::pair<audit::Level, std::string>> notes;
    {
      std::lock_guard lock(failures_mu_);
      if (spool_failures_ > 0) {
        notes.emplace_back(audit::Level::kError,
                           fmt::format("{} batches could not be spooled for the gateway; the first: {}", spool_failures_,
                                       first_failure_));
      }
    }
    if (!replay_.valid()) return notes;
    for (const auto& r : replay_.get()) {
      notes.emplace_back(r.complete ? audit::Level::kInfo : audit::Level::kWarn,
                         r.complete ? fmt::format("sent {} leftover events of earlier session {}", r.sent, r.session_id)
                                    : fmt::format("leftover spool of session {} kept: {}", r.session_id, r.problem));
    }
    return notes;
  }

  void close(std::FILE* err) override {
    if (!link_) return;
    // The final checkpoint is in the spool now: wait for the gateway to hold everything.
    const bool all = link_->drain(options_.drain);
    link_ptr_.store(nullptr);
    link_->stop();
    const uint64_t left = spool_->lastSequence() - spool_->ackedSequence();
    spool_.reset();
    if (all) {
      std::error_code ec;
      std::filesystem::remove_all(spool_path_, ec);
    } else {
      std::fprintf(err,
                   "warden run: the gateway has not acknowledged %llu events; they are kept in %s and sent by the "
                   "next warden run --gateway\n",
                   static_cast<unsigned long long>(left), spool_path_.c_str());
    }
  }

 private:
  GatewayUplinkOptions options_;
  std::filesystem::path spool_path_;
  std::unique_ptr<audit::Spool> spool_;  // outlives the pipeline's tap; the link outlives neither
  sandbox::UplinkHooks hooks_;
  ocsf::SessionContext session_;
  std::unique_ptr<gateway::SessionLink> link_;
  std::atomic<gateway::SessionLink*> link_ptr_{nullptr};  // for the pipeline's writer thread
  std::future<std::vector<gateway::ReplayOutcome>> replay_;
  std::mutex failures_mu_;
  uint64_t spool_failures_ = 0;  // Guarded by failures_mu_.
  std::string first_failure_;    // Guarded by failures_mu_.
};

}  // namespace

sandbox::UplinkFactory gatewayUplinkFactory(GatewayUplinkOptions options) {
  return [options = std::move(options)](const std::string& session_id)
             -> Result<std::unique_ptr<sandbox::SessionUplink>> {
    // Every event goes to the spool first (from LOG:START on), then to the gateway.
    const std::filesystem::path spool_path = options.spool_dir / session_id;
    std::error_code ec;
    std::filesystem::create_directories(options.spool_dir, ec);
    ::chmod(options.spool_dir.c_str(), 0700);
    auto spool = audit::Spool::open({.dir = spool_path, .fsync_each_batch = false});
    if (!spool.ok()) return spool.error().withContext("gateway spool");
    return std::unique_ptr<sandbox::SessionUplink>(new GatewayUplink(options, spool_path, std::move(spool).value()));
  };
}

}  // namespace warden::cli

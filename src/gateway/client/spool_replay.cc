#include "gateway/client/spool_replay.h"

#include <system_error>

#include "audit/spool.h"
#include "gateway/client/link_file.h"
#include "gateway/client/session_link.h"

namespace warden::gateway {

std::vector<ReplayOutcome> replayLeftoverSpools(const std::filesystem::path& root, std::string_view skip,
                                                std::chrono::milliseconds each, const ChannelOptions& channel) {
  std::vector<ReplayOutcome> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    if (!entry.is_directory(ec) || entry.path().filename() == skip) continue;
    ReplayOutcome outcome;
    outcome.session_id = entry.path().filename().string();
    auto record = readLinkFile(entry.path() / "link");
    if (!record.ok()) {
      outcome.problem = "no usable link record: " + record.error().message();
      out.push_back(std::move(outcome));
      continue;
    }
    std::vector<std::string> notes;
    auto spool = audit::Spool::open({.dir = entry.path(), .fsync_each_batch = false}, &notes);
    if (!spool.ok()) {
      // Locked: a running supervisor owns it. Anything else is damage for an operator to look at.
      if (spool.error().code() != Code::kUnavailable && spool.error().code() != Code::kFailedPrecondition) {
        outcome.problem = spool.error().message();
        out.push_back(std::move(outcome));
      }
      continue;
    }
    const uint64_t before = (*spool)->ackedSequence();
    SessionLinkOptions options;
    options.link = *record;
    options.channel = channel;
    options.link_file = entry.path() / "link";
    options.poll_interval = std::chrono::milliseconds(0);
    options.backoff_max = std::chrono::milliseconds(1000);
    std::string failure;
    auto link = SessionLink::start(options, **spool,
                                   {.on_unreachable = [&](const audit::GatewayLinkFacts& f) { failure = f.error; }});
    if (!link.ok()) {
      outcome.problem = link.error().message();
      out.push_back(std::move(outcome));
      continue;
    }
    outcome.complete = (*link)->drain(each);
    (*link)->stop();
    outcome.sent = (*spool)->ackedSequence() - before;
    if (outcome.complete) {
      spool->reset();
      std::filesystem::remove_all(entry.path(), ec);
    } else {
      outcome.problem = failure.empty() ? "not everything acknowledged in time" : "gateway unreachable: " + failure;
    }
    out.push_back(std::move(outcome));
  }
  return out;
}

}  // namespace warden::gateway

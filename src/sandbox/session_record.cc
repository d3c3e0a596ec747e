// A session's record: the policy, the audit pipeline (LOG:START with the session's public key), the
// first events, and the uplink to a gateway.

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/spool_sink.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "common/host_name.h"
#include "policy/diagnostics.h"
#include "policy/loader.h"
#include "sandbox/default_policy.h"
#include "sandbox/session.h"

namespace warden::sandbox {
namespace {

int64_t nowMs() { return SystemClock::instance().nowMillis(); }

}  // namespace

int Session::fail(std::string_view step, const Error& error) {
  std::fprintf(err_, "warden run: %.*s: %s\n", static_cast<int>(step.size()), step.data(), error.toString().c_str());
  if (pipeline_) {
    emit(ocsf::lifecycle(ctx_, nowMs(), {.activity = ocsf::LifecycleActivity::kFailed,
                                         .component = std::string(step),
                                         .message = fmt::format("{} failed", step),
                                         .error = error.toString(),
                                         .fatal = true}));
  }
  return kExitSetupFailed;
}

void Session::config(std::string_view state, std::string message) {
  ocsf::ConfigChange change;
  change.state = std::string(state);
  change.message = std::move(message);
  emit(ocsf::configChange(ctx_, nowMs(), change));
}

void Session::ready(std::string component, std::string message) {
  emit(ocsf::lifecycle(ctx_, nowMs(), {.activity = ocsf::LifecycleActivity::kReady,
                                       .component = std::move(component),
                                       .message = std::move(message)}));
}

void Session::sessionEvent(ocsf::SessionActivity activity, std::string message) {
  ocsf::SessionInput input;
  input.activity = activity;
  input.message = std::move(message);
  emit(ocsf::session(ctx_, nowMs(), input));
}

void Session::noteRemoved(std::string what) {
  std::lock_guard lock(removed_mu_);
  removed_.push_back(std::move(what));
}

Result<void> Session::loadPolicy() {
  policy::Diagnostics diagnostics;
  Result<policy::Policy> loaded =
      options_.policy_file ? policy::loadPolicyFile(*options_.policy_file, &diagnostics)
                           : policy::loadPolicyText(kDefaultPolicy, kDefaultPolicyName, &diagnostics);
  if (!loaded.ok()) {
    return invalidArgument(diagnostics.empty() ? loaded.error().message() : diagnostics.toString());
  }
  policy_ = std::make_shared<const policy::Policy>(std::move(loaded).value());
  store_ = std::make_unique<policy::PolicyStore>(policy_);
  return okResult();
}

Result<void> Session::loadRules() {
  detect::RuleSetOptions options;
  options.builtin_rules = options_.rules_builtin;
  if (!options.builtin_rules && options_.rules_files.empty()) return okResult();
  detect::Diagnostics diagnostics;
  auto loaded = detect::RuleSet::load(options_.rules_files, options, &diagnostics);
  if (!loaded.ok()) return invalidArgument(diagnostics.empty() ? loaded.error().message() : diagnostics.toString());
  rules_ = std::move(loaded).value();
  return okResult();
}

void Session::onRuleAction(const detect::RuleAction& action) {
  if (action.kind == detect::ActionKind::kKill) {
    {
      std::lock_guard lock(shared_.mu);
      if (shared_.policy_violation) return;  // the first kill rule is the one SESSION:STOP names
      shared_.violation_rule = action.rule;
    }
    shared_.policy_violation = true;
    const uint64_t one = 1;
    (void)!::write(shared_.wake.get(), &one, sizeof one);
  } else if (action.kind == detect::ActionKind::kPause) {
    std::lock_guard lock(shared_.mu);
    if (shared_.ended || shared_.paused || shared_.cgroup == nullptr) return;
    if (shared_.cgroup->freeze().ok()) {
      shared_.paused = true;
      sessionEvent(ocsf::SessionActivity::kPause,
                   fmt::format("paused by detection rule {} (cgroup frozen; warden session resume continues)",
                               action.rule));
    }
  }
}

Result<void> Session::startRecord() {
  const int64_t now = nowMs();
  ctx_.hostname = hostName();
  ctx_.session_id = uuidV7(now);
  ctx_.session_name = options_.name.empty() ? ctx_.session_id : options_.name;
  log_dir_ = options_.log_dir.empty() ? std::filesystem::path("/var/log/warden") / ctx_.session_id : options_.log_dir;
  if (options_.uplink) {
    auto uplink = options_.uplink(ctx_.session_id);
    if (!uplink.ok()) return uplink.error();
    uplink_ = std::move(uplink).value();
  }
  audit::PipelineOptions pipeline_options;
  pipeline_options.log_dir = log_dir_;
  pipeline_options.session = ctx_;
  pipeline_options.jsonl_enabled = options_.ocsf_json;
  if (options_.stream_fd >= 0) {
    pipeline_options.stdout_human = true;
    pipeline_options.human_fd = options_.stream_fd;
  }
  if (options_.log_budget_bytes > 0) {
    // Fail-closed: an agent whose acts can no longer be recorded does not go on (docs/session.md).
    pipeline_options.budget.max_bytes = options_.log_budget_bytes;
    pipeline_options.budget.action = "stop";
    pipeline_options.budget.on_exhausted = [this](const audit::BudgetFacts&) {
      {
        std::lock_guard lock(shared_.mu);
        if (shared_.policy_violation) return;
        shared_.violation_rule = "log-budget";
      }
      shared_.policy_violation = true;
      const uint64_t one = 1;
      (void)!::write(shared_.wake.get(), &one, sizeof one);
    };
  }
  if (rules_) {
    detect::LiveDetectorOptions detector_options;
    detector_options.session = ctx_;
    detector_options.on_action = [this](const detect::RuleAction& action) { onRuleAction(action); };
    auto detector = detect::LiveDetector::start(rules_, std::move(detector_options));
    if (!detector.ok()) return detector.error().withContext("detection rules");
    detector_ = std::move(detector).value();
    // Every written event, from LOG:START on, is evaluated: submit() copies it into the detector's
    // bounded queue and never blocks the writer.
    pipeline_options.sinks.push_back(std::make_shared<audit::CallbackSink>(
        "detection rules", [detector = detector_.get()](const audit::SinkBatch& batch) { detector->submit(batch); }));
  }
  if (options_.exports) {
    auto exports = options_.exports(log_dir_);
    if (!exports.ok()) return exports.error().withContext("--export");
    for (auto& sink : exports.value()) pipeline_options.sinks.push_back(std::move(sink));
  }
  if (uplink_) {
    // Every written batch, from LOG:START on, goes to the uplink (the gateway's spool) too.
    pipeline_options.sinks.push_back(std::make_shared<audit::CallbackSink>(
        "gateway uplink", [uplink = uplink_.get()](const audit::SinkBatch& batch) { uplink->onEvents(batch); }));
  }
  auto pipeline = audit::Pipeline::start(std::move(pipeline_options));
  if (!pipeline.ok()) return pipeline.error();
  pipeline_ = std::move(pipeline).value();
  if (detector_) detector_->attach(*pipeline_);  // findings are emitted from here on
  // The log directory holds the record: root only (the agent also cannot see it: not in its view).
  ::chmod(log_dir_.c_str(), 0700);
  emit(ocsf::lifecycle(ctx_, now, {.activity = ocsf::LifecycleActivity::kStart,
                                   .component = "supervisor",
                                   .message = fmt::format("warden run supervisor started (pid {})", ::getpid())}));
  sessionEvent(ocsf::SessionActivity::kCreate, fmt::format("session {} created", ctx_.session_name));
  ocsf::ConfigChange change;
  change.message = fmt::format("policy loaded from {}: {} network rule{}", policy_->source, policy_->network.size(),
                               policy_->network.size() == 1 ? "" : "s");
  change.policy_version = std::to_string(policy_->version);
  change.policy_hash = policy_->hash;
  emit(ocsf::configChange(ctx_, now, change));
  if (options_.allow_loopback_upstream) {
    config(ocsf::kConfigDegraded, "loopback upstreams allowed (--allow-loopback-upstream) where allowed_ips covers them");
  }
  if (uplink_) return startUplink();
  return okResult();
}

Result<void> Session::startUplink() {
  UplinkHooks hooks;
  hooks.on_config = [this](bool ocsf_enabled, uint64_t revision) { pipeline_->setJsonlEnabled(ocsf_enabled, revision); };
  hooks.on_policy = [this](const std::string& yaml, uint64_t revision) { applyGatewayPolicy(yaml, revision); };
  hooks.emit = [this](ocsf::Event&& event) { emit(std::move(event)); };
  hooks.note = [this](audit::Level level, std::string_view message) {
    pipeline_->operational(level, "gateway", message);
  };
  const UplinkIdentity identity{.session_id = ctx_.session_id,
                                .session_name = ctx_.session_name,
                                .hostname = ctx_.hostname,
                                .public_key_hex = pipeline_->publicKeyHex()};
  if (auto started = uplink_->start(identity, ctx_, std::move(hooks)); !started.ok()) return started.error();
  // The gateway's config and policy apply from the start when it answers in time.
  const bool answered = uplink_->waitFirstContact();
  {
    std::lock_guard lock(policy_mu_);
    policy_planned_ = true;
  }
  ready("gateway", answered ? fmt::format("{}: registered, config applied, pushing events", uplink_->describe())
                            : fmt::format("{}: no answer yet; running on the local config, events spooled",
                                          uplink_->describe()));
  return okResult();
}

void Session::applyGatewayPolicy(const std::string& yaml, uint64_t config_revision) {
  policy::Diagnostics diagnostics;
  auto loaded = policy::loadPolicyText(yaml, uplink_ ? uplink_->describe() : "gateway", &diagnostics);
  ocsf::ConfigChange change;
  if (!loaded.ok()) {
    change.state = std::string(ocsf::kConfigFailed);
    change.message = fmt::format("policy from the gateway (revision {}) does not load; the current policy stays in force",
                                 config_revision);
    for (const auto& d : diagnostics.entries()) change.errors.push_back(d.toString());
    if (change.errors.empty()) change.errors.push_back(loaded.error().message());
    const auto current = store_->current();
    change.policy_version = std::to_string(current->version);
    change.policy_hash = current->hash;
    emit(ocsf::configChange(ctx_, nowMs(), change));
    return;
  }
  auto next = std::make_shared<const policy::Policy>(std::move(loaded).value());
  if (next->hash == store_->current()->hash) return;
  change.state = std::string(ocsf::kConfigUpdated);
  change.policy_version = std::to_string(next->version);
  change.policy_hash = next->hash;
  {
    std::lock_guard lock(policy_mu_);
    if (!policy_planned_) {
      // Before the sandbox is planned the whole policy applies (filesystem, process, resources too).
      change.message = fmt::format("policy from the gateway (revision {}): {} network rules, in force for the whole "
                                   "session",
                                   config_revision, next->network.size());
      policy_ = next;
    } else {
      change.message = fmt::format("policy from the gateway (revision {}): {} network rules hot-reloaded (filesystem "
                                   "and process sections apply to the next session)",
                                   config_revision, next->network.size());
    }
  }
  store_->swap(std::move(next));
  emit(ocsf::configChange(ctx_, nowMs(), change));
}

}  // namespace warden::sandbox

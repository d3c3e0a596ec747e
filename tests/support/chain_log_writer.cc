#include "support/chain_log_writer.h"

#include <cstdlib>
#include <cstdio>

#include "ocsf/jsonl_formatter.h"
#include "ocsf/samples.h"

namespace warden::testing {
namespace {

audit::Signer makeSigner() {
  auto s = audit::Signer::generate();
  if (!s.ok()) {
    std::fprintf(stderr, "ChainLogWriter: %s\n", s.error().message().c_str());
    std::abort();
  }
  return std::move(s).value();
}

}  // namespace

ChainLogWriter::ChainLogWriter(std::string session_id, int64_t start_time)
    : signer_(makeSigner()), session_id_(std::move(session_id)), time_(start_time) {
  ctx_ = ocsf::sampleContext();
  ctx_.session_id = session_id_;
  head_ = audit::chainSeed(session_id_);
  samples_ = ocsf::sampleOfEveryEvent(ctx_, start_time);
  ocsf::Event start = logEvent(6, "");
  start.status = ocsf::Status::kSuccess;
  start.message = "audit log started";
  ocsf::Value key = ocsf::Value::object();
  key.set("algorithm", "Ed25519");
  key.set("public_key", signer_.publicKeyHex());
  key.set("key_id", signer_.keyId());
  start.unmapped.set("signing_key", std::move(key));
  append(std::move(start), false);
}

ocsf::Event ChainLogWriter::logEvent(int activity_id, std::string activity_name) {
  ocsf::Event e = ocsf::newEvent(ctx_, ocsf::Kind::kLog, ocsf::ClassUid::kEventLogActivity, activity_id, ++time_);
  e.activity_name = std::move(activity_name);
  e.log_provider = "warden";
  e.log_type = ocsf::LogType::kApplication;
  return e;
}

void ChainLogWriter::append(ocsf::Event e, bool is_checkpoint) {
  e.metadata.sequence = ++seq_;
  e.metadata.correlation_uid = session_id_;
  e.integrity_prev = audit::digestHex(head_);
  std::string line;
  ocsf::appendJsonl(line, e);
  head_ = audit::chainNext(head_, line);
  if (jsonl_) lines_.push_back(std::move(line));
  if (!is_checkpoint && checkpoint_every_ != 0 && ++since_checkpoint_ >= checkpoint_every_) checkpoint(false);
}

void ChainLogWriter::event(ocsf::Event e) {
  time_ = std::max(time_ + 1, e.time);
  e.time = time_;
  append(std::move(e), false);
}

void ChainLogWriter::events(uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    ocsf::Event e = samples_[next_sample_++ % samples_.size()];
    e.time = 0;
    event(std::move(e));
  }
}

void ChainLogWriter::checkpoint(bool final) {
  ocsf::Event e = logEvent(99, "Checkpoint");
  const uint64_t last = seq_;
  const std::string head = audit::digestHex(head_);
  auto sig = signer_.signHex(audit::checkpointMessage(session_id_, last, head, e.time));
  ocsf::Value cp = ocsf::Value::object();
  cp.set("first_seq", cp_first_seq_);
  cp.set("last_seq", last);
  cp.set("head", head);
  cp.set("key_id", signer_.keyId());
  cp.set("signature", sig.ok() ? *sig : std::string());
  if (final) cp.set("final", true);
  e.message = (final ? "final checkpoint seq " : "checkpoint seq ") + std::to_string(cp_first_seq_) + "-" +
              std::to_string(last);
  e.unmapped.set("checkpoint", std::move(cp));
  cp_first_seq_ = last + 1;
  since_checkpoint_ = 0;
  append(std::move(e), true);
}

void ChainLogWriter::setJsonl(bool enabled) {
  ocsf::Event e = ocsf::newEvent(ctx_, ocsf::Kind::kConfig, ocsf::ClassUid::kDeviceConfigStateChange, 1, ++time_);
  e.message = enabled ? "OCSF JSONL output enabled" : "OCSF JSONL output disabled";
  e.unmapped.set("state", "UPDATED");
  if (enabled) jsonl_ = true;
  append(std::move(e), false);
  if (!enabled) jsonl_ = false;
}

void ChainLogWriter::loss(uint64_t count) {
  ocsf::Event e = logEvent(99, "Loss");
  e.severity = ocsf::Severity::kHigh;
  e.message = std::to_string(count) + " events shed (audit queue full)";
  ocsf::Value l = ocsf::Value::object();
  l.set("count", count);
  l.set("first_seq", seq_ + 1);
  l.set("last_seq", seq_ + 1);
  e.unmapped.set("loss", std::move(l));
  append(std::move(e), false);
}

std::string ChainLogWriter::join(const std::vector<std::string>& lines) {
  std::string out;
  size_t n = 0;
  for (const auto& l : lines) n += l.size() + 1;
  out.reserve(n);
  for (const auto& l : lines) {
    out += l;
    out += '\n';
  }
  return out;
}

std::string ChainLogWriter::text() const { return join(lines_); }

ChainLogWriter standardLog(uint64_t events) {
  ChainLogWriter w;
  w.events(events);
  w.checkpoint(true);
  return w;
}

}  // namespace warden::testing

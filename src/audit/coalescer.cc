#include "audit/coalescer.h"

#include <algorithm>

#include "common/encoding.h"

namespace warden::audit {

namespace {

void put(std::string& k, std::string_view s) {
  k.append(s);
  k.push_back('\x1f');  // a unit separator keeps fields apart ("ab","c" != "a","bc")
}

void put(std::string& k, int64_t v) {
  k.append(std::to_string(v));
  k.push_back('\x1f');
}

void putEndpoint(std::string& k, const std::optional<ocsf::Endpoint>& e) {
  if (!e) {
    k.push_back('\x1e');
    return;
  }
  put(k, e->hostname);
  put(k, e->ip);
  put(k, e->port.value_or(-1));
}

}  // namespace

bool Coalescer::coalescible(const ocsf::Event& e) {
  // The close of a connection with exactly the same traffic as others (the refused CONNECT's 403
  // and request, connection after connection): bytes are part of the key.
  if (e.kind == ocsf::Kind::kNet && e.class_uid == ocsf::ClassUid::kNetworkActivity && e.activity_id == 2 &&
      e.traffic) {
    return true;
  }
  if (!e.action || *e.action != ocsf::Action::kDenied) return false;
  switch (e.kind) {
    case ocsf::Kind::kNet:
    case ocsf::Kind::kHttp:
    case ocsf::Kind::kDns:
    case ocsf::Kind::kSsh:
    case ocsf::Kind::kFile:
      return true;
    default:
      return false;
  }
}

std::string Coalescer::keyOf(const ocsf::Event& e) {
  std::string k;
  k.reserve(160);
  put(k, static_cast<int64_t>(e.class_uid));
  put(k, e.activity_id);
  put(k, e.activityName());
  put(k, e.action ? static_cast<int64_t>(*e.action) : -1);
  if (e.actor) {
    put(k, e.actor->pid.value_or(-1));
    put(k, e.actor->name);
    put(k, e.actor->file ? std::string_view(e.actor->file->path) : std::string_view());
  } else {
    k.push_back('\x1e');
  }
  // The source's address but not its port: every connection has a new ephemeral port.
  if (e.src_endpoint) {
    put(k, e.src_endpoint->hostname);
    put(k, e.src_endpoint->ip);
  } else {
    k.push_back('\x1e');
  }
  putEndpoint(k, e.dst_endpoint);
  if (e.http_request) {
    put(k, e.http_request->http_method);
    put(k, e.http_request->url.scheme);
    put(k, e.http_request->url.hostname);
    put(k, e.http_request->url.port.value_or(-1));
    put(k, e.http_request->url.path);
  } else {
    k.push_back('\x1e');
  }
  if (e.query) {
    put(k, e.query->hostname);
    put(k, e.query->type);
  } else {
    k.push_back('\x1e');
  }
  put(k, e.file ? std::string_view(e.file->path) : std::string_view());
  if (e.firewall_rule) {
    put(k, e.firewall_rule->name);
    put(k, e.firewall_rule->type);
  } else {
    k.push_back('\x1e');
  }
  put(k, e.status_detail);
  if (e.traffic) {
    put(k, e.traffic->bytes_in.value_or(-1));
    put(k, e.traffic->bytes_out.value_or(-1));
  }
  return k;
}

Coalescer::Verdict Coalescer::admit(const ocsf::Event& e, std::chrono::steady_clock::time_point now) {
  if (!enabled() || !coalescible(e)) return Verdict::kWrite;
  std::string key = keyOf(e);
  std::lock_guard lk(mu_);
  auto it = windows_.find(key);
  if (it != windows_.end() && now < it->second.closes) {
    Window& w = it->second;
    if (w.count == 0) {
      w.sample = e;
      w.start_time = e.time;
      w.end_time = e.time;
    }
    ++w.count;
    w.duration_total += e.duration.value_or(0);
    w.start_time = std::min(w.start_time, e.time);
    w.end_time = std::max(w.end_time, e.time);
    ++suppressed_;
    return Verdict::kSuppressed;
  }
  // A window that is over but not yet collected by due() keeps its count; the new event opens
  // the next window only once due() has written the summary. Until then it is written as is.
  if (it != windows_.end()) return Verdict::kWrite;
  if (windows_.size() >= options_.max_keys) return Verdict::kWrite;
  Window w;
  w.closes = now + options_.window;
  w.first_uid = e.metadata.uid;
  order_.push_back(key);
  windows_.emplace(std::move(key), std::move(w));
  return Verdict::kWrite;
}

std::vector<ocsf::Event> Coalescer::due(std::chrono::steady_clock::time_point now, bool all) {
  std::vector<ocsf::Event> out;
  std::lock_guard lk(mu_);
  while (!order_.empty()) {
    const auto it = windows_.find(order_.front());
    if (it == windows_.end()) {  // cannot happen: every key in order_ has a window
      order_.pop_front();
      continue;
    }
    Window& w = it->second;
    if (!all && now < w.closes) break;
    if (w.count > 0 && w.sample) {
      ocsf::Event s = std::move(*w.sample);
      s.count = static_cast<int64_t>(w.count);
      s.start_time = w.start_time;
      s.end_time = w.end_time;
      s.time = w.end_time;
      if (s.duration) s.duration = w.end_time - w.start_time;  // OCSF: the time the event covers
      s.metadata.uid = uuidV7(s.time);
      if (!s.unmapped.isObject()) s.unmapped = ocsf::Value::object();
      ocsf::Value c = ocsf::Value::object();
      c.set("window_ms", static_cast<int64_t>(options_.window.count()));
      if (!w.first_uid.empty()) c.set("first_uid", w.first_uid);
      if (s.duration) c.set("duration_total_ms", w.duration_total);
      s.unmapped.set("coalesced", std::move(c));
      out.push_back(std::move(s));
      ++summaries_;
    }
    windows_.erase(it);
    order_.pop_front();
  }
  return out;
}

std::optional<std::chrono::steady_clock::time_point> Coalescer::nextDue() const {
  std::lock_guard lk(mu_);
  if (order_.empty()) return std::nullopt;
  const auto it = windows_.find(order_.front());
  if (it == windows_.end()) return std::nullopt;
  return it->second.closes;
}

uint64_t Coalescer::suppressed() const {
  std::lock_guard lk(mu_);
  return suppressed_;
}

uint64_t Coalescer::summaries() const {
  std::lock_guard lk(mu_);
  return summaries_;
}

}  // namespace warden::audit

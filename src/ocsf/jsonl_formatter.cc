#include "ocsf/jsonl_formatter.h"

#include <array>

#include "ocsf/json_writer.h"

#ifndef WARDEN_VERSION
#define WARDEN_VERSION "0.0.0"
#endif

namespace warden::ocsf {

namespace {

// Every writer below adds members in byte order of their keys; ObjectWriter asserts it.

// The caption written beside an enum id. None for 99 (Other): there the caption attribute carries
// the source's own name when there is one, never the caption "Other" (the official validator
// warns: attribute_enum_sibling_suspicious_other).
std::string_view sibling(std::string_view caption, int id) {
  return id == 99 ? std::string_view() : caption;
}

void writeFile(ObjectWriter& w, const File& f) {
  if (!f.sha256.empty()) {
    w.array("hashes", std::array<int, 1>{0}, [&](int) {
      ObjectWriter h(w.buffer());
      h.str("algorithm", "SHA-256");
      h.i64("algorithm_id", 3);
      h.str("value", f.sha256);
      h.close();
    });
  }
  w.str("name", f.name);
  w.str("path", f.path);
  // No `type` caption: OCSF makes enum siblings optional and events.md asks for type_id only
  // (docs/formats.md "Bytes per event").
  w.i64("type_id", static_cast<int>(f.type_id));
}

void writeProcess(ObjectWriter& w, const Process& p) {
  if (!p.ancestry.empty()) {
    w.array("ancestry", p.ancestry, [&](const ProcessEntity& a) {
      ObjectWriter o(w.buffer());
      o.str("name", a.name);
      o.str("path", a.path);
      if (a.pid) o.i64("pid", *a.pid);
      o.close();
    });
  }
  w.str("cmd_line", p.cmd_line);
  if (p.created_time) w.i64("created_time", *p.created_time);
  if (p.file) w.object("file", [&](ObjectWriter& o) { writeFile(o, *p.file); });
  w.str("name", p.name);
  if (p.namespace_pid) w.i64("namespace_pid", *p.namespace_pid);
  if (p.parent_process) w.object("parent_process", [&](ObjectWriter& o) { writeProcess(o, *p.parent_process); });
  if (p.pid) w.i64("pid", *p.pid);
  if (p.terminated_time) w.i64("terminated_time", *p.terminated_time);
  if (p.uid) {
    // OCSF's process.uid is a process identifier; the Unix user id belongs in user.uid.
    w.object("user", [&](ObjectWriter& o) { o.str("uid", std::to_string(*p.uid)); });
  }
  w.str("working_directory", p.working_directory);
}

void writeEndpoint(ObjectWriter& w, const Endpoint& e) {
  w.str("hostname", e.hostname);
  w.str("ip", e.ip);
  if (e.port) w.i64("port", *e.port);
}

void writeDevice(ObjectWriter& w, const Device& d) {
  if (d.container) {
    w.object("container", [&](ObjectWriter& c) {
      if (!d.container->image_name.empty()) {
        c.object("image", [&](ObjectWriter& i) {
          i.str("name", d.container->image_name);
          i.str("uid", d.container->image_name);  // the schema requires image.uid
        });
      }
      c.str("name", d.container->name);
      c.str("uid", d.container->uid);
    });
  }
  w.str("hostname", d.hostname);
  w.object("os", [&](ObjectWriter& o) {
    o.str("name", d.os.name);
    o.i64("type_id", d.os.type_id);
  });
  w.i64("type_id", d.type_id);
}

void writeMetadata(ObjectWriter& w, const Metadata& m, JsonlSlots* slots, size_t start) {
  w.str("correlation_uid", m.correlation_uid);
  w.str("log_name", m.log_name);
  w.object("product", [&](ObjectWriter& p) {
    p.str("name", "Warden");
    p.str("vendor_name", "Warden");
    p.str("version", m.product_version.empty() ? std::string_view(WARDEN_VERSION) : m.product_version);
  });
  // Profiles in byte order, like everything else canonical; written straight into the buffer
  // (this runs for every event, so no temporary array).
  if (m.profiles != 0) {
    static constexpr std::pair<Profile, std::string_view> kNames[] = {
        {kProfileContainer, "\"container\""},
        {kProfileHost, "\"host\""},
        {kProfileLinuxUsers, "\"linux/linux_users\""},
        {kProfileNetworkProxy, "\"network_proxy\""},
        {kProfileSecurityControl, "\"security_control\""},
    };
    std::string& out = w.member("profiles");
    out.push_back('[');
    bool first = true;
    for (const auto& [bit, name] : kNames) {
      if ((m.profiles & bit) == 0) continue;
      if (!first) out.push_back(',');
      first = false;
      out.append(name);
    }
    out.push_back(']');
  }
  if (slots != nullptr) {
    w.u64("sequence", m.sequence);
    const std::string& out = w.buffer();
    size_t at = out.size();
    while (at > 0 && out[at - 1] >= '0' && out[at - 1] <= '9') --at;
    slots->sequence_at = at - start;
    slots->sequence_len = out.size() - at;
  } else if (m.sequence != 0) {
    w.u64("sequence", m.sequence);
  }
  w.str("uid", m.uid);
  w.str("version", "1.7.0");
}

// unmapped: the event's free-form object with integrity {prev} merged in at its sorted place.
void writeUnmapped(ObjectWriter& w, const Event& e, JsonlSlots* slots, size_t start) {
  const bool has_prev = slots != nullptr || !e.integrity_prev.empty();
  if (!has_prev && e.unmapped.isEmptyForJson()) return;
  w.object("unmapped", [&](ObjectWriter& u) {
    bool integrity_done = !has_prev;
    auto writeIntegrity = [&] {
      u.object("integrity", [&](ObjectWriter& i) {
        if (slots == nullptr) {
          i.str("prev", e.integrity_prev);
          return;
        }
        // A placeholder of the final width, overwritten by the writer (JsonlSlots).
        static constexpr std::string_view kZeros = "0000000000000000000000000000000000000000000000000000000000000000";
        i.str("prev", e.integrity_prev.size() == kZeros.size() ? std::string_view(e.integrity_prev) : kZeros);
        slots->prev_at = i.buffer().size() - kZeros.size() - 1 - start;
      });
      integrity_done = true;
    };
    if (e.unmapped.isObject()) {
      for (const auto& [k, v] : e.unmapped.asObject()) {
        if (!integrity_done && std::string_view(k) > "integrity") writeIntegrity();
        if (k == "integrity" || v.isEmptyForJson()) continue;  // the key is reserved for the chain
        appendJsonValue(u.member(k), v);
      }
    }
    if (!integrity_done) writeIntegrity();
  });
}

void render(std::string& out, const Event& e, JsonlSlots* slots) {
  const size_t start = out.size();
  ObjectWriter w(out);
  const auto cls = e.class_uid;
  if (e.action) {
    w.str("action", sibling(actionCaption(*e.action), static_cast<int>(*e.action)));
    w.i64("action_id", static_cast<int>(*e.action));
  }
  w.i64("activity_id", e.activity_id);
  // activity_name: the caption, or for 99 the specific name ("Upgrade", "PROPFIND") when there is one.
  if (e.activity_id != 99) {
    w.str("activity_name", e.activityName());
  } else if (e.activity_name != "Other") {
    w.str("activity_name", e.activity_name);
  }
  if (e.actor || e.actor_user) {
    w.object("actor", [&](ObjectWriter& a) {
      // A process needs a pid or uid (the schema's at_least_one); an unidentified caller is named by
      // what is known of it instead (keys in canonical order: app_name, process, user).
      const bool identified = e.actor && (e.actor->pid || e.actor->uid);
      if (e.actor && !identified) {
        a.str("app_name", e.actor->name.empty() ? std::string_view("unknown") : std::string_view(e.actor->name));
      }
      if (identified) a.object("process", [&](ObjectWriter& p) { writeProcess(p, *e.actor); });
      if (e.actor_user) {
        a.object("user", [&](ObjectWriter& u) {
          u.str("name", e.actor_user->name);
          if (!e.actor_user->credential_uid.empty()) {
            u.array("programmatic_credentials", std::array<int, 1>{0}, [&](int) {
              ObjectWriter c(u.buffer());
              c.str("type", e.actor_user->credential_type);
              c.str("uid", e.actor_user->credential_uid);
              c.close();
            });
          }
          u.str("uid", e.actor_user->uid);
        });
      }
    });
  }
  w.array("answers", e.answers, [&](const DnsAnswer& a) {
    ObjectWriter o(out);
    o.str("rdata", a.rdata);
    o.str("type", a.type);
    o.close();
  });
  if (e.api) {
    w.object("api", [&](ObjectWriter& a) {
      a.str("operation", e.api->operation);
      if (!e.api->service_name.empty()) a.object("service", [&](ObjectWriter& s) { s.str("name", e.api->service_name); });
    });
  }
  if (e.app) {
    w.object("app", [&](ObjectWriter& a) {
      a.str("name", e.app->name);
      a.str("uid", e.app->uid);
      a.str("url_string", e.app->url_string);
      a.str("vendor_name", e.app->vendor_name);
      a.str("version", e.app->version);
    });
  }
  w.array("attacks", e.attacks, [&](const Attack& at) {
    ObjectWriter o(out);
    o.object("tactic", [&](ObjectWriter& t) {
      t.str("name", at.tactic_name);
      t.str("uid", at.tactic_uid);
    });
    o.object("technique", [&](ObjectWriter& t) {
      t.str("name", at.technique_name);
      t.str("uid", at.technique_uid);
    });
    o.close();
  });
  if (e.auth_type) {
    w.str("auth_type", sibling(authTypeCaption(*e.auth_type), static_cast<int>(*e.auth_type)));
    w.i64("auth_type_id", static_cast<int>(*e.auth_type));
  }
  w.str("category_name", categoryName(cls));
  w.i64("category_uid", categoryUid(cls));
  w.str("class_name", className(cls));
  w.i64("class_uid", static_cast<int>(cls));
  if (e.confidence) {
    w.str("confidence", sibling(confidenceCaption(*e.confidence), static_cast<int>(*e.confidence)));
    w.i64("confidence_id", static_cast<int>(*e.confidence));
  }
  if (e.connection_info) {
    w.object("connection_info", [&](ObjectWriter& c) {
      c.i64("direction_id", static_cast<int>(e.connection_info->direction_id));
      c.str("protocol_name", e.connection_info->protocol_name);
    });
  }
  if (e.count) w.i64("count", *e.count);
  if (e.device) w.object("device", [&](ObjectWriter& d) { writeDevice(d, *e.device); });
  if (e.disposition) {
    w.str("disposition", sibling(dispositionCaption(*e.disposition), static_cast<int>(*e.disposition)));
    w.i64("disposition_id", static_cast<int>(*e.disposition));
  }
  if (e.dst_endpoint) w.object("dst_endpoint", [&](ObjectWriter& o) { writeEndpoint(o, *e.dst_endpoint); });
  if (e.duration) w.i64("duration", *e.duration);
  if (e.end_time) w.i64("end_time", *e.end_time);
  w.value("evidences", e.evidences);
  if (e.exit_code) w.i64("exit_code", *e.exit_code);
  if (e.file) w.object("file", [&](ObjectWriter& o) { writeFile(o, *e.file); });
  if (e.file_result) w.object("file_result", [&](ObjectWriter& o) { writeFile(o, *e.file_result); });
  if (e.finding_info) {
    w.object("finding_info", [&](ObjectWriter& f) {
      if (!e.finding_info->analytic_name.empty()) {
        f.object("analytic", [&](ObjectWriter& a) {
          a.str("name", e.finding_info->analytic_name);
          a.str("type", "Rule");
          a.i64("type_id", 1);
        });
      }
      f.str("desc", e.finding_info->desc);
      f.str("title", e.finding_info->title);
      if (!e.finding_info->types.empty()) {
        Value::Array types(e.finding_info->types.begin(), e.finding_info->types.end());
        f.value("types", Value(std::move(types)));
      }
      f.str("uid", e.finding_info->uid);
    });
  }
  if (e.firewall_rule) {
    w.object("firewall_rule", [&](ObjectWriter& f) {
      f.str("name", e.firewall_rule->name);
      f.str("type", e.firewall_rule->type);
    });
  }
  if (e.http_request) {
    w.object("http_request", [&](ObjectWriter& h) {
      h.str("http_method", e.http_request->http_method);
      h.object("url", [&](ObjectWriter& u) {
        const Url& url = e.http_request->url;
        u.str("hostname", url.hostname);
        u.str("path", url.path);
        if (url.port) u.i64("port", *url.port);
        u.str("query_string", url.query_string);
        u.str("scheme", url.scheme);
      });
      h.str("user_agent", e.http_request->user_agent);
    });
  }
  if (e.http_response) w.object("http_response", [&](ObjectWriter& h) { h.i64("code", e.http_response->code); });
  if (e.is_alert) w.boolean("is_alert", *e.is_alert);
  if (e.is_src_dst_assignment_known) w.boolean("is_src_dst_assignment_known", *e.is_src_dst_assignment_known);
  if (e.launch_type) {
    w.str("launch_type", sibling(launchTypeCaption(*e.launch_type), static_cast<int>(*e.launch_type)));
    w.i64("launch_type_id", static_cast<int>(*e.launch_type));
  }
  w.str("log_provider", e.log_provider);
  if (e.log_type) {
    w.str("log_type", sibling(logTypeCaption(*e.log_type), static_cast<int>(*e.log_type)));
    w.i64("log_type_id", static_cast<int>(*e.log_type));
  }
  w.str("message", e.message);
  w.object("metadata", [&](ObjectWriter& m) { writeMetadata(m, e.metadata, slots, start); });
  if (e.observation_point) w.i64("observation_point_id", static_cast<int>(*e.observation_point));
  if (e.process) w.object("process", [&](ObjectWriter& p) { writeProcess(p, *e.process); });
  if (e.proxy_endpoint) w.object("proxy_endpoint", [&](ObjectWriter& o) { writeEndpoint(o, *e.proxy_endpoint); });
  if (e.query) {
    w.object("query", [&](ObjectWriter& q) {
      q.str("hostname", e.query->hostname);
      q.str("type", e.query->type);
    });
  }
  if (e.rcode) {
    w.str("rcode", rcodeCaption(*e.rcode));
    w.i64("rcode_id", static_cast<int>(*e.rcode));
  }
  if (!e.remediation.empty()) w.object("remediation", [&](ObjectWriter& r) { r.str("desc", e.remediation); });
  if (e.risk_level) {
    w.str("risk_level", sibling(riskLevelCaption(*e.risk_level), static_cast<int>(*e.risk_level)));
    w.i64("risk_level_id", static_cast<int>(*e.risk_level));
  }
  w.str("severity", sibling(severityCaption(e.severity), static_cast<int>(e.severity)));
  w.i64("severity_id", static_cast<int>(e.severity));
  if (e.src_endpoint) w.object("src_endpoint", [&](ObjectWriter& o) { writeEndpoint(o, *e.src_endpoint); });
  if (e.start_time) w.i64("start_time", *e.start_time);
  if (e.status) w.str("status", sibling(statusCaption(*e.status), static_cast<int>(*e.status)));
  w.str("status_detail", e.status_detail);
  if (e.status) w.i64("status_id", static_cast<int>(*e.status));
  w.i64("time", e.time);
  if (e.traffic) {
    w.object("traffic", [&](ObjectWriter& t) {
      if (e.traffic->bytes_in) t.i64("bytes_in", *e.traffic->bytes_in);
      if (e.traffic->bytes_out) t.i64("bytes_out", *e.traffic->bytes_out);
    });
  }
  // type_name: the schema's caption of type_uid, "<class caption>: <activity caption>", so
  // "<class caption>: Other" for activity 99. Except for Base Event's type_uid 99 ("Base Event:
  // Other"): the official validator takes any enum value 99 for Other and warns when its caption
  // is repeated (attribute_enum_sibling_suspicious_other), so there type_name is left out.
  if (e.typeUid() != 99) {
    const std::string_view activity = e.activity_id == 99 ? std::string_view("Other") : activityCaption(cls, e.activity_id);
    std::string& o = w.member("type_name");
    o.push_back('"');
    o.append(className(cls));
    o.append(": ");
    o.append(activity.empty() ? std::string_view("Unknown") : activity);
    o.push_back('"');
  }
  w.i64("type_uid", e.typeUid());
  writeUnmapped(w, e, slots, start);
  w.close();
}

}  // namespace

void appendJsonl(std::string& out, const Event& e) { render(out, e, nullptr); }

void appendJsonlWithSlots(std::string& out, const Event& e, JsonlSlots& slots) { render(out, e, &slots); }

std::string toJsonl(const Event& event) {
  std::string out;
  out.reserve(1024);
  appendJsonl(out, event);
  return out;
}

}  // namespace warden::ocsf

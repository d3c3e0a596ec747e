#include "audit/process_tree.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "ocsf/shorthand.h"

namespace warden::audit {

namespace {

using nlohmann::json;

int64_t intAt(const json& j, const char* key, int64_t fallback = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

std::string strAt(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json* objAt(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

std::optional<int64_t> uidOf(const json& process) {
  if (const json* user = objAt(process, "user")) {
    const std::string uid = strAt(*user, "uid");
    if (!uid.empty() && uid.find_first_not_of("0123456789") == std::string::npos) return std::stoll(uid);
  }
  return std::nullopt;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string endpointOf(const json& e) {
  const json* dst = objAt(e, "dst_endpoint");
  if (dst == nullptr) return "-";
  std::string host = strAt(*dst, "hostname");
  if (host.empty()) host = strAt(*dst, "ip");
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  if (dst->contains("port")) host += ":" + std::to_string(intAt(*dst, "port"));
  return host.empty() ? "-" : host;
}

std::string clockOf(int64_t ms) {
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  return fmt::format("{:02}:{:02}:{:02}.{:03}", tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

std::string escaped(std::string_view text) {
  std::string out;
  ocsf::appendShorthandText(out, text);
  return out;
}

}  // namespace

std::optional<size_t> ProcessTreeBuilder::find(int64_t pid, int64_t time_ms) const {
  // The latest process with this pid that started at or before `time_ms` (pids are reused).
  std::optional<size_t> best;
  for (size_t i = 0; i < tree_.processes.size(); ++i) {
    const TreeProcess& p = tree_.processes[i];
    if (p.pid != pid) continue;
    if (!best || (p.start_ms <= time_ms && p.start_ms >= tree_.processes[*best].start_ms)) best = i;
  }
  return best;
}

size_t ProcessTreeBuilder::processFor(int64_t pid, int64_t time_ms, bool new_image) {
  if (auto i = find(pid, time_ms); i && !(new_image && tree_.processes[*i].end_ms)) return *i;
  TreeProcess p;
  p.pid = pid;
  p.start_ms = time_ms;
  tree_.processes.push_back(std::move(p));
  ancestry_.emplace_back();
  return tree_.processes.size() - 1;
}

void ProcessTreeBuilder::add(std::string_view line) {
  tree_.events++;
  json e = json::parse(line, nullptr, false);
  if (e.is_discarded() || !e.is_object()) {
    tree_.unparsed++;
    return;
  }
  const int64_t cls = intAt(e, "class_uid", -1);
  const int64_t activity = intAt(e, "activity_id", -1);
  const int64_t time = intAt(e, "time");
  const int64_t status = intAt(e, "status_id");
  if (cls == 1007 && (activity == 1 || activity == 2)) {
    const json* proc = objAt(e, "process");
    if (proc == nullptr || !proc->contains("pid")) return;
    const int64_t pid = intAt(*proc, "pid");
    if (activity == 1 && status == 2) {  // a failed exec: an item of the process that tried
      const size_t i = processFor(pid, time, false);
      const json* unmapped = objAt(e, "unmapped");
      std::string path = unmapped ? strAt(*unmapped, "exec_filename") : "";
      tree_.processes[i].items.push_back(TreeItem{time, "EXEC FAILED", path + " " + strAt(e, "status_detail"), false});
      return;
    }
    const size_t i = processFor(pid, time, activity == 1);
    TreeProcess& p = tree_.processes[i];
    if (p.name.empty() || activity == 1) p.name = strAt(*proc, "name");
    if (auto uid = uidOf(*proc)) p.uid = uid;
    if (activity == 2) {
      p.end_ms = time;
      if (e.contains("exit_code")) p.exit_code = static_cast<int>(intAt(e, "exit_code"));
      const std::string detail = strAt(e, "status_detail");
      if (detail.rfind("SIG", 0) == 0) p.signal = detail;
      return;
    }
    if (const json* parent = objAt(*proc, "parent_process")) p.ppid = intAt(*parent, "pid");
    auto anc = proc->find("ancestry");
    if (anc != proc->end() && anc->is_array()) {
      std::vector<int64_t> pids;
      for (const auto& a : *anc)
        if (a.is_object() && a.contains("pid")) pids.push_back(intAt(a, "pid"));
      ancestry_[i] = std::move(pids);
    }
    TreeImage img;
    img.time_ms = time;
    if (const json* file = objAt(*proc, "file")) img.exe = strAt(*file, "path");
    img.cmd_line = strAt(*proc, "cmd_line");
    if (const json* unmapped = objAt(e, "unmapped")) {
      auto argv = unmapped->find("argv");
      if (argv != unmapped->end() && argv->is_array())
        for (const auto& a : *argv)
          if (a.is_string()) img.argv.push_back(a.get<std::string>());
      auto t = unmapped->find("argv_truncated");
      img.argv_truncated = t != unmapped->end() && t->is_boolean() && t->get<bool>();
    }
    p.images.push_back(std::move(img));
    return;
  }
  // Everything else that names an actor process becomes an item beneath it.
  const json* actor = objAt(e, "actor");
  const json* proc = actor ? objAt(*actor, "process") : nullptr;
  if (proc == nullptr || !proc->contains("pid")) return;
  const int64_t pid = intAt(*proc, "pid");
  TreeItem item;
  item.time_ms = time;
  item.denied = intAt(e, "action_id") == 2;
  const std::string activity_name = lower(strAt(e, "activity_name"));
  switch (cls) {
    case 1001: {
      item.kind = "FILE";
      const json* file = objAt(e, "file");
      item.what = activity_name + " " + (file ? strAt(*file, "path") : "-");
      if (const json* result = objAt(e, "file_result")) item.what += " -> " + strAt(*result, "path");
      if (const json* u = objAt(e, "unmapped"); u && u->value("sensitive", false)) item.what += " [sensitive]";
      break;
    }
    case 4001: item.kind = "NET"; item.what = activity_name + " " + endpointOf(e); break;
    case 4002: {
      item.kind = "HTTP";
      const json* req = objAt(e, "http_request");
      const json* url = req ? objAt(*req, "url") : nullptr;
      item.what = (req ? strAt(*req, "http_method") : "") + " " + (url ? strAt(*url, "hostname") + strAt(*url, "path") : "");
      break;
    }
    case 4003: {
      item.kind = "DNS";
      const json* q = objAt(e, "query");
      item.what = activity_name + " " + (q ? strAt(*q, "hostname") + " " + strAt(*q, "type") : "");
      break;
    }
    case 6003: {
      const json* api = objAt(e, "api");
      const std::string op = api ? strAt(*api, "operation") : "";
      const json* u = objAt(e, "unmapped");
      item.kind = (u && u->contains("model")) ? "MODEL" : "TOOL";
      item.what = op;
      break;
    }
    default: return;
  }
  if (item.denied) item.what += " DENIED";
  const auto i = find(pid, time);
  const size_t at = i ? *i : processFor(pid, time, false);
  if (tree_.processes[at].name.empty()) tree_.processes[at].name = strAt(*proc, "name");
  tree_.processes[at].items.push_back(std::move(item));
}

ProcessTree ProcessTreeBuilder::build() const {
  ProcessTree t = tree_;
  for (auto& p : t.processes) p.children.clear();
  t.roots.clear();
  for (size_t i = 0; i < t.processes.size(); ++i) {
    const TreeProcess& p = t.processes[i];
    // The parent: the recorded ppid, else the nearest ancestor the tree knows.
    std::vector<int64_t> candidates;
    if (p.ppid != 0) candidates.push_back(p.ppid);
    for (int64_t a : ancestry_[i]) candidates.push_back(a);
    std::optional<size_t> parent;
    for (int64_t c : candidates) {
      std::optional<size_t> best;
      for (size_t j = 0; j < t.processes.size(); ++j) {
        if (j == i || t.processes[j].pid != c || t.processes[j].start_ms > p.start_ms) continue;
        if (!best || t.processes[j].start_ms >= t.processes[*best].start_ms) best = j;
      }
      if (best) {
        parent = best;
        break;
      }
    }
    if (parent) {
      t.processes[*parent].children.push_back(i);
    } else {
      t.roots.push_back(i);
    }
  }
  auto byStart = [&t](size_t a, size_t b) {
    return t.processes[a].start_ms != t.processes[b].start_ms ? t.processes[a].start_ms < t.processes[b].start_ms : a < b;
  };
  std::sort(t.roots.begin(), t.roots.end(), byStart);
  for (auto& p : t.processes) {
    std::sort(p.children.begin(), p.children.end(), byStart);
    std::stable_sort(p.items.begin(), p.items.end(), [](const TreeItem& a, const TreeItem& b) { return a.time_ms < b.time_ms; });
  }
  return t;
}

namespace {

void renderText(const ProcessTree& t, size_t i, int depth, std::string& out) {
  const TreeProcess& p = t.processes[i];
  const std::string indent(static_cast<size_t>(depth) * 2, ' ');
  std::string status = p.signal.empty() ? (p.exit_code ? "exit:" + std::to_string(*p.exit_code) : "running")
                                        : "signal:" + p.signal;
  if (p.end_ms && !p.exit_code && p.signal.empty()) status = "ended";
  std::string cmd = p.images.empty() ? std::string() : p.images.front().cmd_line;
  out += fmt::format("{}{} {}({}) uid:{} {}{}{}\n", indent, clockOf(p.start_ms), escaped(p.name.empty() ? "-" : p.name),
                     p.pid, p.uid ? std::to_string(*p.uid) : "-", status, cmd.empty() ? "" : " ", escaped(cmd));
  // Further execs of the same process, its activity and its children, in time order.
  struct Entry {
    int64_t time;
    std::string text;  // empty: the child process `child`
    size_t child = 0;
  };
  std::vector<Entry> entries;
  for (size_t k = 1; k < p.images.size(); ++k)
    entries.push_back({p.images[k].time_ms, "EXEC " + escaped(p.images[k].cmd_line)});
  for (const auto& item : p.items) entries.push_back({item.time_ms, item.kind + " " + escaped(item.what)});
  for (size_t c : p.children) entries.push_back({t.processes[c].start_ms, "", c});
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.time < b.time; });
  for (const auto& e : entries) {
    if (e.text.empty()) {
      renderText(t, e.child, depth + 1, out);
    } else {
      out += fmt::format("{}  {} {}\n", indent, clockOf(e.time), e.text);
    }
  }
}

}  // namespace

namespace {

json processJson(const ProcessTree& t, size_t i) {
  const TreeProcess& p = t.processes[i];
  json j = {{"pid", p.pid}, {"name", p.name}, {"start", p.start_ms}};
  if (p.ppid != 0) j["ppid"] = p.ppid;
  if (p.uid) j["uid"] = *p.uid;
  if (p.end_ms) j["end"] = *p.end_ms;
  if (p.exit_code) j["exit_code"] = *p.exit_code;
  if (!p.signal.empty()) j["signal"] = p.signal;
  json execs = json::array();
  for (const auto& img : p.images) {
    json x = {{"time", img.time_ms}, {"exe", img.exe}, {"argv", img.argv}};
    if (img.argv_truncated) x["argv_truncated"] = true;
    execs.push_back(std::move(x));
  }
  j["execs"] = std::move(execs);
  json items = json::array();
  for (const auto& item : p.items) {
    json x = {{"time", item.time_ms}, {"kind", item.kind}, {"what", item.what}};
    if (item.denied) x["denied"] = true;
    items.push_back(std::move(x));
  }
  j["activity"] = std::move(items);
  json children = json::array();
  for (size_t c : p.children) children.push_back(processJson(t, c));
  j["children"] = std::move(children);
  return j;
}

}  // namespace

std::string renderTreeText(const ProcessTree& tree) {
  std::string out;
  for (size_t r : tree.roots) renderText(tree, r, 0, out);
  return out;
}

std::string renderTreeJson(const ProcessTree& tree) {
  json roots = json::array();
  for (size_t r : tree.roots) roots.push_back(processJson(tree, r));
  json j = {{"processes", std::move(roots)}, {"events", tree.events}, {"unparsed", tree.unparsed}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace warden::audit

// The process tree of `warden audit tree`, rebuilt from a trail made with the real builders as the
// kernel capture and the proxy make them.

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/process_tree.h"
#include "ocsf/builders.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/samples.h"

namespace warden::audit {
namespace {

constexpr int64_t kT = 1765000000000;

ocsf::Process proc(std::string name, int64_t pid, std::string exe, std::string cmd) {
  ocsf::Process p;
  p.name = std::move(name);
  p.pid = pid;
  p.uid = 1000;
  ocsf::File f;
  f.path = std::move(exe);
  p.file = f;
  p.cmd_line = std::move(cmd);
  return p;
}

std::vector<std::string> trail() {
  const ocsf::SessionContext ctx = ocsf::sampleContext();
  std::vector<ocsf::Event> ev;
  ocsf::Process sh = proc("sh", 10, "/usr/bin/dash", "sh -c ...");
  ev.push_back(ocsf::procLaunch(ctx, kT, sh, {"sh", "-c", "curl | sh"}));
  // 11 is a fork of sh that never exec'd (no event); 12 is its child: ancestry names 11 then 10.
  ocsf::Process curl = proc("curl", 12, "/usr/bin/curl", "curl -s https://x.example/i.sh");
  curl.parent_process = std::make_shared<const ocsf::Process>(proc("sh", 11, "/usr/bin/dash", ""));
  curl.ancestry = {{"sh", 11, "/usr/bin/dash"}, {"sh", 10, "/usr/bin/dash"}};
  ev.push_back(ocsf::procLaunch(ctx, kT + 5, curl, {"curl", "-s", "line1\nline2"}));
  ocsf::Connection c;
  c.actor = proc("curl", 12, "/usr/bin/curl", "");
  c.dst.hostname = "x.example";
  c.dst.port = 443;
  ocsf::Decision allow;
  ev.push_back(ocsf::netOpen(ctx, kT + 6, c, allow));
  ocsf::FileAccess w;
  w.activity = ocsf::FileActivity::kCreate;
  w.actor = proc("sh", 10, "/usr/bin/dash", "");
  w.file.path = "/workspace/out.txt";
  ev.push_back(ocsf::fileActivity(ctx, kT + 7, w));
  ocsf::LaunchDetails failed;
  failed.argv = {"/nope"};
  failed.failure_errno = 2;
  failed.exec_filename = "/nope";
  ev.push_back(ocsf::procLaunch(ctx, kT + 8, proc("sh", 10, "/usr/bin/dash", ""), failed));
  ocsf::ProcessExit code;
  code.exit_code = 0;
  ev.push_back(ocsf::procTerminate(ctx, kT + 9, proc("curl", 12, "", ""), code));
  ocsf::ProcessExit killed;
  killed.signal = 9;
  ev.push_back(ocsf::procTerminate(ctx, kT + 10, proc("sh", 10, "", ""), killed));
  std::vector<std::string> lines;
  for (const auto& e : ev) lines.push_back(ocsf::toJsonl(e));
  lines.push_back("not json");
  return lines;
}

TEST(ProcessTreeTest, NestsAChildUnderItsNearestRecordedAncestorWithItsActivity) {
  ProcessTreeBuilder b;
  for (const auto& l : trail()) b.add(l);
  const ProcessTree t = b.build();
  EXPECT_EQ(t.unparsed, 1u);
  ASSERT_EQ(t.roots.size(), 1u);
  const TreeProcess& sh = t.processes[t.roots[0]];
  EXPECT_EQ(sh.pid, 10);
  EXPECT_EQ(sh.signal, "SIGKILL");
  ASSERT_EQ(sh.children.size(), 1u);
  const TreeProcess& curl = t.processes[sh.children[0]];
  EXPECT_EQ(curl.pid, 12);
  EXPECT_EQ(curl.exit_code, 0);
  ASSERT_EQ(curl.images.size(), 1u);
  EXPECT_EQ(curl.images[0].argv, (std::vector<std::string>{"curl", "-s", "line1\nline2"}));
  ASSERT_EQ(curl.items.size(), 1u);
  EXPECT_EQ(curl.items[0].kind, "NET");
  EXPECT_EQ(curl.items[0].what, "open x.example:443");
  ASSERT_EQ(sh.items.size(), 2u);
  EXPECT_EQ(sh.items[0].what, "create /workspace/out.txt");
  EXPECT_EQ(sh.items[1].kind, "EXEC FAILED");
}

TEST(ProcessTreeTest, TextIsOneLinePerProcessOrItemInTimeOrderAndEscapesAgentText) {
  ProcessTreeBuilder b;
  for (const auto& l : trail()) b.add(l);
  const std::string text = renderTreeText(b.build());
  EXPECT_EQ(text,
            "05:46:40.000 sh(10) uid:1000 signal:SIGKILL sh -c ...\n"
            "  05:46:40.005 curl(12) uid:1000 exit:0 curl -s https://x.example/i.sh\n"
            "    05:46:40.006 NET open x.example:443\n"
            "  05:46:40.007 FILE create /workspace/out.txt\n"
            "  05:46:40.008 EXEC FAILED /nope ENOENT\n");
}

TEST(ProcessTreeTest, JsonCarriesArgvExitAndChildren) {
  ProcessTreeBuilder b;
  for (const auto& l : trail()) b.add(l);
  const auto j = nlohmann::json::parse(renderTreeJson(b.build()));
  ASSERT_EQ(j["processes"].size(), 1u);
  const auto& curl = j["processes"][0]["children"][0];
  EXPECT_EQ(curl["pid"], 12);
  EXPECT_EQ(curl["execs"][0]["argv"][2], "line1\nline2");
  EXPECT_EQ(curl["exit_code"], 0);
  EXPECT_EQ(j["unparsed"], 1);
}

}  // namespace
}  // namespace warden::audit

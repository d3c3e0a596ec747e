// The fallback (proc connector + fanotify) on the real kernel, forced through the factory as the
// supervisor would get it where BPF cannot load.

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "capture/ebpf/kernel_capture.h"
#include "ocsf/samples.h"
#include "ocsf/shorthand.h"
#include "support/capture_fixture.h"

namespace warden::capture {
namespace {

using warden::testing::CollectingEmitter;
using warden::testing::TempDir;
using warden::testing::waitFor;

TEST(FallbackCaptureTest, ForcedFallbackRecordsProcessesAndFileWritesAndSaysWhatIsMissing) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (proc connector, fanotify, a cgroup)";
  auto cg = testing::TestCgroup::create();
  if (!cg) GTEST_SKIP() << "no cgroup v2 mount";
  TempDir dir;
  CaptureOptions options;
  options.cgroup_path = cg->path();
  options.backend = CaptureOptions::Backend::kFallback;
  options.fanotify_mounts = {dir.path().string()};
  CollectingEmitter emitter;
  const ocsf::SessionContext ctx = ocsf::sampleContext();
  auto capture = createKernelCapture(options, emitter, ctx);
  if (!capture.ok()) GTEST_SKIP() << capture.error().message();
  EXPECT_NE(capture->degraded.find("eBPF unavailable (forced by configuration)"), std::string::npos) << capture->degraded;
  EXPECT_NE(capture->degraded.find("no failed execs"), std::string::npos);
  ASSERT_EQ(capture->sources.size(), 2u);
  for (auto& s : capture->sources) ASSERT_TRUE(s->start().ok()) << s->name();

  const pid_t pid = testing::spawnIn(cg->path(), {"/bin/sh", "-c", "echo x > f.txt; /bin/sleep 0.3; exit 0"},
                                     dir.path().string());
  ASSERT_EQ(WEXITSTATUS(testing::waitChild(pid)), 0);
  auto has = [&](auto pred) {
    for (const auto& e : emitter.events())
      if (pred(e)) return true;
    return false;
  };
  const std::string file = (dir.path() / "f.txt").string();
  auto sleepLaunch = [](const ocsf::Event& e) {
    return e.kind == ocsf::Kind::kProc && e.activity_id == 1 && e.process && e.process->file &&
           e.process->file->path == "/usr/bin/sleep";
  };
  auto fileUpdate = [&](const ocsf::Event& e) {
    return e.kind == ocsf::Kind::kFile && e.activity_id == 3 && e.file && e.file->path == file;
  };
  EXPECT_TRUE(waitFor([&] { return has(sleepLaunch) && has(fileUpdate); }));
  for (auto& s : capture->sources) s->stop();
  const auto events = emitter.events();
  std::string all;
  for (const auto& e : events) all += ocsf::toShorthand(e) + "\n";
  const ocsf::Event* launch = nullptr;
  for (const auto& e : events)
    if (sleepLaunch(e)) launch = &e;
  ASSERT_NE(launch, nullptr) << all;
  EXPECT_EQ(launch->unmapped.stringAt("argv_source"), "procfs");
  const ocsf::Value* argv = launch->unmapped.find("argv");
  ASSERT_NE(argv, nullptr);
  ASSERT_EQ(argv->asArray().size(), 2u);
  EXPECT_EQ(argv->asArray()[1].asString(), "0.3");
  bool create = false;
  for (const auto& e : events) create = create || (e.kind == ocsf::Kind::kFile && e.activity_id == 1 && e.file && e.file->path == file);
  EXPECT_TRUE(create) << all;
  EXPECT_TRUE(has(fileUpdate)) << all;
  EXPECT_EQ(testing::schemaProblems(events), "");
}

}  // namespace
}  // namespace warden::capture

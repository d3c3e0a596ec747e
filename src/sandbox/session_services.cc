// The services around a parked session: its network (veth, nftables), the proxy stack (egress
// proxy, DNS resolver, policy reloader), the kernel sources (capture::Source, in order), and the
// control socket. Each registers its own teardown.

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>

#include "capture/ebpf/kernel_capture.h"
#include "capture/kmsg/bypass_monitor.h"
#include "common/clock.h"
#include "proxy/server/dns_resolver.h"
#include "sandbox/session.h"
#include "sandbox/sandbox_pids.h"
#include "sandbox/session_attribution.h"

namespace warden::sandbox {

Result<void> Session::startNetwork() {
  // The veth pair and routes (the sandbox side now exists in the child's namespace).
  auto network = SandboxNetwork::create(std::move(*lease_), child_->pid());
  if (!network.ok()) return network.error().withContext("sandbox network");
  network_ = std::move(network).value();
  teardown_.push(
      "network",
      [this] {
        // The agent is gone: its network namespace dies with its last process and takes the veth pair
        // and the sandbox's nftables table with it (no need to wait for the kernel here).
        const std::string veth = network_->lease().host_if;
        if (network_->teardown(/*delete_veth=*/false).ok()) {
          noteRemoved("network namespace with veth " + veth + " and its nftables table");
        }
      },
      /*independent=*/true);
  const SubnetLease& lease = network_->lease();
  ctx_.proxy = {.ip = lease.host_ip, .port = kProxyPort};
  return okResult();
}

Result<void> Session::startProxy() {
  WARDEN_RETURN_IF_ERROR(awaitCa());
  const SubnetLease& lease = network_->lease();
  proxy::ProxyStackOptions stack;
  stack.server.listen_address = lease.host_ip;
  stack.server.listen_port = kProxyPort;
  stack.server.targets.allow_loopback_upstream = options_.allow_loopback_upstream;
  stack.server.threads = 1;
  // Caller identity inside the sandbox: its own /proc through the agent's root, read with the
  // sandbox's pids and reported with the host's (the kernel capture's, sandbox_pids.h).
  stack.caller.proc_root = fmt::format("/proc/{}/root/proc", child_->pid());
  stack.caller.net_pid = "1";
  stack.caller.stop_pid = 1;
  // The cgroup outlives the proxy (stopped at teardown; destroyed first).
  stack.caller.report_pids = [cgroup = cgroup_.get()](const std::vector<int>& pids) {
    return sandboxPidsToHost(cgroup->processes(), pids);
  };
  // A client gone before that lookup (a short-lived curl, a one-shot query): the kernel capture's
  // record of its connect names it, for the record only (docs/capture.md "Attribution").
  stack.capture_attribution = captureAttribution(capture_table_);
  stack.ca = ca_;
  stack.server.credentials = credentials_;
  proxy::DnsResolverOptions dns;
  dns.listen_address = lease.host_ip;
  dns.listen_port = kDnsPort;
  dns.upstreams = options_.dns_upstreams;
  stack.dns = std::move(dns);
  if (options_.policy_file) stack.policy_file = *options_.policy_file;
  stack.note = [this](std::string_view component, std::string message) {
    pipeline_->operational(audit::Level::kWarn, component, message);
  };
  auto made = proxy::ProxyStack::create(std::move(stack), *store_, *pipeline_, ctx_);
  if (!made.ok()) return made.error();
  proxy_ = std::move(made).value();
  proxy_->start();
  teardown_.push("proxy", [this] { proxy_->stop(); });
  ready("proxy", fmt::format("egress proxy listening on {}", proxy_->server().localAddress()));
  ready("dns", fmt::format("sandbox resolver listening on {}:{}", lease.host_ip, kDnsPort));

  // The firewall in the sandbox's namespace (and the host's guard table).
  FirewallSpec firewall;
  firewall.proxy_port = kProxyPort;
  firewall.dns_port = kDnsPort;
  firewall.log_prefix = fmt::format("warden:bypass:{}: ", ctx_.session_id);
  if (auto installed = network_->installFirewall(firewall); !installed.ok()) {
    return installed.error().withContext("nftables");
  }
  ready("network", fmt::format("veth {} {}/30 <-> sandbox eth0 {}; nftables: only the proxy and the resolver",
                               lease.host_if, lease.host_ip, lease.sandbox_ip));
  return okResult();
}

capture::Source* Session::addSource(Result<std::unique_ptr<capture::Source>> made, std::string_view what,
                                    std::string ready_message) {
  if (!made.ok()) {
    config(ocsf::kConfigDegraded, fmt::format("{}: {}", what, made.error().toString()));
    return nullptr;
  }
  std::unique_ptr<capture::Source> source = std::move(made).value();
  if (auto started = source->start(); !started.ok()) {
    config(ocsf::kConfigDegraded, fmt::format("{}: {}", what, started.error().toString()));
    return nullptr;
  }
  capture::Source* raw = source.get();
  sources_.push_back(std::move(source));
  teardown_.push(std::string(raw->name()), [raw] { raw->stop(); });
  ready(std::string(raw->name()), std::move(ready_message));
  return raw;
}

capture::CaptureOptions Session::captureOptions() const {
  using Mode = RunOptions::Capture;
  const auto& audit = policy_->audit;
  capture::CaptureOptions o;
  o.processes = options_.capture ? *options_.capture != Mode::kNone : audit.processes;
  o.file_writes = options_.capture ? *options_.capture == Mode::kAll : audit.file_writes;
  // The policy's sensitive paths add to the default list (docs/policy.md).
  for (const auto& p : audit.sensitive_paths) o.sensitive_paths.push_back(p);
  for (const auto& g : audit.exclude_paths) o.exclude_paths.push_back(g.pattern());
  return o;
}

void Session::startKernelCapture() {
  capture::CaptureOptions o = captureOptions();
  // Whatever happens below, the preload is collected (its programs freed unless taken).
  std::unique_ptr<capture::LoadedPrograms> preloaded;
  if (capture_future_.valid()) {
    if (auto loaded = capture_future_.get(); loaded.ok()) preloaded = std::move(loaded).value();
  }
  if (!o.processes && !o.file_writes) {
    config(ocsf::kConfigLoaded, "kernel capture: off (--capture none or the policy's audit section)");
    return;
  }
  o.cgroup_path = cgroup_->v2Dir();
  o.home = user_.home;
  o.supervisor_pids = {static_cast<uint32_t>(child_->pid())};  // Warden's init: the sandbox's set-up
  o.denial_note = landlock_.kernel_abi > 0 ? "Landlock" : "";
  // The fallback marks filesystems from here: the workspace, and the agent's private /tmp through
  // its root.
  o.fanotify_mounts = {workspace_.path, fmt::format("/proc/{}/root/tmp", child_->pid())};
  auto made = capture::createKernelCapture(o, *pipeline_, ctx_, preloaded.get(), capture_table_);
  if (!made.ok()) {
    config(ocsf::kConfigDegraded, "kernel capture unavailable: " + made.error().toString() +
                                      "; processes and files of the session are not recorded");
    return;
  }
  capture::KernelCapture kc = std::move(made).value();
  if (!kc.degraded.empty()) config(ocsf::kConfigDegraded, kc.degraded);
  process_table_ = kc.table;
  size_t started = 0;
  for (auto& source : kc.sources) {
    const std::string name(source->name());
    if (addSource(std::move(source), "kernel capture source " + name + " did not start",
                  fmt::format("kernel capture ({}{}{})", name, o.processes ? ": processes" : ":",
                              o.file_writes ? ", files" : "")) != nullptr) {
      ++started;
    }
  }
  kernel_processes_ = o.processes && started > 0;
}

void Session::startSources() {
  // The kernel capture first: its process table names the actors of the sources below.
  startKernelCapture();
  // Bypass attempts from the kernel log.
  capture::BypassMonitor::Options bypass_options;
  bypass_options.session_tag = ctx_.session_id;
  if (auto identities = proxy_->identities()) {
    // The socket that tried is often still open (curl reports the refusal before it exits): name it.
    // When it is gone, the kernel capture saw who connected to that destination.
    bypass_options.resolve_actor = [lookup = proxy::makeDnsCallerLookup(identities), table = process_table_](
                                       const capture::NftLogRecord& record) -> std::optional<ocsf::Process> {
      boost::system::error_code ec;
      boost::system::error_code dst_ec;
      const auto address = boost::asio::ip::make_address(record.src_ip, ec);
      const auto destination = boost::asio::ip::make_address(record.dst_ip, dst_ec);
      if (!ec && !dst_ec && record.src_port != 0 && (record.protocol == "tcp" || record.protocol == "udp")) {
        if (auto owner = lookup(boost::asio::ip::udp::endpoint(address, record.src_port),
                                boost::asio::ip::udp::endpoint(destination, record.dst_port), record.protocol == "tcp")) {
          return owner;
        }
      }
      if (table) return table->connector(record.dst_ip, record.dst_port, SystemClock::instance().nowMillis());
      return std::nullopt;
    };
  }
  auto bypass = capture::BypassMonitor::create(bypass_options, *pipeline_, proxy_->session());
  auto* monitor = static_cast<capture::BypassMonitor*>(
      addSource(capture::asSource(std::move(bypass)), "bypass attempts are rejected but not recorded",
                "bypass monitor reading the kernel log"));
  if (monitor && !monitor->kernelChange().empty()) config(ocsf::kConfigUpdated, "kernel: " + monitor->kernelChange());

  // Limit hits from the cgroup.
  capture::LimitWatcher::Options limit_options;
  limit_options.memory_dir = cgroup_->memoryDir();
  limit_options.memory_v2 = cgroup_->memoryIsV2();
  limit_options.pids_dir = cgroup_->pidsDir();
  limit_options.pids_v2 = cgroup_->pidsIsV2();
  limit_options.memory_limit = limits_.memory_bytes.value_or(0);
  limit_options.pids_limit = limits_.pids.value_or(0);
  if (limits_.cpus) {
    limit_options.cpu_dir = cgroup_->cpuDir();
    limit_options.cpu_v2 = cgroup_->cpuIsV2();
    limit_options.cpu_limit_millicores = static_cast<uint64_t>(*limits_.cpus * 1000.0 + 0.5);
  }
  if (process_table_) {
    // The OOM killer's victim: its exit reaches the capture a moment after the kill is counted.
    limit_options.oom_victim = [table = process_table_](int64_t noticed_ms) -> std::optional<ocsf::Process> {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
      for (;;) {
        if (auto victim = table->lastKilled(noticed_ms - 2000)) return victim;
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    };
  }
  auto watcher = capture::LimitWatcher::create(limit_options, *pipeline_, ctx_, [this](const ocsf::LimitHit& hit) {
    if (hit.type == "oom") shared_.oom_killed = true;
  });
  limit_watcher_ = static_cast<capture::LimitWatcher*>(
      addSource(capture::asSource(std::move(watcher)), "resource limit hits are enforced but not recorded",
                "cgroup limit watcher"));
}

Result<void> Session::startControl() {
  auto control_server = ControlServer::create(
      ctx_.session_id, ctx_.session_name, [this](std::string_view command) { return control(command); },
      [this](uid_t uid, pid_t pid) {
        pipeline_->operational(audit::Level::kWarn, "control",
                               fmt::format("refused a control connection from uid {} pid {}: not root", uid, pid));
      },
      options_.run_dir / "sessions");
  if (!control_server.ok()) return control_server.error().withContext("control socket");
  control_ = std::move(control_server).value();
  control_->start();
  teardown_.push("control", [this] { control_->stop(); });
  ready("control", "control socket " + control_->path().string());
  return okResult();
}

Result<void> Session::startServices() {
  WARDEN_RETURN_IF_ERROR(startNetwork());
  startup_.mark("veth");
  WARDEN_RETURN_IF_ERROR(startProxy());
  startup_.mark("proxy+nft");
  startSources();
  startup_.mark("sources");
  WARDEN_RETURN_IF_ERROR(startControl());
  startup_.mark("control");
  // The agent may run only once it is inside its cgroup.
  if (auto joined = attach_future_.get(); !joined.ok()) return joined.error().withContext("cgroup");
  return okResult();
}

Result<void> Session::awaitCa() {
  auto ca = ca_future_.get();
  if (!ca.ok()) return ca.error().withContext("session CA");
  ca_ = std::move(ca).value();
  std::error_code ec;
  std::filesystem::copy_file(ca_->certificatePath(), log_dir_ / "ca.pem", std::filesystem::copy_options::overwrite_existing,
                             ec);
  return okResult();
}

}  // namespace warden::sandbox

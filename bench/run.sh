#!/usr/bin/env bash
# `make bench`: every benchmark from the release build, printed as a table.
# Figures go into BENCHMARKS.md with the machine and this command.
set -euo pipefail
cd "$(dirname "$0")/.."
b=build-release/bench
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== formatting, one core (target: NET >= 1,000,000 events/s for JSONL and shorthand)"
"$b/format_bench" --benchmark_min_time=0.3 2>/dev/null | sed -n '/^Benchmark/,$p'
echo
echo "== pipeline, 2 producers, chain + checkpoints (target: >= 300,000 events/s, 0 shed, emit p99 <= 5 us)"
echo "== verify (target: >= 200,000 events/s)"
"$b/pipeline_bench" --benchmark_counters_tabular=true 2>/dev/null | sed -n '/^Benchmark/,$p'
echo
echo "== egress proxy (issue 3): wrk 1 KiB GET vs squid/tinyproxy, CONNECT bulk vs direct, RSS with 1,000 idle tunnels"
echo "== (targets: warden >= 1.5x squid requests/s with a lower p99; CONNECT >= 80 % of direct; <= 64 MiB)"
if missing=$(for t in wrk nginx squid tinyproxy curl python3; do command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || printf '%s ' "$t"; done) && [ -n "$missing" ]; then
  echo "skipped: missing ${missing}(scripts/install-deps.sh installs them)"
else
  bench/proxy_bench.sh
fi
echo
echo "== session start: warden run -- /bin/true, median of 50 (target: <= 4x the unshare floor), and without capture / rules"
if [ "$(id -u)" -ne 0 ]; then echo "skipped: needs root"; else bench/run_bench.sh build-release/warden 50; fi
echo
echo "== warden ocsf validate over 100,000 generated events (every validator2.ex check; must not collapse)"
bench/ocsf_validate_bench.sh build-release/warden
echo; bench/gateway_bench.sh  # gateway ingest (SQLite, PostgreSQL) and incident queries over 10M events (issue 5)
echo
echo "== kernel capture (issue 13): capture off vs on inside / outside the session cgroup, loss-free rate, reader CPU"
echo "== (targets: outside the session <= 2 %, open+close <= 10 %; session level <= 5 %)"
if [ "$(id -u)" -ne 0 ]; then echo "skipped: needs root"; else "$b/capture_bench" --rounds 31; bench/capture_session_bench.sh build-release/warden 9; fi

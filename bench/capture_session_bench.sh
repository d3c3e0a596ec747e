#!/usr/bin/env bash
# Session-level cost of the kernel capture (issue 13, target <= 5 %): `warden run --capture all` against
# `--capture none` on the same workload — 600 fork+exec and 3,000 file writes inside the session —
# interleaved (none, all, none, all, ...), median wall time of N pairs (default 9). Needs root and a
# warden whose `run` has --capture (the supervisor's integration of src/capture).
# Usage: bench/capture_session_bench.sh [WARDEN_BINARY] [PAIRS]
set -euo pipefail
cd "$(dirname "$0")/.."
warden=$(readlink -f "${1:-build-release/warden}")
pairs=${2:-9}
if [ "$(id -u)" -ne 0 ]; then echo "capture_session_bench: skipped (needs root)"; exit 0; fi
if ! "$warden" run --help 2>&1 | grep -q -- '--capture'; then
  echo "capture_session_bench: skipped ($warden run has no --capture yet)"; exit 0
fi
work=$(mktemp -d /var/tmp/warden-capture-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/load.sh" <<'LOAD'
i=0; while [ $i -lt 600 ]; do /bin/true; i=$((i+1)); done
i=0; while [ $i -lt 3000 ]; do echo data > "f$i"; i=$((i+1)); done
LOAD
echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
run_once() {  # prints milliseconds
  local mode=$1 n=$2 t0 t1
  rm -rf "$work/ws" && mkdir -p "$work/ws" && cp "$work/load.sh" "$work/ws/load.sh"  # inside the agent's view
  t0=$(date +%s%N)
  if ! (cd "$work/ws" && "$warden" run --capture "$mode" --log-dir "$work/log-$mode-$n" -- /bin/sh load.sh \
          >"$work/out" 2>&1); then
    echo "capture_session_bench: the session failed: $(head -c 300 "$work/out")" >&2
    exit 1
  fi
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
none=(); all=()
for n in $(seq "$pairs"); do
  t=$(run_once none "$n") && [ -n "$t" ] || exit 1
  none+=("$t")
  t=$(run_once all "$n") && [ -n "$t" ] || exit 1
  all+=("$t")
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_none=$(med "${none[@]}"); m_all=$(med "${all[@]}")
printf '%-44s %10s\n' "warden run, 600 fork+exec + 3,000 writes" "median ms"
printf '%-44s %10s\n' "--capture none" "$m_none"
printf '%-44s %10s\n' "--capture all" "$m_all"
awk -v a="$m_all" -v b="$m_none" 'BEGIN {printf "overhead: %.1f %% (target <= 5 %%)\n", 100 * (a - b) / b}'

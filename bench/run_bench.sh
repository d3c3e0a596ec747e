#!/usr/bin/env bash
# `warden run -- /bin/true` wall time, median of N runs (default 50), against
# `unshare --pid --net --mount --fork --mount-proc /bin/true` as the floor (issue 4: target <= 50 ms).
# Usage: bench/run_bench.sh [WARDEN_BINARY] [RUNS]. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
warden=${1:-build-release/warden}
runs=${2:-50}
dir=$(mktemp -d /var/tmp/warden-run-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# Prints "median p90 min" in milliseconds of running "$@" $runs times.
measure() {
  local times=()
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s%N)
    if ! "$@" >/dev/null 2>"$dir/err"; then
      echo "run_bench: '$*' failed: $(head -c 300 "$dir/err")" >&2
      exit 1
    fi
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f %.1f %.1f\n", a[int((NR+1)/2)]/1000, a[int(NR*0.9)]/1000, a[1]/1000}'
}

i=0
warden_once() { i=$((i + 1)); "$warden" run --log-dir "$dir/s$i" -- /bin/true; }
read -r u_med u_p90 u_min < <(measure unshare --pid --net --mount --fork --mount-proc /bin/true)
read -r w_med w_p90 w_min < <(measure warden_once)
printf '%-58s %10s %10s %10s\n' "command ($runs runs)" "median ms" "p90 ms" "min ms"
printf '%-58s %10s %10s %10s\n' "unshare --pid --net --mount --fork --mount-proc /bin/true" "$u_med" "$u_p90" "$u_min"
printf '%-58s %10s %10s %10s\n' "warden run -- /bin/true" "$w_med" "$w_p90" "$w_min"

#!/usr/bin/env bash
# Session start: `warden run -- /bin/true` wall time, median of N runs (default 50), against
# `unshare --pid --net --mount --fork --mount-proc /bin/true` as the floor (issue 16: target <= 4x the
# floor), with the two costly parts switched off one at a time to show where the time goes: the
# kernel capture (`--capture none`: no BPF programs to verify) and the detection rules
# (`--rules-builtin off`: no rule pack to compile against the OCSF schema). The commands are run
# interleaved (one of each per round) so that a change in the machine's load hits them alike.
# Usage: bench/run_bench.sh [WARDEN_BINARY] [RUNS]. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
warden=${1:-build-release/warden}
runs=${2:-50}
dir=$(mktemp -d /var/tmp/warden-run-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT

names=("unshare --pid --net --mount --fork --mount-proc /bin/true"
       "warden run --capture none --rules-builtin off -- /bin/true"
       "warden run --rules-builtin off -- /bin/true"
       "warden run --capture none -- /bin/true"
       "warden run -- /bin/true")
i=0
run_variant() {
  i=$((i + 1))
  case "$1" in
    0) unshare --pid --net --mount --fork --mount-proc /bin/true ;;
    1) "$warden" run --log-dir "$dir/s$i" --capture none --rules-builtin off -- /bin/true ;;
    2) "$warden" run --log-dir "$dir/s$i" --rules-builtin off -- /bin/true ;;
    3) "$warden" run --log-dir "$dir/s$i" --capture none -- /bin/true ;;
    4) "$warden" run --log-dir "$dir/s$i" -- /bin/true ;;
  esac
}

declare -A times
for _ in $(seq "$runs"); do
  for v in "${!names[@]}"; do
    t0=$(date +%s%N)
    if ! run_variant "$v" >/dev/null 2>"$dir/err"; then
      echo "run_bench: '${names[$v]}' failed: $(head -c 300 "$dir/err")" >&2
      exit 1
    fi
    t1=$(date +%s%N)
    times[$v]+="$(( (t1 - t0) / 1000 )) "
  done
done

stats() {  # "median p90 min" in ms of the microsecond figures given
  printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {printf "%.1f %.1f %.1f\n", a[int((NR+1)/2)]/1000, a[int(NR*0.9)]/1000, a[1]/1000}'
}
printf '%-60s %10s %10s %10s\n' "command ($runs runs each, interleaved)" "median ms" "p90 ms" "min ms"
for v in "${!names[@]}"; do
  read -r med p90 min < <(stats "${times[$v]}")
  printf '%-60s %10s %10s %10s\n' "${names[$v]}" "$med" "$p90" "$min"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

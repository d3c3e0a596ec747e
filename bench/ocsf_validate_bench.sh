#!/usr/bin/env bash
# `warden ocsf validate` over a generated session of N events (default 100,000; every event kind),
# median of R runs (default 3), user+sys CPU and wall time, events/s, peak RSS. With a second
# binary, both validate the same file in the same run, alternately (the baseline first).
#
#   bench/ocsf_validate_bench.sh build-release/warden [BASELINE_WARDEN] [N] [R]
set -euo pipefail
warden="${1:?usage: $0 WARDEN [BASELINE_WARDEN] [EVENTS] [RUNS]}"
baseline="${2:-}"
events="${3:-100000}"
runs="${4:-3}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$warden" audit generate --events "$events" --log-dir "$work/logs" --ocsf-json >/dev/null
file="$work/logs/warden-ocsf.log"
lines=$(wc -l <"$file")
echo "file: $lines lines, $(($(stat -c %s "$file") / 1048576)) MiB (warden audit generate --events $events)"

# One run: "wall cpu rss_kb" on stdout; the validator's summary line is kept in $work/summary.
one() {
  local bin="$1"
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$bin" ocsf validate "$file" >"$work/out" || true
  tail -n 1 "$work/out" >"$work/summary"
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$work/time"
}

report() {
  local name="$1" results="$2"
  sort -n -k2 "$results" | awk -v n="$name" -v lines="$lines" -v runs="$runs" '
    { wall[NR] = $1; cpu[NR] = $2; rss[NR] = $3 }
    END { m = int((NR + 1) / 2);
          printf "%-10s median of %d: cpu %.2f s (%.0f events/s), wall %.2f s, peak RSS %.0f MiB\n",
                 n, runs, cpu[m], lines / cpu[m], wall[m], rss[m] / 1024 }'
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$work/new"
: >"$work/base"
for ((i = 0; i < runs; i++)); do
  if [ -n "$baseline" ]; then one "$baseline" >>"$work/base"; cp "$work/summary" "$work/base-summary"; fi
  one "$warden" >>"$work/new"
done
if [ -n "$baseline" ]; then
  report baseline "$work/base"
  echo "           says: $(cat "$work/base-summary")"
fi
report warden "$work/new"
echo "           says: $(cat "$work/summary")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

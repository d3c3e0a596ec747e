#!/usr/bin/env bash
# Egress proxy benchmarks (issue 3 item 6), in one go, printed as Markdown tables for BENCHMARKS.md:
#   (a) keep-alive HTTP GET of a 1 KiB body with wrk: direct to nginx, through `warden proxy` with an L7
#       rule (protocol rest, allow GET /1k: every request is L7-evaluated and writes an event), through
#       squid and tinyproxy as plain forward proxies.              target: warden >= 1.5x squid req/s, lower p99
#   (b) 1 GiB through a CONNECT tunnel to an L4-only endpoint (raw splice relay) vs direct, with curl -p.
#                                                                  target: >= 80 % of direct
#   (c) VmRSS of the proxy with 1,000 idle CONNECT tunnels.        target: <= 64 MiB
# Everything binds 127.0.0.1; every server started here is killed on exit.
#
# Knobs (environment): WRK_THREADS (2) WRK_CONNECTIONS (50) WRK_DURATION (10s) BULK_MIB (1024)
# BULK_RUNS (3) TUNNELS (1000) WARDEN (path of the binary) WARDEN_EXTRA (more `warden proxy` flags, e.g.
# "--threads 1") BENCH_KEEP=1 (keep the temp dir and logs).
# Sections can be chosen with BENCH_SECTIONS="a b c".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
HERE="$ROOT/bench/proxy"

WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-50}
WRK_DURATION=${WRK_DURATION:-10s}
BULK_MIB=${BULK_MIB:-1024}
BULK_RUNS=${BULK_RUNS:-3}
TUNNELS=${TUNNELS:-1000}
BENCH_SECTIONS=${BENCH_SECTIONS:-"a b c"}

say() { printf '%s\n' "$*" >&2; }

# ---- tools: install what is missing (scripts/install-deps.sh, as root), else skip what needs them ----
need_tools=(wrk nginx squid tinyproxy curl python3)
missing=()
for t in "${need_tools[@]}"; do
  command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || missing+=("$t")
done
if ((${#missing[@]})); then
  say "proxy_bench: missing ${missing[*]}; trying scripts/install-deps.sh"
  "$ROOT/scripts/install-deps.sh" || say "proxy_bench: install-deps failed; the parts that need them are skipped"
fi
export PATH="$PATH:/usr/sbin:/sbin"
have() { command -v "$1" >/dev/null 2>&1; }
for t in nginx curl python3; do
  have "$t" || { say "proxy_bench: $t is required (the upstream / client); skipping the proxy benchmarks"; exit 0; }
done

# ---- the warden binary: release if present, else the dev build, else build the release one ----
if [ -z "${WARDEN:-}" ]; then
  if [ -x build-release/warden ]; then WARDEN=build-release/warden
  elif [ -x build/warden ]; then WARDEN=build/warden
  else
    say "proxy_bench: no warden binary; building build-release/warden"
    cmake --preset release >/dev/null && cmake --build build-release --target warden >/dev/null
    WARDEN=build-release/warden
  fi
fi
WARDEN=$(readlink -f "$WARDEN")

# ---- temp dir and cleanup ----
T=$(mktemp -d /tmp/warden-proxy-bench-XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then say "proxy_bench: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() {  # stop one server started here, bounded
  local p=$1
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  local keep=() q
  for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  PIDS=("${keep[@]}")
}

freeport() { python3 "$HERE/tunnels.py" freeport; }
wait_port() {  # up to 10 s
  local port=$1 _
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}
subst() {  # subst TEMPLATE OUT KEY=VALUE...
  local in=$1 out=$2
  shift 2
  cp "$in" "$out"
  local kv
  for kv in "$@"; do
    local k=${kv%%=*} v=${kv#*=}
    python3 - "$out" "@$k@" "$v" <<'EOF'
import sys
p, k, v = sys.argv[1:4]
s = open(p).read().replace(k, v)
open(p, "w").write(s)
EOF
  done
}
to_ms() {  # wrk latency "512.00us" / "1.23ms" / "1.02s" -> ms
  awk -v x="$1" 'BEGIN { n = x + 0; if (x ~ /us$/) n /= 1000; else if (x ~ /ms$/) n = n; else if (x ~ /s$/) n *= 1000; printf "%.2f", n }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ---- nginx: the 1 KiB file, the bulk file (sparse: no disk reads), two ports (L7 / L4 endpoints) ----
NG=$(freeport)
NG4=$(freeport)
HOLD=$(freeport)
mkdir -p "$T/www" "$T/tmp"
head -c 1024 /dev/urandom >"$T/www/1k"
truncate -s "$((BULK_MIB * 1024 * 1024))" "$T/www/bulk.bin"
subst "$HERE/nginx.conf.in" "$T/nginx.conf" DIR="$T" PORT="$NG"
sed -i "s|listen 127.0.0.1:$NG;|listen 127.0.0.1:$NG;\n    listen 127.0.0.1:$NG4;|" "$T/nginx.conf"
nginx -t -q -p "$T/" -c "$T/nginx.conf"
nginx -p "$T/" -c "$T/nginx.conf" >"$T/nginx.out" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_port "$NG" && wait_port "$NG4" || { say "nginx did not start: $(cat "$T/nginx-error.log")"; exit 1; }

# ---- the warden policy: the real executables of the clients (caller identity reads /proc/<pid>/exe) ----
bin_lines=""
for b in "$(readlink -f "$(command -v curl)")" \
         "$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')" \
         $(have wrk && readlink -f "$(command -v wrk)"); do
  bin_lines+="      - path: $b"$'\n'
done
subst "$HERE/policy.yaml.in" "$T/policy.yaml" L7_PORT="$NG" L4_PORTS="$NG4, $HOLD" BINARIES="${bin_lines%$'\n'}"

WARDEN_PID=""
WP=""
start_warden() {
  WP=$(freeport)
  rm -rf "$T/warden-logs"
  "$WARDEN" proxy --policy "$T/policy.yaml" --listen "127.0.0.1:$WP" --log-dir "$T/warden-logs" \
    --allow-loopback-upstream ${WARDEN_EXTRA:-} >"$T/warden.out" 2>&1 &
  WARDEN_PID=$!
  PIDS+=("$WARDEN_PID")
  wait_port "$WP" || { say "warden proxy did not start: $(cat "$T/warden.out")"; exit 1; }
}
stop_warden() { if [ -n "$WARDEN_PID" ]; then stop_pid "$WARDEN_PID"; fi; WARDEN_PID=""; }

SQUID_PID=""
SQ=""
start_squid() {
  have squid || { say "proxy_bench: squid is not installed; skipping its rows"; return 1; }
  SQ=$(freeport)
  mkdir -p "$T/squid"
  chmod 777 "$T/squid"  # squid drops to its cache_effective_user when started as root
  subst "$HERE/squid.conf.in" "$T/squid/squid.conf" DIR="$T/squid" PORT="$SQ"
  squid -k parse -f "$T/squid/squid.conf" >"$T/squid/parse.log" 2>&1 || { say "squid -k parse failed: $(tail -5 "$T/squid/parse.log")"; return 1; }
  squid -N -f "$T/squid/squid.conf" >"$T/squid/out.log" 2>&1 &
  SQUID_PID=$!
  PIDS+=("$SQUID_PID")
  wait_port "$SQ" || { say "squid did not start: $(tail -5 "$T/squid/squid-cache.log" 2>/dev/null)"; return 1; }
}
stop_squid() { if [ -n "$SQUID_PID" ]; then stop_pid "$SQUID_PID"; fi; SQUID_PID=""; }

TINY_PID=""
TP=""
start_tinyproxy() {
  have tinyproxy || { say "proxy_bench: tinyproxy is not installed; skipping its rows"; return 1; }
  TP=$(freeport)
  mkdir -p "$T/tinyproxy"
  chmod 777 "$T/tinyproxy"
  subst "$HERE/tinyproxy.conf.in" "$T/tinyproxy/tinyproxy.conf" DIR="$T/tinyproxy" PORT="$TP"
  tinyproxy -d -c "$T/tinyproxy/tinyproxy.conf" >"$T/tinyproxy/out.log" 2>&1 &
  TINY_PID=$!
  PIDS+=("$TINY_PID")
  wait_port "$TP" || { say "tinyproxy did not start: $(tail -5 "$T/tinyproxy/out.log")"; return 1; }
}
stop_tinyproxy() { if [ -n "$TINY_PID" ]; then stop_pid "$TINY_PID"; fi; TINY_PID=""; }

# A proxy must answer the benchmark request with 200 and the 1 KiB body before it is measured.
check_forward() {  # check_forward PROXY_PORT
  local got
  got=$(curl -s --max-time 10 -x "http://127.0.0.1:$1" -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$NG/1k" || true)
  [ "$got" = "200 1024" ] || { say "proxy on port $1 answered '$got' instead of '200 1024'"; return 1; }
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
A_ROWS=()
B_ROWS=()
C_ROWS=()

# ---- (a) wrk ----
run_wrk() {  # run_wrk LABEL PORT   (PORT: the proxy, or nginx itself for direct; same Lua script)
  local label=$1 port=$2 out="$T/wrk-$3.txt"
  BENCH_TARGET_HOSTPORT="127.0.0.1:$NG" BENCH_TARGET_PATH=/1k \
    timeout 120 wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" --latency \
    -s "$HERE/forward.lua" "http://127.0.0.1:$port/" >"$out" 2>&1 || true
  local rps p50 p99 non2xx errs
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  p50=$(awk '$1 == "50%" { print $2 }' "$out")
  p99=$(awk '$1 == "99%" { print $2 }' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
  errs=$(awk '/^Socket errors:/ { sub(/^Socket errors: /, ""); print }' "$out")
  [ -n "$rps" ] || { say "wrk $label failed: $(cat "$out")"; rps=0; }
  A_ROWS+=("| $label | ${rps} | $(to_ms "${p50:-0}") | $(to_ms "${p99:-0}") | ${non2xx:-0}${errs:+; $errs} |")
  eval "RPS_${3}=$rps P99_${3}=$(to_ms "${p99:-0}")"
}

if [[ " $BENCH_SECTIONS " == *" a "* ]]; then
  if ! have wrk; then
    say "proxy_bench: wrk is not installed; skipping (a)"
  else
    say "proxy_bench: (a) wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION, 1 KiB GET"
    run_wrk "direct to nginx" "$NG" direct
    start_warden
    if check_forward "$WP"; then
      run_wrk "warden proxy (L7 rest, allow GET /1k)" "$WP" warden
      sleep 1
      WARDEN_EVENTS=$(grep -c 'HTTP:GET' "$T/warden-logs/warden.log" 2>/dev/null || true)
      WARDEN_LOG_BYTES=$(du -sb "$T/warden-logs" | cut -f1)
    fi
    stop_warden
    if start_squid && check_forward "$SQ"; then run_wrk "squid $(squid -v | awk 'NR==1 { print $4 }') (forward, no cache)" "$SQ" squid; fi
    stop_squid
    if start_tinyproxy && check_forward "$TP"; then run_wrk "tinyproxy $(tinyproxy -v | awk '{ print $2 }')" "$TP" tiny; fi
    stop_tinyproxy
  fi
fi

# ---- (b) bulk through CONNECT (curl -p) vs direct ----
bulk() {  # bulk LABEL [PROXY_PORT]: median MB/s (10^6 bytes/s) of BULK_RUNS downloads
  local label=$1 proxy=${2:-} speeds=() i s size
  for i in $(seq 1 "$BULK_RUNS"); do
    if [ -n "$proxy" ]; then
      s=$(curl -s --max-time 120 -p -x "http://127.0.0.1:$proxy" -o /dev/null -w '%{speed_download} %{size_download}' "http://127.0.0.1:$NG4/bulk.bin" || true)
    else
      s=$(curl -s --max-time 120 -o /dev/null -w '%{speed_download} %{size_download}' "http://127.0.0.1:$NG4/bulk.bin" || true)
    fi
    size=${s#* }
    if [ "$size" != "$((BULK_MIB * 1024 * 1024))" ]; then say "bulk $label: incomplete ($s)"; speeds+=(0); else speeds+=("${s%% *}"); fi
  done
  printf '%s\n' "${speeds[@]}" | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f", v[int((NR + 1) / 2)] / 1e6 }'
}
if [[ " $BENCH_SECTIONS " == *" b "* ]]; then
  say "proxy_bench: (b) ${BULK_MIB} MiB via CONNECT, median of $BULK_RUNS"
  direct=$(bulk direct)
  B_ROWS+=("| direct (curl → nginx) | $direct | 100 % |")
  pct() { awk -v a="$1" -v b="$direct" 'BEGIN { if (b > 0) printf "%.0f %%", 100 * a / b; else print "-" }'; }
  start_warden
  w=$(bulk warden "$WP")
  B_ROWS+=("| warden proxy (CONNECT, L4-only endpoint: splice) | $w | $(pct "$w") |")
  BULK_WARDEN=$w BULK_DIRECT=$direct
  stop_warden
  if start_squid; then s=$(bulk squid "$SQ"); B_ROWS+=("| squid (CONNECT) | $s | $(pct "$s") |"); fi
  stop_squid
  if start_tinyproxy; then s=$(bulk tinyproxy "$TP"); B_ROWS+=("| tinyproxy (CONNECT) | $s | $(pct "$s") |"); fi
  stop_tinyproxy
fi

# ---- (c) RSS with N idle tunnels ----
idle() {  # idle LABEL PROXY_PORT PID
  local out="$T/idle-${1%% *}.txt"
  timeout 420 python3 "$HERE/tunnels.py" idle-tunnels "$2" "$HOLD" "$TUNNELS" "$3" 3 >"$out" 2>"$out.err" || true
  local base held after open failed secs
  base=$(awk -F= '/^rss_baseline_kib=/ { print $2 }' "$out")
  held=$(awk -F= '/^rss_held_kib=/ { print $2 }' "$out")
  after=$(awk -F= '/^rss_after_close_kib=/ { print $2 }' "$out")
  open=$(awk -F= '/^tunnels_open=/ { print $2 }' "$out")
  failed=$(awk -F= '/^tunnels_failed=/ { print $2 }' "$out")
  secs=$(awk -F= '/^open_seconds=/ { print $2 }' "$out")
  [ -n "$held" ] || { say "idle $1 failed: $(cat "$out" "$out.err")"; return 0; }
  local per
  per=$(awk -v b="$base" -v h="$held" -v n="$open" 'BEGIN { if (n > 0) printf "%.1f", (h - b) / n; else print "-" }')
  C_ROWS+=("| $1 | $open / $TUNNELS (${failed} failed, opened in ${secs} s) | $(mib "$base") | $(mib "$held") | $per | $(mib "$after") |")
  if [ "$1" = "warden proxy" ]; then RSS_WARDEN_HELD=$held; fi
}
if [[ " $BENCH_SECTIONS " == *" c "* ]]; then
  say "proxy_bench: (c) $TUNNELS idle CONNECT tunnels"
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  python3 "$HERE/tunnels.py" hold-server "$HOLD" 600 >"$T/hold.out" 2>&1 &
  HOLD_PID=$!
  PIDS+=("$HOLD_PID")
  wait_port "$HOLD" || { say "hold server did not start"; exit 1; }
  start_warden
  sleep 1
  idle "warden proxy" "$WP" "$WARDEN_PID"
  stop_warden
  if start_squid; then idle "squid" "$SQ" "$SQUID_PID"; fi
  stop_squid
  if start_tinyproxy; then idle "tinyproxy" "$TP" "$TINY_PID"; fi
  stop_tinyproxy
fi

# ---- the tables ----
echo "machine: $(nproc) cores, $(free -m | awk '/Mem:/ { printf "%.1f GiB", $2 / 1024 }'), kernel $(uname -r)," \
  "load $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after; warden: $WARDEN"
echo
if ((${#A_ROWS[@]})); then
  echo "(a) keep-alive GET of 1 KiB: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION --latency (wrk shares the cores with the proxy and nginx)"
  echo
  echo "| path | requests/s | p50 ms | p99 ms | non-2xx; socket errors |"
  echo "|---|---:|---:|---:|---|"
  printf '%s\n' "${A_ROWS[@]}"
  if [ -n "${RPS_warden:-}" ] && [ -n "${RPS_squid:-}" ] && [ "${RPS_squid:-0}" != 0 ]; then
    awk -v w="$RPS_warden" -v s="$RPS_squid" -v pw="$P99_warden" -v ps="$P99_squid" 'BEGIN {
      r = w / s; printf "\nwarden / squid requests/s: %.2fx (target >= 1.5x: %s); p99 %s vs %s ms (target lower: %s)\n",
        r, (r >= 1.5 ? "met" : "MISSED"), pw, ps, (pw < ps ? "met" : "MISSED") }'
  fi
  [ -n "${WARDEN_EVENTS:-}" ] && echo "warden wrote ${WARDEN_EVENTS} HTTP:GET events (${WARDEN_LOG_BYTES} bytes of logs) during the run"
  echo
fi
if ((${#B_ROWS[@]})); then
  echo "(b) ${BULK_MIB} MiB download (nginx sendfile, sparse file), curl -p (CONNECT), median of $BULK_RUNS"
  echo
  echo "| path | MB/s | of direct |"
  echo "|---|---:|---:|"
  printf '%s\n' "${B_ROWS[@]}"
  [ -n "${BULK_WARDEN:-}" ] && awk -v w="$BULK_WARDEN" -v d="$BULK_DIRECT" 'BEGIN {
    r = d > 0 ? w / d : 0; printf "\nwarden CONNECT / direct: %.0f %% (target >= 80 %%: %s)\n", 100 * r, (r >= 0.8 ? "met" : "MISSED") }'
  echo
fi
if ((${#C_ROWS[@]})); then
  echo "(c) $TUNNELS idle CONNECT tunnels to a holding upstream (VmRSS of the proxy process)"
  echo
  echo "| proxy | tunnels | baseline MiB | held MiB | KiB per tunnel | after close MiB |"
  echo "|---|---|---:|---:|---:|---:|"
  printf '%s\n' "${C_ROWS[@]}"
  [ -n "${RSS_WARDEN_HELD:-}" ] && awk -v k="$RSS_WARDEN_HELD" 'BEGIN {
    printf "\nwarden with the tunnels held: %.1f MiB (target <= 64 MiB: %s)\n", k / 1024, (k <= 65536 ? "met" : "MISSED") }'
fi

#!/usr/bin/env bash
# What the proxy's inspection (proxy/inspect, issue 14) costs end to end, printed as Markdown for
# BENCHMARKS.md. Everything binds 127.0.0.1; every server started here is stopped on exit.
#   (a) a 100 MiB download through `warden proxy` (forward proxy, an L7 rest endpoint), the same bytes
#       under two names: wheel-1.0-py3-none-any.whl (a package artifact: hashed while it streams, a
#       PKG:INSTALL event) and blob.bin (not package traffic: relayed only); and direct, as the floor.
#       RUNS downloads each, alternately; median wall time and MiB/s.   target: hashed <= 10 % slower
#   (b) time to the first byte of a streamed model answer (chat.completions SSE from the local provider
#       script, first event sent at once): direct, through the proxy on a `protocol: rest` endpoint (L7
#       relay, no model parser) and on a `protocol: llm` endpoint (the parser reading every chunk);
#       REQUESTS each, alternately; median and p90 of curl's time_starttransfer.
# Knobs: RUNS (7) REQUESTS (60) MIB (100) WARDEN (the binary; default build-release/warden, else build/warden)
# BENCH_KEEP=1 keeps the temp dir. The machine's load is printed before and after: other work skews it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=${RUNS:-7}
REQUESTS=${REQUESTS:-60}
MIB=${MIB:-100}
export PATH="$PATH:/usr/sbin:/sbin"
say() { printf '%s\n' "$*" >&2; }
for t in nginx curl node python3; do
  command -v "$t" >/dev/null 2>&1 || { say "inspect_bench: $t is required; skipped"; exit 0; }
done
if [ -z "${WARDEN:-}" ]; then
  if [ -x build-release/warden ]; then WARDEN=build-release/warden; else WARDEN=build/warden; fi
fi
WARDEN=$(readlink -f "$WARDEN")

T=$(mktemp -d /tmp/warden-inspect-bench-XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then say "inspect_bench: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; return 1; }

# ---- upstreams ----
NGINX_PORT=$(free_port)
mkdir -p "$T/www" "$T/tmp"
head -c $((MIB * 1024 * 1024)) /dev/urandom > "$T/www/blob.bin"
ln "$T/www/blob.bin" "$T/www/wheel-1.0-py3-none-any.whl"
sed -e "s#@DIR@#$T#g" -e "s#@PORT@#$NGINX_PORT#g" bench/proxy/nginx.conf.in > "$T/nginx.conf"
nginx -c "$T/nginx.conf" -p "$T" >"$T/nginx.out" 2>&1 &
PIDS+=($!)
LLM_REST=$(free_port)
LLM_INSPECT=$(free_port)
node tests/support/node_inspect/fake_llm_server.js "$LLM_REST" >"$T/llm-rest.out" 2>&1 &
PIDS+=($!)
node tests/support/node_inspect/fake_llm_server.js "$LLM_INSPECT" >"$T/llm-inspect.out" 2>&1 &
PIDS+=($!)
wait_port "$NGINX_PORT" || { say "nginx did not start"; exit 1; }
for p in "$LLM_REST" "$LLM_INSPECT"; do wait_port "$p" || { say "provider did not start"; exit 1; }; done

# ---- the proxy ----
cat > "$T/policy.yaml" <<YAML
version: 1
network:
  bench:
    endpoints:
      - { host: 127.0.0.1, ports: [$NGINX_PORT], protocol: rest, access: read-only, allowed_ips: [127.0.0.1/32] }
      - { host: 127.0.0.1, ports: [$LLM_REST], protocol: rest, access: full, allowed_ips: [127.0.0.1/32] }
      - { host: 127.0.0.1, ports: [$LLM_INSPECT], protocol: llm, access: full, allowed_ips: [127.0.0.1/32] }
    binaries: [ { path: "/**" } ]
YAML
"$WARDEN" proxy --policy "$T/policy.yaml" --listen 127.0.0.1:0 --log-dir "$T/logs" --allow-loopback-upstream \
  >"$T/proxy.out" 2>&1 &
WPID=$!
PIDS+=($WPID)
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)*1000/hz}' "/proc/$WPID/stat"; }
for _ in $(seq 1 100); do grep -q "warden proxy listening on" "$T/proxy.out" 2>/dev/null && break; sleep 0.1; done
PROXY=$(sed -n 's/.*warden proxy listening on \([0-9.:]*\).*/\1/p' "$T/proxy.out" | head -1)
[ -n "$PROXY" ] || { say "warden proxy did not start: $(cat "$T/proxy.out")"; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
p90() { sort -g | awk '{a[NR]=$1} END {i=int(NR*0.9); if (i<1) i=1; print a[i]}'; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), load before $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $WARDEN"
echo
# ---- (a) ----
: > "$T/a-direct"; : > "$T/a-plain"; : > "$T/a-hashed"
cpu_plain=0; cpu_hashed=0
for _ in $(seq 1 "$RUNS"); do
  curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$NGINX_PORT/blob.bin" >> "$T/a-direct"
  c0=$(cpu_ms)
  curl -s -o /dev/null -w '%{time_total}\n' -x "http://$PROXY" "http://127.0.0.1:$NGINX_PORT/blob.bin" >> "$T/a-plain"
  c1=$(cpu_ms)
  curl -s -o /dev/null -w '%{time_total}\n' -x "http://$PROXY" "http://127.0.0.1:$NGINX_PORT/wheel-1.0-py3-none-any.whl" >> "$T/a-hashed"
  c2=$(cpu_ms)
  cpu_plain=$(awk -v a="$cpu_plain" -v b="$c0" -v c="$c1" 'BEGIN{print a+c-b}')
  cpu_hashed=$(awk -v a="$cpu_hashed" -v b="$c1" -v c="$c2" 'BEGIN{print a+c-b}')
done
pkg_events=$(grep -c 'PKG:INSTALL' "$T/logs/warden.log" || true)
echo "(a) ${MIB} MiB download, median of $RUNS (seconds; MiB/s); PKG:INSTALL events written: $pkg_events"
echo
echo "| path | median s | MiB/s | wall vs relay only | proxy CPU ms per download | CPU vs relay only |"
echo "|---|---:|---:|---:|---:|---:|"
d=$(median < "$T/a-direct"); p=$(median < "$T/a-plain"); h=$(median < "$T/a-hashed")
awk -v m="$MIB" -v d="$d" -v p="$p" -v h="$h" -v cp="$cpu_plain" -v ch="$cpu_hashed" -v n="$RUNS" 'BEGIN {
  printf "| direct (floor) | %.3f | %.0f | | | |\n", d, m/d;
  printf "| proxy, not package traffic (blob.bin) | %.3f | %.0f | 1.00 | %.0f | 1.00 |\n", p, m/p, cp/n;
  printf "| proxy, artifact hashed + PKG:INSTALL (.whl) | %.3f | %.0f | %.2f | %.0f | %.2f |\n", h, m/h, h/p, ch/n, ch/cp }'
echo
# ---- (b) ----
body='{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}'
: > "$T/b-direct"; : > "$T/b-rest"; : > "$T/b-llm"
for _ in $(seq 1 "$REQUESTS"); do
  curl -s -N -o /dev/null -w '%{time_starttransfer}\n' "http://127.0.0.1:$LLM_REST/v1/chat/completions" -d "$body" >> "$T/b-direct"
  curl -s -N -o /dev/null -w '%{time_starttransfer}\n' -x "http://$PROXY" "http://127.0.0.1:$LLM_REST/v1/chat/completions" -d "$body" >> "$T/b-rest"
  curl -s -N -o /dev/null -w '%{time_starttransfer}\n' -x "http://$PROXY" "http://127.0.0.1:$LLM_INSPECT/v1/chat/completions" -d "$body" >> "$T/b-llm"
done
model_events=$(grep -c 'MODEL:CALL' "$T/logs/warden.log" || true)
echo "(b) time to first byte of a streamed chat.completions answer, $REQUESTS requests each (ms); MODEL:CALL events: $model_events"
echo
echo "| path | median ms | p90 ms |"
echo "|---|---:|---:|"
for f in direct rest llm; do
  m=$(median < "$T/b-$f"); q=$(p90 < "$T/b-$f")
  case $f in direct) name="direct (floor)";; rest) name="proxy, protocol rest (L7 relay only)";; llm) name="proxy, protocol llm (model parser on every chunk)";; esac
  awk -v n="$name" -v m="$m" -v q="$q" 'BEGIN { printf "| %s | %.2f | %.2f |\n", n, m*1000, q*1000 }'
done
echo
echo "load after $(cut -d' ' -f1-3 /proc/loadavg)"

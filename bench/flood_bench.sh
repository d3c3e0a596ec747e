#!/usr/bin/env bash
# Audit volume under a flood of denied connections (issue 12 item 7): `warden proxy` with a policy
# that allows nothing, and CHURNERS threads of one client process opening connections, sending
# `CONNECT evil.example:443` and reading the 403, for SECONDS. Prints the attempts the client made,
# the NET:OPEN events written, the bytes of warden.log and warden-ocsf.log, and whether the events'
# counts (1 per plain event + `count` of each coalesced summary) add up to the attempts.
# Usage: bench/flood_bench.sh [WARDEN] [SECONDS] [CHURNERS]   (loopback only; no root needed)
set -euo pipefail
WARDEN=${1:-build/warden}
SECONDS_RUN=${2:-15}
CHURNERS=${3:-3}
T=$(mktemp -d /tmp/warden-flood-XXXXXX)
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$T"' EXIT
printf 'version: 1\n' >"$T/policy.yaml"
"$WARDEN" proxy --policy "$T/policy.yaml" --listen 127.0.0.1:0 --log-dir "$T/logs" --ocsf-json >"$T/out" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q 'listening on' "$T/out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/out")
[ -n "$PORT" ] || { echo "warden proxy did not start: $(cat "$T/out")"; exit 1; }
ATTEMPTS=$(python3 - "$PORT" "$SECONDS_RUN" "$CHURNERS" <<'PY'
import socket, sys, threading, time
port, secs, n = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
end = time.monotonic() + secs
counts = [0] * n
def churn(i):
    req = b"CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n"
    while time.monotonic() < end:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(req)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk: break
            data += chunk
        s.close()
        if data.startswith(b"HTTP/1.1 403"): counts[i] += 1
threads = [threading.Thread(target=churn, args=(i,)) for i in range(n)]
for t in threads: t.start()
for t in threads: t.join()
print(sum(counts))
PY
)
kill -TERM "$PID"
wait "$PID" || true
python3 - "$T/logs" "$ATTEMPTS" "$SECONDS_RUN" <<'PY'
import json, os, sys
d, attempts, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
opens = plain = summaries = counted = 0
with open(os.path.join(d, "warden-ocsf.log")) as f:
    for line in f:
        e = json.loads(line)
        if e.get("class_uid") == 4001 and e.get("activity_id") == 1 and e.get("action_id") == 2:
            opens += 1
            if "count" in e:
                summaries += 1; counted += e["count"]
            else:
                plain += 1; counted += 1
log = os.path.getsize(os.path.join(d, "warden.log"))
jsonl = os.path.getsize(os.path.join(d, "warden-ocsf.log"))
print(f"attempts (403s seen by the client): {attempts} in {secs:.0f} s")
print(f"NET:OPEN DENIED events written: {opens} ({plain} plain, {summaries} summaries)")
print(f"denials they account for: {counted} ({'adds up' if counted == attempts else 'DOES NOT add up'})")
print(f"warden.log: {log} bytes, warden-ocsf.log: {jsonl} bytes ({(log + jsonl) / 1e6:.1f} MB)")
PY

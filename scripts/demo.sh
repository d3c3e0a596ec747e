#!/usr/bin/env bash
# `make demo`: the main job. A scripted agent (demo/agent.sh) runs in a real `warden run` session
# under demo/policy.yaml.in: an allowed request to a local API, a denied request and a denied host, a
# direct-connection bypass attempt, a DNS lookup, a WebSocket exchange and a file write. The demo
# starts its own upstreams on this machine — an HTTP API and a WebSocket echo server in a network
# namespace it creates (10.201.250.2), and dnsmasq on loopback as the resolver's upstream — streams the
# session's warden.log lines as they are written, then verifies the record. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
warden="${WARDEN_BINARY:-$repo/build/warden}"
[ "$(id -u)" -eq 0 ] || { echo "make demo needs root (namespaces, cgroups, nftables)" >&2; exit 1; }
tests/support/node/install.sh

ns=warden-demo
veth=wdemo0
upstream=10.201.250.2
work=$(mktemp -d /var/tmp/warden-demo.XXXXXX)
chmod 755 "$work"  # the agent must be able to reach its workspace inside
log="$work/log"
ws="$work/workspace"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$veth" 2>/dev/null || true
}
trap cleanup EXIT
cleanup

echo "== setting up the demo's upstreams (network namespace $ns, $upstream)"
ip netns add "$ns"
ip link add "$veth" type veth peer name eth0 netns "$ns"
ip addr add 10.201.250.1/30 dev "$veth" && ip link set "$veth" up
ip -n "$ns" addr add "$upstream/30" dev eth0 && ip -n "$ns" link set eth0 up && ip -n "$ns" link set lo up
mkdir -p "$work/www" "$ws"
echo '{"status":"ok","service":"demo-api"}' > "$work/www/status.json"
ip netns exec "$ns" python3 -m http.server 8080 --bind "$upstream" --directory "$work/www" >"$work/api.log" 2>&1 &
pids+=($!)
ip netns exec "$ns" node tests/support/node/ws_echo_server.js --listen "$upstream:8081" >"$work/ws.log" 2>&1 </dev/zero &
pids+=($!)
dnsmasq --keep-in-foreground --no-daemon --port=5353 --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
  --no-hosts --address=/api.demo.test/$upstream --log-facility=- >"$work/dns.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -s -o /dev/null "http://$upstream:8080/status.json" && grep -q port "$work/ws.log" && break
  sleep 0.1
done

# The agent's workspace: its script, the WebSocket client and its packages, owned by the agent user.
cp demo/agent.sh tests/support/node/ws_client.js "$ws/"
cp -r tests/support/node/node_modules "$ws/node_modules"
chown -R 64000:64000 "$ws"
node=$(readlink -f "$(command -v node)")
sed -e "s|@WORKSPACE@|$ws|g" -e "s|@NODE@|$node|g" -e "s|@UPSTREAM@|$upstream|g" demo/policy.yaml.in > "$work/policy.yaml"

echo
echo "== warden run: the agent's session, streamed as warden.log is written"
cd "$ws"
set +e
DEMO_API="$upstream:8080" DEMO_WS="$upstream:8081" \
  "$warden" run --policy "$work/policy.yaml" --name demo-agent --log-dir "$log" --ocsf-json --stream \
  --dns-upstream 127.0.0.1:5353 --env DEMO_API --env DEMO_WS -- sh agent.sh
status=$?
set -e
cd "$repo"
echo
echo "== the session ended with exit status $status"

echo
echo "== warden ocsf validate --strict: every event against the official OCSF 1.7.0 schema (warnings fail too)"
"$warden" ocsf validate --strict "$log/warden-ocsf.log" | tail -n 1
echo
echo "== warden audit verify: hash chain and signed checkpoints"
"$warden" audit verify "$log/warden-ocsf.log"

echo
echo "== warden audit tree: what the agent did, process by process"
"$warden" audit tree --log-dir "$log" | head -n 60

echo
echo "files:"
ls -l "$log" | sed 1d | sed 's/^/  /'
echo "try:  grep ' DENIED ' $log/warden.log      $warden audit verify $log/warden-ocsf.log"

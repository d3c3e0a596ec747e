#!/usr/bin/env bash
# `make demo`: the main job. Until `warden run` lands (issue 4) this is a synthetic agent session
# written through the real audit pipeline: it streams the session's shorthand lines, then checks
# the JSONL against the official OCSF 1.7.0 schema and verifies the integrity chain.
set -euo pipefail
cd "$(dirname "$0")/.."
warden=build/warden
dir=$(mktemp -d /tmp/warden-demo.XXXXXX)

echo "== warden audit generate: a synthetic session through the real pipeline"
# --follow streams every warden.log line as the writer produces it; show a readable slice.
"$warden" audit generate --events 3000 --log-dir "$dir" --ocsf-json --rate 20000 --follow --name demo-agent \
  >"$dir/stream.txt"
grep -m 60 -E ' OCSF (LOG|LIFECYCLE|SESSION|CONFIG|NET|HTTP|DNS|PROC|FILE|FINDING|PKG|TOOL|LIMIT|SSH|EVENT):' \
  "$dir/stream.txt" || true
echo "   ... ($(grep -c ' OCSF ' "$dir/stream.txt") lines streamed)"
tail -n 3 "$dir/stream.txt" | grep -v ' OCSF ' || true
tail -n 3 "$dir/stream.txt" | grep ' OCSF ' || true

echo
echo "== warden ocsf validate: every event against the official OCSF 1.7.0 schema"
"$warden" ocsf validate "$dir/warden-ocsf.log" | tail -n 1

echo
echo "== warden audit verify: hash chain and signed checkpoints, with the session's public key"
"$warden" audit verify "$dir" --key "$dir/signing-key.pub"

echo
echo "files:"
ls -l "$dir" | sed 1d | sed 's/^/  /'
echo "try:  grep ' DENIED ' $dir/warden.log     $warden audit verify $dir --key $dir/signing-key.pub"

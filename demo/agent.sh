#!/bin/sh
# The stand-in agent of `make demo`: what an AI agent might do in one session. It runs inside the
# sandbox as the unprivileged agent user; scripts/demo.sh sets DEMO_API and DEMO_WS.
set -u
say() { printf '\033[1magent:\033[0m %s\n' "$*"; }

say "GET the local API (allowed: rule demo_api, read-only)"
curl -sS -m 10 "http://$DEMO_API/status.json"

say "POST to the same API (denied at L7: the rule is read-only)"
curl -sS -m 10 -o /dev/null -w 'HTTP %{http_code}\n' -X POST "http://$DEMO_API/status.json"

say "call a host no rule allows (denied)"
curl -sS -m 10 -o /dev/null -w 'HTTP %{http_code}\n' http://evil.example.com/upload

say "connect directly, around the proxy (blocked by nftables, recorded as a bypass attempt)"
curl -sS -m 5 --noproxy '*' "http://$DEMO_API/status.json" || say "direct connection failed, as it must"

say "resolve a name no rule needs (the sandbox resolver answers NXDOMAIN: DNS is no way out)"
getent ahostsv4 api.demo.test || say "no answer"

say "exchange WebSocket messages (allowed: rule demo_chat, node only)"
node ws_client.js "ws://$DEMO_WS/" --proxy "$HTTP_PROXY"

say "write a file in the workspace"
date -u > report.txt && cat report.txt

say "done"
exit 0

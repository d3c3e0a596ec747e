#!/bin/sh
# Installs the npm packages the proxy inspection tests use (verdaccio, the MCP TypeScript SDK, undici)
# into tests/support/node_inspect/node_modules, exactly as package-lock.json pins them. Idempotent;
# safe to run from several test processes at once (flock). Exit 0 = ready; anything else = not
# available (the caller skips with our stderr).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
command -v node >/dev/null 2>&1 || { echo "node not found on PATH" >&2; exit 2; }
command -v npm >/dev/null 2>&1 || { echo "npm not found on PATH" >&2; exit 2; }
stamp=node_modules/.warden-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
lock="${TMPDIR:-/tmp}/warden-node-inspect-install-$(printf '%s' "$here" | sha256sum | cut -c1-16).lock"
exec 9>"$lock"
flock -w 600 9 || { echo "timed out waiting for another install ($lock)" >&2; exit 3; }
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2
printf '%s' "$want" > "$stamp"

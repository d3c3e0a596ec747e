#!/bin/sh
# npm ci of the package directory DIR (a tests/support folder with package.json and package-lock.json)
# into DIR/node_modules, exactly as its lock file pins it. Idempotent: does nothing when node_modules
# already holds this lock file's install. Safe to run from several test processes at once (flock).
# Exit status 0 = ready; anything else = not available (the caller skips with our stderr).
#   npm_ci.sh DIR
set -eu
here=$(cd "$1" && pwd)
cd "$here"
command -v node >/dev/null 2>&1 || { echo "node not found on PATH" >&2; exit 2; }
command -v npm >/dev/null 2>&1 || { echo "npm not found on PATH" >&2; exit 2; }
stamp=node_modules/.warden-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
lock="${TMPDIR:-/tmp}/warden-npm-ci-$(printf '%s' "$here" | sha256sum | cut -c1-16).lock"
exec 9>"$lock"
flock -w 600 9 || { echo "timed out waiting for another install ($lock)" >&2; exit 3; }
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
# Only the packages in the lock file, no install scripts, no audit/fund round trips.
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2
printf '%s' "$want" > "$stamp"

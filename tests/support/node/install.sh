#!/bin/sh
# Installs the npm packages the proxy tests' node scripts use (ws, https-proxy-agent, http-proxy-agent)
# into tests/support/node/node_modules, exactly as package-lock.json pins them (../npm_ci.sh).
exec sh "$(dirname "$0")/../npm_ci.sh" "$(dirname "$0")"

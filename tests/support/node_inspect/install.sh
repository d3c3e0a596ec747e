#!/bin/sh
# Installs the npm packages the proxy inspection tests use (verdaccio, the MCP TypeScript SDK, undici)
# into tests/support/node_inspect/node_modules, exactly as package-lock.json pins them (../npm_ci.sh).
exec sh "$(dirname "$0")/../npm_ci.sh" "$(dirname "$0")"

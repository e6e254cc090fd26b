#!/usr/bin/env bash
# Lint docs/openapi.json with Redocly's linter (npm @redocly/cli, the exact
# version in package-lock.json), with the rules of redocly.yaml. Installs the
# pinned package into tools/redocly/node_modules when it is missing or the
# lock changed (npm ci), so a machine that has it runs offline.
# Usage: tools/redocly/run.sh [OPENAPI_FILE]   (default: docs/openapi.json)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DOC="$(cd "$(dirname "${1:-$HERE/../../docs/openapi.json}")" && pwd)/$(basename "${1:-openapi.json}")"
cd "$HERE"
stamp=node_modules/.atelier-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
fi
# no telemetry, no update check: the lint must not need the network
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
exec node_modules/.bin/redocly lint --config redocly.yaml --max-problems 1000 "$DOC"

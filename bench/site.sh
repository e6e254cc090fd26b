#!/usr/bin/env bash
# The site's page weight and time to first render in Debian's chromium
# (bench/site.mjs). Usage: bench/site.sh [BUILD_DIR]   (default: build)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$(cd "${1:-$ROOT/build}" && pwd)"
cd "$ROOT/tests/browser"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
ATELIER_BIN="$BUILD_DIR/atelier" exec node "$ROOT/bench/site.mjs"

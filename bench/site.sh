#!/usr/bin/env bash
# The site's page weight and time to first render in Debian's chromium
# (bench/site.mjs). With a second build directory, that build runs beside
# the first as a baseline, load for load.
# Usage: bench/site.sh [BUILD_DIR [BASELINE_BUILD_DIR]]   (default: build)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$(cd "${1:-$ROOT/build}" && pwd)"
BASELINE=""
[ "$#" -lt 2 ] || BASELINE="$(cd "$2" && pwd)/atelier"
cd "$ROOT/tests/browser"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
ATELIER_BIN="$BUILD_DIR/atelier" BASELINE_BIN="$BASELINE" exec node "$ROOT/bench/site.mjs"

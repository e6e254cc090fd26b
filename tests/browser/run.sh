#!/usr/bin/env bash
# The site's tests in a real browser: installs the pinned npm packages
# (playwright-core, axe-core; package-lock.json) into tests/browser/node_modules
# when they are missing or stale, then runs node's test runner on
# site.test.mjs against BUILD_DIR/atelier with Debian's chromium.
# Screenshots go to BUILD_DIR/test-logs/screenshots.
# Usage: tests/browser/run.sh BUILD_DIR
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD_DIR="$(cd "$1" && pwd)"
cd "$HERE"
# npm ci only when the lock changed since the last install
stamp=node_modules/.atelier-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
fi
export ATELIER_BIN="$BUILD_DIR/atelier"
export ATELIER_SCREENSHOTS="$BUILD_DIR/test-logs/screenshots"
export ATELIER_CHROMIUM="${ATELIER_CHROMIUM:-/usr/bin/chromium}"
rm -rf "$ATELIER_SCREENSHOTS"
exec node --test --test-reporter=spec --test-concurrency=1 site.test.mjs

#!/usr/bin/env bash
# Install the Debian packages atelier needs to build, test, fuzz and bench.
# Fast when nothing is missing: dpkg-query is asked first, and apt-get update
# runs only when something must be installed. Works as root (CI) or via sudo.
set -euo pipefail

PACKAGES=(
    build-essential pkg-config cmake clang libclang-rt-14-dev clang-format
    libsodium-dev libsqlite3-dev libvips-dev libwebp-dev libzxcvbn-dev
    libpq-dev postgresql libcurl4-openssl-dev libcairo2-dev
    libmicrohttpd-dev libjansson-dev libcmocka-dev liboath-dev libqrencode-dev zlib1g-dev
    python3-aiosmtpd python3-pil python3-psycopg2 python3-pytest python3-pytest-xdist
    python3-requests python3-jsonschema
    poppler-utils netcat-openbsd wrk nginx-light zbar-tools librsvg2-bin openssl systemd curl
    chromium fonts-dejavu-core
    prometheus
)
# prometheus: for promtool alone (tests/api/test_995_metrics_complete.py checks
# /metrics and the alert rules of docs/OPERATIONS.md with it). Debian has no
# smaller package holding it: 19 MB to download, 94 MB installed (the whole
# Prometheus server; on a machine with systemd its service starts too).
# The browser tests (tests/browser) need node and npm: Debian's nodejs and
# npm unless the machine already has both (a nodejs from elsewhere carries
# its own npm, which Debian's npm package would conflict with).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    PACKAGES+=(nodejs npm)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    if [ "$status" != "installed" ]; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

echo "deps: installing ${missing[*]}" >&2

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "deps: missing packages (${missing[*]}) and neither root nor sudo is available" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"

# Verify: fail loudly rather than let a later build step fail obscurely.
still=()
for pkg in "${missing[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    [ "$status" = "installed" ] || still+=("$pkg")
done
if [ "${#still[@]}" -ne 0 ]; then
    echo "deps: still missing after install: ${still[*]}" >&2
    exit 1
fi

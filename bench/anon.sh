#!/usr/bin/env bash
# Benchmark of src/anon.c (MDAV + release figures) on the synthetic
# reference population (measurements-anonymization 5.1, with breasts, p = 38,
# k = 5): PLAIN and FAST at N = 10,000, FAST at N = 100,000. Each run is its
# own process so the peak RSS it prints is its own.
# Usage: bench/anon.sh [check]   ("check" adds brute-force DBRL at 10,000)
# Not part of the test suite; builds into a temporary directory only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CC="${CC:-cc}"
OUT="$(mktemp -d /tmp/anon-bench.XXXXXX)"
trap 'rm -rf "$OUT"' EXIT

"$CC" -std=c11 -O2 -D_GNU_SOURCE -Wall -Wextra -iquote "$ROOT/src" \
    "$ROOT/src/privacy/anon.c" "$ROOT/src/base/util.c" "$ROOT/bench/anon_bench.c" \
    -o "$OUT/anon_bench" -lm -lpthread

CHECK="${1:-}"
"$OUT/anon_bench" 10000 plain $CHECK
"$OUT/anon_bench" 10000 fast $CHECK
"$OUT/anon_bench" 100000 fast

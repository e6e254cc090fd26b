#!/usr/bin/env bash
# Benchmark of src/privacy/anon.c (MDAV + release figures) on the synthetic
# reference population (privacy/synth.c, measurements-anonymization 5.1,
# with breasts, p = 38, k = 5): PLAIN and FAST at N = 10,000, FAST at
# N = 100,000. Each run is its own process so the peak RSS it prints is its
# own.
# Usage: bench/anon.sh [check]   ("check" adds brute-force DBRL at N = 10,000)
#        BUILD=build-bench SIZE=10000 LARGE=100000 bench/anon.sh
# Builds the anon_bench target in $BUILD (default build-bench); not part of
# the test suite.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD="${BUILD:-build-bench}"
SIZE="${SIZE:-10000}"
LARGE="${LARGE:-100000}"
CHECK="${1:-}"

bench_init atelier-anon-bench
bench_cmake anon_bench
"$ROOT/$BUILD/anon_bench" "$SIZE" plain ${CHECK:+"$CHECK"}
"$ROOT/$BUILD/anon_bench" "$SIZE" fast ${CHECK:+"$CHECK"}
"$ROOT/$BUILD/anon_bench" "$LARGE" fast

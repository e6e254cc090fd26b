#!/usr/bin/env bash
# Benchmark of the drafting engine (issue 7), on this machine only:
#   warm: per design, the median of RUNS (default 2000) draft + SVG renders
#         in one process after RUNS/10 untimed ones, on cisMaleAdult38 (body,
#         trouser) and cisFemaleAdult36 (bodice) from the test fixtures;
#   cold: the median wall time of COLD (default 20) whole processes that
#         draft the body block as SVG to /dev/null: `atelier draft body
#         --measurements f.json` when build/atelier dispatches `draft`, and
#         in any case bench/draft_bench.c's stand-in main calling draft_cli.
# FreeSewing 4.10.2 on Node 20 (reference/pattern-drafting.md 1.4): 3-11 ms
# warm, 230-360 ms cold; the goal is 100x faster warm and under 10 ms cold.
# Usage: bench/draft.sh   (the draft_bench target, built with --as-needed, in
#        $BUILD, default build-draft-bench, $BUILD_TYPE, default Release)
#        RUNS=2000 COLD=20 bench/draft.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD="${BUILD:-build-draft-bench}"
BUILD_TYPE="${BUILD_TYPE:-Release}"
RUNS="${RUNS:-2000}"
COLD="${COLD:-20}"
CSV="$ROOT/tests/fixtures/freesewing-adult-sizes.csv"

bench_init atelier-draft-bench
bench_cmake atelier atelier-draft draft_bench
DB="$ROOT/$BUILD/draft_bench"

"$DB" warm "$CSV" "$RUNS"
"$DB" json "$CSV" cisMaleAdult38 >"$WORK/cisMaleAdult38.json"
"$DB" cold "$COLD" "$DB" cli body --measurements \
    "$WORK/cisMaleAdult38.json"
# the server binary (loads every library of the server) and the drafting
# executable (only cairo and jansson): same code, same output
"$DB" cold "$COLD" "$ROOT/$BUILD/atelier" draft body --measurements \
    "$WORK/cisMaleAdult38.json"
"$DB" cold "$COLD" "$ROOT/$BUILD/atelier-draft" body --measurements \
    "$WORK/cisMaleAdult38.json"
"$DB" cold "$COLD" /bin/true

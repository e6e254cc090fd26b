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
# Usage: bench/draft.sh   (Release build in $BUILD, default build-draft-bench)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-build-draft-bench}"
RUNS="${RUNS:-2000}"
COLD="${COLD:-20}"
CSV="$ROOT/tests/fixtures/freesewing-adult-sizes.csv"
WORK="$(mktemp -d /tmp/atelier-draft-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

echo "draft bench: building $BUILD (Release)"
cmake -S "$ROOT" -B "$ROOT/$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$ROOT/$BUILD" -j "$(nproc)" --target atelier_draft_cli atelier atelier-draft -- \
    --no-print-directory >/dev/null
# linked as any program embedding the engine would (docs/DRAFTING.md)
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_GNU_SOURCE -Wl,--as-needed -I "$ROOT/include" -iquote "$ROOT/src" \
    "$ROOT/bench/draft_bench.c" "$ROOT/$BUILD/libatelier_draft_cli.a" \
    "$ROOT/$BUILD/libatelier_draft.a" "$ROOT/$BUILD/libatelier_base.a" \
    $(pkg-config --libs cairo jansson) -lm -pthread -o "$WORK/draft_bench"

"$WORK/draft_bench" warm "$CSV" "$RUNS"
"$WORK/draft_bench" json "$CSV" cisMaleAdult38 >"$WORK/cisMaleAdult38.json"
"$WORK/draft_bench" cold "$COLD" "$WORK/draft_bench" cli body --measurements \
    "$WORK/cisMaleAdult38.json"
# the server binary (loads every library of the server) and the drafting
# executable (only cairo and jansson): same code, same output
"$WORK/draft_bench" cold "$COLD" "$ROOT/$BUILD/atelier" draft body --measurements \
    "$WORK/cisMaleAdult38.json"
"$WORK/draft_bench" cold "$COLD" "$ROOT/$BUILD/atelier-draft" body --measurements \
    "$WORK/cisMaleAdult38.json"
"$WORK/draft_bench" cold "$COLD" /bin/true

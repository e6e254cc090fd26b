#!/usr/bin/env bash
# Benchmark (not a test): the differentially private release's utility and
# cost on the project's body generator, the design's section 6 table rerun by
# this code (bench/dp_bench.c, src/privacy/dpmech.c).
#
#   quality  per n in 1,000 / 5,000 / 20,000 / 100,000 persons per stratum,
#            10 / 8 / 5 / 2 runs per stratum (the design's), both strata:
#            a fresh generator sample of the same size (the sampling-error
#            floor) and the release at rho 0.25, plus rho 0.1 and 1 at 5,000
#            and 20,000; one Markdown table;
#   cost     per n, one release of the stratum with breasts (p = 38) in a
#            fresh process: wall time of the noise, the model and the rows,
#            and the process's peak RSS.
#
# Noise from libsodium (real randomness, as in production); populations from
# rng.h seeded by SEED (random unless given; printed, so they can be drawn
# again; the noise cannot).
#
#   spread   (SPREAD=1: this alone) 1,000 releases of 1,000 persons per
#            stratum at rho 0.25, each judged on its own: the quantiles of
#            every figure an end-to-end test gates one release on
#            (docs/OPENDATA.md, "One release, not an average").
#
# Usage: bench/dp.sh                  (builds dp_bench in ./build-bench, RelWithDebInfo)
#        QUICK=1 bench/dp.sh          (2 / 2 / 1 / 1 runs: a smoke run, not for figures)
#        SPREAD=1 bench/dp.sh         (the spread table alone, about 5 minutes)
#        SEED=12345 BUILD=build bench/dp.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD="${BUILD:-build-bench}"
SEED="${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
if [ -n "${QUICK:-}" ]; then
    CELLS="1000:2:0.25 5000:2:0.25,0.1,1 20000:1:0.25,0.1,1 100000:1:0.25"
else
    CELLS="1000:10:0.25 5000:8:0.25,0.1,1 20000:5:0.25,0.1,1 100000:2:0.25"
fi

bench_init atelier-dp-bench
bench_cmake dp_bench
DPB="$ROOT/$BUILD/dp_bench"

if [ -n "${SPREAD:-}" ]; then
    "$DPB" spread --n 1000 --runs "${SPREAD_RUNS:-1000}" --seed "$SEED"
    exit 0
fi

echo "bench: $DPB, $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), ${BUILD_TYPE:-RelWithDebInfo}"
echo "bench: population rng seed $SEED (cells: $CELLS); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Averages over the runs of both strata; SD ratio [min, max] and the slope's (max) are the"
echo "extremes over all runs. mean err: |mean released - mean original| over columns, median /"
echo "max (mm); SD ratio: released / original; |Δr|: correlation error over column pairs, mean /"
echo "max; TV chest: 40 mm bins, synthetic rows / DP histogram; slope: |error| of d waist / d chest;"
echo "tail: % of rows above the originals' P99 (median column; ideal 1.0)."
echo
echo "| n / stratum | release | mean err mm | SD ratio | \|Δr\| mean / max | TV chest rows / hist | slope % | tail % |"
echo "|---|---|---|---|---|---|---|---|"
t0=$(date +%s)
for cell in $CELLS; do
    IFS=: read -r n runs rhos <<<"$cell"
    "$DPB" quality --n "$n" --runs "$runs" --rho "$rhos" --seed "$SEED" 2>>"$WORK/quality.err" || {
        cat "$WORK/quality.err" >&2
        exit 1
    }
done
t1=$(date +%s)
echo
echo "quality: $((t1 - t0)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$WORK/quality.err"
echo
echo "Cost of one release at rho 0.25, with breasts (p = 38), one fresh process per n; wall"
echo "seconds, the process's CPU seconds in brackets (on a shared machine the wall time"
echo "follows the others' load):"
echo
echo "| n | noise s | model s | rows s | total s | originals (floats) MiB | peak RSS before MiB | peak RSS after MiB |"
echo "|---|---|---|---|---|---|---|---|"
for cell in $CELLS; do
    n="${cell%%:*}"
    "$DPB" cost --n "$n" --seed "$SEED" 2>>"$WORK/cost.err" || {
        cat "$WORK/cost.err" >&2
        exit 1
    }
done
echo
echo "cost: load average $(cut -d' ' -f1-3 /proc/loadavg)"

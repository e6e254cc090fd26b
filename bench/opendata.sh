#!/usr/bin/env bash
# Benchmark (not a test): `atelier opendata build` on synthetic populations
# of 10,000 and 100,000 models, SQLite, a fresh data dir for each size.
#
#   1. `atelier populate --models N --seed S --data DIR` (timed);
#   2. `/usr/bin/time -v atelier opendata build --data DIR` with the defaults
#      (--k 5 --min-stratum 1000): wall time and peak RSS of the build alone;
#   3. prints the build's summary line and, from the stored release's
#      metadata, rows and gate figures per stratum.
#
# The goal (SPEC section 6 at scale): 100,000 models in under 60 s.
#
# Usage: bench/opendata.sh                 (builds ./build-bench, RelWithDebInfo)
#        ATELIER_BIN=/path/atelier bench/opendata.sh
#        SIZES="10000 100000" SEED=1 bench/opendata.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TIME=/usr/bin/time
SIZES="${SIZES:-10000 100000}"
SEED="${SEED:-1}"
GOAL_S="${GOAL_S:-60}"
BUILD="${BUILD:-build-bench}"

bench_need "$PY" "$TIME" bc
bench_init atelier-opendata-bench
bench_atelier

# "h:mm:ss" or "m:ss.ss" (GNU time's elapsed) -> seconds
elapsed_s() {
    awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }'
}

echo "bench: $BIN ($(nproc) CPUs), seed $SEED, sizes: $SIZES"
status=0
for N in $SIZES; do
    DATA="$WORK/data-$N"
    mkdir -p "$DATA"
    echo
    echo "== $N models"
    t0=$(date +%s.%N)
    "$BIN" populate --models "$N" --seed "$SEED" --data "$DATA" >/dev/null 2>"$WORK/populate.err" || {
        cat "$WORK/populate.err" >&2
        exit 1
    }
    t1=$(date +%s.%N)
    printf 'populate: %.2f s (%s)\n' "$(echo "$t1 - $t0" | bc -l)" \
        "$BIN populate --models $N --seed $SEED --data DIR"
    echo "build: $TIME -v $BIN opendata build --data DIR"
    rc=0
    "$TIME" -v -o "$WORK/time-$N" "$BIN" opendata build --data "$DATA" \
        >"$WORK/out-$N" 2>"$WORK/err-$N" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "bench: the build exited $rc:" >&2
        cat "$WORK/err-$N" "$WORK/time-$N" >&2
        status=1
        continue
    fi
    wall=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time-$N" | elapsed_s)
    rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$WORK/time-$N")
    cpu=$(sed -n 's/^[[:space:]]*Percent of CPU this job got: //p' "$WORK/time-$N")
    cat "$WORK/out-$N"
    printf 'build wall %.2f s, peak RSS %.1f MiB, CPU %s, database %s\n' "$wall" \
        "$(echo "$rss / 1024" | bc -l)" "$cpu" "$(du -sh "$DATA/atelier.db" | cut -f1)"
    "$PY" - "$DATA/atelier.db" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
meta = json.loads(db.execute("SELECT meta FROM opendata_releases").fetchone()[0])
print("release:", json.dumps(meta["selection"]))
for name, s in meta["strata"].items():
    if not s["published"]:
        print(f"  {name}: not published ({s['reason']})")
        continue
    f = s["figures"]
    print(f"  {name}: rows {s['rows']}, groups {f['groups']}, min_group {f['min_group']}, "
          f"DBRL {f['record_linkage_pct']:.2f} %, partial {f['partial_knowledge_linkage_pct']:.2f} %, "
          f"SDID {f['interval_disclosure_pct']:.2f} %, IL {f['information_loss_pct']:.2f} %, "
          f"corr {f['correlation_change']:.4f}, mean diff {f['max_mean_difference']:.3f} mm")
EOF
    if [ "$N" -ge 100000 ]; then
        if awk -v w="$wall" -v g="$GOAL_S" 'BEGIN { exit !(w < g) }'; then
            echo "goal: $N models in ${wall} s < ${GOAL_S} s"
        else
            echo "goal MISSED: $N models in ${wall} s >= ${GOAL_S} s"
            status=1
        fi
    fi
    rm -rf "$DATA"
done
exit $status

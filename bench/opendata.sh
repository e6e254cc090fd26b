#!/usr/bin/env bash
# Benchmark (not a test): the differentially private open data build on
# synthetic populations of 100,000 and 1,000,000 models, SQLite, a fresh data
# dir for each size.
#
#   1. `/usr/bin/time -v atelier populate --models N --seed S --data DIR`:
#      wall time and peak RSS of the population alone;
#   2. `/usr/bin/time -v atelier opendata build --ignore-cadence --data DIR`
#      with the defaults (rho 0.25, min stratum 1000): wall time, peak RSS
#      and CPU of the build alone;
#   3. the build's summary line and, from the stored release's metadata, the
#      noisy counts and per stratum the rows and the model's factors (DP
#      outputs only: the release holds nothing else).
#
# Goals: 100,000 models built in under 10 s and 200 MB peak RSS; 1,000,000
# models populated and built in under 2 minutes together. A missed goal is
# reported and makes the exit status 1 (the other sizes still run).
#
# Usage: bench/opendata.sh                 (builds ./build-bench, RelWithDebInfo)
#        ATELIER_BIN=/path/atelier bench/opendata.sh
#        SIZES="10000 100000" SEED=1 bench/opendata.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TIME=/usr/bin/time
SIZES="${SIZES:-100000 1000000}"
SEED="${SEED:-1}"
GOAL_BUILD_S="${GOAL_BUILD_S:-10}"     # at 100,000 models
GOAL_BUILD_MB="${GOAL_BUILD_MB:-200}"   # at 100,000 models, 10^6 bytes
GOAL_TOTAL_S="${GOAL_TOTAL_S:-120}"    # populate + build at 1,000,000 models
BUILD="${BUILD:-build-bench}"

bench_need "$PY" "$TIME"
bench_init atelier-opendata-bench
bench_atelier

# /usr/bin/time -v output -> "wall_s rss_mib rss_mb cpu_pct user_s sys_s" (MiB 2^20 bytes, MB
# 10^6). On a shared machine wall time follows the others' load; user + sys
# is the work itself.
time_fields() {
    awk -F': ' '
        /Elapsed \(wall clock\) time/ {
            n = split($2, t, ":")
            wall = n == 3 ? t[1] * 3600 + t[2] * 60 + t[3] : t[1] * 60 + t[2]
        }
        /Maximum resident set size/ { kib = $2 }
        /Percent of CPU this job got/ { cpu = $2 }
        /User time \(seconds\)/ { user = $2 }
        /System time \(seconds\)/ { sys = $2 }
        END { printf "%.2f %.1f %.1f %s %.2f %.2f\n", wall, kib / 1024, kib * 1024 / 1e6, cpu, user, sys }' "$1"
}

# run NAME COMMAND...: /usr/bin/time -v, output in $WORK/NAME.{out,err,time}
run_timed() {
    local name="$1" rc=0
    shift
    "$TIME" -v -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "bench: $name exited $rc:" >&2
        cat "$WORK/$name.err" "$WORK/$name.time" >&2
        return 1
    fi
}

below() { # A B: A < B
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'
}

echo "bench: $BIN, $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), seed $SEED, sizes: $SIZES"
echo "bench: load average $(cut -d' ' -f1-3 /proc/loadavg) before the first size"
status=0
for N in $SIZES; do
    DATA="$WORK/data-$N"
    mkdir -p "$DATA"
    echo
    echo "== $N models"
    run_timed populate "$BIN" populate --models "$N" --seed "$SEED" --data "$DATA" || {
        status=1
        continue
    }
    read -r pwall prss pmb pcpu puser psys < <(time_fields "$WORK/populate.time")
    printf 'populate: wall %.2f s (CPU %s: user %.2f s, sys %.2f s), peak RSS %.1f MiB (%.1f MB)  (%s)\n' \
        "$pwall" "$pcpu" "$puser" "$psys" "$prss" "$pmb" \
        "$TIME -v $BIN populate --models $N --seed $SEED --data DIR"
    run_timed build "$BIN" opendata build --ignore-cadence --data "$DATA" || {
        status=1
        continue
    }
    read -r bwall brss bmb bcpu buser bsys < <(time_fields "$WORK/build.time")
    printf 'build:    wall %.2f s (CPU %s: user %.2f s, sys %.2f s), peak RSS %.1f MiB (%.1f MB)  (%s)\n' \
        "$bwall" "$bcpu" "$buser" "$bsys" "$brss" "$bmb" \
        "$TIME -v $BIN opendata build --ignore-cadence --data DIR"
    echo "database: $(du -sh "$DATA" | cut -f1); load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    cat "$WORK/build.out"
    "$PY" - "$DATA/atelier.db" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
row = db.execute("SELECT meta, csv FROM opendata_releases").fetchone()
meta = json.loads(row[0])
pr = meta["privacy"]
# The JSON document is written from the metadata and the CSV on request
# (src/privacy/opendata.c: opendata_json): its size, counted the same way.
lines = bytes(row[1]).decode().splitlines()
names = lines[0].split(",")
jsonn = len('{"release":') + len(row[0]) + len(',"rows":[') + len("]}") + max(len(lines) - 2, 0)
for line in lines[1:]:
    jsonn += 2 + sum(len(names[i]) + 3 + len(v) + (1 if i else 0)
                     for i, v in enumerate(line.split(",")) if v)
print(f"release: rho {pr['rho']} per person, epsilon {pr['epsilon']['canonne_kamath_steinke']:.2f} "
      f"at delta {pr['epsilon']['delta']:g}; noisy counts {json.dumps(meta['noisy_counts'])}; "
      f"CSV {len(row[1]) / 1048576:.1f} MiB stored, JSON {jsonn / 1048576:.1f} MiB as served, "
      f"metadata {len(row[0]) / 1024:.0f} KiB")
for name, s in meta["strata"].items():
    if not s["published"]:
        print(f"  {name}: not published ({s['reason']})")
        continue
    print(f"  {name}: noisy count {s['noisy_count']}, rows {s['rows']}, factors {s['model']['factors']}")
EOF
    if [ "$N" -ge 1000000 ]; then
        total=$(awk -v a="$pwall" -v b="$bwall" 'BEGIN { printf "%.2f", a + b }')
        if below "$total" "$GOAL_TOTAL_S"; then
            echo "goal met: populate + build of $N models in $total s < $GOAL_TOTAL_S s"
        else
            echo "goal MISSED: populate + build of $N models in $total s >= $GOAL_TOTAL_S s"
            status=1
        fi
    elif [ "$N" -ge 100000 ]; then
        if below "$bwall" "$GOAL_BUILD_S" && below "$bmb" "$GOAL_BUILD_MB"; then
            echo "goal met: build of $N models in $bwall s < $GOAL_BUILD_S s, $bmb MB < $GOAL_BUILD_MB MB"
        else
            echo "goal MISSED: build of $N models in $bwall s (goal < $GOAL_BUILD_S s), $bmb MB (goal < $GOAL_BUILD_MB MB)"
            status=1
        fi
    fi
    rm -rf "$DATA"
done
exit $status

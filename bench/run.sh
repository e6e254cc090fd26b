#!/usr/bin/env bash
# Benchmark: atelier's GET /healthz (SQLite, fresh data dir) against nginx
# answering the same JSON from its config, with wrk on this machine only.
#   3 interleaved rounds of `wrk -t1 -c64 -d10s --latency` per server, after
#   a 1 s warm-up; prints requests/s, p99 and the atelier/nginx ratio per round
#   and their medians, and atelier's memory (VmRSS / VmHWM).
# Usage: bench/run.sh   (or make bench). Not part of the test suite.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=/usr/bin/python3
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
BUILD="${BUILD:-build}"
NGINX="${NGINX:-/usr/sbin/nginx}"

for tool in wrk "$NGINX" "$PY"; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "bench: $tool not found (run scripts/deps.sh)" >&2
        exit 1
    }
done

echo "bench: building $BUILD"
make -C "$ROOT" --no-print-directory build BUILD="$BUILD" >/dev/null
BIN="$ROOT/$BUILD/atelier"

WORK="$(mktemp -d /tmp/atelier-bench.XXXXXX)"
ATELIER_PID=""
NGINX_PID=""

stop_pid() {
    local pid="$1"
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    stop_pid "$ATELIER_PID"
    stop_pid "$NGINX_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

wait_http() { # URL PID NAME
    "$PY" - "$1" "$2" "$3" <<'PYEOF'
import os, sys, time, urllib.request
url, pid, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + 15
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(f"bench: {name} exited before answering")
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.05)
sys.exit(f"bench: {name} did not answer {url} within 15 s")
PYEOF
}

# ---- start both servers ----
A_PORT="$(free_port)"
mkdir -p "$WORK/data"
"$BIN" serve --listen "127.0.0.1:$A_PORT" --data "$WORK/data" \
    >"$WORK/atelier.out" 2>"$WORK/atelier.err" </dev/null &
ATELIER_PID=$!
wait_http "http://127.0.0.1:$A_PORT/healthz" "$ATELIER_PID" atelier || {
    cat "$WORK/atelier.err" >&2
    exit 1
}

N_PORT="$(free_port)"
mkdir -p "$WORK/nginx"
sed "s#@DIR@#$WORK/nginx#g; s#@PORT@#$N_PORT#g" "$ROOT/bench/nginx.conf" >"$WORK/nginx/nginx.conf"
"$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" \
    >"$WORK/nginx.out" 2>&1 </dev/null &
NGINX_PID=$!
wait_http "http://127.0.0.1:$N_PORT/" "$NGINX_PID" nginx || {
    cat "$WORK/nginx.out" "$WORK/nginx/error.log" >&2 || true
    exit 1
}

A_URL="http://127.0.0.1:$A_PORT/healthz"
N_URL="http://127.0.0.1:$N_PORT/"

echo "bench: atelier pid $ATELIER_PID on $A_URL; nginx pid $NGINX_PID on $N_URL"
echo "bench: warm-up 1 s each"
wrk -t1 -c"$CONNECTIONS" -d1s "$A_URL" >/dev/null
wrk -t1 -c"$CONNECTIONS" -d1s "$N_URL" >/dev/null

# run_wrk URL OUTFILE
run_wrk() {
    wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$1" >"$2"
}

for i in $(seq 1 "$ROUNDS"); do
    echo "bench: round $i/$ROUNDS"
    run_wrk "$A_URL" "$WORK/atelier.$i.txt"
    run_wrk "$N_URL" "$WORK/nginx.$i.txt"
done

rss="$(grep -E '^(VmRSS|VmHWM):' "/proc/$ATELIER_PID/status" | tr -s ' \t' ' ' | tr '\n' ' ')"

"$PY" - "$WORK" "$ROUNDS" "$rss" <<'PYEOF'
import re, statistics, sys

work, rounds, rss = sys.argv[1], int(sys.argv[2]), sys.argv[3]
UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}

def parse(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))
    m = re.search(r"^\s*99%\s+([0-9.]+)(us|ms|s)\s*$", text, re.M)
    p99 = float(m.group(1)) * UNIT[m.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errs = re.search(r"Socket errors:.*", text)
    return rps, p99, int(bad.group(1)) if bad else 0, errs.group(0) if errs else ""

print()
print(f"{'round':>5} {'atelier req/s':>14} {'p99 ms':>8} {'nginx req/s':>12} {'p99 ms':>8} {'ratio':>7}")
ratios, a_rps, n_rps, a_p99, n_p99 = [], [], [], [], []
notes = []
for i in range(1, rounds + 1):
    a = parse(f"{work}/atelier.{i}.txt")
    n = parse(f"{work}/nginx.{i}.txt")
    ratio = a[0] / n[0] if n[0] else float("nan")
    ratios.append(ratio); a_rps.append(a[0]); n_rps.append(n[0]); a_p99.append(a[1]); n_p99.append(n[1])
    print(f"{i:>5} {a[0]:>14.0f} {a[1]:>8.2f} {n[0]:>12.0f} {n[1]:>8.2f} {ratio:>7.3f}")
    for name, r in (("atelier", a), ("nginx", n)):
        if r[2]:
            notes.append(f"round {i} {name}: {r[2]} non-2xx responses")
        if r[3]:
            notes.append(f"round {i} {name}: {r[3]}")
med = statistics.median
print(f"{'median':>5} {med(a_rps):>14.0f} {med(a_p99):>8.2f} {med(n_rps):>12.0f} {med(n_p99):>8.2f} {med(ratios):>7.3f}")
print()
print(f"atelier memory after the runs: {rss.strip()}")
for n in notes:
    print("note:", n)
PYEOF

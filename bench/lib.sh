# shellcheck shell=bash
# bench/lib.sh - the scaffolding every bench script shares. Sourced, not run:
#     . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# It sets ROOT (the checkout) and PY (/usr/bin/python3) and offers:
#
#   bench_need TOOL...          exit 1 unless every TOOL (name or path) runs
#   bench_init NAME             WORK = a fresh /tmp/NAME.XXXXXX; on exit every
#                               process still tracked is stopped, the hooks
#                               run (in order) and WORK is removed; INT and
#                               TERM exit 130 and 143 through the same path
#   bench_at_exit COMMAND       one more hook (eval'd at exit, before WORK goes)
#   bench_cmake TARGET...       configure $ROOT/$BUILD (CMAKE_BUILD_TYPE
#                               $BUILD_TYPE, default RelWithDebInfo) and build
#                               those targets; the log is shown on failure
#   bench_atelier               BIN = $ATELIER_BIN, or the atelier target built
#                               by bench_cmake
#   bench_track PID / bench_stop PID / bench_wait PID
#                               stop PID at exit / now (TERM, up to 20 s,
#                               KILL) / wait for it to end (its status)
#   bench_free_port             a free TCP port on 127.0.0.1
#   bench_wait_http URL PID NAME [SECONDS]
#                               wait (default 30 s) for a 200 from URL while
#                               PID lives
#   bench_serve LOG DATA [ARG...]
#                               `$BIN serve` on a free port of 127.0.0.1 with
#                               --data DATA --log-level warn ARG..., every
#                               ATELIER_* variable removed (defaults apply);
#                               stdout/stderr appended to LOG.out/LOG.err;
#                               waits for /healthz; sets SERVER_PID,
#                               SERVER_PORT, SERVER_BASE, SERVER_METRICS (tracked)
#   bench_clean_env             BENCH_ENV = (env -u ATELIER_...) to prefix a
#                               command with, as bench_serve does
#
# Only loopback addresses are used. Not part of the test suite.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=/usr/bin/python3
BENCH_PIDS=""
BENCH_HOOKS=()
WORK=""

bench_need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || {
            echo "bench: $tool not found (run scripts/deps.sh)" >&2
            exit 1
        }
    done
}

bench_stop() { # PID
    local pid="$1"
    [ -n "$pid" ] || return 0
    bench_untrack "$pid"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 200); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

bench_track() { # PID
    BENCH_PIDS="$BENCH_PIDS $1"
}

bench_untrack() { # PID
    BENCH_PIDS="$(echo " $BENCH_PIDS " | sed "s/ $1 / /g")"
}

bench_wait() { # PID
    local rc=0
    wait "$1" || rc=$?
    bench_untrack "$1"
    return "$rc"
}

bench_at_exit() { # COMMAND
    BENCH_HOOKS+=("$1")
}

bench_cleanup() {
    local pid hook
    # the last started first: servers before what they depend on
    for pid in $(echo "$BENCH_PIDS" | tr ' ' '\n' | tac); do
        bench_stop "$pid"
    done
    for hook in "${BENCH_HOOKS[@]}"; do
        eval "$hook" || true
    done
    [ -n "$WORK" ] && rm -rf "$WORK"
    return 0
}

bench_init() { # NAME
    WORK="$(mktemp -d "/tmp/$1.XXXXXX")"
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

bench_cmake() { # TARGET...
    local build="$ROOT/${BUILD:?bench: BUILD is not set}" log="$WORK/cmake.log"
    echo "bench: building $* in $build (${BUILD_TYPE:-RelWithDebInfo})"
    if ! { cmake -S "$ROOT" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" &&
        cmake --build "$build" -j "$(nproc)" --target "$@" -- --no-print-directory; } >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        exit 1
    fi
}

bench_atelier() {
    if [ -n "${ATELIER_BIN:-}" ]; then
        BIN="$ATELIER_BIN"
    else
        bench_cmake atelier
        BIN="$ROOT/$BUILD/atelier"
    fi
    [ -x "$BIN" ] || {
        echo "bench: $BIN is not an executable" >&2
        exit 1
    }
}

bench_free_port() {
    "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

bench_wait_http() { # URL PID NAME [SECONDS]
    "$PY" - "$1" "$2" "$3" "${4:-30}" <<'PYEOF'
import os, sys, time, urllib.request
url, pid, name, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
deadline = time.monotonic() + limit
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
sys.exit(f"bench: {name} did not answer {url} within {limit:g} s")
PYEOF
}

bench_clean_env() {
    local v
    BENCH_ENV=(env)
    while read -r v; do BENCH_ENV+=(-u "$v"); done < <(compgen -e | grep '^ATELIER_' || true)
}

bench_serve() { # LOG DATA [ARG...]
    local log="$1" data="$2"
    shift 2
    bench_clean_env
    SERVER_PORT="$(bench_free_port)"
    SERVER_BASE="http://127.0.0.1:$SERVER_PORT"
    SERVER_METRICS="$SERVER_BASE" # a binary without --metrics-listen serves them publicly
    local metrics=()
    # not `--help | grep -q`: under pipefail grep's early exit kills the
    # writer with SIGPIPE, the pipeline fails, and /metrics went unasked
    local help
    help="$("$BIN" serve --help 2>&1 || true)"
    if [[ $help == *--metrics-listen* ]]; then
        local mport
        mport="$(bench_free_port)"
        SERVER_METRICS="http://127.0.0.1:$mport"
        metrics=(--metrics-listen "127.0.0.1:$mport")
    fi
    "${BENCH_ENV[@]}" "$BIN" serve --listen "127.0.0.1:$SERVER_PORT" --data "$data" \
        --log-level warn "${metrics[@]}" "$@" >>"$log.out" 2>>"$log.err" </dev/null &
    SERVER_PID=$!
    bench_track "$SERVER_PID"
    bench_wait_http "$SERVER_BASE/healthz" "$SERVER_PID" atelier || {
        tail -n 20 "$log.err" >&2
        exit 1
    }
}

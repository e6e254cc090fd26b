#!/usr/bin/env bash
# Run every test of atelier against one build directory:
#   1. ctest (C unit tests), with ATELIER_TEST_PG_URL set to a throwaway cluster
#   2. API tests (pytest) against the real binary on SQLite
#   3. API tests (pytest) against the real binary on PostgreSQL
# One PostgreSQL cluster is started for the whole run and always stopped.
# Usage: scripts/test.sh BUILD_DIR
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$(cd "$1" && pwd)"
PY=/usr/bin/python3 # Debian's Python: the one with python3-pytest/requests/aiosmtpd
ATELIER_BIN="$BUILD_DIR/atelier"

section() {
    printf '\n======== %s ========\n' "$*"
}

# ---- sanitizers -----------------------------------------------------------
case "$(basename "$BUILD_DIR")" in
*asan*) SANITIZE=ON ;;
esac
if [ "${SANITIZE:-OFF}" = "ON" ]; then
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    echo "test.sh: sanitizer build: ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS"
fi

export PYTHONDONTWRITEBYTECODE=1
export ATELIER_BIN

LOGDIR="$(mktemp -d /tmp/atelier-test-logs.XXXXXX)"
PGDIR=""
PG_URL=""

cleanup() {
    local rc=$?
    if [ -n "$PGDIR" ]; then
        "$ROOT/scripts/pg.sh" stop "$PGDIR" >/dev/null 2>&1 || true
        rm -rf "$PGDIR" || true
    fi
    rm -rf "$LOGDIR" || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- bookkeeping: per part status and test counts -------------------------
TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0
PART_LINES=()

# record NAME RC LOGFILE KIND(ctest|pytest)
record() {
    local name="$1" rc="$2" log="$3" kind="$4"
    local passed=0 failed=0 skipped=0 line
    if [ "$kind" = ctest ]; then
        # "100% tests passed, 0 tests failed out of 7"
        line="$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)"
        if [ -n "$line" ]; then
            local total
            failed="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
            total="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")"
            passed=$((total - failed))
        fi
        # ctest counts skipped tests (exit code 77 / SKIP_RETURN_CODE) as passed.
        skipped="$(grep -cE '\*\*\*Skipped' "$log" || true)"
        passed=$((passed - skipped < 0 ? 0 : passed - skipped))
    else
        # "3 failed, 40 passed, 1 skipped in 12.34s"
        line="$(grep -E '^=*[ ]*([0-9]+ (passed|failed|skipped|errors?|xfailed|xpassed|deselected|warnings?)(, )?)+.* in [0-9.]+s' "$log" | tail -n 1 || true)"
        if [ -n "$line" ]; then
            passed="$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)"
            failed="$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)"
            local errors
            errors="$(grep -oE '[0-9]+ errors?' <<<"$line" | grep -oE '[0-9]+' || echo 0)"
            failed=$((failed + errors))
            skipped="$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || echo 0)"
        fi
    fi
    # A failing part must never be summed as all-green (crash, no summary...).
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1
    fi
    TOTAL_PASSED=$((TOTAL_PASSED + passed))
    TOTAL_FAILED=$((TOTAL_FAILED + failed))
    TOTAL_SKIPPED=$((TOTAL_SKIPPED + skipped))
    local verdict=ok
    [ "$rc" -eq 0 ] || verdict="FAILED (exit $rc)"
    PART_LINES+=("$(printf '%-18s %-16s passed %d, failed %d, skipped %d' \
        "$name" "$verdict" "$passed" "$failed" "$skipped")")
}

# run_part NAME KIND LOGFILE cmd...   (output goes to the terminal and the log)
run_part() {
    local name="$1" kind="$2" log="$3"
    shift 3
    local rc=0
    set +e
    "$@" 2>&1 | tee "$log"
    rc="${PIPESTATUS[0]}"
    set -e
    record "$name" "$rc" "$log" "$kind"
}

free_port() {
    "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# ---- preconditions --------------------------------------------------------
if [ ! -x "$ATELIER_BIN" ]; then
    echo "test.sh: $ATELIER_BIN does not exist; build first (make build)" >&2
    exit 1
fi

# ---- PostgreSQL -----------------------------------------------------------
section "PostgreSQL: starting a throwaway cluster"
PGDIR="$(mktemp -d /tmp/atpg.XXXXXX)"
PG_PORT="$(free_port)"
set +e
PG_URL="$("$ROOT/scripts/pg.sh" start "$PGDIR" "$PG_PORT" 2>"$LOGDIR/pg.err" | tail -n 1)"
pg_rc=$?
set -e
if [ "$pg_rc" -ne 0 ] || [[ "$PG_URL" != postgresql://* ]]; then
    cat "$LOGDIR/pg.err" >&2 || true
    echo "test.sh: PostgreSQL did not start (exit $pg_rc, output '$PG_URL')" >&2
    PG_URL=""
    record "postgres-start" 1 /dev/null pytest
else
    echo "PostgreSQL at $PG_URL (data in $PGDIR)"
fi

# ---- 1. unit tests --------------------------------------------------------
section "ctest (C unit tests) in $BUILD_DIR"
CTEST_ENV=(env -u ATELIER_TEST_PG_URL)
[ -z "$PG_URL" ] || CTEST_ENV=(env ATELIER_TEST_PG_URL="$PG_URL")
run_part "ctest" ctest "$LOGDIR/ctest.log" \
    "${CTEST_ENV[@]}" ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 300

# ---- 2. API tests on SQLite -----------------------------------------------
section "API tests (pytest), backend sqlite"
run_part "api-sqlite" pytest "$LOGDIR/api-sqlite.log" \
    env -u ATELIER_TEST_PG_URL ATELIER_TEST_BACKEND=sqlite ATELIER_BIN="$ATELIER_BIN" \
    "$PY" -m pytest -q -ra -p no:cacheprovider --rootdir "$ROOT" "$ROOT/tests/api"

# ---- 3. API tests on PostgreSQL -------------------------------------------
section "API tests (pytest), backend postgres"
if [ -n "$PG_URL" ]; then
    run_part "api-postgres" pytest "$LOGDIR/api-postgres.log" \
        env ATELIER_TEST_BACKEND=postgres ATELIER_TEST_PG_URL="$PG_URL" \
        ATELIER_BIN="$ATELIER_BIN" \
        "$PY" -m pytest -q -ra -p no:cacheprovider --rootdir "$ROOT" "$ROOT/tests/api"
else
    echo "test.sh: skipped: PostgreSQL is not running (counted as a failure)"
    record "api-postgres" 1 /dev/null pytest
fi

# ---- summary --------------------------------------------------------------
section "summary ($(basename "$BUILD_DIR"))"
for l in "${PART_LINES[@]}"; do
    echo "$l"
done
if [ "$TOTAL_SKIPPED" -gt 0 ]; then
    echo "test.sh: $TOTAL_PASSED passed, $TOTAL_FAILED failed, $TOTAL_SKIPPED skipped"
else
    echo "test.sh: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
fi
[ "$TOTAL_FAILED" -eq 0 ]

#!/usr/bin/env bash
# Benchmark (not a test): the retention sweeper erasing 100,000 inactive
# accounts on SQLite while the API serves authenticated reads.
#
#   1. a fresh data dir; `atelier serve` (SQLite) creates the schema and the
#      key; one live account signs up, confirms (link from the outbox) and
#      keeps its session token;
#   2. the server is stopped and N (default 100,000) confirmed accounts whose
#      last login is 400 days old are inserted straight into atelier.db with
#      Python's sqlite3 (BEGIN IMMEDIATE, batches of 10,000): unique random
#      ids, usernames, 32-byte email_lookup; random bytes as email_sealed (the
#      sweeper erases without opening them);
#   3. the server is started again. It runs with --clock-offset -60 days so
#      that its own hourly sweeper (first run 10 s after start, as of its
#      clock) leaves those accounts to the measured `atelier sweep`; request
#      handling does not depend on the clock;
#   4. baseline: `wrk -t1 -c16 -d20s --latency` on GET /v1/account with the
#      live session (a wrk Lua script sets the Authorization header);
#   5. the same wrk run again, and 1 s into it `atelier sweep` (as of the
#      real time) against the running server's data dir;
#   6. prints the sweep's own report ("ms", "accounts_erased"), its wall
#      time, and wrk's requests/s, p50 and p99 with and without the sweep.
#
# Usage: bench/sweep.sh            (builds ./build-bench, RelWithDebInfo)
#        ATELIER_BIN=/path/atelier bench/sweep.sh
#        ACCOUNTS=100000 DURATION=20s CONNECTIONS=16 SWEEP_DELAY=1
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ACCOUNTS="${ACCOUNTS:-100000}"
DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-16}"
SWEEP_DELAY="${SWEEP_DELAY:-1}"
BUILD="${BUILD:-build-bench}"
OFFSET_S=$((-60 * 86400))

bench_need wrk "$PY"
bench_init atelier-sweep-bench
bench_atelier
DATA="$WORK/data"

# ---- 1. schema, key and the live account ----
mkdir -m 0700 "$DATA"
bench_serve "$WORK/atelier" "$DATA"
echo "bench: atelier $BIN, data $DATA"
TOKEN="$("$PY" - "$SERVER_BASE" "$DATA/outbox" <<'PYEOF'
import email as email_pkg, email.policy, json, os, re, secrets, sys, time, urllib.request
base, outbox = sys.argv[1], sys.argv[2]

def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read() or b"{}")

tag = secrets.token_hex(4)
email = f"live.{tag}@example.org"
password = "Vq7#" + secrets.token_urlsafe(12) + "-zT9"
status, _ = post("/v1/signup", {"email": email, "username": f"live_{tag}", "password": password})
assert status == 202, status
deadline = time.monotonic() + 15
token = None
while token is None and time.monotonic() < deadline:
    for name in os.listdir(outbox) if os.path.isdir(outbox) else []:
        if not name.endswith(".eml"):
            continue  # a hidden .tmp being written
        msg = email_pkg.message_from_bytes(open(os.path.join(outbox, name), "rb").read(),
                                           policy=email_pkg.policy.default)
        if email in str(msg.get("To", "")):
            m = re.search(r"token=([A-Za-z0-9_-]{43})", msg.get_body(("plain",)).get_content())
            if m:
                token = m.group(1)
    time.sleep(0.05)
assert token, "no confirmation mail"
status, body = post("/v1/confirm", {"token": token, "password": password})
assert status == 200, status
print(body["token"])
PYEOF
)"
bench_stop "$SERVER_PID"

# ---- 2. the inactive accounts ----
echo "bench: inserting $ACCOUNTS accounts last seen 400 days ago"
"$PY" - "$DATA/atelier.db" "$ACCOUNTS" <<'PYEOF'
import os, secrets, sqlite3, sys, time
path, n = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(path, isolation_level=None, timeout=30)
old = int(time.time()) - 400 * 86400
fake_hash = "$argon2id$v=19$m=19456,t=2,p=1$" + "A" * 22 + "$" + "B" * 43
t0 = time.monotonic()
batch = 10000
for start in range(0, n, batch):
    con.execute("BEGIN IMMEDIATE")
    con.executemany(
        "INSERT INTO accounts (id, email_lookup, email_sealed, username_lookup, username_sealed,"
        " password_hash, created_at, updated_at, last_login_at, retired_username)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, '#' || ?1)",
        ((secrets.token_urlsafe(16), os.urandom(32), os.urandom(72), os.urandom(32), os.urandom(60),
          fake_hash, old, old, old) for i in range(start, min(n, start + batch))))
    con.execute("COMMIT")
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
total = con.execute("SELECT count(*) FROM accounts").fetchone()[0]
con.close()
print(f"bench: {n} inserted in {time.monotonic() - t0:.1f} s; {total} accounts in the database")
PYEOF

# ---- 3. the server again ----
bench_serve "$WORK/atelier" "$DATA" --clock-offset "$OFFSET_S"
URL="$SERVER_BASE/v1/account"
cat >"$WORK/auth.lua" <<EOF
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer $TOKEN"
EOF
code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL" 2>/dev/null || true)"
if [ "$code" != "200" ] && [ -n "$code" ]; then
    echo "bench: GET /v1/account answered $code with the live token" >&2
    exit 1
fi

run_wrk() { # OUTFILE
    wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/auth.lua" "$URL" >"$1"
}

echo "bench: warm-up 2 s"
wrk -t1 -c"$CONNECTIONS" -d2s -s "$WORK/auth.lua" "$URL" >/dev/null

# ---- 4. baseline ----
echo "bench: baseline wrk -t1 -c$CONNECTIONS -d$DURATION --latency GET /v1/account"
run_wrk "$WORK/wrk.base.txt"

# ---- 5. the same with the sweep running ----
echo "bench: again, with \`atelier sweep\` starting ${SWEEP_DELAY} s in"
run_wrk "$WORK/wrk.sweep.txt" &
WRK_PID=$!
bench_track "$WRK_PID"
sleep "$SWEEP_DELAY"
s0="$(date +%s.%N)"
bench_clean_env
"${BENCH_ENV[@]}" "$BIN" sweep --data "$DATA" --log-level warn >"$WORK/sweep.json" 2>"$WORK/sweep.err"
s1="$(date +%s.%N)"
bench_wait "$WRK_PID"

left="$("$PY" -c 'import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(c.execute("SELECT count(*) FROM accounts").fetchone()[0])' "$DATA/atelier.db")"
wal=0
[ -f "$DATA/atelier.db-wal" ] && wal="$(stat -c %s "$DATA/atelier.db-wal")"

# ---- 6. report ----
"$PY" - "$WORK" "$s0" "$s1" "$SWEEP_DELAY" "$DURATION" "$left" "$wal" "$ACCOUNTS" <<'PYEOF'
import json, re, sys
work, s0, s1, delay, duration, left, wal, n = sys.argv[1:9]
UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}

def parse(path):
    text = open(path).read()
    out = {"rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))}
    for p in ("50", "75", "90", "99"):
        m = re.search(rf"^\s*{p}%\s+([0-9.]+)(us|ms|s)\s*$", text, re.M)
        out[p] = float(m.group(1)) * UNIT[m.group(2)]
    m = re.search(r"(\d+) requests in", text)
    out["requests"] = int(m.group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    out["non2xx"] = int(bad.group(1)) if bad else 0
    errs = re.search(r"Socket errors:.*", text)
    out["errors"] = errs.group(0) if errs else ""
    return out

rep = json.loads(open(f"{work}/sweep.json").read().strip().splitlines()[-1])
wall = float(s1) - float(s0)
base, during = parse(f"{work}/wrk.base.txt"), parse(f"{work}/wrk.sweep.txt")
print()
print(f"sweep: accounts_erased={rep['accounts_erased']} of {n}, report ms={rep['ms']:.1f}, "
      f"wall {wall:.2f} s (process start to exit), started {delay} s into a {duration} wrk run")
print(f"       accounts left {left} (the live one), atelier.db-wal after the sweep {wal} bytes")
print()
print(f"{'GET /v1/account':<22} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
for name, r in (("baseline", base), ("during the sweep", during)):
    print(f"{name:<22} {r['rps']:>9.0f} {r['50']:>8.2f} {r['90']:>8.2f} {r['99']:>8.2f} {r['non2xx']:>8}")
    if r["errors"]:
        print(f"  {name}: {r['errors']}")
PYEOF

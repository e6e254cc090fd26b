"""Model reads and writes at fewer round trips, and writes without losses
(issue 17, items 1 and 2).

- An authenticated model read is one statement (the session check joined
  to the model; on SQLite plus its read scope's BEGIN and COMMIT), a PATCH two (that read, then a conditional UPDATE whose
  answer is what it wrote), counted by the server itself
  (atelier_db_statements_total on the metrics listener); the same for the
  pattern drafted from a model. On PostgreSQL each statement is a round
  trip.
- Concurrent PATCHes of one model, each setting its own measurement, all
  survive: the UPDATE only applies to the version it read (the sealed name,
  sealed anew at every write), and a writer that lost the race reads again
  and reapplies its change.
- SQLite: many writes from many clients with the checkpoint thread
  (request connections never checkpoint) lose nothing, and the WAL file
  stays bounded far below what the writes would make of it without
  checkpoints; and so it does under writes from 64 connections at once
  (wrk), where a checkpoint that never holds the writers never completes.

No duration is asserted."""

import os
import re
import shutil
import subprocess
import threading
import time

import limits
import requests
from accounts_helpers import create_account, outbox
from apikeys_helpers import create_key
from conftest import BACKEND
from models_helpers import create, create_model, get_model, male_sets, model_path, patch, \
    without_breasts_only

N = 60  # requests per counted scenario


def statements(srv):
    """Statements run, one by one or in the storage batcher's pipelines
    (test_932_batched_reads.py): each one counts, however it was sent."""
    r = srv.metrics()
    assert r.status_code == 200, r.text[:200]
    total = 0
    for name in ("atelier_db_statements_total", "atelier_db_batched_statements_total"):
        m = re.search(rf"^{name} (\d+)$", r.text, re.M)
        assert m, f"no {name} in /metrics"
        total += int(m.group(1))
    return total


def a_size():
    return without_breasts_only(male_sets()["cisMaleAdult38"])


def per_request(srv, fn, status=200):
    """Statements per request of fn, less what the background threads ran
    meanwhile (measured right after, over as long, without requests)."""
    t0, before = time.monotonic(), statements(srv)
    for i in range(N):
        r = fn(i)
        assert r.status_code == status, r.text[:300]
    spent, elapsed = statements(srv) - before, time.monotonic() - t0
    before = statements(srv)
    time.sleep(elapsed)
    return (spent - (statements(srv) - before)) / N


def test_statements_per_request(server):
    acc = create_account(server, outbox(server), "rt")
    m = create_model(server, acc, "rt", False, a_size())
    mid = m["id"]
    read = per_request(server, lambda i: server.get(model_path(mid), headers=acc.auth))
    write = per_request(server, lambda i: patch(server, acc, mid, {"measurements": {"chest": 950 + i}}))
    # a design that does not exist: the same session check and model read,
    # without the drafting
    svg = per_request(server, lambda i: server.get(model_path(mid, "/patterns/nope.svg"),
                                                  headers=acc.auth), 404)
    create_stmts = per_request(server, lambda i: create(server, acc, f"rt{i}", False, a_size()), 201)
    print(f"\nstatements per request: GET {read:.2f}, PATCH {write:.2f}, GET pattern {svg:.2f}, "
          f"POST {create_stmts:.2f}")
    # On SQLite an authenticated GET also opens and closes its read scope
    # (BEGIN DEFERRED, COMMIT: no round trip there); PostgreSQL has none.
    scope = 2 if BACKEND == "sqlite" else 0
    # The background threads' statements are subtracted, roughly: a margin of
    # a fifth of a statement per request, well below one more per request.
    assert read < 1.2 + scope, f"GET model: {read:.2f} statements per request ({1 + scope} expected)"
    assert write < 2.2, f"PATCH model: {write:.2f} statements per request (2 expected)"
    assert svg < 1.2 + scope, f"GET pattern: {svg:.2f} statements per request ({1 + scope} expected)"
    # A create: the session, BEGIN, the account's lock, the count against the
    # limit, the INSERT, COMMIT; the answer is what was stored, not read
    # again (7 before: a SELECT after the COMMIT).
    assert create_stmts < 6.2, f"POST model: {create_stmts:.2f} statements per request (6 expected)"
    # What the PATCH answered is what is stored.
    last = patch(server, acc, mid, {"measurements": {"chest": 1001}, "notes": "n"})
    assert last.status_code == 200, last.text[:300]
    assert get_model(server, acc, mid) == last.json()


def test_joined_read_keeps_the_rules(server):
    """The joined read answers exactly as the two statements did: another
    account's model is a 404, an unknown token a 401, an API key still
    works (its own lookup)."""
    a = create_account(server, outbox(server), "rta")
    b = create_account(server, outbox(server), "rtb")
    ma = create_model(server, a, "a", False, {"chest": 1000})
    assert server.get(model_path(ma["id"]), headers=b.auth).status_code == 404
    r = patch(server, b, ma["id"], {"notes": "not yours"})
    assert r.status_code == 404, r.text[:200]
    assert get_model(server, a, ma["id"])["notes"] is None
    r = server.get(model_path(ma["id"]), headers={"Authorization": "Bearer " + "x" * 43})
    assert r.status_code == 401
    key = {"Authorization": "Bearer " + create_key(server, a, "write")["key"]}
    assert server.get(model_path(ma["id"]), headers=key).json()["id"] == ma["id"]
    r = server.request("PATCH", model_path(ma["id"]), headers=key, json={"notes": "by key"})
    assert r.status_code == 200 and r.json()["notes"] == "by key", r.text[:200]


def _hammer(srv, acc, mid, names, value_of, rounds, errors):
    s = requests.Session()
    try:
        for k in range(rounds):
            for name in names:
                r = s.patch(srv.url(model_path(mid)), headers=acc.auth, timeout=30,
                            json={"measurements": {name: value_of(name, k)}})
                if r.status_code != 200:
                    errors.append(f"{name} #{k}: {r.status_code} {r.text[:200]}")
    finally:
        s.close()


def test_concurrent_patches_of_one_model_lose_nothing(server):
    acc = create_account(server, outbox(server), "race")
    size = a_size()
    m = create_model(server, acc, "race", False, {})
    names = sorted(size)[:16]
    errors = []
    # Each thread owns two names and writes them in turn; the last value of
    # every name must be stored.
    threads = [threading.Thread(target=_hammer, args=(
        server, acc, m["id"], names[i::8], lambda n, k: size[n] + k, 4, errors))
        for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    got = get_model(server, acc, m["id"])["measurements"]
    want = {n: size[n] + 3 for n in names}  # the last round, k = 3
    assert got == want, f"lost updates: {sorted(set(want.items()) - set(got.items()))}"


def test_many_writes_lose_nothing_and_the_wal_stays_bounded(server):
    accs = [create_account(server, outbox(server), f"wal{i}") for i in range(4)]
    size = a_size()
    models = [create_model(server, a, "wal", False, size) for a in accs]
    notes = "n" * 9000  # each write rewrites a model row of about 10 KiB (sealed: 3 pages)
    wal = os.path.join(server.data_dir, "atelier.db-wal")
    biggest = [0]
    errors = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            if BACKEND == "sqlite" and os.path.exists(wal):
                biggest[0] = max(biggest[0], os.path.getsize(wal))
            done.wait(0.02)

    def write(acc, mid, t):
        s = requests.Session()
        try:
            for k in range(250):
                r = s.patch(server.url(model_path(mid)), headers=acc.auth, timeout=30,
                            json={"notes": f"{t}:{k}:{notes}", "measurements": {"chest": 900 + k}})
                if r.status_code != 200:
                    errors.append(f"{t} #{k}: {r.status_code} {r.text[:200]}")
        finally:
            s.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    writers = [threading.Thread(target=write, args=(accs[i % 4], models[i % 4]["id"], i))
               for i in range(8)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    watcher.join()
    assert not errors, errors[:5]
    # Nothing lost: every model holds the last write of one of its two writers.
    for i, (a, m) in enumerate(zip(accs, models)):
        got = get_model(server, a, m["id"])
        assert got["measurements"]["chest"] == 900 + 249, got["measurements"]["chest"]
        assert got["notes"].split(":")[1] == "249" and got["notes"].split(":")[0] in (
            str(i), str(i + 4)), got["notes"][:20]
    if BACKEND == "sqlite":
        # 2000 writes of about 10 KiB each make a WAL of over 30 MiB
        # without checkpoints; with them it stays within a few times the
        # checkpoint threshold (4 KiB pages).
        bound = 4 * limits.LIMIT_WAL_CHECKPOINT_PAGES * (4096 + 24)
        assert 0 < biggest[0] <= bound, f"WAL reached {biggest[0]} bytes (bound {bound})"


WRK_PATCH = """
local ids, token, n = {}, os.getenv("T_TOKEN"), 0
for id in string.gmatch(os.getenv("T_IDS"), "%S+") do ids[#ids + 1] = id end
wrk.method = "PATCH"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
request = function()
    n = n + 1
    local body = string.format('{"measurements":{"chest":%d}}', 900 + n % 200)
    return wrk.format(nil, "/v1/models/" .. ids[n % #ids + 1], nil, body)
end
"""


def test_sustained_writes_keep_the_wal_small(server, tmp_path):
    """Writes from 64 connections at once for 6 s (wrk): every one answers
    200, and on SQLite the WAL stays within a few checkpoint thresholds.
    A checkpoint that lets writers go on while it copies never finishes
    under such a load (frames are committed while it copies), so the WAL
    never started again: it grew to 90 MB in 6 s on this machine (about
    10,000 PATCHes a second; the bound here is 16.5 MB). With the writers
    held for the last frames, it stays near the threshold."""
    wrk = shutil.which("wrk")
    assert wrk, "wrk is missing (make deps installs it)"
    acc = create_account(server, outbox(server), "walrun")
    ids = [create_model(server, acc, f"w{i}", False, a_size())["id"] for i in range(32)]
    script = tmp_path / "patch.lua"
    script.write_text(WRK_PATCH)
    wal = os.path.join(server.data_dir, "atelier.db-wal")
    biggest, done = [0], threading.Event()

    def watch():
        while not done.is_set():
            if os.path.exists(wal):
                biggest[0] = max(biggest[0], os.path.getsize(wal))
            done.wait(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        out = subprocess.run([wrk, "-t1", "-c64", "-d6s", "--timeout", "20s", "-s", str(script),
                              server.url("/")], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "T_TOKEN": acc.token, "T_IDS": " ".join(ids)})
    finally:
        done.set()
        watcher.join()
    assert out.returncode == 0, out.stderr[-500:]
    m = re.search(r"(\d+) requests in", out.stdout)
    assert m and int(m.group(1)) > 0, out.stdout
    assert "Non-2xx" not in out.stdout and "Socket errors" not in out.stdout, out.stdout
    print(f"\nsustained writes: {m.group(1)} PATCHes in 6 s; WAL peak {biggest[0]} bytes")
    for mid in ids:  # every model still reads back
        assert 900 <= get_model(server, acc, mid)["measurements"]["chest"] < 1100
    if BACKEND == "sqlite":
        bound = 4 * limits.LIMIT_WAL_CHECKPOINT_PAGES * (4096 + 24)
        assert 0 < biggest[0] <= bound, f"WAL reached {biggest[0]} bytes (bound {bound})"

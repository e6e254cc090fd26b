"""The storage batcher (issue 17, item 1): on PostgreSQL the session check
of a model route (the session joined to the model: reads, PATCH) goes to
the batcher's threads, which send the checks of many requests in one
pipeline, while the event threads serve other connections.

- Every answer belongs to its request: many clients at once, each reading
  its own models and another account's, each get exactly their own model,
  or 404, never someone else's (a mix-up here would be a privacy breach).
- The reads really go through the batcher on PostgreSQL (the server's own
  counters, atelier_db_batched_statements_total), and never on SQLite,
  where a statement costs no round trip; --no-db-batch turns it off.
- The rules of the check are the same through the batcher: an unknown
  token is a 401 with the Bearer challenge (and a stale cookie is
  removed), a cookie session reads, an API key keeps its own lookup, a
  session past LIMIT_SESSION_TTL_S is a 401.

No duration is asserted (bench/run.sh measures them)."""

import random
import re
import threading

import requests
import limits
from accounts_helpers import ClockedStore, create_account, outbox
from apikeys_helpers import cookie_login, create_key
from conftest import BACKEND
from models_helpers import create_model, model_path

CLIENTS = 12  # threads reading at once
READS = 40  # reads per thread


def counter(srv, name):
    r = srv.metrics()
    assert r.status_code == 200, r.text[:200]
    m = re.search(rf"^{name} (\d+)$", r.text, re.M)
    assert m, f"no {name} in /metrics"
    return int(m.group(1))


def batched(srv):
    return counter(srv, "atelier_db_batched_statements_total")


def _reader(srv, owner, mine, theirs, seed, errors, counts):
    rnd = random.Random(seed)
    s = requests.Session()
    try:
        for _ in range(READS):
            own = rnd.random() < 0.75
            mid, name = rnd.choice(mine) if own else (rnd.choice(theirs), None)
            r = s.get(srv.url(model_path(mid)), headers=owner.auth, timeout=30)
            if own and (r.status_code != 200 or r.json().get("id") != mid
                        or r.json().get("name") != name):
                errors.append(f"{owner.username} read {mid}: {r.status_code} {r.text[:200]}")
            elif not own and r.status_code != 404:
                errors.append(f"{owner.username} read another's {mid}: {r.status_code}")
            counts[own] += 1
    finally:
        s.close()


def test_concurrent_reads_each_get_their_own_model(server):
    accounts = [create_account(server, outbox(server), f"bt{i}") for i in range(4)]
    models = {a.username: [] for a in accounts}
    for i, a in enumerate(accounts):
        for k in range(3):
            name = f"{a.username} model {k}"
            models[a.username].append((create_model(server, a, name, k % 2 == 0,
                                                    {"chest": 900 + 10 * i + k})["id"], name))
    before = batched(server)
    errors, threads, counts = [], [], {True: 0, False: 0}
    for t in range(CLIENTS):
        owner = accounts[t % len(accounts)]
        theirs = [m for u, ms in models.items() if u != owner.username for m, _ in ms]
        threads.append(threading.Thread(target=_reader, args=(
            server, owner, models[owner.username], theirs, t, errors, counts)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, "\n".join(errors[:20])
    assert counts[True] > 0 and counts[False] > 0, counts
    through = batched(server) - before
    if BACKEND == "postgres":
        # every read's check went through the batcher (a read of another's
        # model too: the same joined statement, which finds no model)
        assert through == CLIENTS * READS, f"{through} of {CLIENTS * READS} reads batched"
    else:
        assert through == 0, f"SQLite batched {through} statements"


def test_batches_carry_several_checks_when_requests_overlap(server):
    """The counters say how many pipelines carried the reads. On PostgreSQL
    a batch carries at least one statement, and never more than it was
    given; the ratio is printed (how much overlap a Python client makes is
    not the server's to promise)."""
    acc = create_account(server, outbox(server), "btr")
    mid = create_model(server, acc, "ratio", False, {"chest": 1000})["id"]
    b0, s0 = counter(server, "atelier_db_batches_total"), batched(server)
    errors = []

    def reads():
        s = requests.Session()
        for _ in range(READS):
            r = s.get(server.url(model_path(mid)), headers=acc.auth, timeout=30)
            if r.status_code != 200:
                errors.append(f"{r.status_code} {r.text[:200]}")
        s.close()

    threads = [threading.Thread(target=reads) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    b = counter(server, "atelier_db_batches_total") - b0
    n = batched(server) - s0
    print(f"\n{n} statements in {b} batches")
    if BACKEND == "postgres":
        assert n == CLIENTS * READS and 0 < b <= n, (b, n)
    else:
        assert b == 0 and n == 0, (b, n)


def test_the_rules_hold_through_the_batcher(server):
    a = create_account(server, outbox(server), "btu")
    b = create_account(server, outbox(server), "btv")
    ma = create_model(server, a, "a", False, {"chest": 1000})
    before = batched(server)
    # an unknown, well-formed token: the check runs and finds no session
    r = server.get(model_path(ma["id"]), headers={"Authorization": "Bearer " + "x" * 43})
    assert r.status_code == 401 and r.headers.get("WWW-Authenticate") == "Bearer", r.text[:200]
    # another account's model: 404, as if it did not exist
    assert server.get(model_path(ma["id"]), headers=b.auth).status_code == 404
    # a cookie session reads; a stale cookie gets a 401 and is removed
    cookie = cookie_login(server, a)
    r = server.get(model_path(ma["id"]), headers={"Cookie": f"__Host-atelier={cookie.token}"})
    assert r.status_code == 200 and r.json()["name"] == "a", r.text[:200]
    r = server.get(model_path(ma["id"]), headers={"Cookie": "__Host-atelier=" + "y" * 43})
    assert r.status_code == 401, r.text[:200]
    assert any(c.startswith("__Host-atelier=;") for c in r.raw.headers.getlist("Set-Cookie")), \
        r.raw.headers.getlist("Set-Cookie")
    through = batched(server) - before
    # an API key keeps its own lookup, on the event thread
    key = {"Authorization": "Bearer " + create_key(server, a, "read")["key"]}
    mark = batched(server)
    assert server.get(model_path(ma["id"]), headers=key).json()["id"] == ma["id"]
    assert batched(server) == mark
    assert through == (4 if BACKEND == "postgres" else 0), through


def test_no_db_batch_turns_it_off(server_factory):
    srv = server_factory.start(["--no-db-batch"])
    acc = create_account(srv, outbox(srv), "btoff")
    mid = create_model(srv, acc, "off", False, {"chest": 1000})["id"]
    for _ in range(5):
        r = srv.get(model_path(mid), headers=acc.auth)
        assert r.status_code == 200, r.text[:200]
    assert batched(srv) == 0
    assert counter(srv, "atelier_db_batches_total") == 0


def test_an_expired_session_is_refused_through_the_batcher(server_factory, fresh_database,
                                                            tmp_path):
    """The batched check dates the session with the server's clock, as the
    synchronous one does: a session reads its model until
    LIMIT_SESSION_TTL_S, and is a 401 after it."""
    store = ClockedStore(server_factory, tmp_path / "data", fresh_database)
    srv = store.start()
    acc = create_account(srv, outbox(srv), "btx")
    mid = create_model(srv, acc, "x", False, {"chest": 1000})["id"]
    through = 1 if BACKEND == "postgres" else 0  # each server counts from its own start
    srv = store.start(offset=limits.LIMIT_SESSION_TTL_S - 3600)
    r = srv.get(model_path(mid), headers=acc.auth)
    assert r.status_code == 200 and r.json()["id"] == mid, r.text[:200]
    assert batched(srv) == through
    srv = store.start(offset=limits.LIMIT_SESSION_TTL_S + 120)
    r = srv.get(model_path(mid), headers=acc.auth)
    assert r.status_code == 401 and r.headers.get("WWW-Authenticate") == "Bearer", r.text[:200]
    assert batched(srv) == through


def test_writes_check_their_session_through_the_batcher(server):
    """A PATCH's session check (on its headers, before the body is read)
    goes the same way, with the same rules: an unknown token is refused
    after the body was read and dropped, a cookie write needs its CSRF
    token."""
    a = create_account(server, outbox(server), "btw")
    mid = create_model(server, a, "w", False, {"chest": 1000})["id"]
    url = server.url(model_path(mid))
    before = batched(server)
    s = requests.Session()
    r = s.patch(url, headers=a.auth, json={"notes": "batched"}, timeout=30)
    assert r.status_code == 200 and r.json()["notes"] == "batched", r.text[:200]
    r = s.patch(url, headers={"Authorization": "Bearer " + "x" * 43}, json={"notes": "no"},
                timeout=30)
    assert r.status_code == 401 and r.headers.get("WWW-Authenticate") == "Bearer", r.text[:200]
    r = s.get(url, headers=a.auth, timeout=30)
    assert r.status_code == 200 and r.json()["notes"] == "batched", r.text[:200]
    cookie = cookie_login(server, a)
    r = s.patch(url, headers={"Cookie": f"__Host-atelier={cookie.token}"}, json={"notes": "c"},
                timeout=30)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed", r.text[:200]
    r = s.patch(url, headers=cookie.headers(server), json={"notes": "by cookie"}, timeout=30)
    assert r.status_code == 200 and r.json()["notes"] == "by cookie", r.text[:200]
    s.close()
    through = batched(server) - before
    # five checks, and the UPDATEs of the two PATCHes that passed (test_933)
    assert through == (7 if BACKEND == "postgres" else 0), through

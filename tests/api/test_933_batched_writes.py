"""Model writes through the storage batcher (issue 17, item 1): on
PostgreSQL the UPDATE of a PATCH (and of a PUT of the measurements) waits in
the batcher, which sends the writes of many requests in one pipeline, each
committed alone, while the event threads serve other connections.

- Nothing is lost: many clients patching one model at once, each its own
  measurement, leave every last value in place (the compare-and-set on the
  sealed name still decides; a write that lost its race reads the model
  again and reapplies, as it does without the batcher), and each answer
  shows the write it made.
- The writes really go through the batcher on PostgreSQL (its counters),
  never on SQLite; --no-db-batch turns it off; a refused body (422) never
  reaches storage (only its session check does).
- A PUT of the measurements answers what was stored.
- The writes of one model take turns on a node and are combined (lanes,
  api/model_write.c): writers of a breasts-only measurement racing a
  writer of the breasts flag each get their own write or the 422 of the
  rule, and the stored model stays valid; a writer whose client goes away while it waits for its
  turn, or leads one, hands the turn on: no request is left waiting and the
  server stops cleanly (before that hand-over, clients that hung up
  stranded the writes queued behind them, and `MHD_stop_daemon` aborted).

No duration is asserted (bench/run.sh measures them)."""

import socket
import threading
import time

import requests
from accounts_helpers import create_account, outbox
from conftest import BACKEND
from models_helpers import (BREASTS_ONLY, create_model, get_model, model_path, patch,
                            put_measurements)
from test_932_batched_reads import batched, counter

# one writer per measurement, each with a value range of its own
WRITERS = {"chest": 1000, "waist": 850, "hips": 1000, "neck": 380, "wrist": 170,
           "biceps": 300, "head": 570, "knee": 380}
PATCHES = 25  # per writer
# per hang-up thread: with 2 of them, well under LIMIT_CONN_PER_IP (128) even
# if every one still waits, so the waiters' connections are never refused
HANG_UPS = 25


def _writer(srv, acc, mid, name, base, errors):
    s = requests.Session()
    try:
        for k in range(PATCHES):
            v = base + k
            r = s.patch(srv.url(model_path(mid)), headers=acc.auth,
                        json={"measurements": {name: v}}, timeout=30)
            if r.status_code != 200 or r.json()["measurements"].get(name) != v:
                errors.append(f"{name}={v}: {r.status_code} {r.text[:200]}")
    except requests.RequestException as e:
        errors.append(f"{name}: {e!r}")
    finally:
        s.close()


def test_concurrent_patches_of_one_model_lose_nothing(server):
    acc = create_account(server, outbox(server), "bw")
    mid = create_model(server, acc, "shared", False, {"chest": 900})["id"]
    before = batched(server)
    errors = []
    threads = [threading.Thread(target=_writer, args=(server, acc, mid, n, b, errors))
               for n, b in WRITERS.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    final = get_model(server, acc, mid)["measurements"]
    assert final == {n: b + PATCHES - 1 for n, b in WRITERS.items()}, final
    through = batched(server) - before
    if BACKEND == "postgres":
        # every PATCH's check and the GET's, and the UPDATEs: one per turn
        # of the model's lane, which may carry several PATCHes
        checks = len(WRITERS) * PATCHES + 1
        assert through > checks, through
        print(f"\n{len(WRITERS) * PATCHES} PATCHes stored in {through - checks} batched UPDATEs")
    else:
        assert through == 0, f"SQLite batched {through} statements"


def test_put_measurements_answers_what_was_stored(server):
    acc = create_account(server, outbox(server), "bwp")
    mid = create_model(server, acc, "put", False, {"chest": 900, "waist": 800})["id"]
    before = batched(server)
    r = put_measurements(server, acc, mid, {"neck": 381.5, "hips": 990, "waist": None})
    assert r.status_code == 200, r.text[:300]
    assert r.json() == {"hips": 990, "neck": 381.5}, r.text
    assert batched(server) - before == (2 if BACKEND == "postgres" else 0)  # check, UPDATE
    stored = server.get(model_path(mid, "/measurements"), headers=acc.auth)
    assert stored.status_code == 200 and stored.text == r.text, (stored.text, r.text)


def test_a_refused_patch_never_reaches_storage(server):
    acc = create_account(server, outbox(server), "bwr")
    mid = create_model(server, acc, "refused", False, {"chest": 900})["id"]
    before = batched(server)
    r = patch(server, acc, mid, {"measurements": {"chest": "wide"}})
    assert r.status_code == 422, r.text[:300]
    r = patch(server, acc, mid, {"measurements": {"noSuchMeasurement": 10}})
    assert r.status_code == 422, r.text[:300]
    # on PostgreSQL the two session checks, and no write
    assert batched(server) - before == (2 if BACKEND == "postgres" else 0)
    assert get_model(server, acc, mid)["measurements"] == {"chest": 900}


def test_no_db_batch_writes_on_the_event_thread(server_factory):
    srv = server_factory.start(["--no-db-batch"])
    acc = create_account(srv, outbox(srv), "bwoff")
    mid = create_model(srv, acc, "off", False, {"chest": 1000})["id"]
    for v in range(1001, 1006):
        r = patch(srv, acc, mid, {"measurements": {"chest": v}})
        assert r.status_code == 200 and r.json()["measurements"]["chest"] == v, r.text[:200]
    assert get_model(srv, acc, mid)["measurements"]["chest"] == 1005
    assert batched(srv) == 0
    assert counter(srv, "atelier_db_batches_total") == 0


def _toggler(srv, acc, mid, rounds, errors, seen):
    s = requests.Session()
    try:
        for k in range(rounds):
            body = ({"breasts": False, "measurements": {n: None for n in BREASTS_ONLY}}
                    if k % 2 == 0 else {"breasts": True, "measurements": {"underbust": 800 + k}})
            r = s.patch(srv.url(model_path(mid)), headers=acc.auth, json=body, timeout=30)
            seen.append(r.status_code)
            if r.status_code != 200:
                errors.append(f"toggle {k}: {r.status_code} {r.text[:200]}")
    except requests.RequestException as e:
        errors.append(f"toggle: {e!r}")
    finally:
        s.close()


def _bust_writer(srv, acc, mid, rounds, errors, seen):
    s = requests.Session()
    try:
        for k in range(rounds):
            r = s.patch(srv.url(model_path(mid)), headers=acc.auth,
                        json={"measurements": {"bustSpan": 180 + k}}, timeout=30)
            seen.append(r.status_code)
            if r.status_code == 422:
                if r.json()["error"].get("field") != "breasts" and "breasts" not in r.text:
                    errors.append(f"bustSpan {k}: 422 not about breasts: {r.text[:200]}")
            elif r.status_code != 200:
                errors.append(f"bustSpan {k}: {r.status_code} {r.text[:200]}")
            elif not r.json()["breasts"] or r.json()["measurements"].get("bustSpan") != 180 + k:
                errors.append(f"bustSpan {k}: the answer does not show this write on a body "
                              f"with breasts: {r.text[:200]}")
    except requests.RequestException as e:
        errors.append(f"bustSpan: {e!r}")
    finally:
        s.close()


def test_racing_the_breasts_flag_keeps_every_answer_and_the_model_valid(server):
    """Writers that turn the breasts flag off and on race writers of a
    breasts-only measurement: each answer is a 200 that shows its own write
    on a valid model or the 422 of the rule, both happen, and the model as
    stored is valid. (Which of the 422s came from a writer's read and which
    from its turn cannot be told from outside; the turn's refusal is the
    same rule, applied to a copy.)"""
    acc = create_account(server, outbox(server), "bwt")
    mid = create_model(server, acc, "toggled", True, {"chest": 900, "underbust": 800})["id"]
    errors, seen = [], []
    threads = ([threading.Thread(target=_toggler, args=(server, acc, mid, 30, errors, seen))]
               + [threading.Thread(target=_bust_writer, args=(server, acc, mid, 30, errors, seen))
                  for _ in range(5)])
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    final = get_model(server, acc, mid)
    if not final["breasts"]:
        assert not BREASTS_ONLY & set(final["measurements"]), final
    assert set(seen) == {200, 422}, f"the race did not happen: {set(seen)}"
    print(f"\n{seen.count(422)} of {len(seen)} refused on their turn or their read")


def _in_flight(srv):
    return counter(srv, "atelier_http_requests_in_flight")


def _hang_up_after_sending(port, raw):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(raw)


def test_writers_that_hang_up_leave_no_write_waiting(server_factory):
    """Many PATCHes of one model from clients that hang up as soon as they
    have sent them, among clients that wait for their answers: the ones
    that wait get 200s, the server ends up with no request in flight, the
    model reads back, and the server stops cleanly."""
    srv = server_factory.start()
    acc = create_account(srv, outbox(srv), "bwh")
    mid = create_model(srv, acc, "hangup", False, {"chest": 900})["id"]
    body = b'{"measurements":{"chest":950}}'
    raw = (f"PATCH {model_path(mid)} HTTP/1.1\r\nHost: t\r\n"
           f"Authorization: {acc.auth['Authorization']}\r\n"
           f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
           ).encode() + body
    errors = []

    def hang_ups():
        for _ in range(HANG_UPS):
            try:
                _hang_up_after_sending(srv.port, raw)
            except OSError as e:
                errors.append(f"connect: {e}")

    def waiters(k):
        s = requests.Session()
        try:
            for i in range(20):
                r = s.patch(srv.url(model_path(mid)), headers=acc.auth,
                            json={"measurements": {"neck": 350 + k * 20 + i % 20}}, timeout=30)
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")
        except requests.RequestException as e:
            errors.append(f"waiter {k}: {e!r}")
        finally:
            s.close()

    threads = ([threading.Thread(target=hang_ups) for _ in range(2)]
               + [threading.Thread(target=waiters, args=(k,)) for k in range(4)])
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    deadline = time.monotonic() + 10
    while _in_flight(srv) > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _in_flight(srv) == 0, "requests still waiting after every client is done"
    assert get_model(srv, acc, mid)["measurements"]["chest"] == 950
    assert srv.stop() is None

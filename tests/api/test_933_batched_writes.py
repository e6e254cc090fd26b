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

No duration is asserted (bench/run.sh measures them)."""

import threading

import requests
from accounts_helpers import create_account, outbox
from conftest import BACKEND
from models_helpers import create_model, get_model, model_path, patch, put_measurements
from test_932_batched_reads import batched, counter

# one writer per measurement, each with a value range of its own
WRITERS = {"chest": 1000, "waist": 850, "hips": 1000, "neck": 380, "wrist": 170,
           "biceps": 300, "head": 570, "knee": 380}
PATCHES = 25  # per writer


def _writer(srv, acc, mid, name, base, errors):
    s = requests.Session()
    try:
        for k in range(PATCHES):
            v = base + k
            r = s.patch(srv.url(model_path(mid)), headers=acc.auth,
                        json={"measurements": {name: v}}, timeout=30)
            if r.status_code != 200 or r.json()["measurements"].get(name) != v:
                errors.append(f"{name}={v}: {r.status_code} {r.text[:200]}")
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
    if BACKEND == "postgres":  # every PATCH's check and first UPDATE, and the GET's check
        assert through >= 2 * len(WRITERS) * PATCHES + 1, through
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

"""Issue 17, item 3: nodes that behave as one on PostgreSQL.

On PostgreSQL two servers run on one database, each with its own data
directory and the same key file, and the tests prove:

  - the login throttle locks an account (and a client) at the configured
    count when the wrong logins alternate between the nodes, not at twice
    it; the mail throttle likewise; the table holds keyed hashes only;
  - a session made on one node works on the other, and a logout on one
    ends it on both;
  - each queued mail goes out once, whichever node's delivery thread
    claims it;
  - the sweeper's database part runs once per period: a node that starts
    after another swept leaves the database alone (its metric
    sweep_database_runs stays 0 and its log says so), and the next period
    is swept again;
  - a second `atelier opendata build` is refused while one runs;
  - a key rotation run next to both nodes is followed by both, and writes
    on both during it stay readable under the new key;
  - a node killed with SIGKILL in the middle of writes loses no
    acknowledged write, and the other keeps serving throughout.

SQLite serves one node by design: the same file, run on SQLite, checks that
the throttles still lock on that one node, that a second server on the same
data directory is warned (it would count its throttles alone), and that a second opendata build is refused
there too. These tests are chosen by ATELIER_TEST_BACKEND at collection
(no skip): the two-node ones exist only on PostgreSQL."""

import concurrent.futures
import fcntl
import os
import random
import re
import subprocess
import threading
import time

import pytest
import requests

import limits
import pg_helpers
from accounts_helpers import (
    MailReader,
    assert_error,
    bearer,
    create_account,
    new_identity,
    outbox,
    setup_client,
    uniq,
)
from conftest import ATELIER_BIN, BACKEND, server_env
from hostile_helpers import sigkill
from lifecycle_helpers import metric_events, wait_for
from rekey_helpers import Db, Key, key_id_of, new_key_file, plaintexts, run_rekey, sealed_values

DAY_S = 86400
SWEEP_LEASE_S = 3600 - 360  # privacy/sweep.h: SWEEP_LEASE_S
OPENDATA_LOCK_KEY = 0x61746C6F70646174  # privacy/opendata.h ("atlopdat")


def _key_file(tmp_path):
    path = tmp_path / "shared.key"
    path.write_bytes(os.urandom(32))
    os.chmod(path, 0o600)
    return str(path)


def _data_dir(tmp_path, name):
    d = tmp_path / name
    d.mkdir(mode=0o700)
    return str(d)


class Outboxes(MailReader):
    """The outboxes of several nodes read as one: a mail is written by
    whichever node's delivery thread claimed it."""

    def __init__(self, *servers):
        super().__init__(None, suffix=".eml")
        self.readers = [outbox(s) for s in servers]

    def all(self):
        return [m for r in self.readers for m in r.all()]


def _xff(ip):
    return {"X-Forwarded-For": ip}


def _login(srv, name, password, ip):
    return srv.post("/v1/login", json={"login": name, "password": password}, headers=_xff(ip))


def _forgot(srv, email, ip):
    return srv.post("/v1/password/forgot", json={"email": email}, headers=_xff(ip))


# --------------------------------------------------------------------------
# PostgreSQL: two nodes


if BACKEND == "postgres":

    @pytest.fixture
    def nodes(fresh_database, server_factory, tmp_path):
        """Two nodes on one fresh database (fresh_database first: dropped
        after the servers stop), separate data dirs, one key."""
        key = _key_file(tmp_path)
        args = ["--key-file", key, "--trusted-proxy", "127.0.0.1"]
        a = server_factory.start(args, data_dir=_data_dir(tmp_path, "a"), database=fresh_database)
        b = server_factory.start(args, data_dir=_data_dir(tmp_path, "b"), database=fresh_database)
        return a, b

    def _throttle_rows(srv):
        return pg_helpers.execute(srv.database_url, "SELECT kind, key_hash, at, n FROM throttle")

    def test_login_throttle_counts_across_nodes(nodes):
        a, b = nodes
        acc = create_account(a, Outboxes(a, b), "spread")
        limit = limits.LIMIT_LOGIN_FAIL_ACCOUNT
        ip = "192.0.2.17"
        for i in range(limit):
            r = _login((a, b)[i % 2], acc.username, f"Wrong-Password-{i}-x", ip)
            assert_error(r, 401, "invalid_credentials")
        # The limit is reached across both nodes: each refuses, even the
        # right password, though each saw only half of the failures.
        for srv in (a, b):
            r = _login(srv, acc.username, acc.password, ip)
            assert_error(r, 429)
            assert 0 < int(r.headers["Retry-After"]) <= limits.LIMIT_LOGIN_WINDOW_S, r.headers
        # Another client is not locked out (per account and client).
        assert _login(b, acc.username, acc.password, "192.0.2.18").status_code == 200
        # What the table holds: keyed hashes, never the login or the address.
        rows = _throttle_rows(a)
        assert rows, "no shared throttle rows"
        for kind, key_hash, _at, _n in rows:
            blob = bytes(key_hash)
            assert len(blob) == 32, rows
            for plain in (ip, acc.username, acc.id):
                assert plain.encode() not in blob
        dump = pg_helpers.copy_out(a.database_url, "COPY throttle TO STDOUT")
        for plain in (ip, acc.username, acc.id, ip.encode().hex()):
            assert str(plain).encode() not in dump

    def test_guesses_in_flight_on_both_nodes_stop_at_the_limit(nodes):
        """Guesses sent together to both nodes: exactly the limit is verified
        (each attempt takes its place in the shared count before it is
        checked), the rest are refused."""
        a, b = nodes
        limit = limits.LIMIT_LOGIN_FAIL_ACCOUNT
        barrier = threading.Barrier(3 * limit)
        name = f"ghost_{uniq()}"

        def one(i):
            barrier.wait()
            return _login((a, b)[i % 2], name, f"Wrong-Password-{i}-x", "192.0.2.19").status_code

        with concurrent.futures.ThreadPoolExecutor(3 * limit) as ex:
            statuses = list(ex.map(one, range(3 * limit)))
        assert sorted(set(statuses)) == [401, 429], statuses
        assert statuses.count(401) == limit, statuses
        # Refused attempts write nothing to the account-and-client counter
        # (kind 0): a throttled flood costs the table one read each. A new
        # second first, where a written-then-given-back attempt would show.
        pair_rows = "SELECT key_hash, at, n FROM throttle WHERE kind = 0 ORDER BY 1, 2"
        before = pg_helpers.execute(a.database_url, pair_rows)
        time.sleep(1.1)
        for i in range(4):
            assert_error(_login((a, b)[i % 2], name, "Wrong-Password-x", "192.0.2.19"), 429)
        assert pg_helpers.execute(a.database_url, pair_rows) == before

    def test_client_throttle_counts_across_nodes(nodes):
        a, b = nodes
        ip = "192.0.2.33"
        limit = limits.LIMIT_LOGIN_FAIL_IP
        for i in range(limit):  # one failure per unknown name: only the client's count adds up
            r = _login((a, b)[i % 2], f"ghost_{uniq()}_{i}", "Wrong-Password-x", ip)
            assert_error(r, 401, "invalid_credentials")
        for srv in (a, b):
            assert_error(_login(srv, f"ghost_{uniq()}", "Wrong-Password-x", ip), 429)

    def test_mail_throttle_counts_across_nodes(nodes):
        a, b = nodes
        address = f"nobody.{uniq()}@example.org"
        limit = limits.LIMIT_MAIL_PER_RECIPIENT
        answers = [_forgot((a, b)[i % 2], address, f"198.51.100.{10 + i}").status_code
                   for i in range(limit)]
        assert answers == [202] * limit, answers
        for i, srv in enumerate((a, b)):
            r = _forgot(srv, address, f"198.51.100.{40 + i}")
            assert_error(r, 429)
            assert r.headers.get("Retry-After", "").isdigit(), r.headers
        # The client limit, spread alike over both nodes.
        ip = "198.51.100.90"
        for i in range(limits.LIMIT_MAIL_PER_CLIENT):
            r = _forgot((a, b)[i % 2], f"many{i}.{uniq()}@example.org", ip)
            assert r.status_code == 202, (i, r.status_code, r.text[:200])
        assert_error(_forgot(a, f"one.more.{uniq()}@example.org", ip), 429)
        assert_error(_forgot(b, f"one.more.{uniq()}@example.org", ip), 429)

    def test_session_of_one_node_works_on_the_other(nodes):
        a, b = nodes
        mails = Outboxes(a, b)
        acc = create_account(a, mails, "sess")
        r = b.post("/v1/login", json={"login": acc.username, "password": acc.password})
        assert r.status_code == 200, r.text
        token = r.json()["token"]
        for srv in (a, b):
            assert srv.get("/v1/account", headers=bearer(token)).status_code == 200
            assert srv.get("/v1/account", headers=bearer(acc.token)).status_code == 200
        # A logout on one node ends the session on both; the other session lives.
        assert a.post("/v1/logout", headers=bearer(token)).status_code == 204
        for srv in (a, b):
            assert srv.get("/v1/account", headers=bearer(token)).status_code == 401
            assert srv.get("/v1/account", headers=bearer(acc.token)).status_code == 200
        assert b.post("/v1/logout", headers=bearer(acc.token)).status_code == 204
        for srv in (a, b):
            assert srv.get("/v1/account", headers=bearer(acc.token)).status_code == 401

    def test_each_mail_goes_out_once(nodes):
        a, b = nodes
        mails = Outboxes(a, b)
        idents = [new_identity("once") for _ in range(16)]
        for i, ident in enumerate(idents):
            with setup_client() as client:
                r = client.post((a, b)[i % 2].url("/v1/signup"), json=ident, timeout=10)
            assert r.status_code == 202, r.text
        for ident in idents:
            mails.wait(ident["email"], match="confirm")
        wait_for(lambda: pg_helpers.execute(a.database_url, "SELECT count(*) FROM mail_queue")[0][0] == 0,
                 15, "the queue to empty")
        time.sleep(1)  # a duplicate would be written by now
        for ident in idents:
            got = mails.to(ident["email"])
            assert len(got) == 1, f"{ident['email']}: {[m.path for m in got]}"
        written = [len(r.all()) for r in mails.readers]
        assert sum(written) == len(idents), written

    def _old_world(server_factory, tmp_path, database, key):
        """An account whose last login is 400 days old and a pending signup
        of 10 days: both due for the sweeper. Returns the account."""
        d = _data_dir(tmp_path, "old")
        old = server_factory.start(["--key-file", key, "--clock-offset", str(-400 * DAY_S),
                                    "--sweep-delay", "3600"], data_dir=d, database=database)
        acc = create_account(old, outbox(old), "swept")
        ident = new_identity("pend")
        with setup_client() as client:
            assert client.post(old.url("/v1/signup"), json=ident, timeout=10).status_code == 202
        outbox(old).wait(ident["email"], match="confirm")
        assert old.stop() is None
        server_factory.servers.remove(old)
        return acc

    def _swept(srv):
        ev = wait_for(lambda: (lambda e: e if e["sweep_runs"] >= 1 else None)(metric_events(srv)), 30,
                      "the node's first sweep")
        return ev

    def test_the_database_is_swept_once_per_period(fresh_database, server_factory, tmp_path):
        key = _key_file(tmp_path)
        acc = _old_world(server_factory, tmp_path, fresh_database, key)
        count = lambda t: pg_helpers.execute(fresh_database, f"SELECT count(*) FROM {t}")[0][0]
        assert count("accounts") == 1 and count("signups") == 1

        args = ["--key-file", key, "--sweep-delay", "1"]
        a = server_factory.start(args, data_dir=_data_dir(tmp_path, "a"), database=fresh_database)
        ev_a = _swept(a)
        assert ev_a["sweep_database_runs"] == 1, ev_a
        assert ev_a["sweep_accounts_erased"] == 1 and ev_a["sweep_unconfirmed_erased"] == 1, ev_a
        assert count("accounts") == 0 and count("signups") == 0

        # B starts after A swept, within the same period: the advisory lock
        # is free, but the period's lease is A's, so B leaves the database
        # alone and prunes only its own files.
        b = server_factory.start(args, data_dir=_data_dir(tmp_path, "b"), database=fresh_database)
        ev_b = _swept(b)
        assert ev_b["sweep_database_runs"] == 0, ev_b
        assert "(database part done by another node)" in b.stderr(), b.stderr()[-2000:]
        # B tries again when A's lease ends, not a whole period after its own try.
        m = re.search(r"database sweep is another node's; next try in (\d+) s", b.stderr())
        assert m, b.stderr()[-2000:]
        assert SWEEP_LEASE_S - 120 < int(m.group(1)) <= SWEEP_LEASE_S + 1, m.group(0)
        assert metric_events(a)["sweep_database_runs"] == 1
        holder = pg_helpers.execute(fresh_database, "SELECT name, until_ms FROM leases")
        assert [h[0] for h in holder] == ["sweep"], holder

        # The next period: a node whose clock is past the lease sweeps again.
        c = server_factory.start(args + ["--clock-offset", str(SWEEP_LEASE_S + 60)],
                                 data_dir=_data_dir(tmp_path, "c"), database=fresh_database)
        ev_c = _swept(c)
        assert ev_c["sweep_database_runs"] == 1, ev_c
        r = a.post("/v1/login", json={"login": acc.username, "password": acc.password})
        assert_error(r, 401, "invalid_credentials")

    def test_expired_throttle_rows_are_swept(nodes, atelier_cli):
        a, b = nodes
        _login(a, f"ghost_{uniq()}", "Wrong-Password-x", "192.0.2.99")
        assert len(_throttle_rows(a)) >= 1
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                             time.gmtime(time.time() + limits.LIMIT_MAIL_WINDOW_S + 60))
        r = atelier_cli("sweep", "--now", when, "--data", a.data_dir, "--database", a.database_url,
                        "--key-file", a.args[a.args.index("--key-file") + 1])
        assert r.returncode == 0, r.stderr[-2000:]
        assert _throttle_rows(a) == []

    def test_a_second_opendata_build_is_refused(nodes, tmp_path):
        a, _b = nodes
        key = a.args[a.args.index("--key-file") + 1]
        cmd = [ATELIER_BIN, "opendata", "build", "--ignore-cadence", "--data", a.data_dir,
               "--database", a.database_url, "--key-file", key]
        # Another node's build holds the database's lock.
        holder = subprocess.Popen(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", a.database_url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            holder.stdin.write(f"SELECT 'held' FROM (SELECT pg_advisory_lock({OPENDATA_LOCK_KEY})) l;\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "held"
            p = subprocess.run(cmd, capture_output=True, text=True, env=server_env(), timeout=120)
            assert p.returncode == 1, p.stderr
            assert "another atelier opendata build is running" in p.stderr, p.stderr
            builds = pg_helpers.execute(a.database_url, "SELECT count(*) FROM opendata_builds")[0][0]
            assert builds == 0, "the refused build charged the ledger"
        finally:
            holder.stdin.write("\\q\n")
            holder.stdin.close()
            holder.wait(timeout=30)
        # The lock released, the same command builds (or says why not: not the lock).
        p = subprocess.run(cmd, capture_output=True, text=True, env=server_env(), timeout=300)
        assert "another atelier opendata build" not in p.stderr, p.stderr
        assert pg_helpers.execute(a.database_url, "SELECT count(*) FROM opendata_builds")[0][0] == 1

    def test_key_rotation_with_two_nodes(nodes, tmp_path):
        """`atelier rekey` run next to two serving nodes that share the key
        file's path (so the next key file too): both follow the rotation,
        writes on both during it stay readable, and afterwards every value
        opens under the new key only and both nodes serve every account."""
        a, b = nodes
        key_path = a.args[a.args.index("--key-file") + 1]
        old = Key(key_path)
        mails = Outboxes(a, b)
        accs = [create_account(a, mails, "rk0"), create_account(b, mails, "rk1")]
        models = {}
        for i, acc in enumerate(accs):
            r = (a, b)[i].post("/v1/models", headers=acc.auth,
                               json={"name": "before", "breasts": True, "measurements": {},
                                     "notes": f"notes {i}"})
            assert r.status_code == 201, r.text
            models[acc.id] = r.json()["id"]
        new_path = new_key_file(tmp_path)
        new = Key(new_path)
        stop = threading.Event()
        acked = {}

        def write(i, srv, acc):
            n = 0
            while not stop.is_set():
                n += 1
                notes = f"during {i}.{n}"
                try:
                    r = srv.request("PATCH", f"/v1/models/{models[acc.id]}", headers=acc.auth,
                                    json={"notes": notes})
                except requests.RequestException as e:
                    acked[acc.id] = f"unexpected {e!r}"
                    return
                if r.status_code == 200:
                    acked[acc.id] = notes
                elif r.status_code != 503:  # a node that cannot seal yet says so
                    acked[acc.id] = f"unexpected {r.status_code} {r.text[:200]}"
                    return
                time.sleep(0.05)

        threads = [threading.Thread(target=write, args=(i, (a, b)[i], acc), daemon=True)
                   for i, acc in enumerate(accs)]
        for t in threads:
            t.start()
        try:
            p = run_rekey(a, new_path, "--key-file", key_path)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=15)
        assert p.returncode == 0, p.stderr[-3000:]
        assert set(acked) == {acc.id for acc in accs}, f"no write went through on a node: {acked}"
        for srv in (a, b):
            wait_for(lambda: f"key rotation to {new.id:08x} finished" in srv.stderr(), 10,
                     "each node to forget the old key")
            assert f"key rotation to {new.id:08x}: sealing under it now" in srv.stderr()
        assert Key(key_path).id == new.id, "the shared key file does not hold the new key"
        db = Db(a.data_dir, a.database_url)
        values = sealed_values(db)
        assert {key_id_of(v) for v in values.values()} == {new.id}
        plaintexts(db, new, values)
        assert all(old.open(label, row, box) is None for (label, row), box in values.items())
        late = create_account(b, mails, "rk2")
        for srv in (a, b):
            for i, acc in enumerate(accs):
                r = srv.get(f"/v1/models/{models[acc.id]}", headers=acc.auth)
                assert r.status_code == 200, r.text
                want = acked.get(acc.id, f"notes {i}")
                assert not want.startswith("unexpected"), want
                assert r.json()["notes"] == want, (r.json()["notes"], want)
                assert srv.get("/v1/account", headers=acc.auth).json()["email"] == acc.email
            assert srv.get("/v1/account", headers=late.auth).json()["email"] == late.email

    # ---- SIGKILL of one node under writes

    class Writer:
        """Creates and renames models of one account on one node until
        stopped or the node dies; records what was acknowledged."""

        def __init__(self, srv, acc, seed):
            self.srv, self.acc = srv, acc
            self.rng = random.Random(seed)
            self.acked = {}      # model id -> name acknowledged
            self.in_flight = {}  # model id -> name of a PATCH whose answer never came
            self.unknown_creates = 0
            self.problems = []
            self.ops = 0
            self.dead = False

        def run(self, stop):
            s = requests.Session()
            while not stop.is_set():
                name = f"m-{self.rng.randrange(10**9)}"
                try:
                    if self.acked and (len(self.acked) >= 40 or self.rng.random() < 0.6):  # <= 100 models
                        mid = self.rng.choice(sorted(self.acked))
                        self.in_flight[mid] = name
                        r = s.patch(self.srv.url(f"/v1/models/{mid}"), headers=self.acc.auth,
                                    json={"name": name}, timeout=10)
                        if r.status_code != 200:
                            self.problems.append(f"PATCH {r.status_code} {r.text[:200]}")
                            return
                        del self.in_flight[mid]
                        self.acked[mid] = name
                    else:
                        r = s.post(self.srv.url("/v1/models"), headers=self.acc.auth,
                                   json={"name": name, "breasts": True, "measurements": {}},
                                   timeout=10)
                        if r.status_code != 201:
                            self.problems.append(f"POST {r.status_code} {r.text[:200]}")
                            return
                        self.acked[r.json()["id"]] = name
                    self.ops += 1
                except requests.RequestException:
                    self.dead = True
                    return

    def test_sigkill_of_one_node_loses_no_acknowledged_write(nodes, server_factory):
        a, b = nodes
        mails = Outboxes(a, b)
        accs = [create_account((a, b)[i % 2], mails, f"crash{i}") for i in range(4)]
        writers = [Writer(a, accs[0], 1), Writer(a, accs[1], 2), Writer(b, accs[2], 3),
                   Writer(b, accs[3], 4)]
        stop = threading.Event()
        threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in writers]
        for t in threads:
            t.start()
        time.sleep(random.uniform(1.0, 2.0))
        ops_b_before = sum(w.ops for w in writers[2:])
        err = sigkill(server_factory, a)
        time.sleep(1.5)  # B keeps serving: its writers go on
        stop.set()
        for t in threads:
            t.join(timeout=15)
        assert all(not t.is_alive() for t in threads)
        for w in writers:
            assert not w.problems, (w.srv.base_url, w.problems, err[-2000:])
        assert all(w.dead for w in writers[:2]), "the writers of the killed node did not notice"
        assert not any(w.dead for w in writers[2:]), "the surviving node stopped answering"
        assert sum(w.ops for w in writers[2:]) > ops_b_before, "no write on the surviving node after the kill"
        assert sum(w.ops for w in writers[:2]) > 0, "nothing was written on the killed node"

        # Every acknowledged write is there, read through the surviving node.
        for w in writers:
            r = b.get("/v1/models", headers=w.acc.auth)
            assert r.status_code == 200, r.text
            listed = {m["id"]: m["name"] for m in r.json()["models"]}
            for mid, name in w.acked.items():
                assert mid in listed, f"acknowledged model {mid} lost"
                assert listed[mid] in (name, w.in_flight.get(mid)), (mid, name, listed[mid])
        # The killed node's sessions work on the survivor, and it still logs in.
        r = b.post("/v1/login", json={"login": accs[0].username, "password": accs[0].password})
        assert r.status_code == 200, r.text


# --------------------------------------------------------------------------
# SQLite: one node


if BACKEND == "sqlite":

    @pytest.fixture
    def node(server_factory):
        return server_factory.start(["--trusted-proxy", "127.0.0.1"])

    def test_login_throttle_locks_on_the_one_node(node):
        acc = create_account(node, outbox(node), "one")
        ip = "192.0.2.17"
        for i in range(limits.LIMIT_LOGIN_FAIL_ACCOUNT):
            assert_error(_login(node, acc.username, f"Wrong-Password-{i}-x", ip), 401, "invalid_credentials")
        r = _login(node, acc.username, acc.password, ip)
        assert_error(r, 429)
        assert 0 < int(r.headers["Retry-After"]) <= limits.LIMIT_LOGIN_WINDOW_S, r.headers

    def test_mail_throttle_locks_on_the_one_node(node):
        address = f"nobody.{uniq()}@example.org"
        for i in range(limits.LIMIT_MAIL_PER_RECIPIENT):
            assert _forgot(node, address, f"198.51.100.{10 + i}").status_code == 202
        assert_error(_forgot(node, address, "198.51.100.99"), 429)

    def test_sqlite_keeps_its_throttle_in_memory(node):
        """No row of the shared table on SQLite: the counters stay in memory."""
        _login(node, f"ghost_{uniq()}", "Wrong-Password-x", "192.0.2.5")
        import sqlite3
        con = sqlite3.connect(f"file:{os.path.join(node.data_dir, 'atelier.db')}?mode=ro", uri=True,
                              timeout=10)
        try:
            assert con.execute("SELECT count(*) FROM throttle").fetchone()[0] == 0
        finally:
            con.close()

    def test_a_second_server_on_one_data_dir_is_told(server_factory, tmp_path):
        """Not refused (test_890_rekey starts a server mid-rotation next to a
        running one), but told that its throttles count apart."""
        d = _data_dir(tmp_path, "data")
        first = server_factory.start(data_dir=d)
        second = server_factory.start(data_dir=d)
        warning = "another atelier serve is running on"
        assert warning in second.stderr() and "PostgreSQL" in second.stderr(), second.stderr()
        assert warning not in first.stderr()
        assert second.stop() is None and first.stop() is None
        server_factory.servers.clear()
        again = server_factory.start(data_dir=d)  # the lock went with the processes
        assert warning not in again.stderr()

    def test_a_second_opendata_build_is_refused(node, atelier_cli):
        with open(os.path.join(node.data_dir, "opendata.lock"), "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            r = atelier_cli("opendata", "build", "--ignore-cadence", "--data", node.data_dir)
            assert r.returncode == 1, r.stderr
            assert "another atelier opendata build is running" in r.stderr, r.stderr
        import sqlite3
        con = sqlite3.connect(f"file:{os.path.join(node.data_dir, 'atelier.db')}?mode=ro", uri=True,
                              timeout=10)
        try:
            assert con.execute("SELECT count(*) FROM opendata_builds").fetchone()[0] == 0
        finally:
            con.close()
        r = atelier_cli("opendata", "build", "--ignore-cadence", "--data", node.data_dir)
        assert "another atelier opendata build" not in r.stderr, r.stderr

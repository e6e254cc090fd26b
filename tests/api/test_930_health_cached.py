"""Cached health (issue 17, item 1): GET /healthz answers from the storage
maintenance thread's last check (every LIMIT_HEALTH_POLL_MS), so a request
costs no statement, and it still turns 503 `database_unavailable` when the
database goes away, and 200 again when it is back.

"Goes away": on PostgreSQL the server's database refuses connections
(ALLOW_CONNECTIONS false) and its sessions are terminated; on SQLite the
database file is moved away from its path (a server that kept writing to
the moved file would lose those writes at its next start), then put back.

Statements are counted by the server itself (atelier_db_statements_total on
the metrics listener). No duration is asserted: the waits poll with
generous deadlines."""

import os
import re
import time

import pg_helpers
from conftest import BACKEND, PG_URL
import limits

REQUESTS = 100


def statements(srv):
    r = srv.metrics()
    assert r.status_code == 200, r.text[:200]
    m = re.search(r"^atelier_db_statements_total (\d+)$", r.text, re.M)
    assert m, "no atelier_db_statements_total in /metrics"
    return int(m.group(1))


def wait_health(srv, status, what):
    deadline = time.monotonic() + 30 + 5 * limits.LIMIT_HEALTH_POLL_MS / 1000
    last = None
    while time.monotonic() < deadline:
        r = srv.get("/healthz")
        last = (r.status_code, r.text[:200])
        if r.status_code == status:
            return r
        time.sleep(0.05)
    raise AssertionError(f"/healthz never answered {status} {what}; last: {last}")


def test_healthz_runs_no_statement_per_request(server):
    wait_health(server, 200, "at start")
    before = statements(server)
    for _ in range(REQUESTS):
        r = server.get("/healthz")
        assert r.status_code == 200, r.text[:200]
        assert r.json() == {"status": "ok"}
    spent = statements(server) - before
    # Only the background threads' own statements (health check, key
    # rotation watch, mail queue: a few a second), far fewer than one per
    # request.
    assert spent < REQUESTS // 2, f"{spent} statements for {REQUESTS} GET /healthz"


def _db_name(srv):
    return srv.database_url.rsplit("/", 1)[1].split("?", 1)[0]


def _go_away(srv):
    if BACKEND == "postgres":
        name = _db_name(srv)
        pg_helpers.execute(PG_URL, f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        pg_helpers.execute(
            PG_URL, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
    else:
        path = os.path.join(srv.data_dir, "atelier.db")
        os.rename(path, path + ".away")


def _come_back(srv):
    if BACKEND == "postgres":
        pg_helpers.execute(PG_URL, f'ALTER DATABASE "{_db_name(srv)}" WITH ALLOW_CONNECTIONS true')
    else:
        path = os.path.join(srv.data_dir, "atelier.db")
        os.replace(path + ".away", path)


def test_healthz_turns_unhealthy_when_the_database_goes_and_healthy_when_it_is_back(
        server_factory):
    srv = server_factory.start()
    wait_health(srv, 200, "at start")
    _go_away(srv)
    try:
        r = wait_health(srv, 503, "with the database gone")
        assert r.json()["error"]["code"] == "database_unavailable", r.text[:300]
        # It stays unhealthy while the database is away (several checks).
        time.sleep(3 * limits.LIMIT_HEALTH_POLL_MS / 1000)
        r = srv.get("/healthz")
        assert r.status_code == 503, r.text[:200]
    finally:
        _come_back(srv)
    r = wait_health(srv, 200, "once the database is back")
    assert r.json() == {"status": "ok"}
    # The server serves again, and logged the change both ways.
    assert srv.get("/v1/measurements").status_code == 200
    err = srv.stderr()
    assert "health check failed" in err, err[-2000:]

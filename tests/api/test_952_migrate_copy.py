"""Moving a SQLite site to another database (issue 17, item 4):
`atelier migrate --from sqlite:PATH --to URL` (src/cli/migrate_copy.c).

A SQLite site is built through the API (confirmed accounts, sessions, a
pending signup, links, a picture, models with notes and an avatar, saved
patterns, 2FA with recovery codes, API keys, a mail still queued, and an
open-data release built with the CLI), stopped, and copied into a fresh
database: PostgreSQL on the postgres run, a new SQLite file on the sqlite
run (scripts/test.sh gives the sqlite run no PostgreSQL URL; the copier is
the same code either way, and the postgres run covers PostgreSQL). Then:
  - every table of the source (schema_migrations apart: each database has
    its own) holds, in the target, exactly the same rows, byte for byte:
    the sealed columns are copied as they are, under the same key;
  - a server started on the target with the same key file serves it all:
    old sessions and API keys work, a login with the password and a TOTP
    code works, models, avatar, picture, patterns, the export and the open
    data are identical; a server with another key refuses to start;
  - a second copy into the now non-empty target is refused and changes
    nothing; so is a source whose file does not exist (and it is not
    created)."""

import os
import shutil
import sqlite3
import subprocess
import tempfile

import pytest

import pg_helpers
from accounts_helpers import bearer, create_account, outbox, signup, new_identity
from apikeys_helpers import create_key
from conftest import ATELIER_BIN, BACKEND, create_database, drop_database, free_port, server_env
import mfa_helpers
from models_helpers import create_model, image_fixture, put_avatar
from opendata_helpers import build, populate
from saved_patterns_helpers import bust_body, flat_body, save_pattern

# The open data build needs strata of LIMIT_OPENDATA_MIN_STRATUM (300) noisy
# persons: 900 synthetic opted-in accounts give both.
POPULATION = 900

# Only nodes on PostgreSQL write these (the shared throttles, the sweeper's
# lease): a SQLite site never has a row there, so they are copied empty.
PG_NODES_ONLY = ("throttle", "leases")


def run(*args, timeout=300):
    return subprocess.run([ATELIER_BIN, *args], capture_output=True, text=True, env=server_env(),
                          timeout=timeout, stdin=subprocess.DEVNULL)


def sqlite_tables(path):
    """{table: [column, ...]} of a SQLite database, as the schema says
    (accounts.retired_username apart: SQLite's own, see db_schema.c)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name <> 'schema_migrations' ORDER BY name")]
        return {t: [r[1] for r in con.execute(f"PRAGMA table_info('{t}')")
                    if (t, r[1]) != ("accounts", "retired_username")] for t in names}
    finally:
        con.close()


def _norm(row):
    return tuple(bytes(v) if isinstance(v, (memoryview, bytearray)) else v for v in row)


def rows_sqlite(path, table, cols):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return sorted((_norm(r) for r in con.execute(f"SELECT {', '.join(cols)} FROM {table}")),
                      key=repr)
    finally:
        con.close()


def rows_target(target, table, cols):
    if target.startswith("sqlite:"):
        return rows_sqlite(target[7:], table, cols)
    return sorted((_norm(r) for r in pg_helpers.execute(target, f"SELECT {', '.join(cols)} FROM {table}")),
                  key=repr)


def snapshot(srv, accounts):
    """What each account sees through the API (timestamps of the export
    apart), and the open data."""
    out = {}
    for acc in accounts:
        a = {}
        for path in ("/v1/account", "/v1/models", "/v1/patterns", "/v1/apikeys"):
            r = srv.get(path, headers=acc.auth)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
            a[path] = r.json()
        for m in a["/v1/models"]["models"] if isinstance(a["/v1/models"], dict) else a["/v1/models"]:
            for suffix in ("", "/measurements", "/avatar"):
                r = srv.get(f"/v1/models/{m['id']}{suffix}", headers=acc.auth)
                a[m["id"] + suffix] = (r.status_code, r.content)
        r = srv.get("/v1/account/picture", headers=acc.auth)
        a["picture"] = (r.status_code, r.content)
        r = srv.get("/v1/account/export", headers=acc.auth, timeout=60)
        assert r.status_code == 200, r.text[:300]
        export = r.json()
        export.pop("exported_at", None)
        export.pop("mails_queued", None)  # the target's server delivers the queued mail
        a["export"] = export
        out[acc.id] = a
    for path in ("/v1/opendata", "/v1/opendata/measurements.csv"):
        r = srv.get(path)
        out[path] = (r.status_code, r.content)
    return out


def differences(a, b, path=""):
    """Where two snapshots differ, for the failure message."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            out += differences(a.get(k), b.get(k), f"{path}/{k}")
        return out
    return [] if a == b else [f"{path}: {str(a)[:200]} != {str(b)[:200]}"]


@pytest.fixture(scope="module")
def site(module_server_factory, tmp_path_factory):
    """The SQLite site, built and stopped: (data dir, accounts, snapshot)."""
    data = str(tmp_path_factory.mktemp("sqlite-site"))
    srv = module_server_factory.start(data_dir=data, database="")
    mails = outbox(srv)
    alice = create_account(srv, mails, "alice")
    bob = create_account(srv, mails, "bob")
    # models with notes, an avatar, saved patterns
    m1 = create_model(srv, alice, "Alice", breasts=True, measurements=bust_body(),
                      notes="first fitting")
    create_model(srv, alice, "Alice later", breasts=True)
    m3 = create_model(srv, bob, "Bob", breasts=False, measurements=flat_body())
    assert put_avatar(srv, alice.token, m1["id"], image_fixture("small.jpg"), "image/jpeg").status_code == 200
    r = srv.request("PUT", "/v1/account/picture", data=image_fixture("photo.jpg"),
                    headers={**alice.auth, "Content-Type": "image/jpeg"}, timeout=60)
    assert r.status_code == 200, r.text[:300]
    save_pattern(srv, alice, m1["id"], "bodice", "Alice's block", notes="ease +2 cm")
    save_pattern(srv, bob, m3["id"], "body", "Bob's block")
    # 2FA with recovery codes; API keys; open data consent
    mfa_helpers.enable(srv, alice)
    alice.key = create_key(srv, alice, "write")["key"]
    bob.key = create_key(srv, bob, "read")["key"]
    r = srv.request("PATCH", "/v1/account", headers=bob.auth, json={"consent": {"open_data": True}})
    assert r.status_code == 200, r.text[:300]
    # a pending signup, a pending email change link, a password reset link
    ident = new_identity("pending")
    assert signup(srv, ident["email"], ident["username"], ident["password"]).status_code == 202
    r = srv.post("/v1/account/email", headers=bob.auth,
                 json={"email": "bob.new@example.org", "password": bob.password})
    assert r.status_code in (200, 202), r.text[:300]
    srv.stop()
    module_server_factory.servers.remove(srv)
    # a mail that stays queued: the relay does not answer
    dead = free_port()
    srv = module_server_factory.start(["--smtp", f"smtp://127.0.0.1:{dead}", "--smtp-tls", "off"],
                                      data_dir=data, database="")
    assert srv.post("/v1/password/forgot", json={"email": alice.email}).status_code == 202
    # the open data release, from a synthetic population
    populate(srv, POPULATION, 17)
    build(srv, "--ignore-cadence", "--min-stratum", "300")
    before = snapshot(srv, [alice, bob])
    problem = srv.stop()
    module_server_factory.servers.remove(srv)
    assert problem is None, problem
    tables = sqlite_tables(os.path.join(data, "atelier.db"))
    empty = [t for t, cols in tables.items() if t not in PG_NODES_ONLY
             and not rows_sqlite(os.path.join(data, "atelier.db"), t, cols)]
    assert empty == [], f"the test's site should fill every table; empty: {empty}"
    return data, [alice, bob], before


@pytest.fixture(scope="module")
def target(site, tmp_path_factory):
    """A fresh database (PostgreSQL on the postgres run) and its server's
    data dir, holding a copy of the source's key file only."""
    data = str(tmp_path_factory.mktemp("target-data"))
    shutil.copy2(os.path.join(site[0], "secret.key"), os.path.join(data, "secret.key"))
    os.chmod(os.path.join(data, "secret.key"), 0o600)
    if BACKEND == "postgres":
        url, name = create_database()
        yield url, data
        drop_database(name)
    else:
        yield "sqlite:" + os.path.join(data, "atelier.db"), data


@pytest.fixture(scope="module")
def migrated(site, target):
    url, _ = target
    p = run("migrate", "--from", "sqlite:" + site[0], "--to", url)
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    return p


def test_copy_prints_one_summary_line(site, migrated):
    lines = [ln for ln in migrated.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, migrated.stdout
    assert lines[0].startswith("atelier: migrated "), lines[0]
    assert ("to PostgreSQL" if BACKEND == "postgres" else "to SQLite") in lines[0], lines[0]
    assert f"accounts {POPULATION + 2}," in lines[0], lines[0]
    assert "postgres@" not in migrated.stdout + migrated.stderr  # never the URL


def test_every_row_is_copied_byte_for_byte(site, target, migrated):
    src = os.path.join(site[0], "atelier.db")
    tables = sqlite_tables(src)
    assert {"accounts", "models", "meta", "api_keys", "mail_queue"} <= set(tables)
    for table, cols in tables.items():
        a = rows_sqlite(src, table, cols)
        b = rows_target(target[0], table, cols)
        assert len(a) > 0 or table in PG_NODES_ONLY, table
        assert a == b, f"{table}: {len(a)} rows in the source, {len(b)} in the target, or different values"


def test_a_server_on_the_target_serves_everything(site, target, migrated, server_factory):
    url, data = target
    srv = server_factory.start(data_dir=data, database=url if url.startswith("postgres") else "")
    alice, bob = site[1]
    # what the accounts see, through the sessions made on SQLite
    after = snapshot(srv, [alice, bob])
    assert after == site[2], differences(site[2], after)
    # the mail left queued on SQLite is delivered from the target (sealed, opened)
    assert outbox(srv).wait(alice.email, match="reset", timeout=20)
    # the API keys made on SQLite
    assert srv.get("/v1/models", headers=bearer(bob.key)).status_code == 200
    assert srv.get("/v1/models", headers=bearer(alice.key)).status_code == 200
    # a login: the password (argon2id hash) and the TOTP secret (sealed)
    r = mfa_helpers.login(srv, alice)
    assert r.status_code == 401 and "mfa_required" in r.text, r.text[:300]
    r = mfa_helpers.login(srv, alice, code=alice.mfa.next_code(srv))
    assert r.status_code == 200, r.text[:300]
    r = srv.post("/v1/login", json={"login": bob.username, "password": bob.password})
    assert r.status_code == 200, r.text[:300]


def test_another_key_cannot_open_the_target(target, migrated, server_factory, tmp_path):
    url, _ = target
    if url.startswith("sqlite:"):  # the database lives in the data dir: give it one with a new key
        shutil.copy2(url[7:], tmp_path / "atelier.db")
    rc, out = server_factory.start_expect_exit(
        data_dir=str(tmp_path), database=url if url.startswith("postgres") else "")
    assert rc != 0, out
    assert "key" in out.lower(), out[-2000:]


def test_a_second_copy_into_the_non_empty_target_is_refused(site, target, migrated):
    url, _ = target
    src = os.path.join(site[0], "atelier.db")
    before = {t: rows_target(url, t, cols) for t, cols in sqlite_tables(src).items()}
    p = run("migrate", "--from", "sqlite:" + site[0], "--to", url)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "not empty" in p.stderr, p.stderr
    assert p.stdout == "", p.stdout
    assert {t: rows_target(url, t, cols) for t, cols in sqlite_tables(src).items()} == before


def test_a_missing_source_is_refused_and_not_created(tmp_path):
    missing = tmp_path / "nothing.db"
    to = "sqlite:" + str(tmp_path / "t.db")
    p = run("migrate", "--from", f"sqlite:{missing}", "--to", to)
    assert p.returncode == 1, p.stdout + p.stderr
    assert not missing.exists()
    assert not (tmp_path / "t.db").exists()
    p = run("migrate", "--from", f"sqlite:{missing}")
    assert p.returncode == 2, p.stdout + p.stderr

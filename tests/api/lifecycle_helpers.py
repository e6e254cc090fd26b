"""Helpers for the privacy-lifecycle tests (test_3xx_*): running `atelier
sweep` against a test server's data dir / database, reading the database
directly (SQLite read-only URI, PostgreSQL through pg_helpers) for completeness
checks, access-log files, and time arithmetic.

Plain functions; fixtures live in conftest.py and in each test module."""

import datetime
import json
import os
import re
import subprocess
import time

import limits
import pg_helpers
from conftest import ATELIER_BIN, BACKEND, free_port, server_env
from accounts_helpers import parse_time

DAY = datetime.timedelta(days=1)
DAY_S = 86400
ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

# SPEC section 1, from `atelier limits` (src/base/policy.h, docs/LIMITS.md)
ACCESS_LOG_DAYS = limits.RETAIN_ACCESS_LOG_DAYS
INACTIVE_DAYS = limits.RETAIN_INACTIVE_DAYS
NOTICE_DAYS = limits.RETAIN_NOTICE_DAYS
UNCONFIRMED_DAYS = limits.RETAIN_UNCONFIRMED_DAYS
NOTICE_SUBJECT = f"Your atelier account will be erased in {NOTICE_DAYS} days"

# src/privacy/sweep.h SWEEP_LOCK_KEY ("atlsweep")
SWEEP_LOCK_KEY = int.from_bytes(b"atlsweep", "big")

REPORT_KEYS = {
    "dry_run", "locked_elsewhere", "logs_deleted", "notices", "accounts_erased",
    "signups_erased", "sessions_deleted", "tokens_deleted", "mfa_setups_deleted", "outbox_deleted",
    "mails_sent", "mails_failed", "mails_remaining", "ms",
}
# (not outbox_deleted: a real run's erasure removes the erased accounts' files
# first, and the age rule counts only what is left)
COUNT_KEYS = ("logs_deleted", "notices", "accounts_erased", "signups_erased", "sessions_deleted",
              "tokens_deleted")

# Every table that holds data of an account (src/store/db_schema.c).
ACCOUNT_TABLES = ("accounts", "sessions", "tokens", "account_pictures", "mail_queue", "models",
                  "model_avatars", "dp_ledger", "patterns", "api_keys", "account_mfa",
                  "mfa_recovery_codes")


# --------------------------------------------------------------------------
# time


def utc(dt):
    assert dt.tzinfo is not None, dt
    return dt.astimezone(datetime.timezone.utc)


def rfc3339(dt):
    """2027-01-02T03:04:05Z (whole seconds)."""
    return utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def days(n):
    return datetime.timedelta(days=n)


def account_last_login(srv, token):
    """last_login_at of the account of `token`, as the server says."""
    r = srv.get("/v1/account", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text[:300]
    return parse_time(r.json()["last_login_at"])


# --------------------------------------------------------------------------
# atelier sweep


def sweep_args(srv_or_store, now=None, dry_run=False, smtp=None):
    data_dir = srv_or_store.data_dir
    database = getattr(srv_or_store, "database_url", None) or getattr(srv_or_store, "database", None)
    args = [ATELIER_BIN, "sweep", "--data", data_dir]
    if database:
        args += ["--database", database]
    if now is not None:
        args += ["--now", now if isinstance(now, str) else rfc3339(now)]
    if dry_run:
        args.append("--dry-run")
    if smtp:
        args += ["--smtp", smtp, "--smtp-tls", "off"]
    return args


def sweep(srv_or_store, now=None, dry_run=False, smtp=None, timeout=300):
    """Run `atelier sweep` once; assert it succeeded and printed exactly one
    JSON report line on stdout; return the report (a dict) with .stderr."""
    args = sweep_args(srv_or_store, now, dry_run, smtp)
    p = subprocess.run(args, capture_output=True, text=True, env=server_env(), timeout=timeout,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, f"{' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr[-3000:]}"
    return parse_report(p.stdout, args, p.stderr)


class Report(dict):
    stderr = ""


def parse_report(stdout, args=(), stderr=""):
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"{' '.join(args)} printed {len(lines)} lines on stdout:\n{stdout}"
    rep = Report(json.loads(lines[0]))
    rep.stderr = stderr
    assert set(rep) == REPORT_KEYS, f"report keys: {sorted(rep)}"
    for k in REPORT_KEYS - {"dry_run", "locked_elsewhere", "ms"}:
        assert isinstance(rep[k], int) and not isinstance(rep[k], bool) and rep[k] >= 0, (k, rep)
    assert isinstance(rep["dry_run"], bool) and isinstance(rep["locked_elsewhere"], bool), rep
    assert isinstance(rep["ms"], (int, float)) and rep["ms"] >= 0, rep
    return rep


def counts(rep):
    return {k: rep[k] for k in COUNT_KEYS}


def dead_smtp():
    """An smtp:// URL where nothing listens (mail stays queued)."""
    return f"smtp://127.0.0.1:{free_port()}"


def dead_smtp_args():
    return ["--smtp", dead_smtp(), "--smtp-tls", "off"]


# --------------------------------------------------------------------------
# the database, read directly


def _sqlite_connect(data_dir):
    import sqlite3

    path = os.path.join(data_dir, "atelier.db")
    assert os.path.exists(path), os.listdir(data_dir)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    return con


def _psql(url, sql, binary=False):
    """psql -A -t's output of sql (COPY ... TO STDOUT: its bytes when binary)."""
    if sql.lstrip().upper().startswith("COPY"):
        out = pg_helpers.copy_out(url, sql)
        return out if binary else out.decode("utf-8")
    out = pg_helpers.psql(url, sql)
    return out.encode("utf-8") if binary else out


def _copy_unescape(field):
    """A field of COPY ... TO STDOUT (FORMAT text): \\N is NULL."""
    if field == "\\N":
        return None
    if "\\" not in field:
        return field
    out, i = [], 0
    esc = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field):
            out.append(esc.get(field[i + 1], field[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Store:
    """Direct read access to the database of a server (or ClockedStore):
    every value comes back as None or str (integers in decimal, blobs as
    PostgreSQL's \\x<hex> form on both backends)."""

    def __init__(self, srv_or_store):
        self.data_dir = srv_or_store.data_dir
        self.url = getattr(srv_or_store, "database_url", None) or getattr(srv_or_store, "database", None)
        if BACKEND == "postgres":
            assert self.url, "a PostgreSQL server without a database URL"

    def tables(self):
        if self.url:
            out = _psql(self.url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
            return [t for t in out.split() if t]
        con = _sqlite_connect(self.data_dir)
        try:
            return [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        finally:
            con.close()

    def columns(self, table):
        assert re.match(r"^[a-z_][a-z0-9_]*$", table), table
        if self.url:
            out = _psql(self.url, "SELECT column_name FROM information_schema.columns WHERE "
                        f"table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position")
            return [c for c in out.split() if c]
        con = _sqlite_connect(self.data_dir)
        try:
            return [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
        finally:
            con.close()

    def rows(self, table):
        """Every row of `table` as a dict column -> None | str."""
        cols = self.columns(table)
        assert cols, f"table {table} has no columns"
        if self.url:
            out = _psql(self.url, f'COPY (SELECT * FROM "{table}") TO STDOUT', binary=True).decode("utf-8")
            rows = []
            for line in out.split("\n"):
                if line == "":
                    continue
                fields = [_copy_unescape(f) for f in line.split("\t")]
                assert len(fields) == len(cols), (table, cols, line[:200])
                rows.append(dict(zip(cols, fields)))
            return rows
        con = _sqlite_connect(self.data_dir)
        try:
            cur = con.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cur.description]
            rows = []
            for r in cur.fetchall():
                row = {}
                for k, v in zip(names, r):
                    if isinstance(v, bytes):
                        v = "\\x" + v.hex()
                    elif v is not None and not isinstance(v, str):
                        v = str(v)
                    row[k] = v
                rows.append(row)
            return rows
        finally:
            con.close()

    def snapshot(self):
        """{table: sorted rows}: to show that nothing changed. SQLite's own
        statistics tables (sqlite_stat*, refreshed by PRAGMA optimize when a
        connection closes) are not data and are left out."""
        return {t: sorted(json.dumps(r, sort_keys=True) for r in self.rows(t)) for t in self.tables()
                if not t.startswith("sqlite_")}

    def all_rows(self):
        return {t: self.rows(t) for t in self.tables()}

    def rows_with(self, needle, dump=None):
        """{table: [rows]} of every row that holds `needle` (a str) in any
        column (text, or the hex of a blob holding its bytes)."""
        hx = needle.encode().hex()
        found = {}
        for t, rows in (dump if dump is not None else self.all_rows()).items():
            hits = [r for r in rows
                    if any(v is not None and (needle in v or (v.startswith("\\x") and hx in v[2:]))
                           for v in r.values())]
            if hits:
                found[t] = hits
        return found

    def where(self, table, column, value):
        return [r for r in self.rows(table) if r.get(column) == value]

    def stored_bytes(self):
        """What a thief of the storage reads: the SQLite files (db, -wal,
        -shm), or a dump of every PostgreSQL table (binary and text COPY)."""
        if self.url:
            blob = b""
            for t in self.tables():
                for fmt in ("binary", "text"):
                    blob += _psql(self.url, f'COPY (SELECT * FROM "{t}") TO STDOUT WITH (FORMAT {fmt})', binary=True)
            return blob
        blob = b""
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = os.path.join(self.data_dir, "atelier.db" + suffix)
            if os.path.exists(p):
                with open(p, "rb") as f:
                    blob += f.read()
        return blob


def forms(needle):
    """Byte forms a string can take in stored bytes or a text dump."""
    b = needle.encode()
    return [b, b.hex().encode()]


def assert_not_stored(store, needles, where="the database"):
    blob = store.stored_bytes()
    for label, needle in needles.items():
        for form in forms(needle):
            assert form not in blob, f"{label} ({needle!r}) is still readable in {where}"


def assert_stored(store, needles, where="the database"):
    """The control of assert_not_stored: the needles are there before."""
    blob = store.stored_bytes()
    for label, needle in needles.items():
        assert any(f in blob for f in forms(needle)), f"{label} ({needle!r}) not found in {where}"


def assert_no_row_references(store, needles):
    """No row of any table holds any of `needles` ({label: str})."""
    problems = {}
    dump = store.all_rows()
    assert "accounts" in dump and "mail_queue" in dump, sorted(dump)
    for label, needle in needles.items():
        found = store.rows_with(needle, dump)
        if found:
            problems[label] = {t: len(rs) for t, rs in found.items()}
    assert not problems, f"rows still reference the erased account: {problems}"


# --------------------------------------------------------------------------
# access-log files


def log_name(day):
    return f"access-{day.strftime('%Y-%m-%d')}.jsonl"


def write_log(data_dir, name, content=None):
    d = os.path.join(data_dir, "logs")
    os.makedirs(d, mode=0o700, exist_ok=True)
    p = os.path.join(d, name)
    if content is None:
        content = json.dumps({"time": "2000-01-01T00:00:00.000Z", "ip": "192.0.2.1", "method": "GET",
                              "route": "/healthz", "status": 200, "duration_ms": 1,
                              "request_id": name}) + "\n"
    with open(p, "w") as f:
        f.write(content)
    return p


def log_dir_state(data_dir):
    """{name: bytes} of every file under DATA/logs."""
    d = os.path.join(data_dir, "logs")
    out = {}
    if os.path.isdir(d):
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    out[name] = f.read()
            else:
                out[name] = "<dir>"
    return out


def outbox_names(data_dir):
    d = os.path.join(data_dir, "outbox")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


# --------------------------------------------------------------------------
# metrics


def metric_events(srv):
    r = srv.metrics()  # the metrics listener (--metrics-listen)
    assert r.status_code == 200, r.text[:200]
    out = {}
    for m in re.finditer(r'^atelier_events_total\{event="([a-z_]+)"\} (\d+)$', r.text, re.M):
        out[m.group(1)] = int(m.group(2))
    assert "sweep_runs" in out, r.text[-2000:]
    return out


def wait_for(pred, timeout, what, step=0.25):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(step)


# --------------------------------------------------------------------------
# an account with a bit of everything


class Rich:
    """What populate() stored for an account."""

    def __init__(self, acc):
        self.acc = acc
        self.tokens = [acc.token]
        self.model_ids = []
        self.pattern_ids = []
        self.pending_email = None
        self.api_key = None  # the secret of its API key (populate)
        self.api_key_id = None
        self.mfa = None  # mfa_helpers.Mfa: 2FA is on


def populate(srv, acc, tag="rich"):
    """Bio, social, consent, a picture, two models with avatars, two saved
    patterns of the second model, a second session, an API key used once, an
    open data build that charged the account's privacy ledger (it publishes
    nothing: the world is too small), and two-factor login (its secret and
    recovery codes). Needs a server that delivers mail (not used here)."""
    import mfa_helpers
    from accounts_helpers import bearer, login_token
    from models_helpers import create_model, image_fixture, male_sets, put_avatar, without_breasts_only
    from opendata_helpers import build_fails

    rich = Rich(acc)
    r = srv.request("PATCH", "/v1/account", headers=acc.auth, json={
        "bio": f"bio of {tag}", "social": {"github": f"gh_{tag}", "website": f"https://{tag}.example"},
        "consent": {"open_data": True}})
    assert r.status_code == 200, r.text
    r = srv.request("PUT", "/v1/account/picture", headers={**acc.auth, "Content-Type": "image/jpeg"},
                    data=image_fixture("small.jpg"), timeout=60)
    assert r.status_code == 200, r.text
    m1 = create_model(srv, acc, f"{tag} model one", True, {"neck": 345, "chest": 987, "waist": 801},
                      f"notes of {tag}")
    m2 = create_model(srv, acc, f"{tag} model two", False,
                      without_breasts_only(male_sets()["cisMaleAdult42"]))
    r = put_avatar(srv, acc.token, m1["id"], image_fixture("photo.jpg"), "image/jpeg")
    assert r.status_code == 200, r.text
    r = put_avatar(srv, acc.token, m2["id"], image_fixture("photo.webp"), "image/webp")
    assert r.status_code == 200, r.text
    rich.model_ids = [m1["id"], m2["id"]]
    for design, notes in (("body", f"pattern notes of {tag}"), ("trouser", None)):
        body = {"model_id": m2["id"], "design": design, "name": f"{tag} {design}",
                "options": {"sa": 12, "paper": "a4"}}
        if notes:
            body["notes"] = notes
        r = srv.post("/v1/patterns", headers=acc.auth, json=body)
        assert r.status_code == 201, r.text
        rich.pattern_ids.append(r.json()["id"])
    assert "the ledger was charged" in build_fails(srv, "--ignore-cadence")
    rich.tokens.append(login_token(srv, acc.username, acc.password))
    assert srv.get("/v1/account", headers=bearer(rich.tokens[-1])).status_code == 200
    # 90 days ahead of the server's clock (it may run with an offset)
    expires = rfc3339(account_last_login(srv, rich.tokens[-1]) + days(90))
    r = srv.post("/v1/apikeys", headers=acc.auth, json={"name": f"key of {tag}", "scope": "read",
                                                        "expires_at": expires})
    assert r.status_code == 201, r.text
    rich.api_key, rich.api_key_id = r.json()["key"], r.json()["id"]
    assert srv.get("/v1/models", headers=bearer(rich.api_key)).status_code == 200
    rich.mfa = mfa_helpers.enable(srv, acc)
    return rich


def queue_links(srv, rich, tag="rich"):
    """A pending email change and a reset link, with their mails. On a server
    whose --smtp points nowhere the mails stay queued."""
    from accounts_helpers import uniq

    acc = rich.acc
    rich.pending_email = f"moved.{tag}.{uniq()}@example.org"
    body = {"email": rich.pending_email, "password": acc.password}
    if rich.mfa:
        body["code"] = rich.mfa.recovery_code()
    r = srv.post("/v1/account/email", headers=acc.auth, json=body)
    assert r.status_code == 202, r.text
    r = srv.post("/v1/password/forgot", json={"email": acc.email})
    assert r.status_code == 202, r.text
    return rich


def account_rows(store, account_id):
    """{table: rows} of everything the schema stores for one account."""
    out = {}
    for t in ("sessions", "tokens", "account_pictures", "mail_queue", "models", "dp_ledger", "patterns",
              "api_keys", "account_mfa", "mfa_recovery_codes"):
        out[t] = store.where(t, "account_id", account_id)
    out["accounts"] = store.where("accounts", "id", account_id)
    model_ids = {m["id"] for m in out["models"]}
    out["model_avatars"] = [r for r in store.rows("model_avatars") if r["model_id"] in model_ids]
    return out


# --------------------------------------------------------------------------
# rows written straight into the database (what the API cannot make)


def insert_raw_accounts(store, n, last_login, prefix="raw"):
    """Insert n account rows whose last login is `last_login` (Unix seconds),
    with random bytes as their sealed email and username: the sweeper erases
    them without opening anything, but it cannot mail them. Returns their ids."""
    import secrets

    rows = []
    for _ in range(n):
        rows.append((secrets.token_urlsafe(16), secrets.token_bytes(32), secrets.token_bytes(72),
                     secrets.token_bytes(32), secrets.token_bytes(60), "$argon2id$not-a-hash", last_login,
                     last_login, last_login))
    if store.url:
        values = ",".join(
            f"('{i}', decode('{lk.hex()}', 'hex'), decode('{sl.hex()}', 'hex'), decode('{ul.hex()}', 'hex'),"
            f" decode('{us.hex()}', 'hex'), '{h}', {a}, {b}, {c})"
            for i, lk, sl, ul, us, h, a, b, c in rows)
        _psql(store.url, "INSERT INTO accounts (id, email_lookup, email_sealed, username_lookup, username_sealed,"
                         f" password_hash, created_at, updated_at, last_login_at) VALUES {values}")
    else:
        import sqlite3

        con = sqlite3.connect(os.path.join(store.data_dir, "atelier.db"), timeout=10, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            # SQLite keeps the retired clear column (migration 7): '#' || id.
            con.executemany("INSERT INTO accounts (id, email_lookup, email_sealed, username_lookup,"
                            " username_sealed, password_hash, created_at, updated_at, last_login_at,"
                            " retired_username) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, '#' || ?1)", rows)
            con.execute("COMMIT")
        finally:
            con.close()
    return [r[0] for r in rows]

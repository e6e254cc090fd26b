"""Helpers for the account tests (test_1xx_*): mail readers (outbox and an
aiosmtpd maildir sink), account creation, error assertions, raw database
dumps for the at-rest checks. Plain functions and classes; the fixtures
themselves come from conftest.py."""

import datetime
import email
import email.policy
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import itertools
import tempfile
import time

import requests
from requests.adapters import HTTPAdapter

import pg_helpers

DEBIAN_PY = "/usr/bin/python3"  # the Python with aiosmtpd and PIL (not pyenv's)
TOKEN_RE = re.compile(r"token=([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])")
ANY_TOKEN_RE = re.compile(r"token=")
MAIL_WAIT_S = 10.0
ACCOUNT_KEYS = {
    "id",
    "email",
    "username",
    "bio",
    "social",
    "has_picture",
    "consent",
    "created_at",
    "last_login_at",
    "restriction",
    "two_factor",
    "units",
}


def uniq(n=4):
    return secrets.token_hex(n)


def strong_password():
    """A password zxcvbn rates far above 10^6 guesses, unrelated to any name."""
    return "Vq7#" + secrets.token_urlsafe(12) + "-zT9"


def new_identity(prefix="user"):
    tag = uniq()
    return {
        "email": f"{prefix}.{tag}@example.org",
        "username": f"{prefix}_{tag}",
        "password": strong_password(),
    }


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def parse_time(s):
    assert isinstance(s, str), s
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", s), (
        f"not an RFC 3339 time: {s!r}"
    )
    t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    assert t.tzinfo is not None, s
    return t


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


# --------------------------------------------------------------------------
# error shapes


def assert_error(r, status, code=None):
    """An error answer: JSON {"error": {"code", "message"[, "field"]}}."""
    assert r.status_code == status, (
        f"{r.request.method} {r.request.path_url}: expected {status}, got {r.status_code}: {r.text[:400]}"
    )
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err.get("code"), str) and re.match(r"^[a-z][a-z0-9_]*$", err["code"]), body
    assert isinstance(err.get("message"), str) and err["message"].strip(), body
    if code is not None:
        assert err["code"] == code, body
    return err


def assert_invalid_field(r, field):
    """422 invalid_field naming `field` (in the field member and the message)."""
    err = assert_error(r, 422, "invalid_field")
    assert set(err) == {"code", "message", "field"}, err
    assert err["field"] == field, f"expected field {field!r}: {err}"
    assert field in err["message"], f"the message does not name {field!r}: {err}"
    return err


def assert_unauthenticated(r):
    err = assert_error(r, 401)
    www = r.headers.get("WWW-Authenticate", "")
    assert www.split(" ")[0].lower() == "bearer", f"WWW-Authenticate is {www!r}"
    return err


def assert_account_shape(acc):
    assert isinstance(acc, dict), acc
    assert set(acc) == ACCOUNT_KEYS, sorted(acc)
    assert isinstance(acc["id"], str) and len(acc["id"]) >= 16, acc["id"]
    assert isinstance(acc["email"], str) and "@" in acc["email"], acc
    assert isinstance(acc["username"], str), acc
    assert acc["bio"] is None or isinstance(acc["bio"], str), acc
    assert isinstance(acc["social"], dict), acc
    assert isinstance(acc["has_picture"], bool), acc
    assert isinstance(acc["consent"], dict) and set(acc["consent"]) == {"open_data"}, acc
    assert isinstance(acc["consent"]["open_data"], bool), acc
    parse_time(acc["created_at"])
    parse_time(acc["last_login_at"])
    res = acc["restriction"]
    assert isinstance(res, dict) and set(res) == {"restricted", "since"}, acc
    assert isinstance(res["restricted"], bool), acc
    if res["restricted"]:
        parse_time(res["since"])
    else:
        assert res["since"] is None, acc
    tf = acc["two_factor"]
    assert isinstance(tf, dict) and set(tf) == {"enabled", "recovery_codes_left"}, acc
    assert isinstance(tf["enabled"], bool), acc
    assert tf["recovery_codes_left"] in range(0, 11), acc
    if not tf["enabled"]:
        assert tf["recovery_codes_left"] == 0, acc


# --------------------------------------------------------------------------
# mail


class Mail:
    def __init__(self, path, raw):
        self.path = path
        self.raw = raw
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.to = str(self.msg.get("To", ""))
        self.subject = str(self.msg.get("Subject", ""))
        part = self.msg.get_body(preferencelist=("plain",)) or self.msg
        self.body = part.get_content() if part.get_content_maintype() == "text" else ""

    def addressed_to(self, address):
        return address.lower() in self.to.lower()

    @property
    def token(self):
        """The link token of the mail (exactly one link expected)."""
        found = TOKEN_RE.findall(self.body)
        assert len(set(found)) == 1, f"expected exactly one link token in the mail:\n{self.text()}"
        return found[0]

    @property
    def has_link(self):
        return bool(ANY_TOKEN_RE.search(self.body)) or "http://" in self.body or "https://" in self.body

    def text(self):
        return f"To: {self.to}\nSubject: {self.subject}\n\n{self.body}"

    def __repr__(self):
        return f"<Mail to={self.to!r} subject={self.subject!r}>"


class MailReader:
    """Reads every message file of a directory (the server's outbox, or a
    maildir's new/), remembering which ones a test has already taken."""

    def __init__(self, directory, suffix=None):
        self.directory = directory
        self.suffix = suffix
        self.taken = set()

    def all(self):
        out = []
        if not os.path.isdir(self.directory):
            return out
        for name in sorted(os.listdir(self.directory)):
            if name.startswith("."):
                continue  # temporary files while being written
            if self.suffix and not name.endswith(self.suffix):
                continue
            path = os.path.join(self.directory, name)
            try:
                with open(path, "rb") as f:
                    raw = f.read()
            except FileNotFoundError:
                continue
            out.append(Mail(path, raw))
        return out

    def to(self, address):
        return [m for m in self.all() if m.addressed_to(address)]

    def wait(self, address, match=None, timeout=MAIL_WAIT_S):
        """Wait for a not yet taken mail to `address` (whose subject or body
        contains `match`, case-insensitive, when given); take and return it."""
        deadline = time.monotonic() + timeout
        while True:
            for m in self.to(address):
                if m.path in self.taken:
                    continue
                if match and match.lower() not in (m.subject + "\n" + m.body).lower():
                    continue
                self.taken.add(m.path)
                return m
            if time.monotonic() > deadline:
                seen = [(m.to, m.subject) for m in self.all()]
                raise AssertionError(
                    f"no mail to {address!r}" + (f" matching {match!r}" if match else "")
                    + f" within {timeout} s; mails seen: {seen[-20:]}"
                )
            time.sleep(0.05)

    def untaken(self, address):
        return [m for m in self.to(address) if m.path not in self.taken]


def outbox(server):
    return MailReader(os.path.join(server.data_dir, "outbox"), suffix=".eml")


# --------------------------------------------------------------------------
# accounts


class Account:
    def __init__(self, email, username, password, token, data):
        self.email = email
        self.username = username
        self.password = password
        self.token = token
        self.data = data
        self.id = data["id"]

    @property
    def auth(self):
        return bearer(self.token)


class _SourceAdapter(HTTPAdapter):
    """Connections from a chosen local address."""

    def __init__(self, source, **kw):
        self._source = source
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self._source, 0)
        return super().init_poolmanager(*args, **kw)


_SOURCES = itertools.count()


def setup_client():
    """A session whose connections come from a loopback address of their own
    (127.0.0.2-251, in turn): the accounts a test creates for its set-up do
    not spend the per-client mail limit (LIMIT_MAIL_PER_CLIENT) of the
    client the test itself speaks as."""
    s = requests.Session()
    s.mount("http://", _SourceAdapter(f"127.0.0.{2 + next(_SOURCES) % 250}"))
    return s


def signup(server, email, username, password, **extra):
    body = {"email": email, "username": username, "password": password}
    body.update(extra)
    return server.post("/v1/signup", json=body)


def confirm(server, token, password=None):
    """A signup link needs the password chosen at signup; an email-change
    link needs none."""
    body = {"token": token}
    if password is not None:
        body["password"] = password
    return server.post("/v1/confirm", json=body)


def login(server, login_name, password):
    return server.post("/v1/login", json={"login": login_name, "password": password})


def login_token(server, login_name, password):
    r = login(server, login_name, password)
    assert r.status_code == 200, f"login as {login_name!r}: {r.status_code} {r.text[:300]}"
    return r.json()["token"]


def get_account(server, token):
    r = server.get("/v1/account", headers=bearer(token))
    assert r.status_code == 200, r.text[:300]
    return r.json()


def create_account(server, mails, prefix="user", identity=None):
    """Sign up, take the confirmation mail, confirm; an Account with the
    session token the confirmation returned."""
    ident = identity or new_identity(prefix)
    body = {"email": ident["email"], "username": ident["username"], "password": ident["password"]}
    with setup_client() as client:
        r = client.post(server.url("/v1/signup"), json=body, timeout=10)
    assert r.status_code == 202, r.text[:300]
    mail = mails.wait(ident["email"], match="confirm")
    r = confirm(server, mail.token, ident["password"])
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    return Account(ident["email"].lower(), ident["username"].lower(), ident["password"], body["token"],
                   body["account"])


# --------------------------------------------------------------------------
# an aiosmtpd Mailbox sink (python3-aiosmtpd, Debian's Python)


def _free_port():
    from conftest import free_port  # one picker: it avoids the ports it handed out lately
    return free_port()


class SmtpSink:
    """`/usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c
    aiosmtpd.handlers.Mailbox DIR`; messages appear in DIR/new/."""

    def __init__(self, port=None):
        self.port = port or _free_port()
        self.dir = tempfile.mkdtemp(prefix="atelier-smtp-", dir="/tmp")
        self.maildir = os.path.join(self.dir, "maildir")
        self.log_path = os.path.join(self.dir, "sink.log")
        self.proc = None
        self.reader = MailReader(os.path.join(self.maildir, "new"))

    def start(self, timeout=15.0):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [DEBIAN_PY, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}", "-c",
             "aiosmtpd.handlers.Mailbox", self.maildir],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the SMTP sink exited ({self.proc.returncode}): {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.settimeout(2)
                    if s.recv(64).startswith(b"220"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"the SMTP sink did not answer on port {self.port}: {self.log()}")

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------
# raw database contents (at-rest checks)


def sqlite_files_bytes(data_dir):
    """Every byte of atelier.db, -wal and -shm (those that exist)."""
    blob = b""
    names = []
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = os.path.join(data_dir, "atelier.db" + suffix)
        if os.path.exists(p):
            with open(p, "rb") as f:
                blob += f.read()
            names.append(os.path.basename(p))
    assert "atelier.db" in names, os.listdir(data_dir)
    return blob


def pg_tables(url):
    out = pg_helpers.psql(url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
    return [t for t in out.split() if t]


def pg_dump_bytes(url):
    """Every table of the database, as COPY ... TO STDOUT in binary format
    (bytea values as their raw bytes) and in text format."""
    tables = pg_tables(url)
    assert "accounts" in tables, tables
    blob = b""
    for t in tables:
        for fmt in ("binary", "text"):
            blob += pg_helpers.copy_out(url, f'COPY (SELECT * FROM "{t}") TO STDOUT WITH (FORMAT {fmt})')
    return blob


def hex_forms(needle):
    """The forms a byte string can take in a text dump of a bytea column."""
    h = needle.hex()
    return [needle, h.encode(), h.upper().encode()]


# --------------------------------------------------------------------------
# logs


def wait_access_log(server, request_id, timeout=5.0):
    """Wait until the (asynchronously written) access log holds a request."""
    d = os.path.join(server.data_dir, "logs")
    deadline = time.monotonic() + timeout
    while True:
        if os.path.isdir(d):
            for name in os.listdir(d):
                with open(os.path.join(d, name), "rb") as f:
                    if request_id.encode() in f.read():
                        return
        if time.monotonic() > deadline:
            raise AssertionError(f"request {request_id} not in the access log after {timeout} s")
        time.sleep(0.05)


def logs_bytes(server):
    d = os.path.join(server.data_dir, "logs")
    blob = b""
    for dirpath, _dirs, files in os.walk(d):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                blob += f.read()
    return blob


# --------------------------------------------------------------------------
# one data directory (and database) served by successive servers, e.g. with
# a shifted clock (--clock-offset) to reach expiry times


class ClockedStore:
    """start(offset) stops the running server (checking its exit) and starts
    a new one on the same data dir and database with --clock-offset."""

    def __init__(self, factory, data_dir, database):
        os.makedirs(data_dir, mode=0o700, exist_ok=True)
        self.factory = factory
        self.data_dir = str(data_dir)
        self.database = database
        self.current = None

    def start(self, offset=0, extra_args=()):
        if self.current is not None:
            problem = self.current.stop()
            assert problem is None, problem
        args = list(extra_args)
        if offset:
            args += ["--clock-offset", str(int(offset))]
        self.current = self.factory.start(extra_args=args, data_dir=self.data_dir, database=self.database)
        return self.current

    @property
    def mails(self):
        return MailReader(os.path.join(self.data_dir, "outbox"), suffix=".eml")

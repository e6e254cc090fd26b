"""Helpers for the hostile-client, fault-injection and crash-safety tests
(test_8xx_*): raw HTTP exchanges, server liveness, a tiny tmpfs to fill,
metrics, direct database reads, and the mixed write load of the crash test.

Plain functions and classes; the fixtures themselves come from conftest.py
(server_factory, raw, ...) and each test module."""

import json
import os
import random
import re
import resource
import signal
import socket
import subprocess
import tempfile
import threading
import time

import requests

from accounts_helpers import MailReader, bearer, new_identity
from conftest import SANITIZER_MARKERS
from lifecycle_helpers import Store

STATUS_RE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
ACCESS_KEYS = {"time", "ip", "method", "route", "status", "duration_ms", "request_id"}


# --------------------------------------------------------------------------
# raw HTTP


def statuses(reply):
    """Every status code of the responses in a raw reply, in order."""
    return [int(c) for c in STATUS_RE.findall(bytes(reply))]


def show(reply, n=600):
    return repr(bytes(reply)[:n])


def socket_from(src_ip):
    """A TCP socket bound to a loopback source address (any 127.0.0.0/8
    address works on Linux), so that per-IP connection limits are per socket
    group."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src_ip, 0))
    return s


def peek_state(s):
    """'open' (connected, nothing to read), 'closed' (EOF or reset) or 'data'."""
    prev = s.gettimeout()
    s.setblocking(False)  # with a timeout set, Python would wait for readability first
    try:
        b = s.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return "open"
    except (ConnectionResetError, BrokenPipeError):
        return "closed"
    finally:
        s.settimeout(prev)
    return "data" if b else "closed"


def read_until_closed(s, timeout):
    """(bytes received, closed?, seconds waited) until EOF/reset or timeout."""
    chunks = []
    start = time.monotonic()
    deadline = start + timeout
    closed = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, BrokenPipeError):
            closed = True
            break
        if not b:
            closed = True
            break
        chunks.append(b)
    return b"".join(chunks), closed, time.monotonic() - start


def chunked(data, size=16384):
    """data in the chunked transfer coding, with the final chunk."""
    out = bytearray()
    for i in range(0, len(data), size):
        c = data[i:i + size]
        out += b"%x\r\n" % len(c) + c + b"\r\n"
    return bytes(out + b"0\r\n\r\n")


# --------------------------------------------------------------------------
# server liveness


def assert_alive(srv, what=""):
    """The server process runs and GET /healthz answers 200 {"status":"ok"}
    on a fresh connection (within 10 s: a hang, not a speed, is what fails)."""
    rc = srv.proc.poll()
    assert rc is None, f"the server process died{(' after ' + what) if what else ''} (status {rc})\n" \
                       f"--- server stderr (tail) ---\n{srv.stderr()[-3000:]}"
    r = requests.get(srv.url("/healthz"), timeout=10, headers={"Connection": "close"})
    assert r.status_code == 200 and r.json() == {"status": "ok"}, \
        f"/healthz{(' after ' + what) if what else ''}: {r.status_code} {r.text[:200]}"


def server_socket_count(pid):
    """How many sockets the process holds (its accepted connections plus the
    listening socket and database connections)."""
    n = 0
    d = f"/proc/{pid}/fd"
    for fd in os.listdir(d):
        try:
            if os.readlink(os.path.join(d, fd)).startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def raise_fd_limit(want):
    """Raise this process's open-file limit (inherited by servers started
    afterwards) to at least `want`; fails with an explanation if the hard
    limit does not allow it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))  # root may raise the hard limit
        except (ValueError, OSError) as e:
            raise AssertionError(
                f"this test needs {want} open files but the hard limit is {hard} and cannot be "
                f"raised ({e}); run it as root or with `ulimit -n {want}`") from e
        return want
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def sigkill(factory, srv):
    """SIGKILL a server of `factory`, reap it, and forget it (so that the
    factory's teardown does not report the signal). Returns its stderr;
    fails if the stderr holds a sanitizer report."""
    if srv.proc.poll() is None:
        srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(timeout=20)
    err = srv.stderr()
    srv.stop()  # closes files, removes its io dir; its verdict on SIGKILL does not apply
    factory.servers.remove(srv)
    for marker in SANITIZER_MARKERS:
        assert marker not in err, f"sanitizer report in the killed server's stderr:\n{err[-4000:]}"
    return err


# --------------------------------------------------------------------------
# metrics


def metrics(srv):
    """{sample name with labels: value} of GET /metrics."""
    r = srv.metrics()  # the metrics listener (--metrics-listen)
    assert r.status_code == 200, r.text[:200]
    out = {}
    for line in r.text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        try:
            out[name] = float(value)
        except ValueError:
            pass
    return out


# --------------------------------------------------------------------------
# a tiny tmpfs (root only), to fill up


class TinyTmpfs:
    """A tmpfs of `size_mb` MiB mounted on a fresh directory. fill() takes
    every free byte with a filler file, free() deletes it."""

    def __init__(self, size_mb=16):
        self.dir = tempfile.mkdtemp(prefix="atelier-tmpfs-", dir="/tmp")
        self.filler = os.path.join(self.dir, "filler")
        self.mounted = False
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", self.dir],
                           capture_output=True, text=True)
        if r.returncode != 0:
            os.rmdir(self.dir)
            raise AssertionError(
                "this fault-injection test needs to mount a small tmpfs to fill the disk, and "
                f"`mount -t tmpfs` failed (uid {os.getuid()}, status {r.returncode}): "
                f"{(r.stderr or r.stdout).strip()}. Run the API tests as root (CI does) or in a "
                "container allowed to mount (CAP_SYS_ADMIN).")
        self.mounted = True

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def free_bytes(self):
        st = os.statvfs(self.dir)
        return st.f_bavail * st.f_frsize

    def fill(self):
        """Write the filler until not one more byte fits."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            size = 1 << 20
            while size >= 1:
                try:
                    os.write(fd, b"\0" * size)
                except OSError:
                    size //= 2
        finally:
            os.close(fd)
        assert self.free_bytes() == 0, f"the tmpfs still has {self.free_bytes()} bytes free"

    def free(self):
        if os.path.exists(self.filler):
            os.unlink(self.filler)
        assert self.free_bytes() > 1 << 20

    def unmount(self):
        if self.mounted:
            r = subprocess.run(["umount", self.dir], capture_output=True, text=True)
            if r.returncode != 0:  # a process still holds a file: lazy unmount
                subprocess.run(["umount", "-l", self.dir], capture_output=True, text=True)
            self.mounted = False
        try:
            os.rmdir(self.dir)
        except OSError:
            pass


# --------------------------------------------------------------------------
# access log files


def access_log_lines(data_dir):
    """[(file name, raw line bytes)] of every access-*.jsonl file."""
    d = os.path.join(data_dir, "logs")
    out = []
    if not os.path.isdir(d):
        return out
    for name in sorted(os.listdir(d)):
        if not re.match(r"^access-\d{4}-\d{2}-\d{2}\.jsonl$", name):
            continue
        with open(os.path.join(d, name), "rb") as f:
            for line in f.read().split(b"\n"):
                if line:
                    out.append((name, line))
    return out


def parse_access_line(line):
    """The entry of one line, or None when it is not a whole, well-formed line."""
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict) or set(obj) != ACCESS_KEYS:
        return None
    return obj


def access_entries(data_dir):
    return [e for e in (parse_access_line(l) for _, l in access_log_lines(data_dir)) if e]


def wait_access_ids(data_dir, ids, timeout=5.0):
    """Wait until every request id of `ids` has a line; returns the ids
    still missing at the timeout (empty when all arrived)."""
    deadline = time.monotonic() + timeout
    while True:
        seen = {e["request_id"] for e in access_entries(data_dir)}
        missing = [i for i in ids if i not in seen]
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.1)


# --------------------------------------------------------------------------
# the database, read directly (reusing lifecycle_helpers.Store)


def mail_queue_rows(srv):
    return Store(srv).rows("mail_queue")


# --------------------------------------------------------------------------
# mismatch bookkeeping: run a whole scenario, then report every deviation


class Mismatches:
    def __init__(self):
        self.items = []

    def expect(self, what, r, want, code=None):
        """want: a status or a tuple of statuses. Error answers must be JSON
        {"error": {"code", "message"}} (and carry `code` when given)."""
        wants = want if isinstance(want, tuple) else (want,)
        got = f"{r.status_code} {r.text[:160]!r}"
        if r.status_code not in wants:
            self.items.append(f"{what}: expected {'/'.join(map(str, wants))}, got {got}")
            return False
        if r.status_code >= 400:
            try:
                err = r.json()["error"]
                ok = isinstance(err["code"], str) and isinstance(err["message"], str)
            except (ValueError, KeyError, TypeError):
                ok = False
            if not ok or not r.headers.get("Content-Type", "").startswith("application/json"):
                self.items.append(f"{what}: expected a JSON error body, got {got}")
                return False
            if code is not None and err["code"] != code:
                self.items.append(f"{what}: expected error code {code!r}, got {got}")
                return False
        return True

    def add(self, text):
        self.items.append(text)

    def check(self, cond, text):
        if not cond:
            self.items.append(text)
        return cond

    def assert_none(self, title):
        assert not self.items, title + ":\n  - " + "\n  - ".join(self.items)


# --------------------------------------------------------------------------
# the crash test's mixed write load


MODEL_FIELDS = ("name", "breasts", "measurements", "notes")
LOAD_MEASUREMENTS = ("chest", "waist", "hips", "neck", "biceps", "wrist")


def measurement_ranges(srv):
    r = srv.get("/v1/measurements", params={"breasts": "false"})
    assert r.status_code == 200, r.text[:300]
    out = {}
    for m in r.json()["measurements"]:
        if m["name"] in LOAD_MEASUREMENTS:
            out[m["name"]] = (m["range"]["min"], m["range"]["max"])
    assert set(out) == set(LOAD_MEASUREMENTS), out
    return out


def model_view(m):
    return {k: m.get(k) for k in MODEL_FIELDS}


class SignupRec:
    def __init__(self, ident):
        self.ident = ident
        self.acked = False       # 202 received
        self.confirm = None      # None (not tried), "unknown" (in flight at the kill), "acked"
        self.account = None      # AccountRec once confirmed


class AccountRec:
    def __init__(self, ident, account_id, token):
        self.email = ident["email"].lower()
        self.username = ident["username"].lower()
        self.password = ident["password"]
        self.id = account_id
        self.token = token
        self.models = {}         # id -> acknowledged view
        self.pending_patch = {}  # id -> view the in-flight PATCH would give
        self.pending_create = None
        self.delete = None       # None, "unknown" (in flight), "acked"
        self.login_checked = False


class CrashLoad:
    """Runs `threads` writer threads against one server until it dies (or
    `max_s` passes), recording what was acknowledged and what was in flight.
    Records accumulate over rounds (successive servers on the same data)."""

    def __init__(self, rng, ranges, threads=4):
        self.rng = rng
        self.ranges = ranges
        self.threads = threads
        self.lock = threading.Lock()
        self.signups = []
        self.accounts = []
        self.problems = []  # unexpected answers from a live server
        self.ops = 0           # acknowledged model writes and erasures
        self.acked_writes = 0  # the same plus acknowledged signups and confirmations

    # ---- one thread
    def _values(self, rng):
        names = rng.sample(LOAD_MEASUREMENTS, rng.randint(1, 4))
        out = {}
        for n in names:
            lo, hi = self.ranges[n]
            out[n] = int(lo + (hi - lo) * rng.uniform(0.3, 0.7))
        return out

    def _wait_mail(self, mails, address, stop, timeout=3.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not stop.is_set():
            got = mails.untaken(address)
            if got:
                mails.taken.add(got[0].path)
                return got[0]
            time.sleep(0.02)
        return None

    def _unexpected(self, what, r):
        with self.lock:
            self.problems.append(f"{what}: {r.status_code} {r.text[:200]!r}")

    def _worker(self, srv, stop, seed):
        rng = random.Random(seed)
        sess = requests.Session()
        mails = MailReader(os.path.join(srv.data_dir, "outbox"), suffix=".eml")
        url = srv.url
        acc = None
        try:
            while not stop.is_set():
                if acc is None:
                    ident = new_identity("crash")
                    rec = SignupRec(ident)
                    with self.lock:
                        self.signups.append(rec)
                    # Each signup from its own client (the server trusts
                    # the test's proxy): the per-client mail throttle, which
                    # on PostgreSQL outlives the kills, is not what this
                    # load is about.
                    client = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                    r = sess.post(url("/v1/signup"), json=ident, timeout=10,
                                  headers={"X-Forwarded-For": client})
                    if r.status_code != 202:
                        self._unexpected("POST /v1/signup", r)
                        return
                    rec.acked = True
                    with self.lock:
                        self.acked_writes += 1
                    mail = self._wait_mail(mails, ident["email"], stop)
                    if mail is None:
                        continue
                    rec.confirm = "unknown"
                    r = sess.post(url("/v1/confirm"), json={"token": mail.token, "password": ident["password"]},
                                     timeout=10)
                    if r.status_code != 200:
                        self._unexpected("POST /v1/confirm", r)
                        return
                    body = r.json()
                    acc = AccountRec(ident, body["account"]["id"], body["token"])
                    rec.account = acc
                    rec.confirm = "acked"
                    with self.lock:
                        self.accounts.append(acc)
                        self.acked_writes += 1
                    continue
                auth = bearer(acc.token)
                roll = rng.random()
                if roll < 0.04:  # an erasure is slow (argon2id): often the one a kill interrupts
                    acc.delete = "unknown"
                    r = sess.delete(url("/v1/account"), json={"password": acc.password}, headers=auth,
                                    timeout=10)
                    if r.status_code != 204:
                        self._unexpected("DELETE /v1/account", r)
                        return
                    acc.delete = "acked"
                    acc = None
                elif roll < 0.5 and len(acc.models) < 40:
                    body = {"name": f"m-{rng.getrandbits(32):08x}", "breasts": False,
                            "measurements": self._values(rng), "notes": f"n-{rng.getrandbits(48):012x}"}
                    acc.pending_create = dict(body)
                    r = sess.post(url("/v1/models"), json=body, headers=auth, timeout=10)
                    if r.status_code != 201:
                        self._unexpected("POST /v1/models", r)
                        return
                    m = r.json()
                    acc.models[m["id"]] = model_view(m)
                    acc.pending_create = None
                elif acc.models:
                    mid = rng.choice(sorted(acc.models))
                    before = acc.models[mid]
                    change = {"notes": f"p-{rng.getrandbits(48):012x}"}
                    if rng.random() < 0.5:
                        change["name"] = f"r-{rng.getrandbits(32):08x}"
                    newvals = self._values(rng)
                    change["measurements"] = newvals
                    expect = dict(before)
                    expect.update({k: v for k, v in change.items() if k != "measurements"})
                    expect["measurements"] = {**before["measurements"], **newvals}  # PATCH merges
                    acc.pending_patch[mid] = expect
                    r = sess.patch(url(f"/v1/models/{mid}"), json=change, headers=auth, timeout=10)
                    if r.status_code != 200:
                        self._unexpected(f"PATCH /v1/models/{mid}", r)
                        return
                    got = model_view(r.json())
                    if got != expect:
                        with self.lock:
                            self.problems.append(f"PATCH /v1/models/{mid} answered {got}, expected {expect}")
                    acc.models[mid] = got
                    del acc.pending_patch[mid]
                with self.lock:
                    self.ops += 1
                    self.acked_writes += 1
        except requests.RequestException:
            return  # the server was killed under us: the request in flight stays "unknown"
        finally:
            sess.close()

    def run(self, srv, kill_after_s, kill, min_writes=0, max_wait_s=60):
        """Start the threads, call kill() after kill_after_s and once the
        load has acknowledged min_writes writes in this run (or max_wait_s
        passed: a loaded machine can be slow), wait for them."""
        stop = threading.Event()
        start_writes = self.acked_writes
        ts = [threading.Thread(target=self._worker, args=(srv, stop, self.rng.getrandbits(64)), daemon=True)
              for _ in range(self.threads)]
        for t in ts:
            t.start()
        time.sleep(kill_after_s)
        deadline = time.monotonic() + max_wait_s
        while self.acked_writes - start_writes < min_writes and time.monotonic() < deadline:
            time.sleep(0.02)
        kill()
        stop.set()
        for t in ts:
            t.join(timeout=30)
            assert not t.is_alive(), "a load thread did not stop after the kill"

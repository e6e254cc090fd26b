"""Fixtures for atelier's API tests: the real binary, started per module.

Environment (set by scripts/test.sh):
  ATELIER_BIN            path of the atelier binary (default: <repo>/build/atelier)
  ATELIER_TEST_BACKEND   sqlite (default) or postgres
  ATELIER_TEST_PG_URL    postgresql://... of a cluster whose database is "atelier";
                         every server gets a FRESH database created from it

Fixtures:
  server           module scope: one server on a fresh data dir (and database)
  server_factory   function scope: start(extra_args=(), env=None, ...) more servers
  module_server_factory   the same, module scope
  atelier_cli      run a CLI command of the binary, returns CompletedProcess
  fresh_database   function scope: a fresh PostgreSQL database URL (postgres backend)
  raw              raw(host, port, data, timeout) -> bytes received until close/timeout

Every response a test receives through requests from a server started here
is checked against docs/openapi.json (openapi_check.py); a mismatch fails
the test that received it (ATELIER_TEST_OPENAPI=0 turns this off).

Teardown sends SIGTERM and fails the test if the server then exits with a
non-zero status, dies of another signal, or printed a sanitizer report.

Skips: only for something the machine cannot provide, with a reason that
starts with "environment:"; scripts/test.sh fails the run on any other skip.
The suite runs under pytest-xdist (--dist loadfile): fixtures use free ports,
fresh data dirs and fresh databases, and nothing is shared between modules.
"""

import collections
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests

import openapi_check
import pg_helpers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ATELIER_BIN = os.path.abspath(os.environ.get("ATELIER_BIN") or os.path.join(ROOT, "build", "atelier"))
BACKEND = os.environ.get("ATELIER_TEST_BACKEND", "sqlite")
_CHECKED_BIN = ATELIER_BIN  # the binary docs/openapi.json describes
PG_URL = os.environ.get("ATELIER_TEST_PG_URL", "")

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 20.0  # ASan's leak check at exit can take a few seconds

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "SUMMARY: UndefinedBehaviorSanitizer",
    "BUG: ",  # http.c: a handler broke the answer-or-fail rule (src/http/req.h)
)

openapi_check.install(requests)

if BACKEND not in ("sqlite", "postgres"):
    raise pytest.UsageError(f"ATELIER_TEST_BACKEND must be sqlite or postgres, not {BACKEND!r}")
if BACKEND == "postgres" and not PG_URL.startswith(("postgresql://", "postgres://")):
    raise pytest.UsageError("ATELIER_TEST_BACKEND=postgres needs ATELIER_TEST_PG_URL=postgresql://...")


# --------------------------------------------------------------------------
# helpers


_RECENT_PORTS = collections.deque(maxlen=64)


def free_port():
    """A TCP port that was free a moment ago (bind port 0, then close), and
    not one of the last 64 this process handed out: the kernel may give a
    port just closed again, and a server was once started with --listen and
    --metrics-listen on the same port (it refused: address in use)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _RECENT_PORTS:
            _RECENT_PORTS.append(port)
            return port


def server_env(extra=None):
    """The environment of a server or CLI process: ours without any ATELIER_*
    variable (a developer's ATELIER_KEY must not leak into tests), plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    if extra:
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
    return env


def _with_dbname(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def create_database():
    """Create a uniquely named database next to ATELIER_TEST_PG_URL's; returns (url, name)."""
    name = "atelier_t_" + secrets.token_hex(6)
    pg_helpers.execute(PG_URL, f'CREATE DATABASE "{name}"')
    return _with_dbname(PG_URL, name), name


def drop_database(name):
    pg_helpers.forget_database(name)
    pg_helpers.execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class RawReply(bytes):
    """Bytes received on a raw connection; .closed tells whether the peer
    closed the connection (EOF or reset) before the timeout."""

    closed = False


def raw_exchange(host, port, data, timeout=5.0):
    """Send data as-is on a new TCP connection and return everything received
    until the server closes the connection or `timeout` seconds pass."""
    chunks = []
    closed = False
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may refuse before reading everything; read what it said
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not b:
                closed = True
                break
            chunks.append(b)
    reply = RawReply(b"".join(chunks))
    reply.closed = closed
    return reply


# --------------------------------------------------------------------------
# the server process


class Server:
    def __init__(self, args, env, data_dir, database_url, db_name, owns_data_dir, port,
                 metrics_port=None):
        self.host = "127.0.0.1"
        self.port = port
        self.metrics_port = metrics_port  # --metrics-listen, None when not given
        self.base_url = f"http://{self.host}:{port}"
        if metrics_port:
            openapi_check.unwatch_port(metrics_port)  # a port number may be reused
        if os.path.abspath(args[0]) == _CHECKED_BIN:  # not an older binary (test_870)
            openapi_check.watch_port(port)
        self.data_dir = data_dir
        self.database_url = database_url  # None on SQLite
        self._db_name = db_name  # dropped at stop when we created it
        self._owns_data_dir = owns_data_dir
        self._io_dir = tempfile.mkdtemp(prefix="atelier-io-", dir="/tmp")
        self.stdout_path = os.path.join(self._io_dir, "stdout")
        self.stderr_path = os.path.join(self._io_dir, "stderr")
        self.args = args
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        try:
            self.proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err, env=env
            )
        except OSError:
            self._out.close()
            self._err.close()
            shutil.rmtree(self._io_dir, ignore_errors=True)
            raise
        self.returncode = None
        self._stopped = False

    # ---- output
    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def url(self, path):
        return self.base_url + path

    def metrics(self, **kw):
        """GET /metrics from the metrics listener (never the public port)."""
        assert self.metrics_port, "this server was started without --metrics-listen"
        kw.setdefault("timeout", 10)
        return requests.get(f"http://{self.host}:{self.metrics_port}/metrics", **kw)

    def get(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.get(self.url(path), **kw)

    def post(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.post(self.url(path), **kw)

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.request(method, self.url(path), **kw)

    # ---- lifecycle
    def wait_ready(self, timeout=START_TIMEOUT_S):
        """Poll GET /healthz until 200. Returns None when ready, or a
        description of the failure (process died / timeout)."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.returncode = rc
                return f"the server exited with status {rc} before answering /healthz"
            try:
                r = requests.get(self.url("/healthz"), timeout=1)
                if r.status_code == 200:
                    return None
                last = f"/healthz answered {r.status_code}: {r.text[:200]}"
            except requests.RequestException as e:
                last = f"{type(e).__name__}"
            time.sleep(0.05)
        return f"/healthz not ready after {timeout} s ({last})"

    def stop(self):
        """SIGTERM, wait, and return a problem description or None."""
        if self._stopped:
            return None
        self._stopped = True
        openapi_check.unwatch_port(self.port)
        problem = None
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                    problem = f"the server did not exit within {STOP_TIMEOUT_S} s of SIGTERM"
            rc = self.proc.returncode
            self.returncode = rc
            if problem is None and rc not in (0, -signal.SIGTERM):
                if rc < 0:
                    problem = f"the server died of signal {signal.Signals(-rc).name} ({rc})"
                else:
                    problem = f"the server exited with status {rc} after SIGTERM"
            self._out.close()
            self._err.close()
            err = self.stderr()
            if problem is None:
                for marker in SANITIZER_MARKERS:
                    if marker in err:
                        problem = f"the server's stderr holds a sanitizer or bug report ({marker!r})"
                        break
            if problem:
                problem += "\n--- server stderr (tail) ---\n" + err[-6000:]
        finally:
            if self._db_name:
                try:
                    drop_database(self._db_name)
                except Exception as e:  # report, don't mask the server's verdict
                    problem = (problem or "") + f"\ncould not drop database {self._db_name}: {e}"
            if self._owns_data_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)
            shutil.rmtree(self._io_dir, ignore_errors=True)
        return problem


_METRICS_FLAG = []


def _has_metrics_listen():
    """Whether the binary knows --metrics-listen (an older binary, run to show
    that a new test fails on it, does not: its servers then start without)."""
    if not _METRICS_FLAG:
        try:
            out = subprocess.run([ATELIER_BIN, "serve", "--help"], capture_output=True,
                                 text=True, timeout=30)
            _METRICS_FLAG.append("--metrics-listen" in out.stdout + out.stderr)
        except (OSError, subprocess.SubprocessError):
            _METRICS_FLAG.append(False)
    return _METRICS_FLAG[0]


class ServerFactory:
    """Starts servers and stops (and checks) them all at teardown."""

    def __init__(self):
        self.servers = []

    def launch(self, extra_args=(), env=None, data_dir=None, database=None, port=None):
        """Start a server process without waiting for it. data_dir None: a new
        temporary one. database: None for a fresh PostgreSQL database on the
        postgres backend (ignored on SQLite), or an explicit URL."""
        owns = data_dir is None
        if owns:
            data_dir = tempfile.mkdtemp(prefix="atelier-api-", dir="/tmp")
        db_url, db_name = None, None
        if BACKEND == "postgres":
            if database is None:
                db_url, db_name = create_database()
            else:
                db_url = database
        elif database is not None:
            db_url = database
        port = port or free_port()
        args = [ATELIER_BIN, "serve", "--listen", f"127.0.0.1:{port}", "--data", data_dir]
        if db_url:
            args += ["--database", db_url]
        metrics_port = None
        if _has_metrics_listen() and not any(
                str(a).startswith("--metrics-listen") for a in extra_args):
            metrics_port = free_port()
            args += ["--metrics-listen", f"127.0.0.1:{metrics_port}"]
        args += list(extra_args)
        try:
            srv = Server(args, server_env(env), data_dir, db_url, db_name, owns, port,
                         metrics_port)
        except OSError:
            if db_name:
                drop_database(db_name)
            if owns:
                shutil.rmtree(data_dir, ignore_errors=True)
            raise
        self.servers.append(srv)
        return srv

    def start(self, extra_args=(), env=None, data_dir=None, database=None):
        """Start a server and wait until GET /healthz answers 200; fails the
        test with the server's stderr if it dies or does not get ready."""
        for attempt in range(3):
            srv = self.launch(extra_args, env, data_dir, database)
            problem = srv.wait_ready()
            if problem is None:
                return srv
            err = srv.stderr()
            srv.stop()
            self.servers.remove(srv)
            # A port picked free may have been taken meanwhile: retry that only
            # (the server says "the address is already in use").
            if attempt < 2 and re.search(r"already in use|EADDRINUSE", err, re.I):
                continue
            pytest.fail(f"{problem}\ncommand: {' '.join(srv.args)}\n--- server stderr ---\n{err[-6000:]}")
        raise AssertionError("unreachable")

    def start_expect_exit(self, extra_args=(), env=None, data_dir=None, database=None,
                          timeout=START_TIMEOUT_S):
        """Start a server that is expected to refuse to start. Returns
        (exit status, stdout + stderr). Fails the test if the server is still
        running after `timeout` seconds (it was expected to exit)."""
        srv = self.launch(extra_args, env, data_dir, database)
        try:
            rc = srv.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        output = srv.stdout() + srv.stderr()
        srv.stop()  # cleanup; its verdict on the exit status does not apply here
        self.servers.remove(srv)
        if rc is None:
            pytest.fail(
                f"the server was expected to refuse to start but was still running after "
                f"{timeout} s\ncommand: {' '.join(srv.args)}\n--- output ---\n{output[-4000:]}"
            )
        return rc, output

    def stop_all(self):
        problems = []
        for srv in self.servers:
            p = srv.stop()
            if p:
                problems.append(f"server {' '.join(srv.args)}:\n{p}")
        self.servers = []
        return problems


def _factory_fixture():
    f = ServerFactory()
    yield f
    problems = f.stop_all()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="session", autouse=True)
def _binary_exists():
    if not os.access(ATELIER_BIN, os.X_OK):
        pytest.exit(f"ATELIER_BIN={ATELIER_BIN} is not an executable; build first", returncode=2)


@pytest.fixture(autouse=True)
def _openapi_conformance():
    """Fail the test when an answer it (or a fixture before it) received
    does not match docs/openapi.json (openapi_check.py)."""
    yield  # what a module fixture received while being set up is reported by this test
    problems = openapi_check.take_failures()
    if problems:
        pytest.fail("answers that do not match docs/openapi.json:\n" + "\n".join(problems),
                    pytrace=False)


@pytest.fixture(scope="module")
def module_server_factory():
    yield from _factory_fixture()


@pytest.fixture
def server_factory():
    yield from _factory_fixture()


@pytest.fixture(scope="module")
def server(module_server_factory):
    """One server per test module, on a fresh data dir (and fresh database)."""
    return module_server_factory.start()


@pytest.fixture
def fresh_database():
    """A fresh database URL on the postgres backend; None on SQLite."""
    yield from _database_fixture()


@pytest.fixture(scope="module")
def module_database():
    """The same, shared by one test module (a world that outlives one test)."""
    yield from _database_fixture()


def _database_fixture():
    if BACKEND != "postgres":
        yield None
        return
    url, name = create_database()
    yield url
    drop_database(name)


@pytest.fixture
def atelier_cli():
    """run(*args, env=None, timeout=60) -> CompletedProcess (text)."""

    def run(*args, env=None, timeout=60, input=None):
        return subprocess.run(
            [ATELIER_BIN, *args],
            capture_output=True,
            text=True,
            env=server_env(env),
            timeout=timeout,
            stdin=subprocess.DEVNULL if input is None else None,
            input=input,
        )

    return run


@pytest.fixture
def raw():
    """raw(host, port, data: bytes, timeout=5.0) -> RawReply (bytes with .closed)."""
    return raw_exchange


@pytest.fixture(scope="session")
def backend():
    return BACKEND


def pytest_sessionfinish(session, exitstatus):
    """Answers received after the last test (a module fixture's teardown)."""
    problems = openapi_check.take_failures()
    if problems:
        print("\nanswers that do not match docs/openapi.json (after the last test):\n"
              + "\n".join(problems))
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if openapi_check.checked():  # (0 in the controller of pytest-xdist: the workers check)
        terminalreporter.write_line(
            f"openapi_check: {openapi_check.checked()} answers checked against docs/openapi.json")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: a test that takes tens of seconds; still runs by default (-m 'not slow' to leave out)")

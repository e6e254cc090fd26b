"""Issue 12 item 1: a request body on a route that takes none.

Before the fix, an authenticated GET sent with `Transfer-Encoding: chunked`
and a trickled body kept the read scope (a deferred SQLite transaction on the
event thread's connection) open for as long as bytes arrived: writes routed to
that thread failed inside it, a logged-out or erased account's other session
was still served from the old snapshot.

Now a body on a route without one is refused (413, connection closed) from the
headers, before authentication or any storage work, whatever its framing; the
read scope opens only once the whole request is read.

The server runs with one event thread so that every request that is not
ROUTE_SLOW shares the trickling request's thread (and, on SQLite, its
connection). Effects are read back through a separate database connection
(lifecycle_helpers.Store), so "took effect" means committed.
"""

import socket
import threading
import time

import pytest

from accounts_helpers import bearer, create_account, login_token, outbox
from lifecycle_helpers import Store

ANSWER_S = 10  # liveness bound for an answer that needs no client bytes


class Trickler:
    """A raw client: request head, then one chunk every 0.2 s, never the end
    (until stop()). Records the server's reply bytes."""

    def __init__(self, srv, head):
        self.sock = socket.create_connection((srv.host, srv.port), timeout=ANSWER_S)
        self.sock.sendall(head)
        self.sent = 0
        self.closed_by_server = False
        self.reply = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.sock.sendall(b"1\r\nx\r\n")
                self.sent += 1
            except OSError:
                self.closed_by_server = True
                return
            self._stop.wait(0.2)

    def wait_started(self, chunks=3):
        deadline = time.monotonic() + ANSWER_S
        while self.sent < chunks and not self.closed_by_server and time.monotonic() < deadline:
            time.sleep(0.05)

    def read_status(self, timeout=ANSWER_S):
        """The status of the reply received so far (within timeout), or None."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.reply and time.monotonic() < deadline:
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, OSError):
                break
            if not data:
                break
            self.reply += data
        if not self.reply.startswith(b"HTTP/1."):
            return None
        return int(self.reply.split(b" ", 2)[1])

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            self.sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        self.sock.close()


def head(srv, method, path, token=None, framing="chunked"):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {srv.host}:{srv.port}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {framing}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture
def one_thread(server_factory):
    return server_factory.start(extra_args=["--threads", "1"])


def session_ids(store, account_id):
    return {r["id"] for r in store.rows("sessions") if r["account_id"] == account_id}


def test_trickled_get_holds_nothing_while_others_log_out_erase_and_write(one_thread):
    srv = one_thread
    mails = outbox(srv)
    store = Store(srv)
    a = create_account(srv, mails, prefix="tra")
    a2 = login_token(srv, a.email, a.password)
    b = create_account(srv, mails, prefix="trb")
    b2 = login_token(srv, b.email, b.password)
    c = create_account(srv, mails, prefix="trc")
    bio_before = [r for r in store.rows("accounts") if r["id"] == c.id][0]

    t = Trickler(srv, head(srv, "GET", "/v1/account", a.token))
    try:
        t.wait_started()
        # Another session of A logs out: gone at once, for everyone.
        r = srv.post("/v1/logout", headers=bearer(a2))
        assert r.status_code == 204, r.text[:300]
        assert srv.get("/v1/account", headers=bearer(a2)).status_code == 401
        assert len(session_ids(store, a.id)) == 1, "the logout is not committed"

        # B erases the account: its other session no longer reads anything.
        r = srv.request("DELETE", "/v1/account", headers=bearer(b.token), json={"password": b.password})
        assert r.status_code in (200, 204), r.text[:300]
        r = srv.get("/v1/account", headers=bearer(b2))
        assert r.status_code == 401, f"an erased account's session was served: {r.status_code} {r.text[:200]}"
        assert not [x for x in store.rows("accounts") if x["id"] == b.id], "the erasure is not committed"

        # C writes on the same event thread: no 500, committed at once.
        r = srv.request("PATCH", "/v1/account", headers=bearer(c.token), json={"bio": "written meanwhile"})
        assert r.status_code == 200, r.text[:300]
        assert srv.get("/v1/account", headers=bearer(c.token)).json()["bio"] == "written meanwhile"
        after = [x for x in store.rows("accounts") if x["id"] == c.id][0]
        assert after != bio_before, "the profile write is not committed"

        # The trickling request itself was refused from its headers.
        status = t.read_status()
        assert status == 413, f"a body on GET /v1/account was not refused: {t.reply[:200]!r}"
    finally:
        t.stop()
    assert "BUG:" not in srv.stderr()


@pytest.mark.parametrize("framing", ["chunked", "5"])
def test_body_on_bodyless_route_refused_before_authentication(one_thread, framing):
    # A bad token: were the session looked up (storage work), the answer would
    # be 401. The body is refused first, without reading it, and the
    # connection closes.
    srv = one_thread
    t = Trickler(srv, head(srv, "GET", "/v1/account", "not-a-token", framing))
    try:
        status = t.read_status()
        assert status == 413, f"{framing}: {t.reply[:200]!r}"
        assert b"connection: close" in t.reply.lower(), t.reply[:300]
    finally:
        t.stop()


def test_trickled_body_on_public_route_refused_at_once(one_thread):
    srv = one_thread
    t = Trickler(srv, head(srv, "GET", "/healthz"))
    try:
        t.wait_started(1)
        assert t.read_status() == 413, t.reply[:200]
    finally:
        t.stop()
    assert srv.get("/healthz").status_code == 200


def test_get_without_body_still_served(one_thread):
    srv = one_thread
    a = create_account(srv, outbox(srv), prefix="trd")
    r = srv.get("/v1/account", headers=bearer(a.token))
    assert r.status_code == 200, r.text[:300]
    r = srv.get("/v1/account", headers={**bearer(a.token), "Content-Length": "0"})
    assert r.status_code == 200, r.text[:300]

"""Hostile clients (issue 8): slow clients, clients that vanish mid-body,
pipelining, oversized requests, request smuggling shapes, and a thousand
idle connections. After every case the server still answers /healthz and
its process is alive (conftest also checks its exit status at teardown).

Limits under test (SPEC section 4, src/base/policy.h, docs/LIMITS.md): idle
timeout 30 s (reset by every byte received), JSON bodies 64 KiB, image
bodies 8 MiB, 1024 connections in total and 128 per client IP. The tests
that wait for the idle timeout run a server started with a short one
(--idle-timeout); that the default is 30 s is checked on its own."""

import json
import socket
import threading
import time

import pytest
import requests

import limits
from accounts_helpers import create_account, outbox
from hostile_helpers import (
    access_entries,
    assert_alive,
    chunked,
    peek_state,
    raise_fd_limit,
    read_until_closed,
    server_socket_count,
    show,
    socket_from,
    statuses,
)

IDLE_TIMEOUT_S = limits.LIMIT_CONN_TIMEOUT_S
JSON_LIMIT = limits.LIMIT_JSON_BODY
IMAGE_LIMIT = limits.LIMIT_IMAGE_BODY
PER_IP = limits.LIMIT_CONN_PER_IP
IDLE_CONNECTIONS = 1000
IDLE_SOURCES = [f"127.0.0.{i}" for i in range(2, 10)]  # 8 x 125 connections, under 128 per IP
# A server the attack blocks never answers; one that is merely busy (the
# 2-core CI, a sanitizer build) answers late. Requests wait this long, and
# what is asserted is that they are answered: speed is measured in bench/,
# never asserted here.
LIVENESS_S = 10.0
SHORT_IDLE_S = 3  # --idle-timeout of the server whose timeout the tests wait out

# A request that, if it were ever executed, produces a response of its own
# (the vocabulary, with the breasts-only names) that no refusal contains.
SMUGGLED = b"GET /v1/measurements?breasts=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
SMUGGLED_MARK = b'"bustSpan"'


@pytest.fixture(scope="module")
def srv(module_server_factory):
    # 1000 idle connections plus their clients: the server inherits this limit.
    raise_fd_limit(4096)
    return module_server_factory.start()


@pytest.fixture(scope="module")
def short_idle_srv(module_server_factory):
    return module_server_factory.start(extra_args=["--idle-timeout", str(SHORT_IDLE_S)])


@pytest.fixture(scope="module")
def account(srv):
    return create_account(srv, outbox(srv), "hostile")


def head(method, path, *lines):
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
            + b"".join(l + b"\r\n" for l in lines))


# ------------------------------------------------------------ slow clients


def test_idle_timeout_default_is_30_s(atelier_cli):
    """The server of the other tests, and production, idle out after 30 s."""
    r = atelier_cli("serve", "--help")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    at = [i for i, line in enumerate(lines) if line.strip().startswith("--idle-timeout ")]
    assert len(at) == 1, r.stdout
    text = " ".join(lines[at[0]: at[0] + 4])
    assert f"ATELIER_IDLE_TIMEOUT; default {IDLE_TIMEOUT_S})" in text, text


def test_slowloris_does_not_starve_other_clients(short_idle_srv):
    """50 connections send a header line every 2 s, longer in all than the
    server's 3 s idle timeout; meanwhile a fresh client is served promptly,
    and the slow requests (kept: each line reset the timeout) are answered
    when they end."""
    srv = short_idle_srv
    n, rounds = 50, 4
    conns = []
    try:
        for i in range(n):
            s = socket.create_connection((srv.host, srv.port), timeout=5)
            s.sendall(head("GET", "/healthz"))
            conns.append(s)
        answered, failures = [], []
        stop = threading.Event()

        def fresh_client():
            while not stop.is_set():
                try:
                    r = requests.get(srv.url("/healthz"), timeout=LIVENESS_S,
                                     headers={"Connection": "close"})
                    if r.status_code != 200:
                        failures.append(f"{r.status_code} {r.text[:100]}")
                    else:
                        answered.append(1)
                except requests.RequestException as e:
                    failures.append(repr(e))
                time.sleep(0.05)

        client = threading.Thread(target=fresh_client, daemon=True)
        client.start()
        for k in range(rounds):
            time.sleep(2.0)
            for i, s in enumerate(conns):
                s.sendall(b"X-Slow-%d: %d\r\n" % (k, i))
        stop.set()
        client.join(timeout=LIVENESS_S + 2)  # a request in flight ends, answered or failed

        assert not failures, f"requests of a fresh client failed during the slowloris: {failures[:5]}"
        # a blocked server answers none; a busy one at least one a round
        assert len(answered) >= rounds, f"only {len(answered)} fresh requests answered in {2 * rounds} s"

        # The slow requests were kept (each line reset the idle timeout): end them.
        for s in conns:
            s.sendall(b"Connection: close\r\n\r\n")
        for i, s in enumerate(conns):
            reply, closed, _ = read_until_closed(s, 5)
            assert statuses(reply) == [200], f"slow connection {i}: {show(reply)}"
            assert closed, f"slow connection {i} not closed after Connection: close"
    finally:
        for s in conns:
            s.close()
    assert_alive(srv, "50 slowloris connections")


def test_silent_partial_headers_dropped_after_idle_timeout(short_idle_srv):
    """Partial headers, then silence -> the server drops the connection,
    without a response, after its idle timeout (3 s here: not before it,
    not 5 s after it), and serves others meanwhile."""
    srv = short_idle_srv
    s = socket.create_connection((srv.host, srv.port), timeout=5)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Partial: ab")
        sent = time.monotonic()
        waited_reply = b""
        closed = False
        while time.monotonic() - sent < SHORT_IDLE_S + 6:
            chunk, closed, _ = read_until_closed(s, 0.5)
            waited_reply += chunk
            if closed:
                break
            r = requests.get(srv.url("/healthz"), timeout=LIVENESS_S)
            assert r.status_code == 200, f"/healthz while a connection idles: {r.status_code}"
        dropped_after = time.monotonic() - sent
    finally:
        s.close()
    assert closed, f"the silent connection was still open {dropped_after:.1f} s after its last byte"
    assert SHORT_IDLE_S - 1 <= dropped_after <= SHORT_IDLE_S + 5, \
        f"the silent connection was dropped after {dropped_after:.1f} s (idle timeout {SHORT_IDLE_S} s)"
    assert statuses(waited_reply) == [], f"a response to an incomplete request: {show(waited_reply)}"
    assert_alive(srv, "a silent partial request")


# ------------------------------------------------------------ vanishing clients


def test_client_disconnecting_mid_body(srv):
    """Content-Length 60000, 1000 bytes sent, then close: nothing runs, the
    server keeps serving, and the access log records 499 (client closed)."""
    time.sleep(0.3)  # lines of earlier requests are written asynchronously
    before = [e for e in access_entries(srv.data_dir) if e["route"] == "/v1/signup"]
    partial = (b'{"email":"gone@example.org","username":"gone_user","password":"Vq7#long-enough-9",'
               b'"pad":"' + b"x" * 1000)[:1000]
    for _ in range(3):
        s = socket.create_connection((srv.host, srv.port), timeout=5)
        s.sendall(head("POST", "/v1/signup", b"Content-Type: application/json",
                       b"Content-Length: 60000") + b"\r\n" + partial)
        time.sleep(0.2)
        s.close()
    assert_alive(srv, "clients that vanished mid-body")
    deadline = time.monotonic() + 5
    while True:
        new = [e for e in access_entries(srv.data_dir) if e["route"] == "/v1/signup"][len(before):]
        if len(new) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [e["status"] for e in new] == [499, 499, 499], \
        f"access log lines of the 3 aborted uploads: {new}"
    # Nothing was signed up from the partial body.
    assert outbox(srv).to("gone@example.org") == []


# ------------------------------------------------------------ pipelining


def test_three_pipelined_requests_answered_in_order(srv, raw):
    login = b'{"login":"nobody_here","password":"not-the-password"}'
    req = (head("GET", "/healthz") + b"\r\n"
           + head("POST", "/v1/login", b"Content-Type: application/json",
                  b"Content-Length: %d" % len(login)) + b"\r\n" + login
           + head("GET", "/v1/measurements?breasts=false", b"Connection: close") + b"\r\n")
    reply = raw(srv.host, srv.port, req, timeout=5)
    assert statuses(reply) == [200, 401, 200], show(reply, 1500)
    parts = bytes(reply).split(b"HTTP/1.1 ")[1:]
    assert b'{"status":"ok"}' in parts[0], parts[0][:400]
    assert b'"invalid_credentials"' in parts[1], parts[1][:400]
    assert b'"measurements"' in parts[2] and SMUGGLED_MARK not in parts[2], parts[2][:400]
    assert reply.closed
    assert_alive(srv, "pipelined requests")


# ------------------------------------------------------------ oversized


def test_100k_header_refused(srv, raw):
    req = head("GET", "/healthz", b"X-Big: " + b"a" * 100_000) + b"\r\n"
    reply = raw(srv.host, srv.port, req, timeout=5)
    codes = statuses(reply)
    assert codes == [431] or (codes == [] and reply.closed), show(reply)
    assert reply.closed, "the connection stayed open after a 100 KB header"
    assert_alive(srv, "a 100 KB header")


def test_40k_url_refused_with_414(srv, raw):
    req = head("GET", "/healthz?pad=" + "a" * 40_000, b"Connection: close") + b"\r\n"
    reply = raw(srv.host, srv.port, req, timeout=5)
    assert_alive(srv, "a 40 KB URL")
    assert statuses(reply) == [414], f"a 40 KB URL: expected 414 URI Too Long, got {show(reply, 200)}"


def test_json_body_over_64k_refused_before_reading(srv):
    s = socket.create_connection((srv.host, srv.port), timeout=5)
    try:
        s.sendall(head("POST", "/v1/signup", b"Content-Type: application/json",
                       b"Content-Length: %d" % (JSON_LIMIT + 1)) + b"\r\n")
        reply, closed, _ = read_until_closed(s, 5)
    finally:
        s.close()
    assert statuses(reply) == [413], show(reply)
    body = json.loads(bytes(reply).split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "too_large", body
    assert closed, "the connection stayed open with an unread body"
    assert_alive(srv, "a JSON body over the limit")


def test_image_body_over_8m_refused(srv, account):
    s = socket.create_connection((srv.host, srv.port), timeout=5)
    try:
        s.sendall(head("PUT", "/v1/account/picture", f"Authorization: Bearer {account.token}".encode(),
                       b"Content-Type: image/jpeg", b"Content-Length: %d" % (IMAGE_LIMIT + 1))
                  + b"\r\n" + b"\xff\xd8\xff" + b"\0" * 65536)
        reply, closed, _ = read_until_closed(s, 5)
    finally:
        s.close()
    assert statuses(reply) == [413], show(reply)
    assert b'"too_large"' in bytes(reply), show(reply)
    assert closed
    # A body of exactly the limit is not refused for its size.
    r = srv.request("PUT", "/v1/account/picture", headers={**account.auth, "Content-Type": "image/jpeg"},
                    data=b"\xff\xd8\xff" + b"\0" * (IMAGE_LIMIT - 3), timeout=30)
    assert r.status_code != 413 and r.status_code < 500, f"{r.status_code} {r.text[:200]}"
    assert_alive(srv, "an image body over the limit")


@pytest.mark.parametrize("path,ctype,limit", [
    ("/v1/signup", b"application/json", JSON_LIMIT),
    ("/v1/account/picture", b"image/jpeg", IMAGE_LIMIT),
], ids=["json", "image"])
def test_chunked_body_over_limit_drained_then_413(srv, account, path, ctype, limit):
    """No Content-Length: the server reads to the end, answers 413, and the
    connection goes on (the pipelined request after it is answered)."""
    method = "POST" if path == "/v1/signup" else "PUT"
    req = (head(method, path, f"Authorization: Bearer {account.token}".encode(),
                b"Content-Type: " + ctype, b"Transfer-Encoding: chunked") + b"\r\n"
           + chunked(b"{" + b"x" * (limit + 4096), 65536)
           + head("GET", "/healthz", b"Connection: close") + b"\r\n")
    s = socket.create_connection((srv.host, srv.port), timeout=10)
    try:
        sender = threading.Thread(target=s.sendall, args=(req,), daemon=True)
        sender.start()
        reply, closed, _ = read_until_closed(s, 20)
        sender.join(timeout=10)
    finally:
        s.close()
    assert statuses(reply) == [413, 200], show(reply, 1200)
    assert b'"too_large"' in bytes(reply).split(b"HTTP/1.1 200")[0], show(reply, 1200)
    assert closed
    assert_alive(srv, f"a chunked body over the limit on {path}")


# ------------------------------------------------------------ smuggling


SMUGGLING = {
    "two_content_lengths": head(
        "POST", "/v1/login", b"Content-Type: application/json", b"Content-Length: 0",
        b"Content-Length: %d" % len(SMUGGLED)) + b"\r\n" + SMUGGLED,
    "content_length_and_chunked": head(
        "POST", "/v1/login", b"Content-Type: application/json",
        b"Content-Length: %d" % (5 + len(SMUGGLED)), b"Transfer-Encoding: chunked")
        + b"\r\n0\r\n\r\n" + SMUGGLED,
    "te_gzip_chunked": head(
        "POST", "/v1/login", b"Content-Type: application/json", b"Transfer-Encoding: gzip, chunked")
        + b"\r\n0\r\n\r\n" + SMUGGLED,
    "space_before_colon": head(
        "POST", "/v1/login", b"Content-Type: application/json",
        b"Content-Length : %d" % len(SMUGGLED)) + b"\r\n" + SMUGGLED,
    "obs_fold_content_length": head(
        "POST", "/v1/login", b"Content-Type: application/json", b"Content-Length: 0",
        b" %d" % len(SMUGGLED)) + b"\r\n" + SMUGGLED,
    "obs_fold_transfer_encoding": head(
        "POST", "/v1/login", b"Content-Type: application/json",
        b"Content-Length: %d" % len(SMUGGLED), b"X-Pad: a", b" Transfer-Encoding: chunked")
        + b"\r\n" + SMUGGLED,
}


@pytest.mark.parametrize("shape", sorted(SMUGGLING))
def test_smuggling_shape_refused_and_never_executed(srv, raw, shape):
    """Refused with 400/501 (or the connection closed), and the request
    hidden in the body is never executed: one response per connection."""
    reply = raw(srv.host, srv.port, SMUGGLING[shape], timeout=3)
    assert_alive(srv, f"smuggling shape {shape}")
    codes = statuses(reply)
    assert SMUGGLED_MARK not in bytes(reply), \
        f"{shape}: the smuggled request was executed; responses {codes}: {show(reply, 900)}"
    assert len(codes) <= 1, f"{shape}: {len(codes)} responses on one connection: {codes}"
    assert codes in ([400], [501]) or (codes == [] and reply.closed), f"{shape}: {show(reply)}"
    assert reply.closed, f"{shape}: the connection stayed open after the refusal (body left unread)"


def test_obs_fold_cannot_change_framing(srv, raw):
    """RFC 9112 5.2 wants obs-fold refused or unfolded. libmicrohttpd 0.9.75
    does neither: it appends the continuation to the header NAME before the
    application sees it ("X-Folded: one" + "\ttwo" arrives as "X-Foldedtwo:
    one"), so a fold of an ordinary header cannot be told from a header of
    another name (documented in docs/LIMITS.md; nginx in front refuses it).
    What matters for safety is framing: a folded framing header is refused
    (the smuggling shapes above), and a folded ordinary header changes
    nothing about where the request ends: the next pipelined request on the
    connection is answered on its own, exactly once."""
    req = (head("GET", "/healthz", b"X-Folded: one", b"\ttwo") + b"\r\n"
           + head("GET", "/v1/measurements?breasts=false", b"Connection: close") + b"\r\n")
    reply = raw(srv.host, srv.port, req, timeout=3)
    assert_alive(srv, "an obs-fold header")
    codes = statuses(reply)
    assert codes == [200, 200], f"a folded ordinary header then a request: {show(reply, 400)}"
    assert bytes(reply).count(b'"measurements"') == 1, show(reply, 400)


# ------------------------------------------------------------ many idle connections


def test_thousand_idle_connections_do_not_block_service(srv):
    """1000 connected, silent sockets (from 8 loopback addresses, 125 each,
    under the 128 per-IP limit): the server holds them all, and a fresh
    client still gets 100 answers, each on a new connection."""
    conns = []
    try:
        for i in range(IDLE_CONNECTIONS):
            s = socket_from(IDLE_SOURCES[i % len(IDLE_SOURCES)])
            s.settimeout(5)
            s.connect((srv.host, srv.port))
            conns.append(s)
        # Accepted by the server, not just queued in the kernel's backlog.
        deadline = time.monotonic() + 10
        held = 0
        while time.monotonic() < deadline:
            held = server_socket_count(srv.proc.pid) - 1  # minus the listening socket
            if held >= IDLE_CONNECTIONS:
                break
            time.sleep(0.1)
        assert held >= IDLE_CONNECTIONS, f"the server accepted only {held} of {IDLE_CONNECTIONS} connections"

        for i in range(100):
            r = requests.get(srv.url("/v1/measurements"), params={"breasts": "false"},
                             timeout=LIVENESS_S, headers={"Connection": "close"})
            assert r.status_code == 200, f"request {i} with {IDLE_CONNECTIONS} idle connections: {r.status_code}"
            assert "measurements" in r.json()

        # The idle connections were not dropped to make room (well before the 30 s timeout).
        held_after = server_socket_count(srv.proc.pid) - 1
        assert held_after >= IDLE_CONNECTIONS, f"the server dropped idle connections: {held_after} left"
        states = [peek_state(s) for s in conns]
        assert states.count("open") == IDLE_CONNECTIONS, \
            f"idle connections: {states.count('closed')} closed, {states.count('data')} answered"
    finally:
        for s in conns:
            s.close()
    assert_alive(srv, f"{IDLE_CONNECTIONS} idle connections")


def test_per_ip_connection_limit(srv):
    """Control for the address spreading above: beyond 128 connections from
    one address the server closes the extra ones at once."""
    conns = []
    try:
        for _ in range(PER_IP + 8):
            s = socket_from("127.0.0.10")
            s.settimeout(5)
            s.connect((srv.host, srv.port))
            conns.append(s)
        time.sleep(0.5)
        closed = [peek_state(s) for s in conns].count("closed")
        assert closed == 8, f"{closed} of {PER_IP + 8} connections from one address were closed (expected 8)"
    finally:
        for s in conns:
            s.close()
    assert_alive(srv, "the per-IP connection limit")

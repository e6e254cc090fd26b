"""A failed authentication of a body the route could take is answered after
the body, on a connection that stays open.

Found behind deploy/nginx/atelier.conf (test_950): nginx buffers an upload,
then sends it to a node; the node answered 401 on the headers and closed the
connection while nginx was still writing the body, so nginx answered 502
Bad Gateway instead of the 401. Before the fix the answer came before the
body and the connection closed (this test failed at "no answer before the
body"); now the server reads the body, drops it, and answers.

A body over the route's limit, or one of unknown size (chunked), is still
refused at once with Connection: close: reading it would be a gift to an
attacker."""

import select
import socket

import limits


def _recv_all(s, timeout=10):
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head.decode("latin-1"), rest


def test_unauthenticated_upload_is_answered_after_its_body(server):
    size = 1024 * 1024
    assert size <= limits.LIMIT_IMAGE_BODY
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        s.sendall(b"PUT /v1/account/picture HTTP/1.1\r\nHost: t\r\nContent-Type: image/jpeg\r\n"
                  b"Content-Length: %d\r\n\r\n" % size)
        s.sendall(b"\0" * (size // 2))
        ready, _, _ = select.select([s], [], [], 0.5)
        assert not ready, "no answer before the body: the server answered (or closed) while it was sent"
        s.sendall(b"\0" * (size - size // 2))
        head, body = _recv_all(s)
        assert head.startswith("HTTP/1.1 401"), head
        assert b"unauthenticated" in body, body[:200]
        assert "connection: close" not in head.lower(), head
        # the connection goes on
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        head, body = _recv_all(s)
        assert head.startswith("HTTP/1.1 200"), head


def test_a_body_over_the_limit_is_still_refused_at_once(server):
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        s.sendall(b"PUT /v1/account/picture HTTP/1.1\r\nHost: t\r\nContent-Type: image/jpeg\r\n"
                  b"Content-Length: %d\r\n\r\n" % (limits.LIMIT_IMAGE_BODY + 1))
        head, _ = _recv_all(s)
        assert head.startswith("HTTP/1.1 401") or head.startswith("HTTP/1.1 413"), head
        assert "connection: close" in head.lower(), head

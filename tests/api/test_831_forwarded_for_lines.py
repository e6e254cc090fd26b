"""Issue 12 item 9: with --trusted-proxy, every X-Forwarded-For line counts.

RFC 9110 (5.3): several lines of one field are one list, their values joined
by commas in order. A proxy that appends its own line after the client's must
win: the lines are walked from the last, each from the right, and the first
hop that is not a trusted proxy is the client. Before the fix only the first
line was read, so a client's own line before the proxy's chose the address
the access log and the rate limits saw.
"""

import json
import os
import re
import time

import pytest

POLL_S = 5


def logged_ip(srv, request_id):
    d = os.path.join(srv.data_dir, "logs")
    deadline = time.monotonic() + POLL_S
    while True:
        if os.path.isdir(d):
            for name in sorted(os.listdir(d)):
                if not re.match(r"^access-.*\.jsonl$", name):
                    continue
                with open(os.path.join(d, name), encoding="utf-8") as f:
                    for line in f:
                        if request_id in line:
                            return json.loads(line)["ip"]
        if time.monotonic() > deadline:
            pytest.fail(f"no access log line for {request_id}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def proxied(module_server_factory):
    return module_server_factory.start(extra_args=["--trusted-proxy", "127.0.0.1"])


def exchange(raw, srv, xff_lines):
    head = [f"GET /healthz HTTP/1.1", f"Host: {srv.host}:{srv.port}"]
    head += [f"X-Forwarded-For: {v}" for v in xff_lines]
    head += ["Connection: close"]
    reply = raw(srv.host, srv.port, ("\r\n".join(head) + "\r\n\r\n").encode())
    text = bytes(reply).decode("latin-1")
    assert text.startswith("HTTP/1.1 200"), text[:300]
    rid = re.search(r"(?im)^X-Request-Id: ([0-9a-f]{32})", text)
    assert rid, text[:300]
    return logged_ip(srv, rid.group(1))


def test_proxy_line_after_client_line_wins(proxied, raw):
    # The client sent its own line; the trusted proxy appended the real
    # address on a second line.
    assert exchange(raw, proxied, ["6.6.6.6", "203.0.113.7"]) == "203.0.113.7"


def test_lines_walked_from_the_right_across_lines(proxied, raw):
    # Last line: only trusted hops; the walk goes on into the line before.
    assert exchange(raw, proxied, ["198.51.100.9, 198.51.100.23", "127.0.0.1"]) == "198.51.100.23"
    assert exchange(raw, proxied, ["198.51.100.9", "198.51.100.44, 127.0.0.1"]) == "198.51.100.44"


def test_single_line_unchanged(proxied, raw):
    assert exchange(raw, proxied, ["198.51.100.66, 203.0.113.9"]) == "203.0.113.9"


def test_malformed_hop_in_last_line_stops_the_walk(proxied, raw):
    # Garbage from the right ends the walk: the earlier line is never read,
    # and the peer (the trusted proxy) is what is logged.
    assert exchange(raw, proxied, ["203.0.113.50", "not-an-ip"]) == "127.0.0.1"

"""HTTP hardening: hostile framing (request smuggling shapes), header limits,
and the strict JSON body rules of SPEC sections 3 and 4."""

import re

import pytest
import requests

import limits

JSON_ROUTE = "/v1/signup"
JSON_LIMIT = limits.LIMIT_JSON_BODY  # SPEC section 4: request body 64 KiB for JSON


def status_lines(reply):
    return re.findall(rb"HTTP/1\.[01] (\d{3}) ", reply)


def first_status(reply):
    codes = status_lines(reply)
    assert codes, f"no HTTP response received: {bytes(reply)[:300]!r}"
    return int(codes[0])


def assert_still_serving(server):
    r = requests.get(server.url("/healthz"), timeout=10, headers={"Connection": "close"})
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok"}


def assert_error(r, status, code=None):
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:300]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"].get("code"), str), body
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"], body
    if code is not None:
        assert body["error"]["code"] == code, body
    assert re.match(r"^[0-9a-f]{32}$", r.headers.get("X-Request-Id", "")), r.headers
    return body


# ------------------------------------------------------------ raw framing


def test_two_different_content_lengths(server, raw):
    req = (
        b"POST /healthz HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Content-Length: 5\r\n"
        b"Content-Length: 10\r\n"
        b"\r\n"
        b"0123456789"
    )
    reply = raw(server.host, server.port, req, timeout=5)
    assert first_status(reply) == 400, bytes(reply)[:500]
    # The tail of the body must not be answered as a second (smuggled) request.
    assert len(status_lines(reply)) == 1, bytes(reply)[:1000]
    assert reply.closed, "the connection stayed open after the duplicate Content-Length refusal"
    assert_still_serving(server)


def test_same_content_length_twice(server, raw):
    req = (
        b"POST /healthz HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Content-Length: 3\r\n"
        b"Content-Length: 3\r\n"
        b"Connection: close\r\n"
        b"\r\n"
        b"abc"
    )
    reply = raw(server.host, server.port, req, timeout=5)
    assert first_status(reply) == 400, bytes(reply)[:500]
    assert_still_serving(server)


def test_content_length_with_chunked(server, raw):
    req = (
        b"POST /healthz HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Content-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n"
        b"Connection: close\r\n"
        b"\r\n"
        b"0\r\n\r\n"
    )
    reply = raw(server.host, server.port, req, timeout=5)
    assert first_status(reply) == 400, bytes(reply)[:500]
    assert len(status_lines(reply)) == 1, bytes(reply)[:1000]
    assert_still_serving(server)


def test_transfer_encoding_gzip_chunked_answered(server, raw):
    req = (
        b"POST /healthz HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Transfer-Encoding: gzip, chunked\r\n"
        b"Connection: close\r\n"
        b"\r\n"
        b"5\r\nhello\r\n0\r\n\r\n"
    )
    reply = raw(server.host, server.port, req, timeout=5)
    assert reply, "no answer to Transfer-Encoding: gzip, chunked (the connection hung)"
    assert first_status(reply) in (400, 501), bytes(reply)[:500]
    assert_still_serving(server)


def test_header_name_with_space_before_colon(server, raw):
    # "Content-Length : 3" is not a Content-Length for the parser, so "abc"
    # would become the next request: a smuggling shape that must be refused.
    req = (
        b"POST /healthz HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Content-Length : 3\r\n"
        b"Connection: close\r\n"
        b"\r\n"
        b"abc"
    )
    reply = raw(server.host, server.port, req, timeout=5)
    assert first_status(reply) == 400, bytes(reply)[:500]
    assert len(status_lines(reply)) == 1, bytes(reply)[:1000]
    assert_still_serving(server)


def test_harmless_header_name_with_space(server, raw):
    req = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Thing : 1\r\nConnection: close\r\n\r\n"
    reply = raw(server.host, server.port, req, timeout=5)
    assert first_status(reply) == 400, bytes(reply)[:500]
    assert_still_serving(server)


def test_too_many_header_lines(server, raw):
    headers = b"".join(b"X-Filler-%d: v\r\n" % i for i in range(200))
    req = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"Connection: close\r\n\r\n"
    reply = raw(server.host, server.port, req, timeout=5)
    assert first_status(reply) == 431, bytes(reply)[:500]
    assert_still_serving(server)


def test_a_few_headers_are_fine(server, raw):
    # Control for the header-count limit: ordinary requests carry ~10 headers.
    headers = b"".join(b"X-Filler-%d: v\r\n" % i for i in range(10))
    req = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"Connection: close\r\n\r\n"
    reply = raw(server.host, server.port, req, timeout=5)
    assert first_status(reply) == 200, bytes(reply)[:500]


def test_pipelined_requests_answered_in_order(server, raw):
    req = (
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        b"GET /v1/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    reply = raw(server.host, server.port, req, timeout=5)
    assert [int(c) for c in status_lines(reply)] == [200, 200, 200], bytes(reply)[:2000]
    assert reply.closed


def test_pipelined_after_error_is_answered_or_closed(server, raw):
    # A server may close after an error instead of reading on, but then it
    # must say so (Connection: close) so that the client retries the rest;
    # it must never leave the rest unanswered on an open connection.
    req = (
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        b"GET /no/such/path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    reply = raw(server.host, server.port, req, timeout=5)
    codes = [int(c) for c in status_lines(reply)]
    assert codes[:2] == [200, 404], bytes(reply)[:2000]
    assert reply.closed, "the connection hung"
    if codes != [200, 404, 200]:
        assert codes == [200, 404], codes
        last = bytes(reply)[bytes(reply).rindex(b"HTTP/1.1 404") :]
        assert re.search(rb"(?im)^Connection:\s*close\r?$", last), last[:500]


# ------------------------------------------------------------ JSON bodies


@pytest.fixture(scope="module")
def json_route(server):
    """The JSON route under test. It exists: a 404 fails every test that
    uses it instead of letting them pass unseen."""
    r = server.post(JSON_ROUTE, json={})
    if r.status_code == 404:
        pytest.fail(f"POST {JSON_ROUTE} answered 404: the JSON route under test is missing")
    return JSON_ROUTE


def post_raw_body(server, path, body, content_type="application/json", **kw):
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return server.post(path, data=body, headers=headers, **kw)


def test_wrong_content_type(server, json_route):
    r = post_raw_body(server, json_route, b'{"a":1}', content_type="text/plain")
    assert_error(r, 415, "unsupported_media_type")


def test_form_content_type(server, json_route):
    r = post_raw_body(server, json_route, b"a=1", content_type="application/x-www-form-urlencoded")
    assert_error(r, 415, "unsupported_media_type")


def test_missing_content_type(server, json_route):
    r = post_raw_body(server, json_route, b'{"a":1}', content_type=None)
    assert_error(r, 415, "unsupported_media_type")


def assert_invalid_field(r, field):
    """422 invalid_field naming `field`: the body got past the media type,
    size and JSON checks and was judged field by field."""
    body = assert_error(r, 422, "invalid_field")
    assert set(body["error"]) == {"code", "message", "field"}, body
    assert body["error"]["field"] == field, body
    assert field in body["error"]["message"], body


def test_json_with_charset_is_accepted_as_json(server, json_route):
    # Control: the parameterised media type is JSON; a body whose only fault
    # is a missing password passes parsing and fails validation on it.
    body = b'{"email": "charset@example.org", "username": "charset_user"}'
    r = post_raw_body(server, json_route, body, content_type="application/json; charset=utf-8")
    assert_invalid_field(r, "password")


def test_malformed_json(server, json_route):
    r = post_raw_body(server, json_route, b'{"email": "a@b.c",')
    assert_error(r, 400, "malformed_json")


def test_trailing_garbage(server, json_route):
    r = post_raw_body(server, json_route, b"{} {}")
    assert_error(r, 400)


def test_empty_body(server, json_route):
    r = post_raw_body(server, json_route, b"")
    assert_error(r, 400)


@pytest.mark.parametrize(
    "body",
    [
        b'{"email": "\xff\xfe"}',  # invalid bytes
        b'{"email": "\xc0\xaf"}',  # overlong encoding
        b'{"email": "\xed\xa0\x80"}',  # UTF-8-encoded surrogate
        b'{"email": "\xe2\x82"}',  # truncated sequence
    ],
    ids=["ff-fe", "overlong", "surrogate", "truncated"],
)
def test_invalid_utf8(server, json_route, body):
    r = post_raw_body(server, json_route, body)
    assert_error(r, 400)


def test_nul_escape(server, json_route):
    r = post_raw_body(server, json_route, b'{"email": "a\\u0000b"}')
    assert_error(r, 400)


def test_duplicate_keys(server, json_route):
    r = post_raw_body(server, json_route, b'{"email": "a@example.org", "email": "b@example.org"}')
    assert_error(r, 400)


def test_nesting_100_deep(server, json_route):
    body = b'{"a":' * 100 + b"1" + b"}" * 100
    r = post_raw_body(server, json_route, body)
    assert_error(r, 400)


def test_array_nesting_100_deep(server, json_route):
    body = b'{"a":' + b"[" * 99 + b"]" * 99 + b"}"
    r = post_raw_body(server, json_route, body)
    assert_error(r, 400)


@pytest.mark.parametrize("body", [b"[]", b'[{"email":"a@example.org"}]', b'"x"', b"42", b"null"])
def test_top_level_not_object(server, json_route, body):
    r = post_raw_body(server, json_route, body)
    assert_error(r, 400)


def test_number_overflow_and_underflow(server, json_route):
    for body in (b'{"x": 1e400}', b'{"x": 1e-400}', b'{"x": NaN}'):
        r = post_raw_body(server, json_route, body)
        assert_error(r, 400)


def _big_body(size):
    pad = size - len(b'{"padding":""}')
    return b'{"padding":"' + b"x" * pad + b'"}'


def test_body_over_limit_with_content_length(server, json_route):
    body = _big_body(JSON_LIMIT + 1)
    assert len(body) == JSON_LIMIT + 1
    r = post_raw_body(server, json_route, body)
    assert_error(r, 413, "too_large")
    assert_still_serving(server)


def test_body_over_limit_declared_only(server, json_route, raw):
    # The declared length alone is enough: answered before any body byte.
    req = (
        b"POST " + json_route.encode() + b" HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: 10000000\r\n"
        b"\r\n"
    )
    reply = raw(server.host, server.port, req, timeout=5)
    assert first_status(reply) == 413, bytes(reply)[:500]
    assert b"too_large" in reply, bytes(reply)[:500]


def test_body_over_limit_chunked(server, json_route):
    body = _big_body(3 * JSON_LIMIT)

    def chunks():
        for i in range(0, len(body), 8192):
            yield body[i : i + 8192]

    r = server.post(json_route, data=chunks(), headers={"Content-Type": "application/json"})
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert_error(r, 413, "too_large")
    assert_still_serving(server)


def test_body_at_limit_is_not_too_large(server, json_route):
    # Control: exactly 64 KiB passes the size check and is parsed; its only
    # fault is the unknown member that pads it, so validation names that.
    head = b'{"email":"atlimit@example.org","username":"at_limit","password":"Vq7#long-enough-9","padding":"'
    body = head + b"x" * (JSON_LIMIT - len(head) - 2) + b'"}'
    assert len(body) == JSON_LIMIT
    r = post_raw_body(server, json_route, body)
    assert_invalid_field(r, "padding")


def _header_block(total):
    """Filler header lines of 4 KiB each, `total` bytes in all."""
    line = 4096
    return b"".join(b"X-Filler-%d: " % i + b"a" * (line - 20) + b"\r\n"
                    for i in range(total // line))


def test_header_block_within_the_connection_memory_is_served(server, raw):
    """docs/LIMITS.md: the header block is bounded by the connection's memory
    (LIMIT_CONN_MEMORY). Three quarters of it, in 4 KiB lines (large
    cookies), is a request like any other."""
    req = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           + _header_block(limits.LIMIT_CONN_MEMORY * 3 // 4) + b"Connection: close\r\n\r\n")
    reply = raw(server.host, server.port, req, timeout=5)
    assert first_status(reply) == 200, bytes(reply)[:500]


def test_header_block_over_the_connection_memory_is_refused(server, raw):
    """A header block of LIMIT_CONN_MEMORY bytes does not fit beside the
    connection's own buffers: it is answered 431 (or the connection
    closed) and the server goes on serving."""
    req = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           + _header_block(limits.LIMIT_CONN_MEMORY) + b"Connection: close\r\n\r\n")
    reply = raw(server.host, server.port, req, timeout=5)
    codes = status_lines(reply)
    assert codes == [b"431"] or (codes == [] and reply.closed), bytes(reply)[:500]
    assert_still_serving(server)

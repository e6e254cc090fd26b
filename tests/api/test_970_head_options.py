"""HEAD and OPTIONS (issue 18, item 3; docs/API.md "HTTP conventions").

- HEAD on every GET route of the route table (read from the server's own
  OpenAPI document, which tests/unit/test_openapi.c keeps equal to it):
  the status and headers of the GET, its Content-Length included, and not
  one byte of body on the wire (read on a raw connection);
- OPTIONS on every path: 204 with Allow listing the path's methods, HEAD
  after GET, and OPTIONS; no credential needed; no CORS header; an unknown
  path is 404;
- a 405 carries the same Allow."""

import re

import pytest

from conftest import raw_exchange
from accounts_helpers import assert_error, bearer, create_account, outbox
from apikeys_helpers import create_key
from models_helpers import create_model, female_sets
from saved_patterns_helpers import save_pattern

METHODS = ("get", "put", "post", "delete", "patch")
# headers a GET and its HEAD may differ in
PER_REQUEST = {"date", "x-request-id", "connection", "keep-alive"}


@pytest.fixture(scope="module")
def world(server):
    acc = create_account(server, outbox(server), "head")
    model = create_model(server, acc, name="Head", breasts=True,
                         measurements=female_sets()["cisFemaleAdult34"])
    saved = save_pattern(server, acc, model["id"], "bodice", "saved")
    key = create_key(server, acc, "read")
    return {"acc": acc, "model": model["id"], "saved": saved["id"], "key": key["key"]}


def documented(server):
    r = server.get("/v1/openapi.json")
    assert r.status_code == 200, r.text[:200]
    return r.json()["paths"]


def concrete(path, world):
    """A path of the pattern with real ids: the caller's model, its saved
    pattern, a design, an embedded asset."""
    path = path.replace("/v1/models/{id}", "/v1/models/" + world["model"])
    path = path.replace("/v1/patterns/{id}", "/v1/patterns/" + world["saved"])
    path = path.replace("{design}", "bodice")
    path = path.replace("/assets/m/{name}", "/assets/m/chest")
    path = path.replace("/assets/{name}.css", "/assets/site.css")
    path = path.replace("/assets/{name}.svg", "/assets/icon.svg")
    path = path.replace("/assets/{name}", "/assets/app")
    path = path.replace("{id}", "AAAAAAAAAAAAAAAAAAAAAA")
    assert "{" not in path, path
    return path


def head_raw(server, path, token):
    """HEAD on a raw connection: (status, headers as a dict of lower-case
    names, the bytes after the header block)."""
    req = (f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
           f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n").encode()
    reply = raw_exchange("127.0.0.1", server.port, req, timeout=30)
    head, sep, rest = bytes(reply).partition(b"\r\n\r\n")
    assert sep, f"HEAD {path}: no complete header block: {bytes(reply)[:300]!r}"
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0])
    assert m, lines[0]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(m.group(1)), headers, rest


def test_head_on_every_get_route(server, world):
    token = world["acc"].token
    walked = 0
    for pattern, item in documented(server).items():
        if "get" not in item:
            continue
        path = concrete(pattern, world)
        g = server.get(path, headers={**bearer(token), "Accept-Encoding": "identity"}, timeout=60)
        status, headers, rest = head_raw(server, path, token)
        assert status == g.status_code, f"HEAD {path}: {status}, GET: {g.status_code} {g.text[:200]}"
        assert rest == b"", f"HEAD {path} sent a body: {rest[:200]!r}"
        got = {k.lower(): v for k, v in g.headers.items()}
        assert set(headers) - PER_REQUEST == set(got) - PER_REQUEST, (path, headers, got)
        for name in set(got) - PER_REQUEST:
            assert headers[name] == got[name], f"HEAD {path}: {name} {headers[name]!r}, GET {got[name]!r}"
        assert int(headers["content-length"]) == len(g.content), path
        walked += 1
    assert walked >= 40, walked


def test_head_is_a_read(server, world):
    """A read API key may HEAD what it may GET (a HEAD is no write), and the
    layer answers a HEAD on a route without GET with 405."""
    path = "/v1/models/" + world["model"]
    status, headers, rest = head_raw(server, path, world["key"])
    assert status == 200 and rest == b"", (status, headers)
    status, headers, rest = head_raw(server, "/v1/login", world["key"])
    assert status == 405 and headers["allow"] == "POST, OPTIONS", headers


def expected_allow(item):
    """The methods of a path item, HEAD with GET, and OPTIONS (the server
    lists them in the route table's order: compared as a set)."""
    names = {m.upper() for m in item if m in METHODS}
    if "GET" in names:
        names.add("HEAD")
    names.add("OPTIONS")
    return names


def test_options_on_every_path(server, world):
    for pattern, item in documented(server).items():
        path = concrete(pattern, world)
        r = server.request("OPTIONS", path)  # no credential at all
        assert r.status_code == 204, f"OPTIONS {path}: {r.status_code} {r.text[:200]}"
        assert r.content == b""
        allow = [m.strip() for m in r.headers.get("Allow", "").split(",")]
        assert set(allow) == expected_allow(item), (path, allow)
        assert allow[-1] == "OPTIONS", allow
        if "GET" in allow:
            assert allow[allow.index("GET") + 1] == "HEAD", allow
        assert not [h for h in r.headers if h.lower().startswith("access-control-")], r.headers


def test_options_never_answers_cors(server):
    r = server.request("OPTIONS", "/v1/models", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 204
    assert not [h for h in r.headers if h.lower().startswith("access-control-")], r.headers


def test_options_on_an_unknown_path_is_404(server):
    assert_error(server.request("OPTIONS", "/v1/nothing-here"), 404, "not_found")
    assert_error(server.request("OPTIONS", "/v1/models/a/b/c"), 404, "not_found")


def test_405_carries_allow(server, world):
    r = server.request("DELETE", "/v1/designs")
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET, HEAD, OPTIONS"
    r = server.request("PUT", "/v1/models/" + world["model"], headers=world["acc"].auth)
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET, HEAD, PATCH, DELETE, OPTIONS"

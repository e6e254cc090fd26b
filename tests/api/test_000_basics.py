"""The foundation: health, error shape, OpenAPI, metrics, CLI, server key."""

import json
import os
import re
import secrets
import stat
import time

import requests

from metrics_helpers import parse_metrics

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def assert_common_headers(r):
    rid = r.headers.get("X-Request-Id")
    assert rid is not None, f"{r.request.method} {r.url}: no X-Request-Id header"
    assert HEX32.match(rid), f"X-Request-Id {rid!r} is not 32 lowercase hex characters"
    assert r.headers.get("Cache-Control") == "no-store", (
        f"{r.request.method} {r.url}: Cache-Control is {r.headers.get('Cache-Control')!r}"
    )


def assert_error(r, status, code):
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:300]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert re.match(r"^[a-z][a-z0-9_]*$", body["error"]["code"]), body
    msg = body["error"]["message"]
    assert isinstance(msg, str) and msg.strip(), body
    assert_common_headers(r)
    return body


# ---------------------------------------------------------------- /healthz


def test_healthz(server):
    r = server.get("/healthz")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    assert r.json() == {"status": "ok"}
    assert_common_headers(r)


def test_request_ids_are_unique(server):
    ids = {server.get("/healthz").headers["X-Request-Id"] for _ in range(20)}
    assert len(ids) == 20, ids


def test_keepalive_connection(server):
    # Several requests over one keep-alive connection all answer correctly.
    with requests.Session() as s:
        for _ in range(5):
            r = s.get(server.url("/healthz"), timeout=10)
            assert r.status_code == 200
            assert r.json() == {"status": "ok"}


# ---------------------------------------------------------------- errors


def test_unknown_path_is_404_json(server):
    r = server.get("/no/such/path")
    assert_error(r, 404, "not_found")


def test_unknown_path_under_v1_is_404_json(server):
    r = server.post("/v1/does-not-exist", json={"a": 1})
    assert_error(r, 404, "not_found")


def test_wrong_method_is_405_with_allow(server):
    r = server.request("DELETE", "/healthz")
    assert_error(r, 405, "method_not_allowed")
    allow = r.headers.get("Allow")
    assert allow, "405 without an Allow header"
    methods = {m.strip() for m in allow.split(",")}
    assert "GET" in methods, allow
    assert "DELETE" not in methods, allow


def test_post_on_get_route_is_405(server):
    r = server.post("/healthz", json={})
    assert_error(r, 405, "method_not_allowed")
    assert "GET" in r.headers.get("Allow", ""), r.headers


# ---------------------------------------------------------------- OpenAPI


def test_openapi_document(server):
    r = server.get("/v1/openapi.json")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    assert HEX32.match(r.headers.get("X-Request-Id", "")), r.headers
    # a public document that changes only with a build: cached, revalidated (test_972_caching)
    assert r.headers.get("Cache-Control") == "public, no-cache", r.headers
    doc = json.loads(r.content.decode("utf-8"))
    assert isinstance(doc, dict)
    assert isinstance(doc.get("openapi"), str) and doc["openapi"].startswith("3.1"), doc.get("openapi")
    assert isinstance(doc.get("info"), dict), "OpenAPI document without info"
    paths = doc.get("paths")
    assert isinstance(paths, dict), "OpenAPI document without a paths object"
    for p in paths:
        assert isinstance(p, str) and p.startswith("/"), p


# ---------------------------------------------------------------- metrics


def test_metrics(server):
    for _ in range(3):
        assert server.get("/healthz").status_code == 200
    server.get("/no/such/secret-path-xyz")
    time.sleep(0.2)  # counted at completion, possibly just after the response
    r = server.metrics()  # the metrics listener (--metrics-listen), not the public port
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain"), r.headers
    assert r.headers.get("Cache-Control") == "no-store", r.headers
    samples = parse_metrics(r.text)
    names = {s[0] for s in samples}

    healthz_ok = [
        v
        for n, lab, v in samples
        if n == "atelier_http_requests_total" and lab.get("route") == "/healthz" and lab.get("status") == "200"
    ]
    assert healthz_ok, "no atelier_http_requests_total{route=\"/healthz\",status=\"200\"}"
    assert max(healthz_ok) >= 3, healthz_ok

    assert "atelier_http_request_duration_seconds_bucket" in names, sorted(names)
    assert "atelier_http_requests_in_flight" in names, sorted(names)
    buckets = [lab for n, lab, v in samples if n == "atelier_http_request_duration_seconds_bucket"]
    assert any(lab.get("le") == "+Inf" for lab in buckets), "histogram without an le=\"+Inf\" bucket"

    # Routes are patterns, never raw paths: no unbounded label values.
    assert "secret-path-xyz" not in r.text


def test_metrics_counter_increases(server):
    def count():
        samples = parse_metrics(server.metrics().text)
        return sum(
            v
            for n, lab, v in samples
            if n == "atelier_http_requests_total" and lab.get("route") == "/healthz" and lab.get("status") == "200"
        )

    before = count()
    for _ in range(4):
        assert server.get("/healthz").status_code == 200
    # Requests are counted when they complete, which may be just after the
    # client has read the response: allow a moment.
    deadline = time.monotonic() + 2
    after = count()
    while after < before + 4 and time.monotonic() < deadline:
        time.sleep(0.05)
        after = count()
    assert after >= before + 4, (before, after)


# ---------------------------------------------------------------- CLI


def test_help_commands(atelier_cli):
    for args in (["--help"], ["serve", "--help"], ["migrate", "--help"], ["logs", "--help"]):
        r = atelier_cli(*args)
        assert r.returncode == 0, f"atelier {' '.join(args)} exited {r.returncode}: {r.stderr}"
        out = r.stdout + r.stderr
        assert "ATELIER_" in out, f"atelier {' '.join(args)} does not list ATELIER_* variables:\n{out}"


def test_serve_help_lists_its_flags(atelier_cli):
    r = atelier_cli("serve", "--help")
    out = r.stdout + r.stderr
    for flag in ("--listen", "--data", "--database"):
        assert flag in out, f"serve --help does not mention {flag}:\n{out}"


def test_unknown_flag_fails(atelier_cli):
    for args in (["serve", "--no-such-flag"], ["migrate", "--bogus=1"], ["logs", "--nope"]):
        r = atelier_cli(*args, timeout=20)
        assert r.returncode != 0, f"atelier {' '.join(args)} exited 0"
        out = r.stdout + r.stderr
        assert out.strip(), f"atelier {' '.join(args)} failed without a message"
        assert args[1].split("=")[0] in out, f"message does not name the bad flag:\n{out}"


def test_unknown_command_fails(atelier_cli):
    r = atelier_cli("no-such-command", timeout=20)
    assert r.returncode != 0
    assert (r.stdout + r.stderr).strip()


def test_migrate_is_idempotent(atelier_cli, tmp_path, fresh_database):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    args = ["migrate", "--data", str(data)]
    if fresh_database:
        args += ["--database", fresh_database]
    for i in range(2):
        r = atelier_cli(*args, timeout=60)
        assert r.returncode == 0, f"migrate run {i + 1} exited {r.returncode}:\n{r.stdout}\n{r.stderr}"


# ---------------------------------------------------------------- server key


def test_key_file_created_0600(server):
    path = os.path.join(server.data_dir, "secret.key")
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert st.st_size == 32, st.st_size


def test_wrong_key_refused(fresh_database, server_factory, tmp_path):
    # fresh_database comes first so that it is dropped after the servers stop.
    (tmp_path / "data").mkdir(mode=0o700)
    data_dir, database = str(tmp_path / "data"), fresh_database
    first = server_factory.start(data_dir=data_dir, database=database)
    with open(os.path.join(data_dir, "secret.key"), "rb") as f:
        key = f.read()
    assert len(key) == 32
    assert first.stop() is None

    other = secrets.token_bytes(32)
    while other == key:
        other = secrets.token_bytes(32)
    rc, out = server_factory.start_expect_exit(
        env={"ATELIER_KEY": other.hex()}, data_dir=data_dir, database=database
    )
    assert rc != 0, out
    assert "key" in out.lower(), f"the refusal does not mention the key:\n{out}"

    # Control: the right key given through ATELIER_KEY is accepted.
    again = server_factory.start(env={"ATELIER_KEY": key.hex()}, data_dir=data_dir, database=database)
    assert again.get("/healthz").status_code == 200
    assert again.stop() is None


def test_key_file_with_loose_mode_refused(fresh_database, server_factory, tmp_path):
    # fresh_database comes first so that it is dropped after the servers stop.
    (tmp_path / "data").mkdir(mode=0o700)
    data_dir, database = str(tmp_path / "data"), fresh_database
    first = server_factory.start(data_dir=data_dir, database=database)
    assert first.stop() is None
    path = os.path.join(data_dir, "secret.key")
    os.chmod(path, 0o644)
    rc, out = server_factory.start_expect_exit(data_dir=data_dir, database=database)
    assert rc != 0, out
    assert out.strip(), "refused without a message"

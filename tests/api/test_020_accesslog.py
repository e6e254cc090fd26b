"""The visitor log of SPEC section 1: what each line holds, what it must never
hold, X-Forwarded-For only from trusted proxies, and `atelier logs`."""

import datetime
import json
import os
import re
import stat
import time

import pytest

KEYS = {"time", "ip", "method", "route", "status", "duration_ms", "request_id"}
POLL_S = 5.0


def logs_dir(server):
    return os.path.join(server.data_dir, "logs")


def utc_days():
    """Today's UTC date, and the neighbour when we are close to midnight."""
    now = datetime.datetime.now(datetime.timezone.utc)
    days = {now.strftime("%Y-%m-%d")}
    for delta in (-1, 1):
        other = now + datetime.timedelta(seconds=120 * delta)
        days.add(other.strftime("%Y-%m-%d"))
    return days


def read_lines(server):
    """Every line of every access-*.jsonl file, as (raw text, parsed)."""
    out = []
    d = logs_dir(server)
    if not os.path.isdir(d):
        return out
    for name in sorted(os.listdir(d)):
        if not re.match(r"^access-\d{4}-\d{2}-\d{2}\.jsonl$", name):
            continue
        with open(os.path.join(d, name), "rb") as f:
            for raw_line in f.read().decode("utf-8").splitlines():
                if raw_line.strip():
                    out.append((raw_line, json.loads(raw_line)))
    return out


def wait_for_request(server, request_id, timeout=POLL_S):
    """Poll the log (written asynchronously) for the line of one request."""
    deadline = time.monotonic() + timeout
    while True:
        for raw_line, obj in read_lines(server):
            if obj.get("request_id") == request_id:
                return raw_line, obj
        if time.monotonic() > deadline:
            pytest.fail(f"no access log line for request {request_id} after {timeout} s")
        time.sleep(0.05)


def all_log_bytes(server):
    blob = b""
    for dirpath, _dirs, files in os.walk(logs_dir(server)):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                blob += f.read()
    return blob


# ------------------------------------------------------------ file and lines


def test_log_file_and_line_format(server):
    r = server.get("/healthz")
    rid = r.headers["X-Request-Id"]
    raw_line, obj = wait_for_request(server, rid)

    files = [n for n in os.listdir(logs_dir(server)) if n.startswith("access-")]
    assert files, os.listdir(logs_dir(server))
    assert {f"access-{d}.jsonl" for d in utc_days()} & set(files), (files, utc_days())
    for name in files:
        mode = stat.S_IMODE(os.stat(os.path.join(logs_dir(server), name)).st_mode)
        assert mode == 0o600, f"{name} has mode {oct(mode)}"

    assert set(obj) == KEYS, obj
    assert obj["request_id"] == rid
    assert obj["ip"] == "127.0.0.1"
    assert obj["method"] == "GET"
    assert obj["route"] == "/healthz"
    assert obj["status"] == 200 and isinstance(obj["status"], int)
    assert isinstance(obj["duration_ms"], (int, float)) and 0 <= obj["duration_ms"] < 60000
    t = datetime.datetime.fromisoformat(obj["time"].replace("Z", "+00:00"))
    assert t.tzinfo is not None and t.utcoffset() == datetime.timedelta(0), obj["time"]
    age = abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())
    assert age < 60, f"log time {obj['time']} is {age} s off"
    assert "\n" not in raw_line


def test_every_line_has_exactly_the_keys(server):
    server.get("/no/such/path")
    server.request("DELETE", "/healthz")
    r = server.get("/healthz")
    wait_for_request(server, r.headers["X-Request-Id"])
    lines = read_lines(server)
    assert len(lines) >= 3
    for raw_line, obj in lines:
        assert set(obj) == KEYS, raw_line
        assert re.match(r"^[0-9a-f]{32}$", obj["request_id"]), raw_line


def test_route_is_a_pattern_without_ids_or_query(server):
    r = server.get("/v1/models/abc123?secret=x")
    rid = r.headers["X-Request-Id"]
    raw_line, obj = wait_for_request(server, rid)
    assert obj["route"] in ("/v1/models/{id}", "(unmatched)"), obj
    assert obj["status"] == r.status_code
    blob = all_log_bytes(server)
    assert b"abc123" not in blob
    assert b"secret" not in blob


def test_unmatched_route_does_not_log_the_path(server):
    r = server.get("/some/unknown/path-with-id-9f8e7d?token=zzz")
    assert r.status_code == 404
    raw_line, obj = wait_for_request(server, r.headers["X-Request-Id"])
    assert obj["route"] == "(unmatched)", obj
    assert obj["status"] == 404
    blob = all_log_bytes(server)
    assert b"9f8e7d" not in blob and b"zzz" not in blob


def test_no_tokens_emails_or_passwords_in_logs(server):
    token = "SECRETTOKEN"
    email = "leak.check.7f3a@example.org"
    password = "Unguessable-Leak-Pw-4471"
    sent = []
    for method, path, body in (
        ("POST", "/v1/login", {"login": email, "password": password}),
        ("POST", "/v1/signup", {"email": email, "username": "leakcheck7f3a", "password": password}),
        ("GET", "/v1/account", None),
    ):
        r = server.request(
            method,
            path,
            json=body,
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"ua {email}"},
        )
        sent.append(r.headers["X-Request-Id"])
    for rid in sent:
        wait_for_request(server, rid)
    blob = all_log_bytes(server)
    assert blob, "the logs directory is empty"
    for secret in (token, email, password, "leakcheck7f3a"):
        assert secret.encode() not in blob, f"{secret!r} appears in the logs directory"


def test_x_forwarded_for_ignored_without_trusted_proxy(server):
    r = server.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    raw_line, obj = wait_for_request(server, r.headers["X-Request-Id"])
    assert obj["ip"] == "127.0.0.1", obj
    assert b"203.0.113.9" not in all_log_bytes(server)


@pytest.fixture(scope="module")
def proxied_server(module_server_factory):
    return module_server_factory.start(extra_args=["--trusted-proxy", "127.0.0.1"])


def test_x_forwarded_for_honoured_from_trusted_proxy(proxied_server):
    srv = proxied_server
    r = srv.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    _, obj = wait_for_request(srv, r.headers["X-Request-Id"])
    assert obj["ip"] == "203.0.113.9", obj

    # Without the header, the peer's own address is logged.
    r = srv.get("/healthz")
    _, obj = wait_for_request(srv, r.headers["X-Request-Id"])
    assert obj["ip"] == "127.0.0.1", obj


def test_x_forwarded_for_chain_takes_the_last_untrusted_hop(proxied_server):
    # A client can prepend anything to the header; only the address that the
    # trusted proxy appended (the right-most one not itself trusted) counts.
    srv = proxied_server
    r = srv.get("/healthz", headers={"X-Forwarded-For": "198.51.100.66, 203.0.113.9"})
    _, obj = wait_for_request(srv, r.headers["X-Request-Id"])
    assert obj["ip"] == "203.0.113.9", obj


def test_x_forwarded_for_garbage_is_not_logged(proxied_server):
    srv = proxied_server
    r = srv.get("/healthz", headers={"X-Forwarded-For": 'evil"}{"x":"y'})
    _, obj = wait_for_request(srv, r.headers["X-Request-Id"])
    assert set(obj) == KEYS
    assert "evil" not in obj["ip"], obj
    for raw_line, parsed in read_lines(srv):
        assert set(parsed) == KEYS, raw_line


# ------------------------------------------------------------ atelier logs


def test_logs_cli_by_request_id(server, atelier_cli):
    r = server.get("/healthz")
    rid = r.headers["X-Request-Id"]
    raw_line, _ = wait_for_request(server, rid)
    res = atelier_cli("logs", "--data", server.data_dir, "--request-id", rid)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [raw_line], res.stdout


def test_logs_cli_unknown_request_id(server, atelier_cli):
    res = atelier_cli("logs", "--data", server.data_dir, "--request-id", "0" * 32)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "", res.stdout


def test_logs_cli_by_ip(server, atelier_cli):
    r = server.get("/healthz")
    wait_for_request(server, r.headers["X-Request-Id"])
    res = atelier_cli("logs", "--data", server.data_dir, "--ip", "127.0.0.1")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines, "no line for --ip 127.0.0.1"
    for line in lines:
        obj = json.loads(line)
        assert obj["ip"] == "127.0.0.1", line
    assert r.headers["X-Request-Id"] in res.stdout

    res = atelier_cli("logs", "--data", server.data_dir, "--ip", "192.0.2.77")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "", res.stdout


def test_logs_cli_since(server, atelier_cli):
    r = server.get("/healthz")
    wait_for_request(server, r.headers["X-Request-Id"])
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    res = atelier_cli("logs", "--data", server.data_dir, "--since", future)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "", res.stdout

    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    res = atelier_cli("logs", "--data", server.data_dir, "--since", past)
    assert res.returncode == 0, res.stderr
    assert r.headers["X-Request-Id"] in res.stdout
    cutoff = datetime.datetime.strptime(past, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    in_files = {raw_line for raw_line, _ in read_lines(server)}
    for line in res.stdout.splitlines():
        assert line in in_files, line
        t = datetime.datetime.fromisoformat(json.loads(line)["time"].replace("Z", "+00:00"))
        assert t >= cutoff, line


def test_logs_cli_bad_since(server, atelier_cli):
    res = atelier_cli("logs", "--data", server.data_dir, "--since", "yesterday-ish")
    assert res.returncode != 0
    assert (res.stdout + res.stderr).strip()

"""`atelier logs`, issue 18 item 9: --until, --status and --route filters,
and a table on a terminal (JSON lines otherwise), on a real access log: two
servers share one data directory, one with its clock two days back (its
lines land in the log of two days ago), one on the real clock."""
import datetime
import json
import os
import pty
import shutil
import subprocess
import tempfile

import pytest

from accounts_helpers import wait_access_log
from conftest import ATELIER_BIN, server_env

DAY = 86400


@pytest.fixture(scope="module")
def world(module_server_factory):
    data = tempfile.mkdtemp(prefix="atelier-993-", dir="/tmp")
    past = module_server_factory.start(["--clock-offset", str(-2 * DAY)], data_dir=data)
    present = module_server_factory.start(data_dir=data, database=past.database_url)
    ids = {"past": {}, "present": {}}
    for name, srv in (("past", past), ("present", present)):
        for key, method, path in (("health", "GET", "/healthz"), ("missing", "GET", "/v1/nope"),
                                  ("unauth", "GET", "/v1/models"),
                                  ("method", "DELETE", "/healthz")):
            r = srv.request(method, path)
            ids[name][key] = (r.headers["X-Request-Id"], r.status_code)
            wait_access_log(srv, r.headers["X-Request-Id"])
    yield data, ids
    module_server_factory.stop_all()
    shutil.rmtree(data, ignore_errors=True)


def logs(data, *args, tty=False):
    cmd = [ATELIER_BIN, "logs", "--data", data, *args]
    if not tty:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL, env=server_env())
        return p.returncode, p.stdout, p.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE,
                         env=server_env())
    os.close(slave)
    chunks = []
    while True:
        try:
            b = os.read(master, 65536)
        except OSError:
            break
        if not b:
            break
        chunks.append(b)
    err = p.stderr.read().decode()
    rc = p.wait(timeout=60)
    os.close(master)
    return rc, b"".join(chunks).decode().replace("\r\n", "\n"), err


def lines(data, *args):
    rc, out, err = logs(data, *args)
    assert rc == 0, err
    return [json.loads(x) for x in out.splitlines()]


def rids(objs):
    return {o["request_id"] for o in objs}


def test_statuses_are_as_expected(world):
    _, ids = world
    for name in ids:
        assert ids[name]["health"][1] == 200
        assert ids[name]["missing"][1] == 404
        assert ids[name]["unauth"][1] == 401
        assert ids[name]["method"][1] == 405


def expected(data, keep):
    """The request ids of every line of the log that keep() accepts (the
    servers' readiness checks are in the log too)."""
    return {o["request_id"] for o in lines(data) if keep(o)}


@pytest.mark.parametrize("spec,keys,keep", [
    ("404", {"missing"}, lambda s: s == 404),
    ("4xx", {"missing", "unauth", "method"}, lambda s: 400 <= s <= 499),
    ("200,401", {"health", "unauth"}, lambda s: s in (200, 401)),
    ("401-404", {"missing", "unauth"}, lambda s: 401 <= s <= 404),
    ("2XX,405", {"health", "method"}, lambda s: 200 <= s <= 299 or s == 405),
    ("5xx", set(), lambda s: s >= 500),
])
def test_status(world, spec, keys, keep):
    data, ids = world
    got = rids(lines(data, "--status", spec))
    assert got == expected(data, lambda o: keep(o["status"])), spec
    mine = {ids[n][k][0] for n in ids for k in ids[n]}
    assert got & mine == {ids[n][k][0] for n in ids for k in keys}, spec


@pytest.mark.parametrize("spec", ["abc", "4x", "99", "600", "404-400", "", "1,2", ",404",
                                  ",".join(["404"] * 17)])
def test_bad_status_is_a_usage_error(world, spec):
    data, _ = world
    rc, out, err = logs(data, "--status", spec)
    if spec == "":
        assert rc == 0  # no condition
        return
    assert rc == 2, (spec, out, err)
    assert "--status takes statuses (404), classes (4xx) or ranges (500-599)" in err
    assert out == ""


def test_route_exact_and_prefix(world):
    data, ids = world
    got = rids(lines(data, "--route", "/healthz"))
    assert got == expected(data, lambda o: o["route"] == "/healthz")
    assert {ids[n]["health"][0] for n in ids} <= got
    assert not {ids[n][k][0] for n in ids for k in ("missing", "unauth")} & got
    got = rids(lines(data, "--route", "(unmatched)"))
    assert got == expected(data, lambda o: o["route"] == "(unmatched)")
    assert {ids[n]["missing"][0] for n in ids} <= got
    got = lines(data, "--route", "/v1/*")
    assert rids(got) == {ids[n]["unauth"][0] for n in ids}
    got = lines(data, "--route", "/v1/mod")
    assert got == []


def test_until_and_since_split_the_days(world):
    data, ids = world
    yesterday = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).date()
    past = {ids["past"][k][0] for k in ids["past"]}
    present = {ids["present"][k][0] for k in ids["present"]}
    until = rids(lines(data, "--until", yesterday.isoformat()))
    since = rids(lines(data, "--since", yesterday.isoformat()))
    assert until == expected(data, lambda o: o["time"] < yesterday.isoformat())
    assert since == expected(data, lambda o: o["time"] >= yesterday.isoformat())
    assert past <= until and not present & until
    assert present <= since and not past & since
    # --until is exclusive: a line at exactly T is not before T
    first = lines(data, "--request-id", ids["present"]["health"][0])[0]["time"]
    assert ids["present"]["health"][0] not in rids(lines(data, "--until", first))
    assert ids["present"]["health"][0] in rids(lines(data, "--since", first))
    # filters combine
    got = lines(data, "--until", yesterday.isoformat(), "--status", "404")
    assert rids(got) == {ids["past"]["missing"][0]}  # readiness checks answer 200
    rc, out, err = logs(data, "--until", "yesterday")
    assert rc == 2 and "--until" in err


def test_table_on_a_terminal_json_otherwise(world):
    data, ids = world
    rid = ids["present"]["missing"][0]
    rc, out, err = logs(data, "--request-id", rid, tty=True)
    assert rc == 0, err
    rows = out.splitlines()
    assert rows[0].split() == ["TIME", "(UTC)", "ST", "METHOD", "MS", "IP", "ROUTE", "REQUEST",
                               "ID"], out
    assert len(rows) == 2, out
    cells = rows[1].split()
    line = lines(data, "--request-id", rid)[0]
    assert cells[0] == line["time"] and cells[1] == "404" and cells[2] == "GET"
    assert float(cells[3]) == pytest.approx(line["duration_ms"], abs=0.001)
    assert cells[4] == line["ip"] and cells[5] == "(unmatched)" and cells[6] == rid
    # forced either way
    rc, out, _ = logs(data, "--request-id", rid, "--format", "json", tty=True)
    assert json.loads(out)["request_id"] == rid
    rc, out, _ = logs(data, "--request-id", rid, "--format", "table")
    assert out.splitlines()[0].startswith("TIME (UTC)") and rid in out
    # a pipe gets the log's own lines, byte for byte
    rc, out, _ = logs(data, "--request-id", rid)
    logdir = os.path.join(data, "logs")
    raw = b"".join(open(os.path.join(logdir, n), "rb").read() for n in os.listdir(logdir))
    assert out.encode() in raw and out.count("\n") == 1
    # nothing matches: no header either
    rc, out, _ = logs(data, "--request-id", "0" * 32, "--format", "table")
    assert rc == 0 and out == ""
    rc, out, err = logs(data, "--format", "csv")
    assert rc == 2 and "expected auto, table or json" in err

"""Issue 18 item 8: /metrics complete, and checked with promtool.

- The exposition passes `promtool check metrics` (its parser and its lint:
  names, units, HELP and TYPE) after traffic that makes every kind of series:
  a known route, a 405, unmatched requests with known and unknown methods,
  a queued mail, a sweep and an open-data release.
- Unmatched requests carry the client's method (from a fixed list, anything
  else "other"), and a 405 the route whose path matched.
- atelier_build_info carries the version of CMakeLists.txt and the commit.
- process_* (the Prometheus client conventions) agree with /proc/<pid>.
- This node's last sweep: time, success time, duration, result, and whether
  it ran the shared-database steps (on PostgreSQL, not when another node
  holds the sweep lock).
- The mail queue's depth and the age of its oldest mail; the open-data
  release's age (absent while there is none).

The server's mail relay is a bound socket that listens to nothing, so
every delivery fails and mails stay queued.
"""

import os
import re
import resource
import shutil
import socket
import subprocess
import tempfile
import time

import psycopg2
import pytest

from accounts_helpers import new_identity, setup_client
from conftest import BACKEND, ROOT
from metrics_helpers import parse_metrics
from opendata_helpers import build, populate

SWEEP_LOCK_KEY = 0x61746C7377656570  # src/privacy/sweep.h: "atlsweep"
OPERATIONS_MD = os.path.join(ROOT, "docs", "OPERATIONS.md")


def values(text, name, **labels):
    return [v for n, lab, v in parse_metrics(text) if n == name
            and all(lab.get(k) == want for k, want in labels.items())]


def one(text, name, **labels):
    v = values(text, name, **labels)
    assert len(v) == 1, f"{name}{labels}: {v}\n{text[-3000:]}"
    return v[0]


def scrape_until(srv, pred, timeout=15.0, what="a condition"):
    """Scrape until pred(text) is true; the storage gauges are read at most
    once per LIMIT_METRICS_REFRESH_MS (5 s)."""
    deadline = time.monotonic() + timeout
    while True:
        text = srv.metrics().text
        if pred(text):
            return text
        assert time.monotonic() < deadline, f"{what} not seen in /metrics:\n{text[-4000:]}"
        time.sleep(0.25)


def promtool():
    path = shutil.which("promtool")
    assert path, "promtool is missing: scripts/deps.sh installs it (Debian package prometheus)"
    return path


@pytest.fixture(scope="module")
def relay():
    """A bound TCP port that listens to nothing: a connection is refused."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    yield s.getsockname()[1]
    s.close()


@pytest.fixture(scope="module")
def srv(module_server_factory, relay):
    t0 = time.time()
    s = module_server_factory.start(extra_args=[
        "--smtp", f"smtp://127.0.0.1:{relay}", "--smtp-tls", "off", "--sweep-delay", "1"])
    s.started = t0
    return s


@pytest.fixture(scope="module")
def traffic(srv):
    """Requests of every kind, done once for the module."""
    assert srv.get("/healthz").status_code == 200
    assert srv.post("/healthz").status_code == 405
    assert srv.request("DELETE", "/healthz").status_code == 405
    assert srv.get("/no/such/secret-path-xyz").status_code == 404
    assert srv.request("DELETE", "/nothing/here").status_code == 404
    assert srv.request("BREW", "/nothing/here").status_code in (404, 405, 501)
    # a mail that stays queued: the confirmation of a signup, delivered to a
    # relay that refuses every connection
    ident = new_identity("mq")
    with setup_client() as client:
        r = client.post(srv.url("/v1/signup"), json=ident, timeout=10)
    assert r.status_code == 202, r.text[:300]
    srv.queued_before = time.time()


def test_promtool_passes_after_traffic(srv, traffic):
    text = scrape_until(srv, lambda t: values(t, "atelier_sweep_last_run_success")
                        and one(t, "atelier_mail_queue_messages") >= 1,
                        what="a sweep and a queued mail")
    r = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), (
        f"promtool check metrics: {r.returncode}\n{r.stdout}{r.stderr}\n--- page ---\n{text}")


def test_promtool_would_catch_a_lint_problem():
    """The check fails on what its lint reports (a counter without _total,
    a family without HELP), so the test above can fail."""
    bad = "# TYPE atelier_things counter\natelier_things 1\n"
    r = subprocess.run([promtool(), "check", "metrics"], input=bad, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0, r.stdout + r.stderr


def test_unmatched_and_405_labels(srv, traffic):
    text = scrape_until(srv, lambda t: values(
        t, "atelier_http_requests_total", method="DELETE", route="/healthz", status="405"),
        what="the 405 of DELETE /healthz")
    assert one(text, "atelier_http_requests_total", method="POST", route="/healthz",
               status="405") >= 1
    assert one(text, "atelier_http_requests_total", method="GET", route="(unmatched)",
               status="404") >= 1
    assert one(text, "atelier_http_requests_total", method="DELETE", route="(unmatched)",
               status="404") >= 1
    # a method outside the fixed list is "other", never the client's text
    others = values(text, "atelier_http_requests_total", method="other")
    assert others and sum(others) >= 1, text[:3000]
    assert "BREW" not in text and "secret-path-xyz" not in text
    # no series without a method any more
    for n, lab, v in parse_metrics(text):
        if n == "atelier_http_requests_total":
            assert lab["method"], (lab, v)


def test_build_info(srv):
    text = srv.metrics().text
    infos = [(lab, v) for n, lab, v in parse_metrics(text) if n == "atelier_build_info"]
    assert len(infos) == 1, infos
    lab, v = infos[0]
    assert v == 1
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"project\(atelier VERSION (\d+\.\d+\.\d+)", f.read())
    assert m and lab["version"] == m.group(1), (lab, m and m.group(1))
    assert re.fullmatch(r"[0-9a-f]{12}(-dirty)?|unknown", lab["commit"]), lab


def proc_stat(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return fields  # fields[0] is field 3 (state)


def test_process_metrics(srv):
    pid = srv.proc.pid
    hz = os.sysconf("SC_CLK_TCK")
    page = os.sysconf("SC_PAGE_SIZE")
    text = srv.metrics().text
    now = time.time()

    start = one(text, "process_start_time_seconds")
    assert srv.started - 2 <= start <= now, (srv.started, start, now)

    st = proc_stat(pid)
    cpu_proc = (int(st[11]) + int(st[12])) / hz  # utime, stime (fields 14, 15)
    cpu = one(text, "process_cpu_seconds_total")
    assert 0 < cpu <= cpu_proc + 0.5 and cpu >= cpu_proc - 0.5, (cpu, cpu_proc)

    with open(f"/proc/{pid}/statm", encoding="ascii") as f:
        virt, res = (int(x) * page for x in f.read().split()[:2])
    assert abs(one(text, "process_resident_memory_bytes") - res) <= max(res * 0.25, 4 << 20)
    assert abs(one(text, "process_virtual_memory_bytes") - virt) <= max(virt * 0.25, 64 << 20)

    fds = len(os.listdir(f"/proc/{pid}/fd"))
    assert abs(one(text, "process_open_fds") - fds) <= 4, (one(text, "process_open_fds"), fds)

    soft = resource.prlimit(pid, resource.RLIMIT_NOFILE)[0]
    assert one(text, "process_max_fds") == soft

    # CPU time is a counter that moves with work: a few password checks
    for _ in range(3):
        srv.post("/v1/login", json={"username": "nobody-here", "password": "x" * 12})
    assert one(srv.metrics().text, "process_cpu_seconds_total") > cpu


def test_sweep_last_run(srv):
    text = scrape_until(srv, lambda t: values(t, "atelier_sweep_last_run_success"),
                        what="the first sweep")
    now = time.time()
    ran = one(text, "atelier_sweep_last_run_timestamp_seconds")
    assert srv.started <= ran <= now + 1, (srv.started, ran, now)
    assert one(text, "atelier_sweep_last_success_timestamp_seconds") == ran
    assert one(text, "atelier_sweep_last_leader_timestamp_seconds") == ran
    assert one(text, "atelier_sweep_last_run_success") == 1
    assert one(text, "atelier_sweep_last_run_leader") == 1  # the only node
    assert 0 < one(text, "atelier_sweep_last_duration_seconds") < 60
    assert one(text, "atelier_events_total", event="sweep_runs") >= 1


def test_sweep_follower_when_another_node_holds_the_lock(server_factory, fresh_database):
    """On PostgreSQL another node holding the sweep lock makes this node's
    sweep a follower's: success, not leader. On SQLite (one node) the lock
    is always this node's."""
    holder = None
    if BACKEND == "postgres":
        holder = psycopg2.connect(fresh_database)
        holder.autocommit = True
        with holder.cursor() as c:
            c.execute("SELECT pg_advisory_lock(%s)", (SWEEP_LOCK_KEY,))
    try:
        s = server_factory.start(extra_args=["--sweep-delay", "1"], database=fresh_database)
        text = scrape_until(s, lambda t: values(t, "atelier_sweep_last_run_success"),
                            what="the first sweep")
        assert one(text, "atelier_sweep_last_run_success") == 1
        assert one(text, "atelier_sweep_last_run_leader") == (0 if holder else 1)
        leader_ts = one(text, "atelier_sweep_last_leader_timestamp_seconds")
        ran = one(text, "atelier_sweep_last_run_timestamp_seconds")
        assert leader_ts == (0 if holder else ran), (leader_ts, ran)
    finally:
        if holder:
            holder.close()


def test_mail_queue_depth_and_age(srv, traffic):
    t_queued = srv.queued_before
    text = scrape_until(srv, lambda t: one(t, "atelier_mail_queue_messages") >= 1,
                        what="a queued mail")
    time.sleep(1.5)
    t0 = time.time()
    text = srv.metrics().text
    t1 = time.time()
    n = one(text, "atelier_mail_queue_messages")
    age = one(text, "atelier_mail_queue_oldest_age_seconds")
    assert n >= 1
    # the oldest mail was queued before t_queued and after the server started
    assert t0 - t_queued - 0.5 <= age <= t1 - srv.started + 0.5, (age, t0 - t_queued)
    # an age grows with the clock between two readings of the queue
    time.sleep(1.0)
    later = one(srv.metrics().text, "atelier_mail_queue_oldest_age_seconds")
    assert later >= age + 0.9, (age, later)
    assert one(text, "atelier_metrics_storage_errors_total") == 0


def test_empty_queue_and_no_release(server_factory):
    s = server_factory.start()
    text = s.metrics().text
    assert one(text, "atelier_mail_queue_messages") == 0
    assert one(text, "atelier_mail_queue_oldest_age_seconds") == 0
    assert "# TYPE atelier_opendata_release_age_seconds gauge" in text
    assert values(text, "atelier_opendata_release_age_seconds") == []


def test_release_age(srv):
    assert values(srv.metrics().text, "atelier_opendata_release_age_seconds") == []
    populate(srv, 900, 3)
    # a release published two hours ago (the build's clock set back)
    build(srv, "--ignore-cadence", "--min-stratum", "300", "--clock-offset", "-7200")
    text = scrape_until(srv, lambda t: values(t, "atelier_opendata_release_age_seconds"),
                        what="the release's age")
    age = one(text, "atelier_opendata_release_age_seconds")
    assert 7200 <= age <= 7200 + 60, age


def operations_section():
    with open(OPERATIONS_MD, encoding="utf-8") as f:
        doc = f.read()
    start = doc.index("## Metrics")
    end = doc.find("\n## ", start + 1)
    return doc[start:] if end < 0 else doc[start:end]


def test_operations_documents_every_metric(srv, traffic):
    text = scrape_until(srv, lambda t: values(t, "atelier_sweep_last_run_success"),
                        what="the first sweep")
    families = re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M)
    assert len(families) >= 24, families
    section = operations_section()
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (counter|gauge|histogram) \|", section, re.M))
    for name, kind in families:
        assert rows.get(name) == kind, f"docs/OPERATIONS.md: no row for {name} ({kind})"
    assert set(rows) == {n for n, _ in families}, set(rows) ^ {n for n, _ in families}


def test_alert_rules_are_valid():
    blocks = re.findall(r"```yaml\n(groups:.*?)```", operations_section(), re.S)
    assert len(blocks) == 1, "docs/OPERATIONS.md: one ```yaml block of alert rules"
    for metric in ("atelier_mail_queue_oldest_age_seconds", "atelier_sweep_last_success_timestamp",
                   "atelier_opendata_release_age_seconds"):
        assert metric in blocks[0], metric
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write(blocks[0])
    try:
        r = subprocess.run([promtool(), "check", "rules", f.name], capture_output=True,
                           text=True, timeout=60)
    finally:
        os.unlink(f.name)
    assert r.returncode == 0, r.stdout + r.stderr

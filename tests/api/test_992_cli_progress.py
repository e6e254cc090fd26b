"""Long commands, issue 18 item 7: a progress line on a terminal (one line
rewritten in place), a summary line always (`sweep` used to print nothing
but its JSON, after up to 10 s); diagnostic lines carry the real time and,
when the clock is moved (`sweep --now`, `--clock-offset`), that time as a
`now=` field."""
import datetime
import json
import os
import pty
import re
import subprocess
import tempfile
import time

import pytest

from accounts_helpers import new_identity, signup
from conftest import ATELIER_BIN, server_env
from opendata_helpers import cli_target

TS = r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)"
SWEEP_SUMMARY = re.compile(
    r"^atelier sweep: (dry run, would be: )?(\d+) accounts erased, (\d+) notices, (\d+) "
    r"unconfirmed signups erased, (\d+) sessions and keys expired, (\d+) links expired, (\d+) "
    r"2FA setups expired, (\d+) log files and (\d+) outbox files deleted, (\d+) mails sent "
    r"\((\d+) failed, (\d+) queued\)(?: \(database part done by another node\))? in "
    r"\d+\.\d s$", re.M)


def parse_ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)


def run(args, tty=False, timeout=300):
    """Run a command; with tty, its stderr is a terminal (a pty) and its
    stdout a pipe. Returns (returncode, stdout, stderr)."""
    if not tty:
        p = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, env=server_env())
        return p.returncode, p.stdout, p.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                         env=server_env())
    os.close(slave)
    chunks = []
    while True:
        try:
            b = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not b:
            break
        chunks.append(b)
    out = p.stdout.read().decode()
    rc = p.wait(timeout=timeout)
    os.close(master)
    return rc, out, b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def srv(module_server_factory):
    return module_server_factory.start()


def unconfirmed_signup(srv):
    ident = new_identity("p992")
    r = signup(srv, ident["email"], ident["username"], ident["password"])
    assert r.status_code in (200, 201, 202), r.text


def test_sweep_summary_matches_its_report_and_logs_carry_now(srv):
    unconfirmed_signup(srv)
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=8)
    now_s = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    before = datetime.datetime.now(datetime.timezone.utc)
    rc, out, err = run([ATELIER_BIN, "sweep", "--now", now_s, *cli_target(srv)])
    after = datetime.datetime.now(datetime.timezone.utc)
    assert rc == 0, err
    report = json.loads(out)
    m = SWEEP_SUMMARY.search(err)
    assert m, err
    assert err.rstrip("\n").splitlines()[-1] == m.group(0), "the summary is the last line: " + err
    assert int(m.group(2)) == report["accounts_erased"]
    assert int(m.group(4)) == report["signups_erased"] >= 1
    assert int(m.group(5)) == report["sessions_deleted"]
    assert int(m.group(10)) == report["mails_sent"]
    assert "\r" not in err and "\033[K" not in err, "no progress line off a terminal: " + err
    # the sweep's own log line: the real time first, then now= the --now time
    line = [x for x in err.splitlines() if " sweep: run" in x]
    assert line, err
    m = re.match(TS + r" now=" + TS + r" INFO sweep: run", line[0])
    assert m, line[0]
    wall = parse_ts(m.group(1))
    assert before - datetime.timedelta(seconds=1) <= wall <= after + datetime.timedelta(seconds=1)
    assert parse_ts(m.group(2)) == now.replace(microsecond=0)


def test_sweep_dry_run_summary_says_so(srv):
    rc, out, err = run([ATELIER_BIN, "sweep", "--dry-run", *cli_target(srv)])
    assert rc == 0, err
    m = SWEEP_SUMMARY.search(err)
    assert m and m.group(1), err
    # without --now the clock is the real one: no now= field
    assert " now=" not in err, err


def test_sweep_progress_on_a_terminal(srv):
    unconfirmed_signup(srv)
    rc, out, err = run([ATELIER_BIN, "sweep", *cli_target(srv)], tty=True)
    assert rc == 0, err
    json.loads(out)  # stdout is still the report alone
    assert "\ratelier sweep: opening the database\033[K" in err, repr(err)
    assert "\r\033[K" in err, "the progress line is erased before the summary: " + repr(err)
    # what remains on screen after the carriage returns: the summary, alone on its line
    screen = [ln.rsplit("\r", 1)[-1].replace("\033[K", "")
              for ln in err.replace("\r\n", "\n").split("\n")]
    assert SWEEP_SUMMARY.search("\n".join(screen)), repr(err)


def test_migrate_summary():
    with tempfile.TemporaryDirectory(prefix="atelier-992-") as d:
        rc, out, err = run([ATELIER_BIN, "migrate", "--data", os.path.join(d, "data")])
        assert rc == 0, err
        m = re.search(r"^atelier migrate: schema at version (\d+) in \d+\.\d s$", err, re.M)
        assert m, err
        assert out == f"atelier: schema at version {m.group(1)}\n"


def test_populate_summary_and_progress(srv):
    rc, out, err = run([ATELIER_BIN, "populate", "--models", "3", "--seed", "992",
                        *cli_target(srv)], tty=True)
    assert rc == 0, err
    assert "created 3 accounts" in out
    assert "\ratelier populate: 3 of 3 accounts created\033[K" in err, repr(err)
    assert re.search(r"atelier populate: 3 accounts created in \d+\.\d s \(\d+ a second\)", err), err


def test_opendata_build_summary_when_nothing_is_published(srv):
    """Too few persons for the default threshold: the build publishes
    nothing, and still ends with its summary line."""
    rc, out, err = run([ATELIER_BIN, "opendata", "build", "--ignore-cadence", *cli_target(srv)])
    assert rc == 1, err
    assert re.search(r"^atelier opendata build: nothing published: ", err, re.M), err
    assert re.search(r"^atelier opendata build: failed in \d+\.\d s$", err, re.M), err


def test_server_with_clock_offset_logs_real_time_and_now(server_factory):
    before = datetime.datetime.now(datetime.timezone.utc)
    s = server_factory.start(["--clock-offset", str(40 * 86400)])
    after = datetime.datetime.now(datetime.timezone.utc)
    lines = [x for x in s.stderr().splitlines() if re.match(TS, x)]
    assert lines, s.stderr()
    for line in lines:
        m = re.match(TS + r" now=" + TS + " ", line)
        assert m, line
        wall, now = parse_ts(m.group(1)), parse_ts(m.group(2))
        assert before - datetime.timedelta(seconds=1) <= wall <= after + datetime.timedelta(seconds=1)
        shift = (now - wall).total_seconds()
        assert abs(shift - 40 * 86400) < 2, line


def test_server_without_offset_has_no_now_field(srv):
    lines = [x for x in srv.stderr().splitlines() if re.match(TS, x)]
    assert lines
    assert not [x for x in lines if " now=" in x], lines


def test_opendata_build_summary_when_published(srv):
    """Enough opted-in persons for the lowest threshold: the summary names
    the release the standard output announces."""
    rc, out, err = run([ATELIER_BIN, "populate", "--models", "1400", "--seed", "9920",
                        *cli_target(srv)], timeout=600)
    assert rc == 0, err
    rc, out, err = run([ATELIER_BIN, "opendata", "build", "--ignore-cadence", "--min-stratum",
                        "300", *cli_target(srv)], tty=True, timeout=600)
    assert rc == 0, err
    rid = re.match(r"^atelier: published release ([A-Za-z0-9_-]+):", out).group(1)
    # the progress line erased, then the summary
    assert re.search(rf"\r\033\[Katelier opendata build: published {re.escape(rid)} in "
                     rf"\d+\.\d s\r?$", err, re.M), repr(err)
    assert "\ratelier opendata build: drawing the noise\033[K" in err, repr(err)


def test_rekey_summary():
    from rekey_helpers import new_key_file
    with tempfile.TemporaryDirectory(prefix="atelier-992-") as d:
        data = os.path.join(d, "data")
        rc, out, err = run([ATELIER_BIN, "migrate", "--data", data])
        assert rc == 0, err
        key = new_key_file(d)
        rc, out, err = run([ATELIER_BIN, "rekey", "--data", data, "--new-key-file", key])
        assert rc == 0, err
        report = json.loads(out)
        m = re.search(r"^atelier rekey: (\d+) values resealed under key ([0-9a-f]{8}), (\d+) "
                      r"lookups, in \d+\.\d s$", err, re.M)
        assert m, err
        assert int(m.group(1)) == report["resealed"] and m.group(2) == report["key_id"]
        assert int(m.group(3)) == report["lookups"]

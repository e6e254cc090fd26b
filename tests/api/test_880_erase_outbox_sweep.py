"""Issue 12, items 13-15: what erasure and the sweeper leave behind.

13. A reader holding a snapshot (a backup tool) made the WAL checkpoint after
    an erasure fail, and nothing retried it: the erased username stayed in
    atelier.db-wal. Now the erasure counts as a pending scrub
    (atelier_erasure_scrubs_pending) and the sweeper thread retries until the
    WAL is truncated. On PostgreSQL there is no WAL to scrub: the gauge stays 0.
14. In outbox mode every mail (address, username, links) stayed in
    DATA/outbox/ forever, also after erasure. Now the server warns at start,
    erasure removes the account's outbox files, and the sweeper deletes files
    older than RETAIN_OUTBOX_DAYS.
15. `atelier sweep` delivered one batch (32 mails) of what it queued. Now it
    delivers everything, or says how many remain and why.
"""

import os
import re
import sqlite3
import subprocess

from accounts_helpers import create_account, outbox
from conftest import BACKEND, server_env
from lifecycle_helpers import (
    days,
    dead_smtp,
    dead_smtp_args,
    now_utc,
    outbox_names,
    parse_report,
    sweep,
    sweep_args,
    wait_for,
)
import limits
from opendata_helpers import populate as populate_cli


_MISSING = object()


def scrubs_pending(srv, missing=_MISSING):
    """The gauge; `missing` when /metrics has none (assert when not given)."""
    r = srv.metrics()  # the metrics listener (--metrics-listen)
    assert r.status_code == 200, r.text[:200]
    m = re.search(r"^atelier_erasure_scrubs_pending (\d+)$", r.text, re.M)
    if not m and missing is not _MISSING:
        return missing
    assert m, "no atelier_erasure_scrubs_pending gauge in /metrics"
    return int(m.group(1))


def db_files_bytes(data_dir):
    """atelier.db and its WAL, as bytes."""
    return b"".join(open(os.path.join(data_dir, "atelier.db" + sfx), "rb").read()
                    for sfx in ("", "-wal") if os.path.exists(os.path.join(data_dir, "atelier.db" + sfx)))


def wal_bytes(data_dir):
    p = os.path.join(data_dir, "atelier.db-wal")
    if not os.path.exists(p):
        return b""
    with open(p, "rb") as f:
        return f.read()


def delete_account(srv, acc):
    r = srv.request("DELETE", "/v1/account", headers=acc.auth, json={"password": acc.password})
    assert r.status_code == 204, r.text


# ---- 13: the WAL after an erasure, with a reader holding a snapshot


def test_erasure_scrubs_the_wal_once_a_held_reader_lets_go(server_factory):
    srv = server_factory.start()
    mails = outbox(srv)
    acc = create_account(srv, mails, "walheld")
    other = create_account(srv, mails, "walstay")
    wait_for(lambda: scrubs_pending(srv, None) in (0, None), 30, "no scrub pending before the test")

    reader = None
    if BACKEND == "sqlite":
        # A backup tool: one read transaction holding a snapshot from before the erasure.
        reader = sqlite3.connect(os.path.join(srv.data_dir, "atelier.db"), timeout=10,
                                 isolation_level=None)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM accounts").fetchone()[0] >= 2
    try:
        delete_account(srv, acc)
        held = scrubs_pending(srv, None)
        if BACKEND == "sqlite":
            # the control: while the reader holds its snapshot, no checkpoint
            # can finish, so the erased row is still on disk (usernames are
            # sealed: the account id is what shows)
            assert acc.id.encode() in db_files_bytes(srv.data_dir), "the control: the id is not on disk"
        # The server is not stuck behind the reader: writes go on.
        r = srv.request("PATCH", "/v1/account", headers=other.auth, json={"bio": "still here"})
        assert r.status_code == 200, r.text
    finally:
        if reader is not None:
            reader.execute("COMMIT")
            reader.close()

    if BACKEND == "sqlite":
        # Retried without any new request or erasure.
        wait_for(lambda: acc.id.encode() not in db_files_bytes(srv.data_dir), 30,
                 "the erased account's id left the database file and the WAL")
        assert acc.username.encode() not in wal_bytes(srv.data_dir), "the erased username is in the WAL"
        assert acc.id.encode() not in wal_bytes(srv.data_dir), "the erased id is still in the WAL"
        # While the reader held the WAL, the erasure was counted as pending.
        assert held is not None and held >= 1, held
    else:
        assert held == 0, held  # PostgreSQL: no WAL of ours to scrub
    wait_for(lambda: scrubs_pending(srv) == 0, 30, "no scrub left pending")
    assert srv.get("/v1/account", headers=other.auth).status_code == 200


# ---- 14: the outbox


def test_outbox_mode_is_announced_at_start(server_factory):
    srv = server_factory.start()
    err = srv.stderr()
    assert "outbox" in err and "no --smtp" in err, err[-2000:]
    assert f"{limits.RETAIN_OUTBOX_DAYS} days" in err, err[-2000:]


def test_erasure_removes_the_accounts_outbox_files(server_factory):
    srv = server_factory.start()
    mails = outbox(srv)
    acc = create_account(srv, mails, "obgone")
    other = create_account(srv, mails, "obstay")
    # Mail owned by the account (a reset link) besides the signup confirmation.
    r = srv.post("/v1/password/forgot", json={"email": acc.email})
    assert r.status_code in (200, 202, 204), r.text
    mails.wait(acc.email, match="reset")
    mine = mails.to(acc.email)
    assert len(mine) >= 2, mine
    theirs = sorted(m.path for m in mails.to(other.email))
    assert theirs

    delete_account(srv, acc)

    assert mails.to(acc.email) == [], "the erased account's mail is still in the outbox"
    for m in mine:
        assert not os.path.exists(m.path), m.path
    assert sorted(m.path for m in mails.to(other.email)) == theirs
    # The names hold neither the address nor the account id.
    for name in outbox_names(srv.data_dir):
        assert other.email not in name and other.id not in name, name


def test_sweeper_prunes_outbox_files_after_the_retention(server_factory):
    srv = server_factory.start()
    mails = outbox(srv)
    acc = create_account(srv, mails, "obold")
    before = outbox_names(srv.data_dir)
    assert before
    keep = limits.RETAIN_OUTBOX_DAYS

    rep = sweep(srv, now=now_utc() + days(keep - 1))
    assert rep["outbox_deleted"] == 0, rep
    assert outbox_names(srv.data_dir) == before

    dry = sweep(srv, now=now_utc() + days(keep + 1), dry_run=True)
    assert dry["outbox_deleted"] == len(before), dry
    assert outbox_names(srv.data_dir) == before

    rep = sweep(srv, now=now_utc() + days(keep + 1))
    assert rep["outbox_deleted"] == len(before), rep
    assert outbox_names(srv.data_dir) == []
    # The account itself is untouched (365 days).
    assert srv.get("/v1/account", headers=acc.auth).status_code == 200


# ---- 15: atelier sweep delivers what it queued


NOTICE_AT = limits.RETAIN_INACTIVE_DAYS - limits.RETAIN_NOTICE_DAYS + 1
MANY = 75  # more than two delivery batches of 32


def test_sweep_delivers_every_notice_it_queued(server_factory):
    # The server's own mail goes nowhere: every delivery counted is the command's.
    srv = server_factory.start(extra_args=dead_smtp_args())
    populate_cli(srv, MANY, 7)
    rep = sweep(srv, now=now_utc() + days(NOTICE_AT))
    assert rep["notices"] == MANY, rep
    assert rep["mails_sent"] == MANY and rep["mails_failed"] == 0, rep
    assert rep["mails_remaining"] == 0, rep
    notices = [m for m in outbox(srv).all() if "will be erased" in m.subject]
    assert len(notices) == MANY


def test_sweep_says_how_many_remain_and_why(server_factory):
    srv = server_factory.start(extra_args=dead_smtp_args())
    populate_cli(srv, MANY, 8)
    args = sweep_args(srv, now=now_utc() + days(NOTICE_AT), smtp=dead_smtp())
    p = subprocess.run(args, capture_output=True, text=True, env=server_env(), timeout=300,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr[-2000:]
    rep = parse_report(p.stdout, args, p.stderr)
    assert rep["notices"] == MANY, rep
    assert rep["mails_sent"] == 0 and rep["mails_failed"] == MANY, rep
    assert rep["mails_remaining"] == MANY, rep
    assert f"{MANY} mails remain queued" in p.stderr, p.stderr[-2000:]
    assert "failed delivery" in p.stderr and "SMTP" in p.stderr, p.stderr[-2000:]

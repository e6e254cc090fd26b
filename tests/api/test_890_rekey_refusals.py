"""What `atelier rekey` refuses (issue 14), each time leaving the database,
the key file and the next key file as they were: a new key equal to the
current one; a new key file that is missing, unreadable, of the wrong size or
readable by others; no --new-key-file at all; a current key that is not the
database's; a second rotation to another key while one is in progress; a
second command while one runs."""

import os
import shutil
import signal
import subprocess
import time

import pytest

from accounts_helpers import create_account, outbox
from conftest import ATELIER_BIN, BACKEND, server_env
from rekey_helpers import Db, Key, key_id_of, new_key_file, run_rekey, sealed_values, start_rekey

KILLED = -signal.SIGKILL


@pytest.fixture
def world(server_factory, tmp_path, fresh_database):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    srv = server_factory.start(data_dir=str(data), database=fresh_database)
    acc = create_account(srv, outbox(srv), "rf")
    db = Db(srv.data_dir, srv.database_url)
    return {"srv": srv, "acc": acc, "db": db, "old": Key(os.path.join(srv.data_dir, "secret.key")),
            "tmp": tmp_path}


def state(world):
    """The key file, the next key file (or None), and the database's sealed
    values with the meta rows."""
    d = world["srv"].data_dir
    with open(os.path.join(d, "secret.key"), "rb") as f:
        key = f.read()
    nxt = os.path.join(d, "secret.key.next")
    nxt_bytes = open(nxt, "rb").read() if os.path.exists(nxt) else None
    return key, nxt_bytes, sealed_values(world["db"])


def refused(world, key_path, expect, *extra, status=1):
    before = state(world)
    r = run_rekey(world["srv"], key_path, *extra)
    assert r.returncode == status, (r.returncode, r.stdout, r.stderr[-2000:])
    assert expect in r.stderr, r.stderr[-2000:]
    assert r.stdout == ""
    assert state(world) == before, "a refused rekey changed something"
    return r


def test_refuses_bad_new_keys_and_changes_nothing(world):
    tmp, srv = world["tmp"], world["srv"]
    refused(world, os.path.join(srv.data_dir, "secret.key"), "is the current key")
    same = tmp / "same.key"
    same.write_bytes(world["old"].raw)
    os.chmod(same, 0o600)
    refused(world, same, "is the current key")
    refused(world, tmp / "absent.key", "does not exist")
    for name, size in (("short.key", 31), ("long.key", 33), ("empty.key", 0)):
        refused(world, new_key_file(tmp, name, size=size), "cannot be used")
    refused(world, new_key_file(tmp, "wide.key", mode=0o644), "cannot be used")
    d = tmp / "dir.key"
    d.mkdir()
    refused(world, d, "cannot be used")
    if os.geteuid() != 0:  # root reads a file whatever its mode
        refused(world, new_key_file(tmp, "unreadable.key", mode=0o000), "cannot be used")
    # no --new-key-file: a usage error
    r = run_rekey(srv, "")
    assert r.returncode == 2 and "--new-key-file is required" in r.stderr, r.stderr
    # the server still serves
    assert srv.get("/v1/account", headers=world["acc"].auth).status_code == 200


def test_refuses_a_current_key_that_is_not_the_databases(world):
    tmp = world["tmp"]
    other = new_key_file(tmp, "other.key")
    refused(world, new_key_file(tmp, "new.key"), "does not open this database's key check",
            "--key-file", other)


def test_refuses_another_rotation_while_one_is_in_progress(world):
    tmp, srv, db = world["tmp"], world["srv"], world["db"]
    a, b = new_key_file(tmp, "a.key"), new_key_file(tmp, "b.key")
    r = run_rekey(srv, a, crash="announce")
    assert r.returncode == KILLED, r.stderr[-2000:]
    assert key_id_of(db.meta("key_check_next")) == Key(a).id
    r = refused(world, b, "a rotation to key")
    assert f"{Key(a).id:08x}" in r.stderr
    # the rotation in progress finishes with its own key
    r = run_rekey(srv, a)
    assert r.returncode == 0, r.stderr[-2000:]
    assert db.meta("key_check_next") is None
    assert key_id_of(db.meta("key_check")) == Key(a).id


def test_one_rotation_at_a_time(world):
    tmp, srv = world["tmp"], world["srv"]
    a = new_key_file(tmp, "a.key")
    first = start_rekey(srv, a)
    try:
        deadline = time.monotonic() + 60
        line = ""
        while "announced" not in line and time.monotonic() < deadline:  # it is settling now
            line = first.stderr.readline()
            assert line or first.poll() is None, "the first command ended early"
        r = run_rekey(srv, a)
        assert r.returncode == 1 and "another atelier rekey" in r.stderr, r.stderr[-2000:]
        if BACKEND == "postgres":
            # another node (its own data directory, the same key): the
            # database's advisory lock
            node = tmp / "node2"
            node.mkdir(mode=0o700)
            shutil.copy2(os.path.join(srv.data_dir, "secret.key"), node / "secret.key")
            r = subprocess.run([ATELIER_BIN, "rekey", "--data", str(node), "--database",
                                srv.database_url, "--new-key-file", a], capture_output=True,
                               text=True, env=server_env(), timeout=60)
            assert r.returncode == 1 and "holds the database's lock" in r.stderr, r.stderr[-2000:]
        out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err[-2000:]
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()

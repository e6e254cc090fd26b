"""Key rotation (issue 14, SPEC section 5): `atelier rekey --new-key-file F`
reseals every sealed value under a new key, in batches, while a server keeps
serving; a crash at any point leaves a database that both keys serve, and the
next run finishes; afterwards the old key opens nothing, every value reads
back the same, the lookups are the new key's, and the old key is gone.

The sealed values are found from the schema (every *_sealed column, and the
key check rows of meta) and opened here in Python under each key
(rekey_helpers.Key: libsodium through ctypes), so a sealed column added later
is covered without touching this file, except for giving it a value in
make_world(): the coverage check below fails until it has one.

Recovery codes of two-factor login are hashes that rotation cannot
recompute (it never sees the codes): they are keyed by the account's TOTP
secret, which rotation reseals unchanged, so they must work before, during
and after a rotation (Mfa2: checked at every stage below)."""

import collections
import json
import os
import signal
import time

import pytest

import mfa_helpers
from accounts_helpers import assert_error, create_account, login, new_identity, outbox, signup
from apikeys_helpers import create_key
from lifecycle_helpers import dead_smtp_args, wait_for
from models_helpers import create_model, image_fixture, put_avatar
from saved_patterns_helpers import bust_body, flat_body, save_pattern
from rekey_helpers import (
    Db,
    Key,
    key_id_of,
    lookup_values,
    new_key_file,
    plaintexts,
    run_rekey,
    sealed_columns,
    sealed_values,
    start_rekey,
)

KILLED = -signal.SIGKILL


class World:
    """A server with accounts that use every sealed column, on a data dir
    and database of the test's own."""

    def __init__(self, factory, data_dir, database, accounts):
        self.factory = factory
        self.data_dir = str(data_dir)
        self.key_path = os.path.join(self.data_dir, "secret.key")
        self.next_path = self.key_path + ".next"
        os.makedirs(self.data_dir, mode=0o700, exist_ok=True)
        first = factory.start(data_dir=self.data_dir, database=database)
        self.database = first.database_url
        mails = outbox(first)
        self.accounts = [create_account(first, mails, f"rk{i}") for i in range(accounts)]
        for i, acc in enumerate(self.accounts):
            fill(first, acc, i)
        # an account with two-factor login on (account_mfa, and recovery
        # codes that must outlive the rotation); not among self.accounts,
        # whose views and password logins must not change
        self.mfa_acc = create_account(first, mails, "rkmfa")
        self.mfa = mfa_helpers.enable(first, self.mfa_acc)
        # a pending signup (signups)
        ident = new_identity("pend")
        assert signup(first, ident["email"], ident["username"], ident["password"]).status_code == 202
        mails.wait(ident["email"], match="confirm")
        assert first.stop() is None
        # From here on mail stays queued (mail_queue): the server's SMTP
        # relay does not answer.
        self.srv = self.start()
        acc = self.accounts[0]
        r = self.srv.post("/v1/account/email", headers=acc.auth,
                          json={"email": f"moved.{acc.username}@example.org",
                                "password": acc.password})
        assert r.status_code == 202, r.text  # tokens.payload, a queued mail
        r = self.srv.post("/v1/password/forgot", json={"email": self.accounts[-1].email})
        assert r.status_code == 202, r.text
        self.db = Db(self.data_dir, self.database)
        self.old = Key(self.key_path)
        self.recovery_hashes = self.code_hashes()
        self.codes_used = 0

    def code_hashes(self):
        return {bytes(r[0]) for r in self.db.query(
            f"SELECT code_hash FROM mfa_recovery_codes WHERE account_id = '{self.mfa_acc.id}'")}

    def assert_codes_work(self, srv, totp=False):
        """The 2FA account logs in with a recovery code (and, with totp, with
        a code of its authenticator); the used recovery code is refused."""
        code = self.mfa.recovery_code()
        r = mfa_helpers.login(srv, self.mfa_acc, code)
        assert r.status_code == 200, f"login with a recovery code: {r.status_code} {r.text[:200]}"
        self.codes_used += 1
        assert_error(mfa_helpers.login(srv, self.mfa_acc, code), 401, "invalid_credentials")
        if totp:
            r = mfa_helpers.login(srv, self.mfa_acc, self.mfa.next_code(srv))
            assert r.status_code == 200, f"login with a TOTP code: {r.status_code} {r.text[:200]}"
        assert_error(mfa_helpers.login(srv, self.mfa_acc), 401, "mfa_required")

    def start(self, extra=()):
        return self.factory.start(extra_args=dead_smtp_args() + list(extra),
                                  data_dir=self.data_dir, database=self.database)

    def key_file(self):
        with open(self.key_path, "rb") as f:
            return f.read()


def fill(srv, acc, i):
    """Bio, social, a picture, a model with notes and (every other one) an
    avatar, a saved pattern of it with notes, an API key."""
    r = srv.request("PATCH", "/v1/account", headers=acc.auth,
                    json={"bio": f"bio {i} \u2702", "social": {"github": f"gh{i}"}})
    assert r.status_code == 200, r.text
    r = srv.request("PUT", "/v1/account/picture",
                    headers={**acc.auth, "Content-Type": "image/jpeg"},
                    data=image_fixture("small.jpg"), timeout=60)
    assert r.status_code == 200, r.text
    breasts = i % 2 == 0
    m = create_model(srv, acc, f"model {i}", breasts, bust_body() if breasts else flat_body(),
                     f"notes {i}")
    if breasts:
        r = put_avatar(srv, acc.token, m["id"], image_fixture("photo.jpg"), "image/jpeg")
        assert r.status_code == 200, r.text
    save_pattern(srv, acc, m["id"], "bodice" if breasts else "body", f"pattern {i}",
                 notes=f"pattern notes {i}")
    create_key(srv, acc, "read" if breasts else "write", name=f"key {i} \u2702")


def view(srv, acc):
    """What the account reads back through the API: its export (account
    fields, picture, models with measurements and avatars, saved patterns,
    pending links, queued mail, and whatever is added later) without the
    parts a login changes."""
    r = srv.get("/v1/account/export", headers=acc.auth, timeout=60)
    assert r.status_code == 200, r.text[:300]
    d = r.json()
    a = d["account"]
    out = {"account": {k: a[k] for k in ("id", "email", "username", "bio", "social",
                                         "has_picture", "consent")}}
    out.update({k: v for k, v in d.items() if k not in ("account", "exported_at", "sessions")})
    return out


def assert_serves(srv, accounts, views):
    for acc in accounts:
        assert view(srv, acc) == views[acc.id], f"{acc.username} reads back differently"
        for name in (acc.email, acc.username):
            r = login(srv, name, acc.password)
            assert r.status_code == 200, f"login as {name}: {r.status_code} {r.text[:200]}"


def assert_all_under(world, new, expected):
    """Every sealed value is sealed under new, opens there to the expected
    plaintext, and does not open under the old key; the lookups are new's."""
    values = sealed_values(world.db)
    assert set(values) == set(expected), set(values) ^ set(expected)
    ids = collections.Counter(f"{key_id_of(b):08x}" for b in values.values())
    assert ids == {f"{new.id:08x}": len(values)}, ids
    got = plaintexts(world.db, new, values)
    assert got == expected
    opened = [(label, row) for (label, row), box in values.items()
              if world.old.open(label, row, box) is not None]
    assert opened == [], f"values that still open under the old key: {opened[:10]}"
    lookups = lookup_values(world.db)
    assert lookups, "no lookup column found"
    for table, col, domain, row, value, label in lookups:
        pt = got[(label, row)]
        assert value == new.lookup(domain, pt), f"{table}.{col} of {row} is not the new key's"
        assert value != world.old.lookup(domain, pt)


def outbox_files(data_dir):
    d = os.path.join(str(data_dir), "outbox")
    return sorted(n for n in os.listdir(d) if not n.startswith(".")) if os.path.isdir(d) else []


def test_rotation_while_serving(server_factory, tmp_path, fresh_database):
    world = World(server_factory, tmp_path / "data", fresh_database, accounts=4)
    srv, db, old = world.srv, world.db, world.old
    accounts = world.accounts

    # Control: every sealed column of the schema holds values here, so the
    # checks below cover it.
    before_values = sealed_values(db)
    empty = {label for (_, _, _, label) in sealed_columns(db)} - {l for (l, _) in before_values}
    assert not empty, (f"no value in {sorted(empty)}: give them one in make_world() so that "
                       "their rotation is proven")
    expected = plaintexts(db, old, before_values)
    views = {a.id: view(srv, a) for a in accounts}
    erased = accounts[2]
    # the confirmation mail of the account to erase, tagged under the old key
    tag = old.lookup("outbox.address", erased.email.encode())[:8].hex()
    mine = [n for n in outbox_files(world.data_dir) if tag in n]
    assert mine, "the account's confirmation mail is not in the outbox"

    new_path = new_key_file(tmp_path)
    new = Key(new_path)
    assert new.id != old.id

    # 1. Cut after one batch of two values.
    r = run_rekey(srv, new_path, "--batch", "2", crash="batch:1")
    assert r.returncode == KILLED, (r.returncode, r.stderr[-2000:])
    mid = sealed_values(db)
    ids = collections.Counter(key_id_of(b) for b in mid.values())
    assert ids[new.id] == 3 and ids[old.id] == len(mid) - 3, ids  # 2 values + key_check_next
    assert world.key_file() == old.raw
    with open(world.next_path, "rb") as f:
        assert f.read() == new.raw
    assert os.stat(world.next_path).st_mode & 0o777 == 0o600

    # 2. The server started before the rotation serves both keys, and seals
    # new values under the new key.
    wait_for(lambda: f"key rotation to {new.id:08x}: sealing under it now" in srv.stderr(), 10,
             "the running server to adopt the new key")
    assert_serves(srv, accounts, views)
    world.assert_codes_work(srv)
    acc = accounts[0]
    r = srv.request("PATCH", "/v1/account", headers=acc.auth, json={"bio": "written mid-rotation"})
    assert r.status_code == 200, r.text
    box = db.query(f"SELECT bio_sealed FROM accounts WHERE id = '{acc.id}'")[0][0]
    assert key_id_of(bytes(box)) == new.id
    expected[("accounts.bio", acc.id)] = b"written mid-rotation"
    views[acc.id] = view(srv, acc)
    # A username is unique across both keys: another account's, whose lookup
    # is still the old key's, is taken.
    other = accounts[1]
    ubox = db.query(f"SELECT username_sealed FROM accounts WHERE id = '{other.id}'")[0][0]
    assert key_id_of(bytes(ubox)) == old.id
    r = srv.request("PATCH", "/v1/account", headers=acc.auth, json={"username": other.username})
    assert r.status_code == 409, r.text

    # 3. A server started now, mid-rotation, loads the next key.
    srv2 = world.start()
    assert "key rotation to" in srv2.stderr()
    assert_serves(srv2, accounts, views)
    world.assert_codes_work(srv2)
    assert srv2.stop() is None

    # 4. The next run finishes.
    r = run_rekey(srv, new_path, "--batch", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout)
    assert report["key_id"] == f"{new.id:08x}" and report["old_key_id"] == f"{old.id:08x}", report
    assert report["resealed"] >= len(before_values) - 1 - 3, report  # the key check moves apart

    # 5. Every value is the new key's, reads the same, none opens under the
    # old key; the key check moved; the key file is the new key.
    assert db.meta("key_check_next") is None
    assert_all_under(world, new, expected)
    assert world.key_file() == new.raw
    assert not os.path.exists(world.next_path)
    assert os.stat(world.key_path).st_mode & 0o777 == 0o600

    # 6. The server that ran all along goes on, and forgets the old key.
    wait_for(lambda: f"key rotation to {new.id:08x} finished" in srv.stderr(), 10,
             "the running server to forget the old key")
    assert_serves(srv, accounts, views)
    world.assert_codes_work(srv)

    # 7. A restart uses the new key; the old key is refused. The recovery
    # codes left are the very rows made before the rotation (it cannot
    # recompute them), and they work, as does the resealed secret.
    srv3 = world.start()
    assert_serves(srv3, accounts, views)
    world.assert_codes_work(srv3, totp=True)
    left = world.code_hashes()
    assert left < world.recovery_hashes and len(left) == len(world.recovery_hashes) - world.codes_used
    old_copy = tmp_path / "old.key"
    old_copy.write_bytes(old.raw)
    os.chmod(old_copy, 0o600)
    rc, out = server_factory.start_expect_exit(
        extra_args=["--key-file", str(old_copy)], data_dir=world.data_dir, database=world.database)
    assert rc != 0 and "not the key this database was sealed with" in out, out[-2000:]

    # 8. Erasure still finds the account's outbox files tagged under the old key.
    r = srv3.request("DELETE", "/v1/account", headers=erased.auth, json={"password": erased.password})
    assert r.status_code == 204, r.text
    left = [n for n in outbox_files(world.data_dir) if n.split("-")[-1] in
            {m.split("-")[-1] for m in mine}]
    assert left == [], f"outbox files of the erased account remain: {left}"


@pytest.mark.parametrize("point", ["announce", "batch:1", "kill", "final"])
def test_a_crash_anywhere_leaves_a_database_both_keys_serve(server_factory, tmp_path,
                                                            fresh_database, point):
    world = World(server_factory, tmp_path / "data", fresh_database, accounts=2)
    srv, db, old = world.srv, world.db, world.old
    expected = plaintexts(db, old)
    views = {a.id: view(srv, a) for a in world.accounts}
    new_path = new_key_file(tmp_path)
    new = Key(new_path)

    if point == "kill":
        # kill -9 from outside, once the command says it announced
        p = start_rekey(srv, new_path, "--batch", "1")
        deadline = time.monotonic() + 60
        line = ""
        while "announced" not in line and time.monotonic() < deadline:
            line = p.stderr.readline()
            assert line or p.poll() is None, "the command ended before announcing"
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
        p.stdout.close()
        p.stderr.close()
        assert p.returncode == KILLED
    else:
        r = run_rekey(srv, new_path, "--batch", "1", crash=point)
        assert r.returncode == KILLED, (r.returncode, r.stderr[-2000:])

    # the running server serves, and so does one started now
    assert_serves(srv, world.accounts, views)
    assert srv.stop() is None
    if point == "final":
        # The database is the new key's, the key file still the old one: a
        # server refuses and says how to finish.
        rc, out = server_factory.start_expect_exit(data_dir=world.data_dir, database=world.database,
                                                   extra_args=dead_smtp_args())
        assert rc != 0 and "atelier rekey --new-key-file" in out, out[-2000:]
    else:
        srv = world.start()
        assert_serves(srv, world.accounts, views)
        assert srv.stop() is None

    r = run_rekey(srv, new_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert_all_under(world, new, expected)
    assert world.key_file() == new.raw and not os.path.exists(world.next_path)
    srv = world.start()
    assert_serves(srv, world.accounts, views)
    world.assert_codes_work(srv)


def test_rotation_with_atelier_key(server_factory, tmp_path, fresh_database):
    """The key given as ATELIER_KEY: the command rotates the database and,
    since it cannot change the variable, leaves the new key in the next key
    file and says what to do; the old value of the variable is refused from
    then on, the new one serves."""
    old_raw = os.urandom(32)
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    srv = server_factory.start(data_dir=str(data), database=fresh_database,
                               env={"ATELIER_KEY": old_raw.hex()})
    acc = create_account(srv, outbox(srv), "hx")
    views = {acc.id: view(srv, acc)}
    db = Db(srv.data_dir, srv.database_url)
    new_path = new_key_file(tmp_path)
    new = Key(new_path)
    r = run_rekey(srv, new_path, env={"ATELIER_KEY": old_raw.hex()})
    assert r.returncode == 0, r.stderr[-3000:]
    assert "set ATELIER_KEY to the new key" in r.stderr, r.stderr[-2000:]
    next_path = data / "secret.key.next"
    assert next_path.read_bytes() == new.raw and not (data / "secret.key").exists()
    values = sealed_values(db)
    assert {key_id_of(b) for b in values.values()} == {new.id}
    assert all(Key(raw=old_raw).open(l, row, b) is None for (l, row), b in values.items())
    wait_for(lambda: f"key rotation to {new.id:08x} finished" in srv.stderr(), 10,
             "the running server to forget the old key")
    assert_serves(srv, [acc], views)
    assert srv.stop() is None
    rc, out = server_factory.start_expect_exit(data_dir=str(data), database=srv.database_url,
                                               env={"ATELIER_KEY": old_raw.hex()})
    assert rc != 0 and str(next_path) in out, out[-2000:]
    srv = server_factory.start(data_dir=str(data), database=srv.database_url,
                               env={"ATELIER_KEY": new.raw.hex()})
    assert_serves(srv, [acc], views)

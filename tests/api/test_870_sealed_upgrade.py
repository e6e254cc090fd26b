"""Issue 12: accounts.username, signups.username and models.breasts are
sealed at rest, with a keyed lookup for usernames (login, uniqueness), and a
database written by the previous version is converted when the new binary
starts: every clear value sealed in C (cli/upgrade.c) inside the migration,
then the clear columns dropped. Run on SQLite and on PostgreSQL.

The upgrade test needs a binary of the previous schema: ATELIER_OLD_BIN
(scripts/test.sh builds it from the commit before issue 12)."""

import os

import pytest

import conftest
from accounts_helpers import (Account, assert_error, confirm, create_account, get_account, hex_forms, login,
                              login_token, outbox, pg_dump_bytes, signup, sqlite_files_bytes,
                              strong_password, uniq)
from models_helpers import create_model, get_model
from opendata_helpers import assert_no_release, run_cli
from sealed_helpers import raw_row, unsealed

OLD_BIN = os.path.abspath(os.environ.get("ATELIER_OLD_BIN") or "/nonexistent/atelier-old")
MODEL_CLEAR_OK = {"id", "account_id", "created_at", "updated_at"}


def _raw_bytes(srv, backend):
    if backend == "postgres":
        return pg_dump_bytes(srv.database_url)
    return sqlite_files_bytes(srv.data_dir)


def _readable(blob, needle, backend):
    forms = hex_forms(needle) if backend == "postgres" else [needle]
    return any(f in blob for f in forms)


def _old_account(old, mails, ident):
    """An account made through the previous binary, whose confirmation takes
    the token alone."""
    assert signup(old, **ident).status_code == 202
    r = confirm(old, mails.wait(ident["email"], match="confirm").token)
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    return Account(ident["email"], ident["username"].lower(), ident["password"], body["token"], body["account"])


def _old_database(server_factory, data_dir, database, monkeypatch):
    """Accounts, models and a pending signup written by the previous binary."""
    monkeypatch.setattr(conftest, "ATELIER_BIN", OLD_BIN)
    # The old binary may not know --metrics-listen; leave conftest's cached
    # answer about the binary under test alone.
    monkeypatch.setattr(conftest, "_has_metrics_listen", lambda: False)
    old = server_factory.start(data_dir=str(data_dir), database=database)
    mails = outbox(old)
    tag = uniq(6)
    accs = [_old_account(old, mails, {"email": f"upg{i}.{tag}@example.org", "username": f"Upg{i}_{tag}",
                                      "password": strong_password()})
            for i in range(3)]
    models = [(accs[0], create_model(old, accs[0], "A", True, {"chest": 900, "neck": 340}), True),
              (accs[0], create_model(old, accs[0], "B", False, {"chest": 1000, "neck": 380}), False),
              (accs[1], create_model(old, accs[1], "C", False, {"chest": 1010, "neck": 385}), False)]
    pending = {"email": f"pending.{tag}@example.org", "username": f"pending_{tag}",
               "password": strong_password()}
    assert signup(old, **pending).status_code == 202
    pending["token"] = mails.wait(pending["email"], match="confirm").token
    return old, accs, models, pending, tag


def test_upgrade_from_previous_version_seals_everything(fresh_database, server_factory, tmp_path,
                                                        backend, monkeypatch):
    if not os.access(OLD_BIN, os.X_OK):
        pytest.skip(f"environment: no binary of the previous schema at ATELIER_OLD_BIN={OLD_BIN}")
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    old, accs, models, pending, tag = _old_database(server_factory, data_dir, fresh_database, monkeypatch)
    assert old.stop() is None
    before = _raw_bytes(old, backend)
    # Control: the old binary stored the usernames in clear.
    assert _readable(before, accs[0].username.encode(), backend), "the check reads nothing"

    monkeypatch.undo()
    srv = server_factory.start(data_dir=str(data_dir), database=fresh_database)
    mails = outbox(srv)

    # Login by username (any case) and the account JSON still work.
    for a in accs:
        token = login_token(srv, a.username.upper(), a.password)
        assert get_account(srv, token)["username"] == a.username
    # The breasts flag of every model came through.
    for owner, m, breasts in models:
        assert get_model(srv, owner, m["id"])["breasts"] is breasts
    # The export shows both.
    r = srv.get("/v1/account/export", headers=accs[0].auth)
    assert r.status_code == 200, r.text[:300]
    assert accs[0].username in r.text and '"breasts":false' in r.text.replace(" ", "")
    # The pending signup confirms, with its username.
    r = confirm(srv, pending["token"], pending["password"])
    assert r.status_code == 200, r.text[:300]
    assert r.json()["account"]["username"] == pending["username"]
    assert login(srv, pending["username"], pending["password"]).status_code == 200
    # Usernames stay unique through the lookup.
    r = srv.request("PATCH", "/v1/account", headers=accs[1].auth, json={"username": accs[0].username.upper()})
    assert_error(r, 409, "username_taken")
    other = f"other.{tag}@example.org"
    assert signup(srv, other, accs[2].username, strong_password()).status_code == 202
    mails.wait(other, match="another username")

    # Nothing readable is left.
    for owner, m, _ in models:
        row = raw_row(srv, backend, "models", "id", m["id"])
        assert "breasts" not in row and unsealed(row, MODEL_CLEAR_OK) == {}, row
    assert srv.stop() is None
    after = _raw_bytes(srv, backend)
    assert _readable(after, accs[0].id.encode(), backend), "the check reads nothing"
    for name in [a.username for a in accs] + [pending["username"]]:
        assert not _readable(after, name.encode(), backend), f"the username {name} is readable after the upgrade"

    # A second start has nothing left to convert and serves the same data.
    srv = server_factory.start(data_dir=str(data_dir), database=fresh_database)
    assert login(srv, accs[2].username, accs[2].password).status_code == 200


def test_new_usernames_are_sealed_and_unique(fresh_database, server_factory, tmp_path, backend):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    srv = server_factory.start(data_dir=str(data_dir), database=fresh_database)
    mails = outbox(srv)
    tag = uniq(6)
    a = create_account(srv, mails, identity={"email": f"a.{tag}@example.org", "username": f"First_{tag}",
                                              "password": strong_password()})
    b = create_account(srv, mails, "seal")
    # Renamed: the old name is free again, the new one taken, both by lookup.
    r = srv.request("PATCH", "/v1/account", headers=a.auth, json={"username": f"Renamed_{tag}"})
    assert r.status_code == 200 and r.json()["username"] == f"renamed_{tag}", r.text
    assert login(srv, f"RENAMED_{tag}", a.password).status_code == 200
    assert login(srv, f"first_{tag}", a.password).status_code == 401
    r = srv.request("PATCH", "/v1/account", headers=b.auth, json={"username": f"renamed_{tag}"})
    assert_error(r, 409, "username_taken")
    r = srv.request("PATCH", "/v1/account", headers=b.auth, json={"username": f"first_{tag}"})
    assert r.status_code == 200, r.text
    pend = f"pend_{tag}"
    assert signup(srv, f"p.{tag}@example.org", pend, strong_password()).status_code == 202
    mails.wait(f"p.{tag}@example.org", match="confirm")
    blob = _raw_bytes(srv, backend)
    assert _readable(blob, a.id.encode(), backend), "the check reads nothing"
    for name in (f"renamed_{tag}", f"first_{tag}", b.username, pend):
        assert not _readable(blob, name.encode(), backend), f"{name} is readable at rest"
    if backend == "sqlite":
        assert srv.stop() is None
        blob = sqlite_files_bytes(str(data_dir))
        for name in (f"renamed_{tag}", f"first_{tag}", b.username, pend):
            assert name.encode() not in blob, f"{name} is readable in atelier.db after shutdown"


def test_upgrade_under_the_wrong_key_changes_nothing(fresh_database, server_factory, tmp_path, backend,
                                                      monkeypatch):
    """The conversion proves the key first: sealed under another key, the
    usernames would never open again. Refused, the database stays as the
    previous version left it, and a start with the right key converts it."""
    if not os.access(OLD_BIN, os.X_OK):
        pytest.skip(f"environment: no binary of the previous schema at ATELIER_OLD_BIN={OLD_BIN}")
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    old, accs, models, pending, tag = _old_database(server_factory, data_dir, fresh_database, monkeypatch)
    assert old.stop() is None
    monkeypatch.undo()
    with open(os.path.join(str(data_dir), "secret.key"), "rb") as f:
        key = f.read()
    other = bytes(b ^ 0xFF for b in key)
    rc, out = server_factory.start_expect_exit(env={"ATELIER_KEY": other.hex()}, data_dir=str(data_dir),
                                               database=fresh_database)
    assert rc != 0, out
    # Nothing was converted: the clear column is still there, with the name.
    assert _readable(_raw_bytes(old, backend), accs[0].username.encode(), backend)
    srv = server_factory.start(data_dir=str(data_dir), database=fresh_database)
    assert login(srv, accs[0].username, accs[0].password).status_code == 200
    assert get_model(srv, models[0][0], models[0][1]["id"])["breasts"] is True


def test_upgrade_withdraws_the_mdav_release(fresh_database, server_factory, tmp_path, backend,
                                            monkeypatch):
    """Issue 13: the microaggregated release the previous version published
    was shown attackable; migration 9 removes it, so the new binary serves
    no release until its first differentially private build."""
    if not os.access(OLD_BIN, os.X_OK):
        pytest.skip(f"environment: no binary of the previous schema at ATELIER_OLD_BIN={OLD_BIN}")
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    monkeypatch.setattr(conftest, "ATELIER_BIN", OLD_BIN)
    monkeypatch.setattr(conftest, "_has_metrics_listen", lambda: False)
    old = server_factory.start(data_dir=str(data_dir), database=fresh_database)
    target = ["--data", old.data_dir] + (["--database", old.database_url] if old.database_url else [])
    for args in (["populate", "--models", "2000", "--seed", "7"],
                 ["opendata", "build", "--min-stratum", "200"]):
        p = run_cli([OLD_BIN, *args, *target])
        assert p.returncode == 0, f"{args}: {p.returncode}\n{p.stdout}\n{p.stderr[-2000:]}"
    r = old.get("/v1/opendata")
    assert r.status_code == 200 and r.json()["k"] == 5, r.text[:300]  # control: an MDAV release
    assert old.stop() is None
    monkeypatch.undo()
    new = server_factory.start(data_dir=str(data_dir), database=fresh_database)
    assert_no_release(new)

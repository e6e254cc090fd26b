"""Erasure (SPEC section 1, issue 5): DELETE /v1/account {password}, and the
sweeper's erasure of an inactive account, are immediate and complete: no row
of any table references the account (its id, its sealed username, its models'
ids, its sessions' ids), queued mails and pending links go with it, and on
SQLite the bytes of atelier.db and its WAL no longer hold them. Other
accounts are untouched.

Mails are kept queued by a server whose --smtp points where nothing
listens (--smtp-tls off)."""

import pytest

from accounts_helpers import (
    ClockedStore,
    assert_error,
    assert_invalid_field,
    assert_unauthenticated,
    bearer,
    confirm,
    create_account,
    login,
    signup,
)
from lifecycle_helpers import (
    ACCOUNT_TABLES,
    DAY_S,
    Store,
    account_rows,
    assert_no_row_references,
    assert_not_stored,
    assert_stored,
    dead_smtp_args,
    outbox_names,
    populate,
    queue_links,
    sweep,
)


@pytest.fixture
def store(fresh_database, server_factory, tmp_path):
    return ClockedStore(server_factory, str(tmp_path / "data"), fresh_database)


def needles_of(st, rich):
    """Everything that identifies the account in storage."""
    rows = account_rows(st, rich.acc.id)
    n = {"the account id": rich.acc.id}  # the username is sealed (issue 12): never readable
    for i, mid in enumerate(rich.model_ids):
        n[f"model id {i}"] = mid
    for i, pid in enumerate(rich.pattern_ids):
        n[f"saved pattern id {i}"] = pid
    for i, s in enumerate(rows["sessions"]):
        n[f"session id {i}"] = s["id"]
    for i, m in enumerate(rows["mail_queue"]):
        n[f"queued mail id {i}"] = m["id"]
    for i, k in enumerate(rows["api_keys"]):
        n[f"API key id {i}"] = k["id"]
    return n


def assert_everything_there(st, rich, with_links=True):
    """The control: before erasure, the account has rows in every table the
    completeness check looks at, and its identifiers are in the storage."""
    rows = account_rows(st, rich.acc.id)
    for table, found in rows.items():
        if table in ("tokens", "mail_queue") and not with_links:
            continue
        assert found, f"the account has no row in {table} before erasure"
    assert len(rows["models"]) == 2 and len(rows["model_avatars"]) == 2
    assert len(rows["patterns"]) == 2
    assert len(rows["sessions"]) == 2 and len(rows["account_pictures"]) == 1
    assert len(rows["api_keys"]) == 1
    if with_links:
        assert {r["kind"] for r in rows["tokens"]} == {"email", "reset"}, rows["tokens"]
        assert len(rows["mail_queue"]) >= 3, rows["mail_queue"]
    needles = needles_of(st, rich)
    assert_stored(st, needles)
    return needles


def table_counts(st, account_id):
    return {t: len(r) for t, r in account_rows(st, account_id).items()}


def assert_gone(st, srv, rich, needles):
    acc = rich.acc
    assert {t: len(r) for t, r in account_rows(st, acc.id).items() if r} == {}
    assert_no_row_references(st, needles)
    assert_not_stored(st, needles)
    assert_unauthenticated(srv.get("/v1/models", headers=bearer(rich.api_key)))
    for tok in rich.tokens:
        assert_unauthenticated(srv.get("/v1/account", headers=bearer(tok)))
        assert_unauthenticated(srv.get("/v1/account/picture", headers=bearer(tok)))
        assert_unauthenticated(srv.get("/v1/models", headers=bearer(tok)))
        assert_unauthenticated(srv.get("/v1/patterns", headers=bearer(tok)))
    assert_error(login(srv, acc.username, acc.password), 401, "invalid_credentials")
    assert_error(login(srv, acc.email, acc.password), 401, "invalid_credentials")


def test_every_table_with_account_data_is_checked(server_factory):
    """Every table of the schema that names an account or a model (a column
    account_id or model_id) is in ACCOUNT_TABLES, and account_rows reads
    each of them: a table added without them escapes the completeness
    checks of erasure and export, and fails here."""
    st = Store(server_factory.start())
    owning = {t for t in st.tables() if not t.startswith("sqlite_")
              and {"account_id", "model_id"} & set(st.columns(t))}
    assert "models" in owning and "patterns" in owning, "control: the schema is read"
    assert owning <= set(ACCOUNT_TABLES), f"tables with account data missing from ACCOUNT_TABLES: {owning - set(ACCOUNT_TABLES)}"
    assert set(account_rows(st, "no-such-account")) == set(ACCOUNT_TABLES)


def test_delete_needs_the_password(server_factory):
    srv = server_factory.start()
    from accounts_helpers import outbox

    acc = create_account(srv, outbox(srv), "keep")
    st = Store(srv)
    assert_unauthenticated(srv.request("DELETE", "/v1/account", json={"password": acc.password}))
    r = srv.request("DELETE", "/v1/account", headers=acc.auth, json={"password": acc.password + "x"})
    assert_error(r, 403, "wrong_password")
    r = srv.request("DELETE", "/v1/account", headers=acc.auth, json={})
    assert r.status_code in (400, 422), r.text
    r = srv.request("DELETE", "/v1/account", headers=acc.auth)  # no body: says what is missing
    assert_invalid_field(r, "password")
    assert len(st.where("accounts", "id", acc.id)) == 1
    assert srv.get("/v1/account", headers=acc.auth).status_code == 200


def test_delete_erase_accounts_everything_at_once(store):
    srv = store.start()
    mails = store.mails
    rich = populate(srv, create_account(srv, mails, "erase"), "erase")
    other = populate(srv, create_account(srv, mails, "stay"), "stay")
    srv = store.start(extra_args=dead_smtp_args())  # mail stays queued from here on
    queue_links(srv, rich, "erase")
    queue_links(srv, other, "stay")
    st = Store(store)
    needles = assert_everything_there(st, rich)
    needles["the pending new address"] = rich.pending_email  # sealed anyway: never readable
    other_before = table_counts(st, other.acc.id)
    other_export = srv.get("/v1/account/export", headers=bearer(other.tokens[0])).json()
    queued_before = len(st.rows("mail_queue"))
    mine = len(account_rows(st, rich.acc.id)["mail_queue"])

    r = srv.request("DELETE", "/v1/account", headers=bearer(rich.tokens[1]),
                    json={"password": rich.acc.password})
    assert r.status_code == 204, r.text
    assert r.content == b""

    assert_gone(st, srv, rich, needles)
    assert len(st.rows("mail_queue")) == queued_before - mine, "queued mails of others went too"

    # The other account is untouched.
    assert table_counts(st, other.acc.id) == other_before
    doc = srv.get("/v1/account/export", headers=bearer(other.tokens[0])).json()
    for d in (doc, other_export):
        d.pop("exported_at")
    assert doc == other_export

    # The address is free again: signing up with it is a new account.
    srv = store.start()
    acc = rich.acc
    r = signup(srv, acc.email, acc.username, acc.password)
    assert r.status_code == 202, r.text
    mail = mails.wait(acc.email, match="Confirm your atelier account")
    r = confirm(srv, mail.token, acc.password)
    assert r.status_code == 200, r.text
    again = r.json()["account"]
    assert again["id"] != acc.id and again["username"] == acc.username
    assert again["has_picture"] is False and again["bio"] is None and again["social"] == {}
    r = srv.get("/v1/models", headers=bearer(r.json()["token"]))
    assert r.status_code == 200 and r.json()["models"] == [], r.text


def test_sweeper_erasure_is_just_as_complete(store):
    # A bystander of today, and an account last seen 400 days ago.
    srv = store.start()
    mails = store.mails
    other = populate(srv, create_account(srv, mails, "today"), "today")
    srv = store.start(offset=-400 * DAY_S)
    rich = populate(srv, create_account(srv, mails, "idle"), "idle")
    srv = store.start(offset=-400 * DAY_S, extra_args=dead_smtp_args())
    queue_links(srv, rich, "idle")
    # A server 1000 days behind, its mail going nowhere: its own sweeps have
    # nothing to do, so the erasure is the CLI's.
    srv = store.start(offset=-1000 * DAY_S, extra_args=dead_smtp_args())
    st = Store(store)
    needles = assert_everything_there(st, rich)
    other_before = table_counts(st, other.acc.id)
    outbox_before = outbox_names(store.data_dir)

    dry = sweep(store, dry_run=True)
    assert dry["accounts_erased"] == 1, dry
    assert account_rows(st, rich.acc.id)["accounts"], "a dry run erased the account"

    rep = sweep(store)  # as of now; delivers due mail into the outbox itself
    assert rep["accounts_erased"] == 1, rep
    # Its queued mails were erased with it, not delivered.
    assert rep["mails_sent"] == 0, rep
    # Nothing new in the outbox (old files may have gone: RETAIN_OUTBOX_DAYS)...
    assert set(outbox_names(store.data_dir)) <= set(outbox_before)
    # ... and none of the erased account's files is left.
    assert mails.to(rich.acc.email) == []
    assert mails.untaken(rich.pending_email) == []

    assert_gone(st, srv, rich, needles)
    assert table_counts(st, other.acc.id) == other_before
    assert srv.get("/v1/account", headers=bearer(other.tokens[0])).status_code == 200

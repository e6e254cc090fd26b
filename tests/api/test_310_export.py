"""Access and portability (SPEC section 1, issue 5): GET /v1/account/export
returns everything stored about the account, as one JSON document (schema in
docs/EXPORT.md), compared here with the database itself; no secret leaks;
the open-data consent shows in the account and in the export.

The rich account's mails are queued while the server's --smtp points at a
port where nothing listens, so the mail queue stays still while it is
compared with the export."""

import base64

import pytest

import limits
from accounts_helpers import (
    ACCOUNT_KEYS,
    ClockedStore,
    assert_unauthenticated,
    bearer,
    create_account,
    get_account,
    parse_time,
)
from lifecycle_helpers import (
    ACCESS_LOG_DAYS,
    INACTIVE_DAYS,
    NOTICE_DAYS,
    Store,
    account_rows,
    days,
    dead_smtp_args,
    now_utc,
    populate,
    queue_links,
)
from models_helpers import get_avatar, get_model, model_path
from saved_patterns_helpers import get_pattern

EXPORT_KEYS = {"schema", "exported_at", "account", "picture", "sessions", "links", "note",
               "mails_queued", "models", "open_data_budget", "patterns", "api_keys", "two_factor"}
API_KEY_KEYS = {"id", "name", "scope", "created_at", "expires_at", "last_used_at"}
EXPORT_ACCOUNT_KEYS = ACCOUNT_KEYS | {"updated_at", "retention", "notice_sent_at"}
RETENTION_KEYS = {"last_login_at", "notice_on", "erased_on", "access_log_days", "rule"}


@pytest.fixture(scope="module")
def world(module_database, module_server_factory, tmp_path_factory):
    store = ClockedStore(module_server_factory, str(tmp_path_factory.mktemp("export") / "data"),
                         module_database)
    srv = store.start()
    mails = store.mails
    rich = populate(srv, create_account(srv, mails, "exp"), "exp")
    other = populate(srv, create_account(srv, mails, "oth"), "oth")
    bare = create_account(srv, mails, "bare")
    # From here on mail stays queued.
    srv = store.start(extra_args=dead_smtp_args())
    queue_links(srv, rich, "exp")
    queue_links(srv, other, "oth")
    return {"store": store, "srv": srv, "rich": rich, "other": other, "bare": bare}


def export(srv, token):
    r = srv.get("/v1/account/export", headers=bearer(token))
    assert r.status_code == 200, r.text[:300]
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    return r


def t(s):
    """An export time as Unix seconds."""
    return int(parse_time(s).timestamp())


def t_ms(s):
    return int(round(parse_time(s).timestamp() * 1000))


def b64(s):
    return base64.b64decode(s, validate=True)


def test_export_matches_the_database(world):
    srv, rich = world["srv"], world["rich"]
    acc = rich.acc
    r = export(srv, acc.token)
    cd = r.headers.get("Content-Disposition", "")
    assert cd.startswith("attachment") and "atelier-export.json" in cd, cd
    doc = r.json()
    assert set(doc) == EXPORT_KEYS, sorted(doc)
    assert doc["schema"] == "atelier-export/1"
    assert abs((parse_time(doc["exported_at"]) - now_utc()).total_seconds()) < 60, doc["exported_at"]
    assert isinstance(doc["note"], str) and str(ACCESS_LOG_DAYS) in doc["note"]

    db = account_rows(Store(world["store"]), acc.id)
    # Control: the account really has something in every table.
    for table, rows in db.items():
        assert rows, f"the test account has no row in {table}"

    # The open data ledger: the builds of populate() (one per populated
    # account of this world, each charging every opted-in account) spent
    # 0.25 each.
    b = doc["open_data_budget"]
    assert set(b) == {"rho_spent", "rho_cap", "rule"}, b
    assert b["rho_spent"] == int(db["dp_ledger"][0]["spent_milli"]) / 1000, (b, db["dp_ledger"])
    assert b["rho_spent"] in (0.25, 0.5), b
    assert b["rho_cap"] == 1.0

    # Two-factor login (populate turned it on; queue_links spent a recovery
    # code): its state and times, never the secret or the codes.
    tf = doc["two_factor"]
    mfa_row, codes = db["account_mfa"][0], db["mfa_recovery_codes"]
    assert tf["enabled"] is True and tf["setup_started_at"] is None, tf
    assert t(tf["enabled_at"]) == int(mfa_row["enabled_at"])
    assert t(tf["last_code_at"]) == int(mfa_row["last_step"]) * limits.LIMIT_MFA_STEP_S
    assert tf["recovery_codes_left"] == len(codes) == limits.LIMIT_MFA_RECOVERY_CODES - 1, tf

    # The account, as GET /v1/account shows it, plus the times.
    a = doc["account"]
    assert set(a) == EXPORT_ACCOUNT_KEYS, sorted(a)
    assert {k: a[k] for k in ACCOUNT_KEYS} == get_account(srv, acc.token)
    row = db["accounts"][0]
    assert a["id"] == acc.id and a["username"] == acc.username  # the stored username is sealed
    assert a["email"] == acc.email
    assert a["bio"] == "bio of exp" and a["social"].get("github") == "gh_exp", a
    assert a["consent"] == {"open_data": bool(int(row["consent_open_data"]))} == {"open_data": True}
    assert t(a["created_at"]) == int(row["created_at"])
    assert t(a["updated_at"]) == int(row["updated_at"])
    assert t(a["last_login_at"]) == int(row["last_login_at"])
    assert a["notice_sent_at"] is None and row["notice_sent_at"] is None

    # Retention: erased 365 days after the last login, mailed 30 days before.
    ret = a["retention"]
    assert set(ret) == RETENTION_KEYS, sorted(ret)
    last = parse_time(a["last_login_at"])
    assert parse_time(ret["last_login_at"]) == last
    assert parse_time(ret["erased_on"]) == last + days(INACTIVE_DAYS)
    assert parse_time(ret["notice_on"]) == last + days(INACTIVE_DAYS - NOTICE_DAYS)
    assert ret["access_log_days"] == ACCESS_LOG_DAYS
    assert str(INACTIVE_DAYS) in ret["rule"] and str(NOTICE_DAYS) in ret["rule"], ret["rule"]

    # Sessions: every one in the database, with its times; this one is current.
    sessions = {s["id"]: s for s in doc["sessions"]}
    assert len(sessions) == len(doc["sessions"])
    assert set(sessions) == {s["id"] for s in db["sessions"]}
    assert len(sessions) == len(rich.tokens) == 2
    for s in db["sessions"]:
        e = sessions[s["id"]]
        assert set(e) == {"id", "created_at", "expires_at", "current"}, e
        assert t_ms(e["created_at"]) // 1000 == int(s["created_ms"]) // 1000, (e, s)
        assert t(e["expires_at"]) == int(s["expires_at"]), (e, s)
    assert sum(1 for s in doc["sessions"] if s["current"] is True) == 1
    assert all(isinstance(s["current"], bool) for s in doc["sessions"])
    # The current one is the one of the token used: the other token sees
    # another session as current.
    doc2 = export(srv, rich.tokens[1]).json()
    cur1 = [s["id"] for s in doc["sessions"] if s["current"]]
    cur2 = [s["id"] for s in doc2["sessions"] if s["current"]]
    assert cur1 != cur2, (cur1, cur2)

    # Links: as many as tokens rows, same kinds and times.
    assert len(doc["links"]) == len(db["tokens"]) == 2
    assert sorted((x["kind"], t(x["created_at"]), t(x["expires_at"])) for x in doc["links"]) == sorted(
        (r["kind"], int(r["created_at"]), int(r["expires_at"])) for r in db["tokens"])
    assert {x["kind"] for x in doc["links"]} == {"email", "reset"}
    for x in doc["links"]:
        extra = {"new_email"} if x["kind"] == "email" else set()
        assert set(x) == {"kind", "created_at", "expires_at"} | extra, x

    # API keys: every one, with its name, scope and times; never the key.
    assert [k["id"] for k in doc["api_keys"]] == [k["id"] for k in db["api_keys"]] == [rich.api_key_id]
    for k, krow in zip(doc["api_keys"], db["api_keys"]):
        assert set(k) == API_KEY_KEYS, k
        assert k["name"] == "key of exp" and k["scope"] == krow["scope"] == "read", (k, krow)
        assert t_ms(k["created_at"]) == int(krow["created_ms"]), (k, krow)
        assert t_ms(k["expires_at"]) == int(krow["expires_ms"]), (k, krow)
        assert t_ms(k["last_used_at"]) == int(krow["last_used_ms"]), (k, krow)
    lst = srv.get("/v1/apikeys", headers=acc.auth)
    assert lst.status_code == 200 and lst.json()["api_keys"] == doc["api_keys"], lst.text
    # The restriction of processing: off, as GET /v1/account says.
    assert a["restriction"] == {"restricted": False, "since": None} and row["restricted_at"] is None

    # Queued mails: counted (the change request went to both addresses, and the reset).
    assert doc["mails_queued"] == len(db["mail_queue"]) >= 3

    # The picture: present iff a row exists; the same bytes GET serves.
    assert len(db["account_pictures"]) == 1
    pic = doc["picture"]
    assert pic is not None and set(pic) == {"content_type", "data_base64"}, pic
    g = srv.get("/v1/account/picture", headers=acc.auth)
    assert g.status_code == 200
    assert b64(pic["data_base64"]) == g.content
    assert pic["content_type"] == db["account_pictures"][0]["content_type"] == g.headers["Content-Type"].split(";")[0]

    # Models: every one, as GET shows it, with its avatar's bytes.
    models = {m["id"]: m for m in doc["models"]}
    assert set(models) == {m["id"] for m in db["models"]} == set(rich.model_ids)
    avatar_rows = {r["model_id"]: r for r in db["model_avatars"]}
    for mid, m in models.items():
        assert {k: v for k, v in m.items() if k != "avatar"} == get_model(srv, acc, mid)
        if mid in avatar_rows:
            av = get_avatar(srv, acc.token, mid)
            assert av.status_code == 200
            assert m["avatar"] is not None and set(m["avatar"]) == {"content_type", "data_base64"}
            assert b64(m["avatar"]["data_base64"]) == av.content, f"avatar of {mid}"
            assert m["avatar"]["content_type"] == avatar_rows[mid]["content_type"]
        else:
            assert m["avatar"] is None, m
    assert len(avatar_rows) == 2

    # Saved patterns (issue 14): every one, in full, as GET shows it.
    patterns = {p["id"]: p for p in doc["patterns"]}
    assert len(patterns) == len(doc["patterns"]) == 2
    assert set(patterns) == {p["id"] for p in db["patterns"]} == set(rich.pattern_ids)
    assert [p["id"] for p in doc["patterns"]] == [r["id"] for r in sorted(
        db["patterns"], key=lambda r: (int(r["created_at"]), r["id"]))], "oldest first"
    for pid, p in patterns.items():
        assert p == get_pattern(srv, acc, pid)
        row = [r for r in db["patterns"] if r["id"] == pid][0]
        assert p["model_id"] == row["model_id"] and t(p["created_at"]) == int(row["created_at"])
        assert t(p["measured_at"]) == int(row["snapshot_at"])
    assert patterns[rich.pattern_ids[0]]["notes"] == "pattern notes of exp"
    assert patterns[rich.pattern_ids[0]]["snapshot"]["model_name"] == "exp model two"


def test_export_leaks_no_secret_and_nothing_of_others(world):
    srv, rich, other = world["srv"], world["rich"], world["other"]
    acc = rich.acc
    text = export(srv, acc.token).text
    assert "password" not in text.lower(), "the export mentions a password"
    assert "$argon2" not in text, "an argon2 hash in the export"
    for tok in rich.tokens:
        assert tok not in text, "a session token in the export"
    assert rich.api_key not in text and rich.api_key[4:] not in text, "an API key in the export"
    assert acc.password not in text
    assert rich.mfa.secret not in text and rich.mfa.secret.lower() not in text, "the 2FA secret"
    assert not any(c in text for c in rich.mfa.recovery), "a recovery code in the export"
    st = Store(world["store"])
    rows = account_rows(st, acc.id)
    hashes = [r["token_hash"] for r in rows["sessions"] + rows["tokens"]]
    hashes += [r["key_hash"] for r in rows["api_keys"]]
    assert len(hashes) == 5
    for h in hashes:
        hx = h[2:]  # \x<hex>
        assert hx not in text.lower(), "a token hash in the export"
        assert base64.b64encode(bytes.fromhex(hx)).decode() not in text
        assert base64.urlsafe_b64encode(bytes.fromhex(hx)).decode().rstrip("=") not in text
    # Nothing of the other account.
    for s in [other.acc.id, other.acc.username, other.acc.email, *other.model_ids, *other.tokens,
              *other.pattern_ids]:
        assert s not in text, f"{s!r} of another account in the export"
    for r in account_rows(st, other.acc.id)["sessions"]:
        assert r["id"] not in text


def test_export_of_a_bare_account(world):
    srv, bare = world["srv"], world["bare"]
    doc = export(srv, bare.token).json()
    assert set(doc) == EXPORT_KEYS
    assert doc["account"]["id"] == bare.id
    assert doc["picture"] is None and doc["models"] == [] and doc["links"] == []
    assert doc["patterns"] == []
    db = account_rows(Store(world["store"]), bare.id)
    assert doc["api_keys"] == [] and db["api_keys"] == []
    assert doc["mails_queued"] == len(db["mail_queue"]) == 0
    assert doc["open_data_budget"]["rho_spent"] == 0 and db["dp_ledger"] == []
    assert doc["two_factor"]["enabled"] is False and db["account_mfa"] == []
    assert [s["id"] for s in doc["sessions"]] == [s["id"] for s in db["sessions"]]
    assert doc["account"]["has_picture"] is False and doc["account"]["bio"] is None


def test_export_follows_removals(world):
    srv, other = world["srv"], world["other"]
    acc = other.acc
    before = export(srv, acc.token).json()
    assert before["picture"] is not None
    assert all(m["avatar"] is not None for m in before["models"])
    assert sorted(p["id"] for p in before["patterns"]) == sorted(other.pattern_ids)
    assert srv.request("DELETE", "/v1/account/picture", headers=acc.auth).status_code == 204
    mid = other.model_ids[0]
    assert srv.request("DELETE", model_path(mid, "/avatar"), headers=acc.auth).status_code == 204
    assert srv.request("DELETE", model_path(other.model_ids[1]), headers=acc.auth).status_code == 204
    doc = export(srv, acc.token).json()
    db = account_rows(Store(world["store"]), acc.id)
    assert db["account_pictures"] == [] and doc["picture"] is None
    assert doc["account"]["has_picture"] is False
    assert [m["id"] for m in doc["models"]] == [mid] == [m["id"] for m in db["models"]]
    assert doc["models"][0]["avatar"] is None and db["model_avatars"] == []
    # The saved patterns of the deleted model went with it.
    assert doc["patterns"] == [] and db["patterns"] == []


def test_export_needs_a_session(world):
    srv = world["srv"]
    assert_unauthenticated(srv.get("/v1/account/export"))
    assert_unauthenticated(srv.get("/v1/account/export", headers=bearer("A" * 43)))


def test_consent_shows_in_account_and_export(world):
    srv, bare = world["srv"], world["bare"]
    st = Store(world["store"])
    assert get_account(srv, bare.token)["consent"] == {"open_data": False}, "consent is off by default"
    assert export(srv, bare.token).json()["account"]["consent"] == {"open_data": False}
    for value in (True, False):
        r = srv.request("PATCH", "/v1/account", headers=bare.auth, json={"consent": {"open_data": value}})
        assert r.status_code == 200, r.text
        assert r.json()["consent"] == {"open_data": value}
        assert get_account(srv, bare.token)["consent"] == {"open_data": value}
        assert export(srv, bare.token).json()["account"]["consent"] == {"open_data": value}
        assert st.where("accounts", "id", bare.id)[0]["consent_open_data"] == str(int(value))


def test_export_names_the_pending_new_address(world):
    """A pending email change stores the new address (sealed, in the link's
    row): it is data about the account, so the export must show it."""
    srv, rich = world["srv"], world["rich"]
    assert rich.pending_email
    text = export(srv, rich.acc.token).text
    assert rich.pending_email in text, (
        "the pending new address of an email change is stored but not exported")

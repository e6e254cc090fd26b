"""Encryption at rest (SPEC section 1: email, bio, social accounts and
pictures sealed; a stolen database alone reveals none of them), isolation of
accounts from each other, and no addresses or tokens in the logs.

The wrong-key refusal at start is covered by test_000_basics.py
(test_wrong_key_refused)."""

import io
import os

import pytest
from PIL import Image

from accounts_helpers import (
    assert_error,
    assert_unauthenticated,
    bearer,
    create_account,
    get_account,
    hex_forms,
    login,
    login_token,
    logs_bytes,
    new_identity,
    outbox,
    pg_dump_bytes,
    signup,
    sqlite_files_bytes,
    strong_password,
    uniq,
    wait_access_log,
)

BIO_MARKER = "UniqueBioMarker123"


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


def photo_jpeg(size=(900, 600)):
    im = Image.new("RGB", size)
    im.putdata([((x * 3 + y) % 256, (x * y) % 256, (x ^ y) % 256) for y in range(size[1]) for x in range(size[0])])
    b = io.BytesIO()
    im.save(b, "JPEG", quality=92)
    return b.getvalue()


# ------------------------------------------------------------ at rest


def _stored_bytes(srv, backend):
    if backend == "postgres":
        return pg_dump_bytes(srv.database_url)
    return sqlite_files_bytes(srv.data_dir)


def _assert_absent(blob, needles, where, backend):
    for label, needle in needles.items():
        forms = hex_forms(needle) if backend == "postgres" else [needle]
        for form in forms:
            assert form not in blob, f"{label} ({needle[:40]!r}) is readable in {where}"


def test_personal_data_is_sealed_at_rest(fresh_database, server_factory, tmp_path, backend):
    # fresh_database comes first so that it is dropped after the server stops.
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    srv = server_factory.start(data_dir=str(data_dir), database=fresh_database)
    mails = outbox(srv)

    tag = uniq(6)
    ident = {
        "email": f"Sealed.Person.{tag}@Example.org",
        "username": f"sealed_{tag}",
        "password": strong_password(),
    }
    acc = create_account(srv, mails, identity=ident)
    r = srv.request(
        "PATCH",
        "/v1/account",
        headers=acc.auth,
        json={"bio": BIO_MARKER, "social": {"github": f"SocialMarker{tag}", "website": f"https://site{tag}.example"}},
    )
    assert r.status_code == 200, r.text
    r = srv.request(
        "PUT", "/v1/account/picture", headers={**acc.auth, "Content-Type": "image/jpeg"}, data=photo_jpeg()
    )
    assert r.status_code == 200, r.text
    pic = srv.get("/v1/account/picture", headers=acc.auth)
    assert pic.status_code == 200
    mid = len(pic.content) // 2
    pic_slice = pic.content[mid : mid + 32]
    assert len(pic_slice) == 32

    # A pending signup and a pending email change hold addresses too.
    pending_email = f"pending.{tag}@example.org"
    assert signup(srv, pending_email, f"pending_{tag}", strong_password()).status_code == 202
    mails.wait(pending_email)
    moved_email = f"moved.{tag}@example.org"
    r = srv.post("/v1/account/email", headers=acc.auth, json={"email": moved_email, "password": acc.password})
    assert r.status_code == 202, r.text
    mails.wait(moved_email)
    # A reset mail queued just now may still sit in the mail queue when the
    # store is read below (it is sealed there too).
    assert srv.post("/v1/password/forgot", json={"email": acc.email}).status_code == 202

    needles = {
        "the email address": acc.email.encode(),
        "the email's unique local part": f"sealed.person.{tag}".encode(),
        "the email as typed": ident["email"].encode(),
        "the bio": BIO_MARKER.encode(),
        "a social handle": f"SocialMarker{tag}".encode(),
        "a social website": f"site{tag}.example".encode(),
        "32 bytes of the picture": pic_slice,
        "a pending signup's address": pending_email.encode(),
        "a pending new address": moved_email.encode(),
        "the password": acc.password.encode(),
        "the username": acc.username.encode(),
        "a pending signup's username": f"pending_{tag}".encode(),
    }

    blob = _stored_bytes(srv, backend)
    where = "the PostgreSQL tables" if backend == "postgres" else "atelier.db/-wal/-shm"
    # Control: the dump does hold the data (the account id is stored in clear).
    assert acc.id.encode() in blob, f"the account id is not found in {where}: the check reads nothing"
    _assert_absent(blob, needles, where, backend)

    mails.wait(acc.email, match="reset")
    if backend == "sqlite":
        # Stopped cleanly, the WAL is checkpointed into the main file: check again.
        assert srv.stop() is None
        blob = sqlite_files_bytes(str(data_dir))
        assert acc.id.encode() in blob
        _assert_absent(blob, needles, "atelier.db after shutdown", backend)
    else:
        blob = _stored_bytes(srv, backend)
        assert acc.id.encode() in blob
        _assert_absent(blob, needles, "the PostgreSQL tables after delivery", backend)


def test_deleted_account_does_not_linger(fresh_database, server_factory, tmp_path, backend):
    """SPEC section 1: removal is immediate and complete (rows, pictures,
    sessions, tokens, pending mails) and deleted content does not linger on
    disk (SQLite secure_delete). The id is stored in clear while the account
    lives (the username is sealed), so it must be gone from every table/file."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    srv = server_factory.start(data_dir=str(data_dir), database=fresh_database)
    mails = outbox(srv)
    tag = uniq(6)
    gone = create_account(srv, mails, identity={
        "email": f"gone.{tag}@example.org", "username": f"gone_user_{tag}", "password": strong_password()})
    stays = create_account(srv, mails, identity={
        "email": f"stays.{tag}@example.org", "username": f"stays_user_{tag}", "password": strong_password()})
    assert srv.request("PATCH", "/v1/account", headers=gone.auth,
                       json={"bio": BIO_MARKER, "social": {"github": "gh"}}).status_code == 200
    assert srv.request("PUT", "/v1/account/picture", headers={**gone.auth, "Content-Type": "image/jpeg"},
                       data=photo_jpeg((300, 200))).status_code == 200
    login_token(srv, gone.username, gone.password)  # a second session
    assert srv.post("/v1/password/forgot", json={"email": gone.email}).status_code == 202
    mails.wait(gone.email, match="reset")
    r = srv.post("/v1/account/email", headers=gone.auth,
                 json={"email": f"gone.new.{tag}@example.org", "password": gone.password})
    assert r.status_code == 202
    mails.wait(f"gone.new.{tag}@example.org")

    before = _stored_bytes(srv, backend)
    assert gone.id.encode() in before  # the check can see it
    assert gone.username.encode() not in before  # sealed (issue 12)

    r = srv.request("DELETE", "/v1/account", headers=gone.auth, json={"password": gone.password})
    assert r.status_code == 204, r.text

    blob = _stored_bytes(srv, backend)
    where = "the PostgreSQL tables" if backend == "postgres" else "atelier.db/-wal/-shm"
    assert stays.id.encode() in blob, f"the control account id is not in {where}: the check reads nothing"
    for label, needle in (("username", gone.username), ("account id", gone.id)):
        assert needle.encode() not in blob, f"the deleted account's {label} still lingers in {where}"


# ------------------------------------------------------------ isolation


def test_two_accounts_are_isolated(server, mails):
    a = create_account(server, mails, "isoa")
    b = create_account(server, mails, "isob")

    r = server.request(
        "PATCH",
        "/v1/account",
        headers=a.auth,
        json={"bio": "A's bio", "social": {"github": "a-gh"}, "consent": {"open_data": True}},
    )
    assert r.status_code == 200
    assert server.request(
        "PUT", "/v1/account/picture", headers={**a.auth, "Content-Type": "image/jpeg"}, data=photo_jpeg((200, 100))
    ).status_code == 200
    a_before = a_orig = get_account(server, a.token)
    a_pic = server.get("/v1/account/picture", headers=a.auth).content

    # B reads only B.
    got = get_account(server, b.token)
    assert got["id"] == b.id and got["email"] == b.email and got["username"] == b.username
    assert got["bio"] is None and got["social"] == {} and got["has_picture"] is False
    assert got["consent"] == {"open_data": False}
    assert_error(server.get("/v1/account/picture", headers=b.auth), 404)

    # B changes everything it can; A is untouched after each step.
    steps = [
        ("PATCH", "/v1/account", {"json": {"username": f"isob2_{uniq()}", "bio": "B's bio", "social": {"github": "b-gh"}, "consent": {"open_data": False}}}),
        ("PUT", "/v1/account/picture", {"data": photo_jpeg((50, 50)), "headers": {"Content-Type": "image/jpeg"}}),
        ("DELETE", "/v1/account/picture", {}),
        ("POST", "/v1/account/email", {"json": {"email": f"isob.new.{uniq()}@example.org", "password": b.password}}),
    ]
    for method, path, kw in steps:
        headers = {**b.auth, **kw.pop("headers", {})}
        r = server.request(method, path, headers=headers, **kw)
        assert r.status_code in (200, 202, 204), f"{method} {path}: {r.status_code} {r.text[:200]}"
        assert get_account(server, a.token) == a_before, f"A changed after B's {method} {path}"
        assert server.get("/v1/account/picture", headers=a.auth).content == a_pic

    # B cannot use A's password for its own account's protected actions.
    r = server.post("/v1/account/password", headers=b.auth, json={"current_password": a.password, "new_password": strong_password()})
    assert_error(r, 403, "wrong_password")
    r = server.request("DELETE", "/v1/account", headers=b.auth, json={"password": a.password})
    assert_error(r, 403, "wrong_password")

    # B's password change and logout revoke none of A's sessions.
    a_second = login_token(server, a.username, a.password)
    a_before = get_account(server, a.token)  # A's own login moved last_login_at
    assert {**a_before, "last_login_at": None} == {**a_orig, "last_login_at": None}
    new_b = strong_password()
    r = server.post("/v1/account/password", headers=b.auth, json={"current_password": b.password, "new_password": new_b})
    assert r.status_code == 204
    assert get_account(server, a.token) == a_before
    assert get_account(server, a_second)["id"] == a.id
    assert login(server, a.username, a.password).status_code == 200
    a_before = get_account(server, a.token)
    assert {**a_before, "last_login_at": None} == {**a_orig, "last_login_at": None}
    assert server.post("/v1/logout", headers=b.auth).status_code == 204
    assert get_account(server, a.token) == a_before

    # B's account deletion leaves A whole.
    b_token = login_token(server, b.email, new_b)
    r = server.request("DELETE", "/v1/account", headers=bearer(b_token), json={"password": new_b})
    assert r.status_code == 204
    assert_unauthenticated(server.get("/v1/account", headers=bearer(b_token)))
    assert get_account(server, a.token) == a_before
    assert get_account(server, a_second)["id"] == a.id
    assert server.get("/v1/account/picture", headers=a.auth).content == a_pic
    assert login(server, a.email, a.password).status_code == 200


def test_a_session_token_is_bound_to_its_account(server, mails):
    a = create_account(server, mails, "binda")
    b = create_account(server, mails, "bindb")
    assert get_account(server, a.token)["id"] == a.id
    assert get_account(server, b.token)["id"] == b.id
    # Logging out A does not log out B, and B's token never reads A.
    assert server.post("/v1/logout", headers=a.auth).status_code == 204
    assert_unauthenticated(server.get("/v1/account", headers=a.auth))
    assert get_account(server, b.token)["id"] == b.id


# ------------------------------------------------------------ logs


def test_no_addresses_or_tokens_in_the_logs(server, mails):
    ident = new_identity("logleak")
    assert signup(server, ident["email"], ident["username"], ident["password"]).status_code == 202
    confirm_token = mails.wait(ident["email"]).token
    r = server.post("/v1/confirm", json={"token": confirm_token, "password": ident["password"]})
    assert r.status_code == 200
    session = r.json()["token"]
    login_tok = login_token(server, ident["email"].upper(), ident["password"])
    assert login(server, ident["email"], "Wrong-But-Secret-Pw-77").status_code == 401
    assert server.post("/v1/password/forgot", json={"email": ident["email"]}).status_code == 202
    reset_token = mails.wait(ident["email"], match="reset").token
    new_pw = strong_password()
    assert server.post("/v1/password/reset", json={"token": reset_token, "password": new_pw}).status_code == 204
    session2 = login_token(server, ident["username"], new_pw)
    new_email = f"logleak.moved.{uniq()}@example.org"
    r = server.post("/v1/account/email", headers=bearer(session2), json={"email": new_email, "password": new_pw})
    assert r.status_code == 202
    email_token = mails.wait(new_email, match="token=").token
    assert server.post("/v1/confirm", json={"token": email_token}).status_code == 200
    unknown = f"unknown.{uniq()}@example.org"
    assert server.post("/v1/password/forgot", json={"email": unknown}).status_code == 202
    last = server.get("/v1/account", headers=bearer(session2))
    assert last.status_code == 200
    wait_access_log(server, last.headers["X-Request-Id"])

    secrets_seen = {
        "signup address": ident["email"],
        "signup address (lowercase)": ident["email"].lower(),
        "new address": new_email,
        "unknown address": unknown,
        "confirmation token": confirm_token,
        "session token": session,
        "login token": login_tok,
        "reset token": reset_token,
        "email-change token": email_token,
        "session after reset": session2,
        "password": ident["password"],
        "new password": new_pw,
        "wrong password": "Wrong-But-Secret-Pw-77",
    }
    blob = logs_bytes(server)
    assert blob, "the logs directory is empty"
    for label, s in secrets_seen.items():
        assert s.encode() not in blob, f"the {label} appears in {os.path.join(server.data_dir, 'logs')}"

    # The server's diagnostics (stdout/stderr) do not carry them either.
    out = server.stdout() + server.stderr()
    for label, s in secrets_seen.items():
        assert s not in out, f"the {label} appears in the server's stdout/stderr"

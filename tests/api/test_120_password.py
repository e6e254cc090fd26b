"""Password reset (forgot + reset link) and password change (SPEC sections 3
and 4): 202 always, single-use links, every session revoked on reset, every
other session on change, the strength rules on the new password."""

import concurrent.futures

import pytest

import limits
from accounts_helpers import (
    ClockedStore,
    assert_error,
    assert_invalid_field,
    assert_unauthenticated,
    bearer,
    create_account,
    get_account,
    login,
    login_token,
    outbox,
    strong_password,
    uniq,
)


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


def forgot(server, email):
    return server.post("/v1/password/forgot", json={"email": email})


def reset(server, token, password):
    return server.post("/v1/password/reset", json={"token": token, "password": password})


def change(server, token, current, new):
    return server.post(
        "/v1/account/password",
        headers=bearer(token),
        json={"current_password": current, "new_password": new},
    )


# ------------------------------------------------------------ forgot


def test_forgot_answers_202_alike_and_mails_only_existing(server, mails):
    acc = create_account(server, mails, "forgot")
    unknown = f"nobody.{uniq()}@example.org"
    r_unknown = forgot(server, unknown)
    r_known = forgot(server, acc.email.upper())
    for r in (r_unknown, r_known):
        assert r.status_code == 202, r.text
        assert r.headers["Content-Type"].startswith("application/json")
    assert r_unknown.json() == r_known.json()
    assert set(r_known.json()) == {"message"}, r_known.json()

    mail = mails.wait(acc.email, match="reset")
    assert mail.token
    assert acc.password not in mail.body
    # The known address's mail is out; the unknown one got nothing.
    assert mails.to(unknown) == []


def test_forgot_validates_email(server):
    r = forgot(server, "not-an-address")
    assert_invalid_field(r, "email")
    r = server.post("/v1/password/forgot", json={"email": "a@example.org", "extra": 1})
    assert_invalid_field(r, "extra")


# ------------------------------------------------------------ reset


def test_reset_full_cycle(server, mails):
    acc = create_account(server, mails, "reset")
    other_session = login_token(server, acc.username, acc.password)
    assert forgot(server, acc.email).status_code == 202
    token = mails.wait(acc.email, match="reset").token

    new_pw = strong_password()
    r = reset(server, token, new_pw)
    assert r.status_code == 204, r.text
    assert r.content == b""

    # Every session is revoked.
    for t in (acc.token, other_session):
        assert_unauthenticated(server.get("/v1/account", headers=bearer(t)))
    # The old password fails, the new one works.
    assert_error(login(server, acc.username, acc.password), 401, "invalid_credentials")
    t = login_token(server, acc.username, new_pw)
    assert get_account(server, t)["id"] == acc.id
    # The link is single-use.
    r = reset(server, token, strong_password())
    assert_error(r, 400, "invalid_token")
    # And that refused second use changed nothing.
    assert login(server, acc.email, new_pw).status_code == 200


def test_weak_new_password_keeps_the_link(server, mails):
    acc = create_account(server, mails, "weakreset")
    assert forgot(server, acc.email).status_code == 202
    token = mails.wait(acc.email, match="reset").token

    for weak, why in (
        ("password1", "common"),
        ("12345678", "digits"),
        ("qwertyuiop", "keyboard"),
        ("short", "too short"),
        (acc.username, "the username"),
    ):
        r = reset(server, token, weak)
        assert_invalid_field(r, "password")

    # Nothing changed: the old password and the sessions still work...
    assert get_account(server, acc.token)["id"] == acc.id
    assert login(server, acc.username, acc.password).status_code == 200
    # ...and the link is still usable.
    new_pw = strong_password()
    assert reset(server, token, new_pw).status_code == 204
    assert login(server, acc.username, new_pw).status_code == 200


def test_reset_with_email_words_refused(server, mails):
    tag = uniq()
    identity = {
        "email": f"marie.curie{tag}@example.com",
        "username": f"mc_{tag}",
        "password": strong_password(),
    }
    acc = create_account(server, mails, identity=identity)
    assert forgot(server, acc.email).status_code == 202
    token = mails.wait(acc.email, match="reset").token
    r = reset(server, token, f"marie.curie{tag}")
    assert_invalid_field(r, "password")
    assert reset(server, token, strong_password()).status_code == 204


@pytest.mark.parametrize("token", ["garbage", "A" * 43, ""])
def test_reset_garbage_token(server, token):
    r = reset(server, token, strong_password())
    assert_error(r, 400, "invalid_token")


def test_confirm_link_is_not_a_reset_link(server, mails):
    # A signup confirmation token cannot reset a password, nor the reverse.
    acc = create_account(server, mails, "kinds")
    assert forgot(server, acc.email).status_code == 202
    reset_token = mails.wait(acc.email, match="reset").token
    r = server.post("/v1/confirm", json={"token": reset_token})
    assert_error(r, 400, "invalid_token")
    # The reset link survived that misuse.
    assert reset(server, reset_token, strong_password()).status_code == 204


def test_newer_reset_link_replaces_older(server, mails):
    acc = create_account(server, mails, "twice")
    assert forgot(server, acc.email).status_code == 202
    first = mails.wait(acc.email, match="reset").token
    assert forgot(server, acc.email).status_code == 202
    second = mails.wait(acc.email, match="reset").token
    assert first != second
    new_pw = strong_password()
    assert reset(server, second, new_pw).status_code == 204
    # After a reset, no older link of the account works any more.
    assert_error(reset(server, first, strong_password()), 400, "invalid_token")
    assert login(server, acc.username, new_pw).status_code == 200


# ------------------------------------------------------------ change


def test_change_password(server, mails):
    acc = create_account(server, mails, "change")
    other1 = login_token(server, acc.username, acc.password)
    other2 = login_token(server, acc.email, acc.password)
    new_pw = strong_password()
    r = change(server, acc.token, acc.password, new_pw)
    assert r.status_code == 204, r.text
    assert r.content == b""
    # This session keeps working; every other one is revoked.
    assert get_account(server, acc.token)["id"] == acc.id
    for t in (other1, other2):
        assert_unauthenticated(server.get("/v1/account", headers=bearer(t)))
    assert_error(login(server, acc.username, acc.password), 401, "invalid_credentials")
    assert login(server, acc.username, new_pw).status_code == 200


def test_change_password_wrong_current(server, mails):
    acc = create_account(server, mails, "wrongcur")
    other = login_token(server, acc.username, acc.password)
    r = change(server, acc.token, acc.password + "x", strong_password())
    assert_error(r, 403, "wrong_password")
    # Nothing happened.
    assert get_account(server, other)["id"] == acc.id
    assert login(server, acc.username, acc.password).status_code == 200


def test_change_password_weak_new(server, mails):
    acc = create_account(server, mails, "weaknew")
    other = login_token(server, acc.username, acc.password)
    for weak in ("password1", "12345678", "short", acc.username, "x" * (limits.LIMIT_PASSWORD_MAX + 1)):
        r = change(server, acc.token, acc.password, weak)
        assert_invalid_field(r, "new_password")
    assert get_account(server, other)["id"] == acc.id
    assert login(server, acc.username, acc.password).status_code == 200


def test_change_password_needs_auth(server):
    r = server.post(
        "/v1/account/password",
        json={"current_password": "Whatever-1234", "new_password": strong_password()},
    )
    assert_unauthenticated(r)


def test_change_password_missing_fields(server, mails):
    acc = create_account(server, mails, "missing")
    r = server.post("/v1/account/password", headers=bearer(acc.token), json={"new_password": strong_password()})
    assert_invalid_field(r, "current_password")
    r = server.post("/v1/account/password", headers=bearer(acc.token), json={"current_password": acc.password})
    assert_invalid_field(r, "new_password")
    assert login(server, acc.username, acc.password).status_code == 200


def test_reset_link_lives_one_hour(fresh_database, server_factory, tmp_path):
    # fresh_database comes first so that it is dropped after the servers stop.
    store = ClockedStore(server_factory, tmp_path / "data", fresh_database)
    srv = store.start()
    mails = store.mails
    early = create_account(srv, mails, "early")
    late = create_account(srv, mails, "late")
    for acc in (early, late):
        assert forgot(srv, acc.email).status_code == 202
    t_early = mails.wait(early.email, match="reset").token
    t_late = mails.wait(late.email, match="reset").token

    srv = store.start(offset=limits.LIMIT_RESET_TTL_S - 600)  # 50 minutes later: still valid
    new_pw = strong_password()
    assert reset(srv, t_early, new_pw).status_code == 204
    assert login(srv, early.username, new_pw).status_code == 200

    srv = store.start(offset=limits.LIMIT_RESET_TTL_S + 120)  # just over an hour: expired
    assert_error(reset(srv, t_late, strong_password()), 400, "invalid_token")
    assert login(srv, late.username, late.password).status_code == 200


def test_reset_link_is_single_use_under_concurrency(server, mails):
    acc = create_account(server, mails, "concreset")
    assert forgot(server, acc.email).status_code == 202
    token = mails.wait(acc.email, match="reset").token
    passwords = [strong_password() for _ in range(6)]
    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        answers = list(ex.map(lambda pw: reset(server, token, pw), passwords))
    codes = [r.status_code for r in answers]
    assert sorted(codes) == [204] + [400] * 5, codes
    for r in answers:
        if r.status_code == 400:
            assert_error(r, 400, "invalid_token")
    winner = passwords[codes.index(204)]
    assert login(server, acc.username, winner).status_code == 200
    for pw in passwords:
        if pw != winner:
            assert_error(login(server, acc.username, pw), 401, "invalid_credentials")

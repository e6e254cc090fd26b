"""Issue 12, items 2, 5 and 8: the account flows an attacker abuses.

2. A pending email change must not survive a password change or a reset; a
   confirmed email change revokes every pending link (reset and email) and
   every session but the one that asked for it.
5. The email-change flow mails the requester the same whether or not the new
   address is registered.
8. A signup link confirms only with the password chosen at signup.

Runs on the configured backend (ATELIER_TEST_BACKEND: sqlite or postgres)."""

import pytest

from accounts_helpers import (
    assert_error,
    assert_invalid_field,
    assert_unauthenticated,
    bearer,
    confirm,
    create_account,
    get_account,
    login,
    login_token,
    new_identity,
    outbox,
    signup,
    strong_password,
    uniq,
)


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


def change_email(server, token, email, password):
    return server.post("/v1/account/email", headers=bearer(token), json={"email": email, "password": password})


def change_password(server, token, current, new):
    return server.post("/v1/account/password", headers=bearer(token),
                       json={"current_password": current, "new_password": new})


def forgot(server, email):
    return server.post("/v1/password/forgot", json={"email": email})


def reset(server, token, password):
    return server.post("/v1/password/reset", json={"token": token, "password": password})


def pending_change(server, mails, acc, new):
    """Ask for an email change of acc to new; the link mailed to new."""
    r = change_email(server, acc.token, new, acc.password)
    assert r.status_code == 202, r.text
    return mails.wait(new, match="token=").token


# ------------------------------------------------------------ item 2


def test_password_change_revokes_a_pending_email_change(server, mails):
    # The attacker knows the password and moves the account to their address.
    victim = create_account(server, mails, "pwchg")
    evil = f"evil.{uniq()}@example.org"
    link = pending_change(server, mails, victim, evil)
    new_pw = strong_password()
    assert change_password(server, victim.token, victim.password, new_pw).status_code == 204
    assert_error(confirm(server, link), 400, "invalid_token")
    assert get_account(server, victim.token)["email"] == victim.email
    assert_error(login(server, evil, new_pw), 401, "invalid_credentials")


def test_reset_revokes_a_pending_email_change(server, mails):
    victim = create_account(server, mails, "rstchg")
    evil = f"evil.{uniq()}@example.org"
    link = pending_change(server, mails, victim, evil)
    assert forgot(server, victim.email).status_code == 202
    new_pw = strong_password()
    assert reset(server, mails.wait(victim.email, match="reset").token, new_pw).status_code == 204
    assert_error(confirm(server, link), 400, "invalid_token")
    assert_error(login(server, evil, new_pw), 401, "invalid_credentials")
    assert login(server, victim.email, new_pw).status_code == 200


def test_password_change_revokes_a_pending_reset(server, mails):
    acc = create_account(server, mails, "pwrst")
    assert forgot(server, acc.email).status_code == 202
    link = mails.wait(acc.email, match="reset").token
    assert change_password(server, acc.token, acc.password, strong_password()).status_code == 204
    assert_error(reset(server, link, strong_password()), 400, "invalid_token")


def test_confirmed_email_change_revokes_links_and_other_sessions(server, mails):
    acc = create_account(server, mails, "moved")
    other = login_token(server, acc.username, acc.password)  # another device
    asking = login_token(server, acc.username, acc.password)  # the one that asks
    assert forgot(server, acc.email).status_code == 202
    reset_link = mails.wait(acc.email, match="reset").token  # mailed before the change
    first, second = f"first.{uniq()}@example.org", f"second.{uniq()}@example.org"
    r = change_email(server, asking, first, acc.password)
    assert r.status_code == 202, r.text
    first_link = mails.wait(first, match="token=").token
    second_link = pending_change(server, mails, acc, second)

    r = confirm(server, first_link)
    assert r.status_code == 200, r.text
    assert r.json()["account"]["email"] == first

    # Every other session is gone; the asking one stays.
    for t in (acc.token, other):
        assert_unauthenticated(server.get("/v1/account", headers=bearer(t)))
    assert get_account(server, asking)["email"] == first
    # The reset link mailed to the old address no longer works...
    assert_error(reset(server, reset_link, strong_password()), 400, "invalid_token")
    assert login(server, first, acc.password).status_code == 200
    # ...nor the other pending email change.
    assert_error(confirm(server, second_link), 400, "invalid_token")
    assert get_account(server, asking)["email"] == first


# ------------------------------------------------------------ item 5


def test_email_change_mails_the_requester_alike_whatever_the_address(server, mails):
    a = create_account(server, mails, "probe")
    b = create_account(server, mails, "known")
    free = f"free.{uniq()}@example.org"
    notices = []
    for target, expect_link in ((b.email, False), (free, True)):
        r = change_email(server, a.token, target, a.password)
        assert r.status_code == 202, r.text
        to_target = mails.wait(target)
        assert ("token=" in to_target.body) == expect_link, to_target.text()
        notices.append(mails.wait(a.email, match="change"))
    assert notices[0].subject == notices[1].subject
    assert notices[0].body == notices[1].body
    # Barrier: a later mail to a; nothing else reached a's inbox meanwhile.
    assert forgot(server, a.email).status_code == 202
    mails.wait(a.email, match="reset")
    assert mails.untaken(a.email) == [], mails.untaken(a.email)
    assert mails.untaken(b.email) == [] and mails.untaken(free) == []


# ------------------------------------------------------------ item 8


def test_signup_link_needs_the_password_chosen_at_signup(server, mails):
    ident = new_identity("pwconf")
    assert signup(server, ident["email"], ident["username"], ident["password"]).status_code == 202
    token = mails.wait(ident["email"], match="confirm").token
    assert_invalid_field(confirm(server, token), "password")
    assert_error(confirm(server, token, ident["password"] + "x"), 403, "wrong_password")
    assert_error(confirm(server, token, strong_password()), 403, "wrong_password")
    assert_invalid_field(server.post("/v1/confirm", json={"token": token, "password": 7}), "password")
    assert_error(login(server, ident["username"], ident["password"]), 401, "invalid_credentials")
    # The refusals did not use the link up.
    r = confirm(server, token, ident["password"])
    assert r.status_code == 200, r.text
    assert r.json()["account"]["email"] == ident["email"].lower()


def test_someone_elses_signup_cannot_be_activated_by_the_address_owner(server, mails):
    # The attacker signs up the victim's address with a password of their own;
    # the victim opens the link but does not know (and should not need) it.
    victim_email = f"victim.{uniq()}@example.org"
    username, attacker_pw = f"squat_{uniq()}", strong_password()
    assert signup(server, victim_email, username, attacker_pw).status_code == 202
    token = mails.wait(victim_email, match="confirm").token
    for guess in (None, strong_password()):
        assert confirm(server, token, guess).status_code in (403, 422)
    assert_error(login(server, victim_email, attacker_pw), 401, "invalid_credentials")
    assert_error(login(server, username, attacker_pw), 401, "invalid_credentials")


def test_email_change_link_needs_no_password(server, mails):
    acc = create_account(server, mails, "nopw")
    new = f"nopw.{uniq()}@example.org"
    link = pending_change(server, mails, acc, new)
    r = confirm(server, link)
    assert r.status_code == 200, r.text
    assert r.json()["account"]["email"] == new

"""Email change (SPEC section 3): 202, a link to the new address and a notice
to the old one; nothing changes until the link is confirmed; afterwards the
new address logs in, the old one does not, and the old address is told."""

import pytest

from accounts_helpers import (
    assert_account_shape,
    assert_error,
    assert_invalid_field,
    assert_unauthenticated,
    bearer,
    confirm,
    create_account,
    get_account,
    login,
    outbox,
    uniq,
)


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


def change_email(server, token, email, password):
    return server.post("/v1/account/email", headers=bearer(token), json={"email": email, "password": password})


def test_email_change_full_cycle(server, mails):
    acc = create_account(server, mails, "mover")
    new = f"Moved.{uniq()}@Example.org"
    r = change_email(server, acc.token, new, acc.password)
    assert r.status_code == 202, r.text
    assert set(r.json()) == {"message"}, r.json()

    link_mail = mails.wait(new.lower(), match="token=")
    token = link_mail.token
    notice = mails.wait(acc.email)
    assert "token=" not in notice.body, notice.text()
    assert "change" in (notice.subject + " " + notice.body).lower(), notice.text()

    # Nothing has changed yet.
    assert get_account(server, acc.token)["email"] == acc.email
    assert login(server, acc.email, acc.password).status_code == 200
    assert_error(login(server, new, acc.password), 401, "invalid_credentials")

    r = confirm(server, token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "account" in body, body
    assert_account_shape(body["account"])
    assert body["account"]["email"] == new.lower()
    assert body["account"]["id"] == acc.id

    assert get_account(server, acc.token)["email"] == new.lower()
    assert login(server, new, acc.password).status_code == 200
    assert login(server, new.upper(), acc.password).status_code == 200
    assert_error(login(server, acc.email, acc.password), 401, "invalid_credentials")

    changed = mails.wait(acc.email, match="changed")
    assert "token=" not in changed.body, changed.text()

    # The link is single use.
    assert_error(confirm(server, token), 400, "invalid_token")

    # The old address is free again: a signup with it gets a confirmation link.
    r = server.post(
        "/v1/signup",
        json={"email": acc.email, "username": f"reuse_{uniq()}", "password": "Vq7#Reuse-" + uniq()},
    )
    assert r.status_code == 202
    assert mails.wait(acc.email, match="confirm").token


def test_email_change_wrong_password(server, mails):
    acc = create_account(server, mails, "wrongpw")
    new = f"nope.{uniq()}@example.org"
    r = change_email(server, acc.token, new, acc.password + "x")
    assert_error(r, 403, "wrong_password")
    # Barrier: a mail to the account after the refusal; then no mail to new.
    assert server.post("/v1/password/forgot", json={"email": acc.email}).status_code == 202
    mails.wait(acc.email, match="reset")
    assert mails.to(new) == []
    assert get_account(server, acc.token)["email"] == acc.email


@pytest.mark.parametrize("email", ["no-at-sign", "two@@example.org", "sp ace@example.org", "a" * 250 + "@x.org"])
def test_email_change_invalid_address(server, mails, email):
    acc = create_account(server, mails, "badaddr")
    r = change_email(server, acc.token, email, acc.password)
    assert_invalid_field(r, "email")


def test_email_change_unknown_field(server, mails):
    acc = create_account(server, mails, "unk")
    r = server.post(
        "/v1/account/email",
        headers=bearer(acc.token),
        json={"email": f"x.{uniq()}@example.org", "password": acc.password, "force": True},
    )
    assert_invalid_field(r, "force")


def test_email_change_to_a_taken_address(server, mails):
    a = create_account(server, mails, "taker")
    b = create_account(server, mails, "owned")
    r = change_email(server, a.token, b.email, a.password)
    # Same answer as for a free address: it must not reveal that b exists.
    free = change_email(server, a.token, f"free.{uniq()}@example.org", a.password)
    assert free.status_code == 202, free.text
    assert r.status_code == 202, r.text
    assert r.json() == free.json()
    # b's owner is told, without a link that could move the address.
    m = mails.wait(b.email)
    assert "token=" not in m.body, m.text()
    assert get_account(server, a.token)["email"] == a.email
    assert get_account(server, b.token)["email"] == b.email


def test_email_change_needs_auth(server):
    r = server.post("/v1/account/email", json={"email": f"x.{uniq()}@example.org", "password": "Whatever-12345"})
    assert_unauthenticated(r)


def test_email_change_link_after_account_deleted(server, mails):
    acc = create_account(server, mails, "gone")
    new = f"gone.{uniq()}@example.org"
    assert change_email(server, acc.token, new, acc.password).status_code == 202
    token = mails.wait(new, match="token=").token
    r = server.request("DELETE", "/v1/account", headers=bearer(acc.token), json={"password": acc.password})
    assert r.status_code == 204, r.text
    assert_error(confirm(server, token), 400, "invalid_token")
    assert_error(login(server, new, acc.password), 401, "invalid_credentials")


def test_email_taken_before_the_link_is_used(server, mails):
    acc = create_account(server, mails, "slow")
    wanted = f"wanted.{uniq()}@example.org"
    assert change_email(server, acc.token, wanted, acc.password).status_code == 202
    token = mails.wait(wanted, match="token=").token
    # Meanwhile someone signs up with that address and confirms it.
    thief = create_account(server, mails, "thief", identity={
        "email": wanted, "username": f"thief_{uniq()}", "password": "Vq7#Thief-" + uniq()})
    r = confirm(server, token)
    assert_error(r, 409)
    assert get_account(server, acc.token)["email"] == acc.email
    assert get_account(server, thief.token)["email"] == wanted
    assert login(server, wanted, thief.password).status_code == 200

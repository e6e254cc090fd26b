"""Signup and confirmation (SPEC sections 1 and 3): the same answer whatever
is taken, the three mails, validation of every field, single-use links."""

import concurrent.futures
import json

import pytest

import limits
from accounts_helpers import (
    ClockedStore,
    ACCOUNT_KEYS,
    assert_account_shape,
    assert_error,
    assert_invalid_field,
    confirm,
    create_account,
    login,
    new_identity,
    now_utc,
    outbox,
    parse_time,
    signup,
    strong_password,
    uniq,
)


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


# ------------------------------------------------------------ the happy path


def test_signup_mails_a_link_and_confirm_returns_session(server, mails):
    ident = new_identity("sign")
    r = signup(server, ident["email"], ident["username"], ident["password"])
    assert r.status_code == 202, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"message"} and isinstance(body["message"], str) and body["message"], body

    mail = mails.wait(ident["email"])
    assert mail.token  # exactly one token=<43 base64url chars>
    assert ident["password"] not in mail.raw.decode("utf-8", "replace"), "the password is in the mail"

    # Not usable before confirmation.
    r = login(server, ident["username"], ident["password"])
    assert_error(r, 401, "invalid_credentials")

    before = now_utc()
    r = confirm(server, mail.token, ident["password"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"token", "expires_at", "account"}, body
    assert isinstance(body["token"], str) and len(body["token"]) >= 32
    acc = body["account"]
    assert_account_shape(acc)
    assert acc["email"] == ident["email"]
    assert acc["username"] == ident["username"]
    assert acc["bio"] is None
    assert acc["social"] == {}
    assert acc["has_picture"] is False
    assert acc["consent"] == {"open_data": False}, "consent.open_data must default to false"
    created = parse_time(acc["created_at"])
    assert abs((created - before).total_seconds()) < 120, acc["created_at"]

    # The token from the confirmation is a working session.
    r = server.get("/v1/account", headers={"Authorization": f"Bearer {body['token']}"})
    assert r.status_code == 200, r.text
    assert r.json() == acc

    # And now the password logs in.
    r = login(server, ident["username"], ident["password"])
    assert r.status_code == 200, r.text


def test_confirm_link_is_single_use(server, mails):
    ident = new_identity("once")
    assert signup(server, ident["email"], ident["username"], ident["password"]).status_code == 202
    token = mails.wait(ident["email"]).token
    assert confirm(server, token, ident["password"]).status_code == 200
    r = confirm(server, token, ident["password"])
    assert_error(r, 400, "invalid_token")


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "A" * 43,
        "x" * 200,
        "",
        "../../etc/passwd",
    ],
)
def test_confirm_garbage_token(server, token):
    r = confirm(server, token)
    assert_error(r, 400, "invalid_token")


def test_confirm_token_of_wrong_type(server):
    r = server.post("/v1/confirm", json={"token": 42})
    assert r.status_code in (400, 422), r.text
    assert_error(r, r.status_code)


def test_uppercase_username_and_email_are_folded(server, mails):
    tag = uniq()
    email = f"Marie.Curie.{tag}@Example.ORG"
    username = f"Marie_{tag.upper()}"
    password = strong_password()
    r = signup(server, email, username, password)
    assert r.status_code == 202, r.text
    mail = mails.wait(email.lower())
    r = confirm(server, mail.token, password)
    assert r.status_code == 200, r.text
    acc = r.json()["account"]
    assert acc["username"] == username.lower(), acc
    assert acc["email"] == email.lower(), acc


# ------------------------------------------------------------ taken email / username


def test_same_answer_and_the_right_mails_when_taken(server, mails):
    owner = create_account(server, mails, "owner")

    # 1. a new address and a new username
    fresh = new_identity("fresh")
    r_new = signup(server, fresh["email"], fresh["username"], fresh["password"])

    # 2. the owner's address (in another case), a new username
    r_email = signup(server, owner.email.upper(), f"other_{uniq()}", strong_password())

    # 3. a new address, the owner's username (in another case)
    third = new_identity("third")
    r_user = signup(server, third["email"], owner.username.upper(), third["password"])

    for r in (r_new, r_email, r_user):
        assert r.status_code == 202, r.text
    assert r_new.json() == r_email.json() == r_user.json(), (r_new.text, r_email.text, r_user.text)
    assert r_new.headers["Content-Type"] == r_email.headers["Content-Type"] == r_user.headers["Content-Type"]

    # The new address gets a confirmation link.
    assert mails.wait(fresh["email"]).token

    # The owner gets a notice, without any link that could create an account.
    notice = mails.wait(owner.email)
    assert "someone tried to sign up" in (notice.subject + " " + notice.body).lower(), notice.text()
    assert "token=" not in notice.body, notice.text()

    # The third address is asked to choose another username; no link.
    ask = mails.wait(third["email"])
    assert "username" in (ask.subject + " " + ask.body).lower(), ask.text()
    assert "token=" not in ask.body, ask.text()

    # Nothing else went to the owner or the third address.
    assert mails.untaken(owner.email) == []
    assert mails.untaken(third["email"]) == []

    # The owner's account is untouched: same username, same password.
    r = login(server, owner.email, owner.password)
    assert r.status_code == 200, r.text
    # The third address can still sign up with a free username.
    r = signup(server, third["email"], f"third_{uniq()}", third["password"])
    assert r.status_code == 202
    assert mails.wait(third["email"]).token


# ------------------------------------------------------------ validation


def _base():
    ident = new_identity("val")
    return dict(ident)


def test_unknown_field_refused(server):
    body = _base()
    body["admin"] = True
    r = server.post("/v1/signup", json=body)
    assert_invalid_field(r, "admin")


@pytest.mark.parametrize("missing", ["email", "username", "password"])
def test_missing_field_refused(server, missing):
    body = _base()
    del body[missing]
    r = server.post("/v1/signup", json=body)
    assert_invalid_field(r, missing)


@pytest.mark.parametrize("field", ["email", "username", "password"])
def test_non_string_field_refused(server, field):
    body = _base()
    body[field] = 12345678
    r = server.post("/v1/signup", json=body)
    assert_invalid_field(r, field)


@pytest.mark.parametrize(
    "email",
    [
        "no-at-sign.example.org",
        "two@at@example.org",
        "@example.org",
        "local@",
        "with space@example.org",
        "local@exa mple.org",
        " lead@example.org",
        "trail@example.org ",
        "tab\t@example.org",
        "a" * (limits.LIMIT_EMAIL_MAX + 1 - len("@example.org")) + "@example.org",  # a byte over
        "",
    ],
)
def test_invalid_email_refused(server, email):
    body = _base()
    body["email"] = email
    r = server.post("/v1/signup", json=body)
    assert_invalid_field(r, "email")


def test_email_of_254_bytes_accepted(server):
    email = "a" * (limits.LIMIT_EMAIL_MAX - len("@example.org")) + "@example.org"
    assert len(email.encode()) == limits.LIMIT_EMAIL_MAX
    r = signup(server, email, f"long_{uniq()}", strong_password())
    assert r.status_code == 202, r.text


@pytest.mark.parametrize(
    "username",
    [
        "a",
        "x" * (limits.LIMIT_USERNAME_MAX + 1),
        "with space",
        "semi;colon",
        "slash/name",
        "ümlaut",
        "at@sign",
        "",
        "plus+sign",
    ],
)
def test_invalid_username_refused(server, username):
    body = _base()
    body["username"] = username
    r = server.post("/v1/signup", json=body)
    assert_invalid_field(r, "username")


@pytest.mark.parametrize("username", ["ab", "x" * limits.LIMIT_USERNAME_MAX, "a.b-c_d9"])
def test_username_bounds_accepted(server, username):
    # Each module has a fresh database, so these names are free.
    r = signup(server, f"bounds.{uniq()}@example.org", username, strong_password())
    assert r.status_code == 202, r.text


@pytest.mark.parametrize(
    "password",
    [
        "Sh0rt!x",  # 7 bytes
        "",
        "Q" + "x7#Pz" * 205,  # 1026 bytes
    ],
)
def test_password_length_refused(server, password):
    body = _base()
    body["password"] = password
    r = server.post("/v1/signup", json=body)
    assert_invalid_field(r, "password")


def test_password_bounds_accepted(server):
    # 8 bytes, not guessable; and 1024 bytes.
    r = signup(server, f"pw8.{uniq()}@example.org", f"pw8_{uniq()}", "k#9Vq!Zr")
    assert r.status_code == 202, r.text
    long_pw = ("Zq9#" + uniq(8)) * 64
    long_pw = long_pw[:1024]
    assert len(long_pw.encode()) == 1024
    r = signup(server, f"pw1024.{uniq()}@example.org", f"pw1024_{uniq()}", long_pw)
    assert r.status_code == 202, r.text


@pytest.mark.parametrize("password", ["password1", "12345678", "qwertyuiop", "iloveyou", "Password123"])
def test_weak_password_refused(server, password):
    body = _base()
    body["password"] = password
    r = server.post("/v1/signup", json=body)
    assert_invalid_field(r, "password")


def test_password_equal_to_username_refused(server):
    username = f"zorglub{uniq(3)}"
    r = signup(server, f"z.{uniq()}@example.org", username, username)
    assert_invalid_field(r, "password")


def test_password_built_from_email_refused(server):
    r = signup(server, "marie.curie@example.com", f"mc_{uniq()}", "mariecurie!1")
    assert_invalid_field(r, "password")
    # Control: the same shape of password for someone else is accepted, so
    # it is the user's own words that made it weak.
    r = signup(server, f"pierre.{uniq()}@example.org", f"pc_{uniq()}", "mariecurie!1")
    assert r.status_code == 202, r.text


def test_validation_refusals_send_no_mail(server, mails):
    ident = new_identity("nomail")
    r = signup(server, ident["email"], ident["username"], "password1")
    assert_invalid_field(r, "password")
    # Barrier: a valid signup afterwards; once its mail is out, the queue
    # has been worked past the refused one.
    other = new_identity("barrier")
    assert signup(server, other["email"], other["username"], other["password"]).status_code == 202
    mails.wait(other["email"])
    assert mails.to(ident["email"]) == []


# ------------------------------------------------------------ framing


def test_non_json_content_type_is_415(server):
    ident = new_identity("ctype")
    r = server.post("/v1/signup", data=json.dumps(ident), headers={"Content-Type": "text/plain"})
    assert_error(r, 415)
    r = server.post("/v1/signup", data={"email": ident["email"]})  # form-encoded
    assert_error(r, 415)


def test_malformed_json_is_400(server):
    r = server.post(
        "/v1/signup", data=b'{"email": "a@example.org", "username": ', headers={"Content-Type": "application/json"}
    )
    assert_error(r, 400)


def test_signup_answer_has_no_account_details(server):
    ident = new_identity("quiet")
    r = signup(server, ident["email"], ident["username"], ident["password"])
    assert r.status_code == 202
    text = r.text
    assert ident["email"] not in text and ident["username"] not in text
    assert not (set(r.json()) & ACCOUNT_KEYS), r.json()


@pytest.mark.parametrize(
    "path", ["/v1/signup", "/v1/confirm", "/v1/login", "/v1/password/forgot", "/v1/password/reset"]
)
def test_public_json_routes_refuse_other_media_and_bad_json(server, path):
    r = server.post(path, data='{"email": "a@example.org"}', headers={"Content-Type": "text/plain"})
    assert_error(r, 415)
    r = server.post(path, data="{not json", headers={"Content-Type": "application/json"})
    assert_error(r, 400)


# ------------------------------------------------------------ races and expiry


def test_username_taken_between_signup_and_confirm(server, mails):
    username = f"race_{uniq()}"
    first = new_identity("racea")
    second = new_identity("raceb")
    assert signup(server, first["email"], username, first["password"]).status_code == 202
    assert signup(server, second["email"], username.upper(), second["password"]).status_code == 202
    t1 = mails.wait(first["email"]).token
    t2 = mails.wait(second["email"]).token
    r = confirm(server, t1, first["password"])
    assert r.status_code == 200, r.text
    assert r.json()["account"]["username"] == username
    r = confirm(server, t2, second["password"])
    assert_error(r, 409)
    # The username still belongs to the first account only.
    assert login(server, username, first["password"]).status_code == 200
    assert_error(login(server, second["email"], second["password"]), 401, "invalid_credentials")


def test_confirmation_link_lives_24_hours(fresh_database, server_factory, tmp_path):
    # fresh_database comes first so that it is dropped after the servers stop.
    store = ClockedStore(server_factory, tmp_path / "data", fresh_database)
    srv = store.start()
    early, late = new_identity("early"), new_identity("late")
    for ident in (early, late):
        assert signup(srv, ident["email"], ident["username"], ident["password"]).status_code == 202
    mails = store.mails
    t_early = mails.wait(early["email"]).token
    t_late = mails.wait(late["email"]).token

    srv = store.start(offset=limits.LIMIT_CONFIRM_TTL_S - 3600)  # 23 h later: still valid
    r = confirm(srv, t_early, early["password"])
    assert r.status_code == 200, r.text

    srv = store.start(offset=limits.LIMIT_CONFIRM_TTL_S + 120)  # just over 24 h: expired
    assert_error(confirm(srv, t_late, late["password"]), 400, "invalid_token")
    assert_error(login(srv, late["username"], late["password"]), 401, "invalid_credentials")


def test_confirm_link_is_single_use_under_concurrency(server, mails):
    ident = new_identity("conc")
    assert signup(server, ident["email"], ident["username"], ident["password"]).status_code == 202
    token = mails.wait(ident["email"]).token
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        answers = list(ex.map(lambda _: confirm(server, token, ident["password"]), range(8)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] + [400] * 7, codes
    for r in answers:
        if r.status_code == 400:
            assert_error(r, 400, "invalid_token")

"""Login, sessions and logout (SPEC sections 3 and 4): one failure answer,
login by username or email in any case, last login, bearer sessions, at most
20 sessions per account, and the failed-login throttles (per account and per
IP) on dedicated servers, since the IP limit is per server process."""

import concurrent.futures
import datetime
import time

import pytest

import limits
from accounts_helpers import (
    ClockedStore,
    assert_error,
    assert_unauthenticated,
    bearer,
    create_account,
    get_account,
    login,
    login_token,
    new_identity,
    now_utc,
    outbox,
    parse_time,
    signup,
    uniq,
)

MAX_SESSIONS = limits.LIMIT_SESSIONS_PER_ACCOUNT


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


@pytest.fixture(scope="module")
def alice(server, mails):
    return create_account(server, mails, "alice")


# ------------------------------------------------------------ login


@pytest.mark.parametrize("form", ["username", "USERNAME", "email", "EMAIL", "Mixed"])
def test_login_by_username_or_email_any_case(server, alice, form):
    name = {
        "username": alice.username,
        "USERNAME": alice.username.upper(),
        "email": alice.email,
        "EMAIL": alice.email.upper(),
        "Mixed": alice.email[:3].upper() + alice.email[3:],
    }[form]
    before = now_utc()
    r = login(server, name, alice.password)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"token", "expires_at"}, body
    assert isinstance(body["token"], str) and len(body["token"]) >= 32
    expires = parse_time(body["expires_at"])
    delta = expires - before
    ttl = datetime.timedelta(seconds=limits.LIMIT_SESSION_TTL_S)
    assert ttl - datetime.timedelta(hours=1) <= delta <= ttl + datetime.timedelta(minutes=5), (
        f"expires_at {body['expires_at']} is not ~30 days ahead"
    )
    assert get_account(server, body["token"])["id"] == alice.id


def test_every_login_failure_is_the_same_401(server, mails, alice):
    pending = new_identity("pending")
    assert signup(server, pending["email"], pending["username"], pending["password"]).status_code == 202
    mails.wait(pending["email"])  # the signup is stored, not yet confirmed

    answers = {
        "unknown username": login(server, f"nobody_{uniq()}", alice.password),
        "unknown email": login(server, f"nobody.{uniq()}@example.org", alice.password),
        "wrong password": login(server, alice.username, alice.password + "x"),
        "wrong password by email": login(server, alice.email, "Not-The-Password-42"),
        "unconfirmed by username": login(server, pending["username"], pending["password"]),
        "unconfirmed by email": login(server, pending["email"], pending["password"]),
        "empty password": login(server, alice.username, ""),
        "not a login name": login(server, "!!! not a name !!!", alice.password),
        "overlong password": login(server, alice.username, "Zx9#" * 300),
    }
    bodies = {}
    for what, r in answers.items():
        assert_error(r, 401, "invalid_credentials")
        bodies[what] = r.json()
    first = next(iter(bodies.values()))
    for what, b in bodies.items():
        assert b == first, f"{what}: {b} differs from {first}"


def test_login_sets_last_login_at(server, mails):
    acc = create_account(server, mails, "lastlogin")
    t0 = parse_time(get_account(server, acc.token)["last_login_at"])
    # A failed login does not count as a login.
    time.sleep(1.1)
    assert login(server, acc.username, "Wrong-Password-991").status_code == 401
    assert parse_time(get_account(server, acc.token)["last_login_at"]) == t0
    before = now_utc().replace(microsecond=0)
    token = login_token(server, acc.username, acc.password)
    t1 = parse_time(get_account(server, token)["last_login_at"])
    assert t1 > t0, (t0, t1)
    assert before - datetime.timedelta(seconds=1) <= t1 <= now_utc() + datetime.timedelta(seconds=1), (before, t1)


# ------------------------------------------------------------ sessions


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer " + "A" * 43},
        {"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="},
        {"Authorization": "Token abc"},
    ],
)
def test_account_needs_a_valid_bearer_token(server, headers):
    r = server.get("/v1/account", headers=headers)
    assert_unauthenticated(r)


def test_bearer_scheme_is_case_insensitive_and_token_exact(server, alice):
    token = login_token(server, alice.username, alice.password)
    r = server.get("/v1/account", headers={"Authorization": f"bearer {token}"})
    assert r.status_code == 200, r.text
    # A token with one character changed is not valid.
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert_unauthenticated(server.get("/v1/account", headers=bearer(flipped)))
    assert_unauthenticated(server.get("/v1/account", headers=bearer(token + "A")))


def test_logout_revokes_only_this_session(server, alice):
    t1 = login_token(server, alice.username, alice.password)
    t2 = login_token(server, alice.username, alice.password)
    r = server.post("/v1/logout", headers=bearer(t1))
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_unauthenticated(server.get("/v1/account", headers=bearer(t1)))
    assert get_account(server, t2)["id"] == alice.id
    # Logging out again with the dead token is itself unauthenticated.
    assert_unauthenticated(server.post("/v1/logout", headers=bearer(t1)))


def test_logout_with_json_body(server, alice):
    t = login_token(server, alice.username, alice.password)
    r = server.post("/v1/logout", headers=bearer(t), json={})
    assert r.status_code == 204, r.text
    assert_unauthenticated(server.get("/v1/account", headers=bearer(t)))


def test_logout_without_token(server):
    assert_unauthenticated(server.post("/v1/logout"))


def test_at_most_20_sessions_the_oldest_evicted(server, mails):
    acc = create_account(server, mails, "many")
    tokens = [acc.token]  # the confirmation opened the first session
    for _ in range(MAX_SESSIONS + 1):
        tokens.append(login_token(server, acc.username, acc.password))
    # 22 sessions were opened; the newest 20 live, the 2 oldest are gone.
    statuses = [server.get("/v1/account", headers=bearer(t)).status_code for t in tokens]
    assert statuses[:2] == [401, 401], statuses
    assert statuses[2:] == [200] * MAX_SESSIONS, statuses


def test_at_most_20_sessions_after_21_logins(server, mails):
    acc = create_account(server, mails, "many2")
    assert server.post("/v1/logout", headers=bearer(acc.token)).status_code == 204
    tokens = [login_token(server, acc.username, acc.password) for _ in range(MAX_SESSIONS + 1)]
    assert_unauthenticated(server.get("/v1/account", headers=bearer(tokens[0])))
    assert server.get("/v1/account", headers=bearer(tokens[MAX_SESSIONS])).status_code == 200
    assert server.get("/v1/account", headers=bearer(tokens[1])).status_code == 200


# ------------------------------------------------------------ throttles


@pytest.fixture(scope="module")
def throttle_server(module_server_factory):
    return module_server_factory.start()


def _retry_after(r):
    ra = r.headers.get("Retry-After")
    assert ra is not None, f"429 without Retry-After: {r.headers}"
    assert ra.isdigit(), f"Retry-After {ra!r} is not an integer of seconds"
    assert 0 < int(ra) <= limits.LIMIT_LOGIN_WINDOW_S, ra
    return int(ra)


def test_ten_failures_lock_the_account(throttle_server):
    srv = throttle_server
    mails = outbox(srv)
    victim = create_account(srv, mails, "victim")
    other = create_account(srv, mails, "bystander")
    # Ten failures for one account, under every name it has.
    names = [victim.username, victim.username.upper(), victim.email, victim.email.upper()]
    for i in range(limits.LIMIT_LOGIN_FAIL_ACCOUNT):
        r = login(srv, names[i % len(names)], f"Wrong-Password-{i}-x")
        assert_error(r, 401, "invalid_credentials")
    # Now even the right password is refused, by any name.
    for name in (victim.username, victim.email):
        r = login(srv, name, victim.password)
        assert_error(r, 429)
        _retry_after(r)
    # Existing sessions keep working, and other accounts can log in.
    assert get_account(srv, victim.token)["id"] == victim.id
    r = login(srv, other.username, other.password)
    assert r.status_code == 200, r.text


@pytest.fixture
def ip_throttle_server(server_factory):
    return server_factory.start()


def test_thirty_failures_lock_the_ip(ip_throttle_server):
    srv = ip_throttle_server
    mails = outbox(srv)
    acc = create_account(srv, mails, "ipvictim")
    for i in range(limits.LIMIT_LOGIN_FAIL_IP):
        r = login(srv, f"ghost_{i}_{uniq()}", "Whatever-Password-1")
        assert_error(r, 401, "invalid_credentials")
    # The 31st attempt is throttled, whatever the name and password.
    r = login(srv, f"ghost_new_{uniq()}", "Whatever-Password-1")
    assert_error(r, 429)
    _retry_after(r)
    r = login(srv, acc.username, acc.password)
    assert_error(r, 429)
    _retry_after(r)
    # Authenticated calls are not login attempts.
    assert get_account(srv, acc.token)["id"] == acc.id


def test_sessions_live_30_days(fresh_database, server_factory, tmp_path):
    # fresh_database comes first so that it is dropped after the servers stop.
    store = ClockedStore(server_factory, tmp_path / "data", fresh_database)
    srv = store.start()
    acc = create_account(srv, store.mails, "ttl")
    token = login_token(srv, acc.username, acc.password)
    expires = parse_time(login(srv, acc.username, acc.password).json()["expires_at"])

    srv = store.start(offset=limits.LIMIT_SESSION_TTL_S - 3600)  # 29 days 23 hours later
    assert get_account(srv, token)["id"] == acc.id
    srv = store.start(offset=limits.LIMIT_SESSION_TTL_S + 120)  # just over 30 days
    assert now_utc() + datetime.timedelta(seconds=limits.LIMIT_SESSION_TTL_S + 60) > expires
    assert_unauthenticated(srv.get("/v1/account", headers=bearer(token)))
    assert_unauthenticated(srv.get("/v1/account", headers=bearer(acc.token)))
    # The password still works and opens a new session.
    assert get_account(srv, login_token(srv, acc.email, acc.password))["id"] == acc.id


def test_at_most_20_sessions_under_concurrent_logins(server, mails):
    acc = create_account(server, mails, "concsess")
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        # 30 argon2id hashes through the hash slots: generous time for a loaded machine
        answers = list(ex.map(lambda _: server.post(
            "/v1/login", json={"login": acc.username, "password": acc.password}, timeout=120),
            range(30)))
    assert [r.status_code for r in answers] == [200] * 30
    alive = sum(server.get("/v1/account", headers=bearer(r.json()["token"])).status_code == 200 for r in answers)
    alive += server.get("/v1/account", headers=bearer(acc.token)).status_code == 200
    assert alive == MAX_SESSIONS, f"{alive} sessions alive after 31"


def test_the_bearer_challenge_goes_with_401_only(server, mails):
    """WWW-Authenticate belongs to 401 answers (RFC 9110 11.6.1), not to the
    answers of authenticated requests."""
    acc = create_account(server, mails, "challenge")
    ok = server.get("/v1/account", headers=bearer(acc.token))
    assert ok.status_code == 200, ok.text
    assert "WWW-Authenticate" not in ok.headers, ok.headers
    bad = server.get("/v1/account", headers=bearer("x" * 43))
    assert bad.status_code == 401
    assert bad.headers.get("WWW-Authenticate", "").startswith("Bearer"), bad.headers

"""Issue 12 item 3: every failed login does the same work, whatever failed.

Known names with a password over LIMIT_PASSWORD_MAX bytes used to skip
argon2id entirely (about 1 ms) while unknown names paid for one dummy
verification (about 45 ms): a timing oracle for registered names. The proof
here is deterministic: the server counts every argon2id verification in the
metric password_verifications, and each login attempt, whatever was wrong
with it, must move that counter by exactly one."""

import pytest

import limits
from accounts_helpers import assert_error, create_account, outbox, uniq
from hostile_helpers import metrics

COUNTER = 'atelier_events_total{event="password_verifications"}'


@pytest.fixture
def work_server(server_factory):
    return server_factory.start()


def _verifications(srv):
    # The counter must exist: "0 verifications" of a binary without it would
    # prove nothing about a throttled login.
    got = metrics(srv)
    assert COUNTER in got, f"no {COUNTER} in /metrics"
    return got[COUNTER]


def _attempt(srv, login_name, password):
    before = _verifications(srv)
    r = srv.post("/v1/login", json={"login": login_name, "password": password})
    return r, _verifications(srv) - before


def test_every_login_costs_exactly_one_verification(work_server):
    srv = work_server
    acc = create_account(srv, outbox(srv), "work")
    over = "x" * (limits.LIMIT_PASSWORD_MAX + 1)
    huge = "y" * (limits.LIMIT_PASSWORD_MAX * 8)
    cases = [
        ("known name, wrong password", acc.username, "Wrong-Password-42-x"),
        ("known name, password a byte over the limit", acc.username, over),
        ("known address, password far over the limit", acc.email.upper(), huge),
        ("unknown name, wrong password", f"nobody_{uniq()}", "Wrong-Password-42-x"),
        ("unknown name, password over the limit", f"nobody_{uniq()}", over),
        ("unknown address, password over the limit", f"nobody.{uniq()}@example.org", huge),
        ("a name no account can have", "not a name!", "Wrong-Password-42-x"),
    ]
    assert len(cases) < limits.LIMIT_LOGIN_FAIL_ACCOUNT  # no throttle in the way
    bodies = set()
    for what, name, password in cases:
        r, n = _attempt(srv, name, password)
        assert_error(r, 401, "invalid_credentials")
        bodies.add(r.text)
        assert n == 1, f"{what}: {n:g} password verifications, expected exactly 1"
    assert len(bodies) == 1, f"the failure answers differ: {bodies}"
    r, n = _attempt(srv, acc.username, acc.password)
    assert r.status_code == 200, r.text
    assert n == 1, f"a successful login: {n:g} password verifications, expected exactly 1"


def test_a_throttled_login_does_no_verification_known_or_not(work_server):
    srv = work_server
    acc = create_account(srv, outbox(srv), "workthr")
    ghost = f"ghost_{uniq()}"
    for name in (acc.username, ghost):
        for i in range(limits.LIMIT_LOGIN_FAIL_ACCOUNT):
            assert_error(srv.post("/v1/login", json={"login": name, "password": f"Wrong-{i}-pw-x"}), 401)
        r, n = _attempt(srv, name, "Wrong-Password-again-x")
        assert_error(r, 429)
        assert n == 0, f"a throttled login for {name!r} ran {n:g} verifications"

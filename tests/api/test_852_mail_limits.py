"""Issue 12 item 6: the routes that send mail are limited per recipient and
per client, and the mail queue itself caps mail per recipient per hour.

Fifteen signups for one address used to mail it fifteen times in three
seconds. Now signup, password forgot and email change count each request
against the address it names (LIMIT_MAIL_PER_RECIPIENT, whether or not an
account has it, so the 429 tells nothing) and against the client
(LIMIT_MAIL_PER_CLIENT); and whatever the route, at most
LIMIT_MAIL_QUEUE_PER_RCPT mails per hour are queued for one address (keyed
by a keyed hash in the table mail_recipients, never in clear)."""

import concurrent.futures
import threading
import time

import pytest

import limits
from accounts_helpers import (
    MAIL_WAIT_S,
    assert_error,
    bearer,
    create_account,
    new_identity,
    outbox,
    uniq,
)
from hostile_helpers import metrics



@pytest.fixture
def mail_server(server_factory):
    return server_factory.start(["--trusted-proxy", "127.0.0.1"])


def _ip(n):
    return {"X-Forwarded-For": f"198.51.100.{n}"}


def _signup(srv, email, ip=1):
    ident = new_identity("flood")
    return srv.post("/v1/signup", json={"email": email, "username": ident["username"],
                                        "password": ident["password"]}, headers=_ip(ip))


def _forgot(srv, email, ip=1):
    return srv.post("/v1/password/forgot", json={"email": email}, headers=_ip(ip))


def _settled(mails, address, want):
    """Mails to address once delivery has caught up (at least `want`, or
    MAIL_WAIT_S without a new one)."""
    deadline = time.monotonic() + MAIL_WAIT_S
    got = mails.to(address)
    while len(got) < want and time.monotonic() < deadline:
        time.sleep(0.1)
        got = mails.to(address)
    return got


def _drain(srv, mails):
    """Queue one more mail and wait for it: what was queued before is out."""
    sentinel = f"sentinel.{uniq()}@example.org"
    assert _signup(srv, sentinel, ip=250).status_code == 202
    mails.wait(sentinel)


def test_signups_for_one_address_are_limited(mail_server):
    srv, mails = mail_server, outbox(mail_server)
    victim = f"victim.{uniq()}@example.org"
    # From several clients: the limit is the address's, not the client's.
    for i in range(limits.LIMIT_MAIL_PER_RECIPIENT):
        r = _signup(srv, victim, ip=10 + i)
        assert r.status_code == 202, r.text
    for i in range(3):
        r = _signup(srv, victim.upper(), ip=20 + i)
        assert_error(r, 429)
        assert r.headers.get("Retry-After", "").isdigit(), r.headers
    _drain(srv, mails)
    assert len(mails.to(victim)) == limits.LIMIT_MAIL_PER_RECIPIENT


@pytest.mark.parametrize("registered", [True, False])
def test_password_forgot_is_limited_alike_for_any_address(mail_server, registered):
    srv, mails = mail_server, outbox(mail_server)
    address = create_account(srv, mails, "forgot").email if registered else f"nobody.{uniq()}@example.org"
    left = limits.LIMIT_MAIL_PER_RECIPIENT - 1 if registered else limits.LIMIT_MAIL_PER_RECIPIENT  # the signup named the address once
    answers = [_forgot(srv, address, ip=30 + i).status_code for i in range(left + 2)]
    assert answers == [202] * left + [429] * 2, answers


def test_signup_and_forgot_share_the_address_limit(mail_server):
    srv = mail_server
    address = f"shared.{uniq()}@example.org"
    for i in range(limits.LIMIT_MAIL_PER_RECIPIENT):
        r = (_signup if i % 2 else _forgot)(srv, address, ip=40 + i)
        assert r.status_code == 202, r.text
    assert_error(_forgot(srv, address, ip=49), 429)
    assert_error(_signup(srv, address, ip=49), 429)


def test_email_change_is_limited_per_new_address(mail_server):
    srv, mails = mail_server, outbox(mail_server)
    acc = create_account(srv, mails, "mover")
    target = f"target.{uniq()}@example.org"
    answers = []
    for i in range(limits.LIMIT_MAIL_PER_RECIPIENT + 2):
        r = srv.post("/v1/account/email", headers={**bearer(acc.token), **_ip(60 + i)},
                     json={"email": target, "password": acc.password})
        answers.append(r.status_code)
    assert answers == [202] * limits.LIMIT_MAIL_PER_RECIPIENT + [429] * 2, answers


def test_mail_routes_are_limited_per_client(mail_server):
    srv = mail_server
    for i in range(limits.LIMIT_MAIL_PER_CLIENT):
        r = _forgot(srv, f"many{i}.{uniq()}@example.org", ip=70)
        assert r.status_code == 202, f"request {i + 1}: {r.status_code} {r.text}"
    assert_error(_forgot(srv, f"one.more.{uniq()}@example.org", ip=70), 429)
    assert_error(_signup(srv, f"one.more.{uniq()}@example.org", ip=70), 429)
    # Another client is not affected.
    assert _forgot(srv, f"other.{uniq()}@example.org", ip=71).status_code == 202


def test_the_queue_caps_mail_per_address_whatever_the_route(mail_server):
    """Each email change mails a notice to the current address, which the
    request does not name: only the queue's own cap bounds those."""
    srv, mails = mail_server, outbox(mail_server)
    acc = create_account(srv, mails, "capped")  # its confirmation mail counts too
    requests_n = limits.LIMIT_MAIL_QUEUE_PER_RCPT + 3
    for i in range(requests_n):
        r = srv.post("/v1/account/email", headers={**bearer(acc.token), **_ip(100 + i)},
                     json={"email": f"new{i}.{uniq()}@example.org", "password": acc.password})
        assert r.status_code == 202, r.text
    got = _settled(mails, acc.email, limits.LIMIT_MAIL_QUEUE_PER_RCPT)
    _drain(srv, mails)
    got = mails.to(acc.email)
    assert len(got) == limits.LIMIT_MAIL_QUEUE_PER_RCPT, (
        f"{len(got)} mails to one address within the hour (cap {limits.LIMIT_MAIL_QUEUE_PER_RCPT}): "
        f"{[m.subject for m in got]}")
    assert metrics(srv).get('atelier_events_total{event="mail_capped"}', 0) >= requests_n + 1 - limits.LIMIT_MAIL_QUEUE_PER_RCPT


def test_requests_in_flight_together_stop_at_the_limit(mail_server):
    """Mailing requests for one address sent all at once, from many clients:
    exactly LIMIT_MAIL_PER_RECIPIENT pass (the throttle counts and checks in
    one step); a refused one gives its client's place back."""
    srv = mail_server
    address, n = f"rush.{uniq()}@example.org", 3 * limits.LIMIT_MAIL_PER_RECIPIENT
    barrier = threading.Barrier(n)

    def one(i):
        barrier.wait()
        return _forgot(srv, address, ip=100 + i).status_code

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        statuses = list(ex.map(one, range(n)))
    assert sorted(set(statuses)) == [202, 429], statuses
    assert statuses.count(202) == limits.LIMIT_MAIL_PER_RECIPIENT, statuses
    # A refused client's place was given back: client 100 + i, refused,
    # still has all of LIMIT_MAIL_PER_CLIENT for other addresses.
    refused = 100 + statuses.index(429)
    for i in range(limits.LIMIT_MAIL_PER_CLIENT):
        r = _forgot(srv, f"other{i}.{uniq()}@example.org", ip=refused)
        assert r.status_code == 202, f"request {i + 1}: {r.status_code} {r.text}"
    assert_error(_forgot(srv, f"one.more.{uniq()}@example.org", ip=refused), 429)

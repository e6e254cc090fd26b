"""Mail through SMTP (SPEC section 2: mail is queued in the database and
delivered asynchronously, never lost): a real aiosmtpd Mailbox sink run with
Debian's Python, and a relay that is down when the mail is queued."""

import os
import socket
import time

import pytest

from accounts_helpers import (
    SmtpSink,
    confirm,
    get_account,
    login,
    new_identity,
    signup,
)


@pytest.fixture
def sink():
    s = SmtpSink().start()
    yield s
    s.stop()


def test_signup_mail_arrives_through_smtp(sink, server_factory):
    srv = server_factory.start(
        extra_args=["--smtp", f"smtp://127.0.0.1:{sink.port}", "--smtp-tls", "off",
                    "--public-url", "https://atelier.example"]
    )
    ident = new_identity("smtp")
    r = signup(srv, ident["email"], ident["username"], ident["password"])
    assert r.status_code == 202, r.text
    mail = sink.reader.wait(ident["email"], timeout=10)

    # Delivered to the right envelope recipient, with the usual headers.
    assert mail.msg["X-RcptTo"] is not None and ident["email"] in mail.msg["X-RcptTo"], mail.raw[:500]
    for h in ("Date", "From", "To", "Subject", "Message-ID"):
        assert mail.msg[h], f"the mail has no {h} header"
    assert ident["password"] not in mail.raw.decode("utf-8", "replace")
    assert "https://atelier.example/" in mail.body, mail.body
    # Nothing went to the outbox instead.
    outbox_dir = os.path.join(srv.data_dir, "outbox")
    assert not os.path.isdir(outbox_dir) or os.listdir(outbox_dir) == [], os.listdir(outbox_dir)

    # The link works.
    r = confirm(srv, mail.token, ident["password"])
    assert r.status_code == 200, r.text
    assert get_account(srv, r.json()["token"])["email"] == ident["email"]
    assert login(srv, ident["username"], ident["password"]).status_code == 200


def test_mail_survives_a_relay_that_is_down(server_factory):
    sink = SmtpSink()  # port chosen, nothing listens yet
    try:
        srv = server_factory.start(
            extra_args=["--smtp", f"smtp://127.0.0.1:{sink.port}", "--smtp-tls", "off"]
        )
        ident = new_identity("retry")
        r = signup(srv, ident["email"], ident["username"], ident["password"])
        assert r.status_code == 202, r.text
        # Let the first delivery attempt(s) fail: nothing listens on the port.
        time.sleep(2.5)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", sink.port), timeout=2).close()
        sink.start()
        # Backoff starts at 2 s and doubles: the mail must arrive, later.
        mail = sink.reader.wait(ident["email"], timeout=25)
        r = confirm(srv, mail.token, ident["password"])
        assert r.status_code == 200, r.text
        # Exactly one copy was delivered.
        time.sleep(1.0)
        assert len(sink.reader.to(ident["email"])) == 1, [m.subject for m in sink.reader.all()]
    finally:
        sink.stop()

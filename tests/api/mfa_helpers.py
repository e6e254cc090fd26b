"""Helpers for the two-factor tests (test_180_mfa*.py) and for the account
fixtures that turn 2FA on (lifecycle_helpers.populate): RFC 6238 in Python
(hmac, hashlib), codes for the server's own clock (its --clock-offset
included), and the setup + enable of an account.

A code is accepted once: each use must be of a later time step than the last
one the server accepted for the account. Mfa.next_code() hands out the
earliest step still usable within the server's window (one step of drift
either way), and waits for the next step when the window is used up."""

import base64
import hashlib
import hmac
import re
import struct
import time

import limits

STEP = limits.LIMIT_MFA_STEP_S
DIGITS = limits.LIMIT_MFA_DIGITS
DRIFT = limits.LIMIT_MFA_DRIFT_STEPS
RECOVERY_RE = re.compile(r"^[a-z2-7]{5}-[a-z2-7]{5}$")


def b32decode(secret):
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def hotp(key, counter, digits=DIGITS, alg=hashlib.sha1):
    """RFC 4226 section 5.3 (dynamic truncation)."""
    mac = hmac.new(key, struct.pack(">Q", counter), alg).digest()
    off = mac[-1] & 0x0F
    n = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return str(n % 10 ** digits).zfill(digits)


def totp(secret_b32, step, digits=DIGITS):
    """The code of a base32 secret at a time step (T0 = 0, HMAC-SHA1)."""
    return hotp(b32decode(secret_b32), step, digits)


# The helper itself against RFC 6238 appendix B (SHA-1 rows), at import.
assert hotp(b"12345678901234567890", 59 // 30, 8) == "94287082"
assert hotp(b"12345678901234567890", 1111111109 // 30, 8) == "07081804"
assert hotp(b"12345678901234567890", 20000000000 // 30, 8) == "65353130"
assert hotp(b"12345678901234567890123456789012", 1234567890 // 30, 8, hashlib.sha256) == "91819424"


def clock_offset(srv):
    """The server's --clock-offset in seconds (0 when not given)."""
    args = [str(a) for a in srv.args]
    for i, a in enumerate(args):
        if a == "--clock-offset" and i + 1 < len(args):
            return int(args[i + 1])
        if a.startswith("--clock-offset="):
            return int(a.split("=", 1)[1])
    return 0


def server_time(srv):
    return time.time() + clock_offset(srv)


def server_step(srv):
    return int(server_time(srv)) // STEP


def settle(srv, margin=4.0):
    """Return at least `margin` seconds before the server's next step
    boundary, so that codes computed now are checked in the same step."""
    into = server_time(srv) % STEP
    if into > STEP - margin:
        time.sleep(STEP - into + 0.3)


class Mfa:
    """An account's 2FA as the test knows it: the secret (base32), the
    recovery codes still unused, the last step the server accepted."""

    def __init__(self, secret, uri=None, setup=None):
        self.secret = secret
        self.uri = uri
        self.setup = setup or {}
        self.recovery = []
        self.last_step = -1

    def code_at(self, step):
        return totp(self.secret, step)

    def next_code(self, srv):
        """A code the server will accept now (the earliest usable step);
        marks its step used."""
        while True:
            settle(srv)
            now = server_step(srv)
            for s in range(now - DRIFT, now + DRIFT + 1):
                if s > self.last_step:
                    self.last_step = s
                    return self.code_at(s)
            time.sleep(STEP - server_time(srv) % STEP + 0.3)

    def recovery_code(self):
        return self.recovery.pop()


def setup(srv, acc):
    r = srv.post("/v1/account/mfa/setup", headers=acc.auth, json={"password": acc.password})
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    return Mfa(body["secret"], body["otpauth_uri"], body)


def enable(srv, acc):
    """Set up and enable 2FA on acc; returns its Mfa (with the 10 codes)."""
    m = setup(srv, acc)
    r = srv.post("/v1/account/mfa/enable", headers=acc.auth, json={"code": m.next_code(srv)})
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["enabled"] is True, body
    m.recovery = list(body["recovery_codes"])
    assert len(m.recovery) == limits.LIMIT_MFA_RECOVERY_CODES, body
    acc.mfa = m
    return m


def login(srv, acc, code=None, password=None, headers=None):
    body = {"login": acc.username, "password": password or acc.password}
    if code is not None:
        body["code"] = code
    return srv.post("/v1/login", json=body, headers=headers or {})

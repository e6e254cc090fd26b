#!/usr/bin/env python3
"""The curl examples of docs/API.md, run against a real server.

docs/API.md holds its examples between markers:

    <!-- example: NAME -->
    ```console
    $ curl ...            (the command, as written in STEPS below)
    HTTP/1.1 200 OK       (what the server answered, normalized)
    ...
    ```

This tool starts `atelier serve` (ATELIER_BIN or build/atelier) on a fresh
data directory (or --database URL), with its clock set to FIXED_NOW, runs
every step of STEPS in order with the real curl and bash, normalizes what
varies from run to run, and

  - (default, --check) compares each example block of docs/API.md with the
    answer of today's server; prints a unified diff and exits 1 when they
    differ, when a step has no block or a block no step, or when a route of
    src/api/routes.c has no example;
  - --write: rewrites the example blocks of docs/API.md (nothing else).

After changing what the server answers (messages, headers, new members),
regenerate with one command from the repository's root:

    tools/api_examples.py --write

tests/api/test_960_api_examples.py runs the check on both backends.

Normalization (so the examples do not drift by themselves):
  - the server's clock starts at FIXED_NOW (--clock-offset), and every
    timestamp is rounded down to 10 minutes from it, so a run that takes less
    than 10 minutes prints the same times;
  - ids, tokens, API keys, TOTP secrets and codes, recovery codes and
    request ids are replaced by fixed stand-ins of the same shape: a value
    the steps capture (NAME in `capture`) always gets the stand-in derived
    from NAME; any other by order of appearance. A command may hold a
    captured value as {NAME} (inside single quotes, where $NAME would not
    expand): it is shown as the stand-in and run with the real value;
    captured values are also exported to the shell as $NAME;
  - the headers every answer carries (Date, Connection, Content-Length,
    X-Request-Id, Cache-Control: no-store, X-Content-Type-Options) are left
    out but in the first example; a JSON body is shown indented, long ones
    cut after `lines` lines.
"""

import argparse
import base64
import datetime
import difflib
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "API.md")
ROUTES = os.path.join(ROOT, "src", "api", "routes.c")
FIXED_NOW = datetime.datetime(2026, 12, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)
ROUND_S = 600
PASSWORD = "tulle-gusset-bias-42"
COMMON_HEADERS = ("date", "connection", "content-length", "x-request-id")
COMMON_VALUES = {("cache-control", "no-store"), ("x-content-type-options", "nosniff")}

J = "-H 'Content-Type: application/json'"
AUTH = '-H "Authorization: Bearer $TOKEN"'

# ---------------------------------------------------------------------------
# The steps, in the order they run (and, mostly, the order of docs/API.md).
# name: the marker in docs/API.md; cmd: the shell command (bash; $B is the
# server); capture: {NAME: "json.path"} taken from the JSON answer; after:
# a function run after the step (mail, TOTP); lines: the body's line cap;
# hidden: run, but not shown in docs/API.md (set-up the guide does not need).

FULL = ('"ankle":235,"biceps":350,"chest":1000,"crossSeam":870,"crossSeamFront":410,'
        '"crotchDepth":340,"head":590,"heel":360,"hips":840,"hpsToBust":280,"hpsToWaistBack":470,'
        '"inseam":780,"knee":410,"neck":380,"seat":1020,"seatBack":560,"shoulderSlope":13,'
        '"shoulderToElbow":360,"shoulderToShoulder":450,"shoulderToWrist":630,"upperLeg":625,'
        '"waist":810,"waistBack":410,"waistToArmpit":210,"waistToFloor":1160,"waistToHips":130,'
        '"waistToKnee":640,"waistToSeat":270,"waistToUpperLeg":340,"wrist":175')
MODEL_BODY = '{"name":"Everyday","breasts":false,"measurements":{' + FULL + '}}'
ODD_BODY = "{" + FULL.replace('"waist":810', '"waist":1300') + "}"


def _mail_token(ctx, match):
    """The token of the newest mail in the outbox whose text has `match`."""
    box = os.path.join(ctx["data"], "outbox")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        # a mail is written to a hidden .tmp file, then renamed to NAME.eml:
        # only finished mails are read (the .tmp may be gone by then)
        names = sorted(n for n in os.listdir(box) if n.endswith(".eml")) if os.path.isdir(box) else []
        for name in reversed(names):
            with open(os.path.join(box, name), encoding="utf-8", errors="replace") as f:
                text = f.read()
            text = re.sub(r"=\r?\n", "", text)  # quoted-printable soft breaks
            m = re.search(r"token=([A-Za-z0-9_-]{43})", text)
            if m and match in text and m.group(1) not in ctx["used_mail"]:
                ctx["used_mail"].add(m.group(1))
                return m.group(1)
        time.sleep(0.1)
    raise RuntimeError(f"no mail matching {match!r} in {box}")


def _totp(secret_b32, t):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(t) // 30), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def _confirm_token(ctx):
    ctx["vars"]["CONFIRM"] = _mail_token(ctx, "confirm")


def _reset_token(ctx):
    ctx["vars"]["RESET"] = _mail_token(ctx, "reset")


def _email_token(ctx):
    ctx["vars"]["EMAIL_TOKEN"] = _mail_token(ctx, "confirm")


def _code(ctx):
    """The app's code now (CODE), and the next step's (CODE2): a code is
    used once, and a later step is accepted (LIMIT_MFA_DRIFT_STEPS)."""
    t = time.time() + ctx["offset"]
    ctx["vars"]["CODE"] = _totp(ctx["vars"]["SECRET"], t)
    ctx["vars"]["CODE2"] = _totp(ctx["vars"]["SECRET"], t + 30)


def _tick(ctx):
    """Lists are ordered by creation time (whole seconds), then by id: wait
    for the next second so that the next thing created sorts after this one
    whatever the ids."""
    time.sleep(1.05)


STEPS = [
    dict(name="healthz", cmd="curl -si $B/healthz", all_headers=True),
    dict(name="openapi", cmd="""curl -s $B/v1/openapi.json \\
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["openapi"], d["info"]["title"], len(d["paths"]))'""",
         raw=True),
    dict(name="signup", cmd=f"""curl -si -X POST $B/v1/signup {J} \\
  -d '{{"email":"ada@example.org","username":"ada","password":"{PASSWORD}"}}'""", after=_confirm_token),
    dict(name="signup-invalid", cmd=f"""curl -si -X POST $B/v1/signup {J} \\
  -d '{{"email":"ada@example.org","username":"a","password":"{PASSWORD}"}}'"""),
    dict(name="confirm", cmd=f"""curl -si -X POST $B/v1/confirm {J} \\
  -d '{{"token":"{{CONFIRM}}","password":"{PASSWORD}"}}'""", capture={"FIRST": "token"}),
    dict(name="login", cmd=f"""curl -si -X POST $B/v1/login {J} \\
  -d '{{"login":"ada","password":"{PASSWORD}"}}'""", capture={"TOKEN": "token"}),
    dict(name="login-failed", cmd=f"""curl -si -X POST $B/v1/login {J} \\
  -d '{{"login":"ada","password":"not-the-password"}}'"""),
    dict(name="logout", cmd='curl -si -X POST $B/v1/logout -H "Authorization: Bearer $FIRST"'),
    dict(name="unauthenticated", cmd='curl -si $B/v1/account -H "Authorization: Bearer $FIRST"'),
    dict(name="password-forgot", cmd=f"""curl -si -X POST $B/v1/password/forgot {J} \\
  -d '{{"email":"ada@example.org"}}'""", after=_reset_token),
    dict(name="password-reset", cmd=f"""curl -si -X POST $B/v1/password/reset {J} \\
  -d '{{"token":"{{RESET}}","password":"{PASSWORD}-2"}}'"""),
    dict(name="login-again", cmd=f"""curl -si -X POST $B/v1/login {J} \\
  -d '{{"login":"ada@example.org","password":"{PASSWORD}-2"}}'""", capture={"TOKEN": "token"}),
    dict(name="account-get", cmd=f"curl -si $B/v1/account {AUTH}"),
    dict(name="account-patch", cmd=f"""curl -si -X PATCH $B/v1/account {AUTH} {J} \\
  -d '{{"bio":"I sew trousers.","social":{{"github":"ada","website":"https://ada.example.org"}},"consent":{{"open_data":true}}}}'"""),
    dict(name="account-patch-invalid", cmd=f"""curl -si -X PATCH $B/v1/account {AUTH} {J} \\
  -d '{{"social":{{"website":"ada.example.org"}}}}'"""),
    dict(name="password-change", cmd=f"""curl -si -X POST $B/v1/account/password {AUTH} {J} \\
  -d '{{"current_password":"{PASSWORD}-2","new_password":"{PASSWORD}"}}'"""),
    dict(name="password-wrong", cmd=f"""curl -si -X POST $B/v1/account/password {AUTH} {J} \\
  -d '{{"current_password":"guess","new_password":"{PASSWORD}-3"}}'"""),
    dict(name="email-change", cmd=f"""curl -si -X POST $B/v1/account/email {AUTH} {J} \\
  -d '{{"email":"ada@example.net","password":"{PASSWORD}"}}'""", after=_email_token),
    dict(name="email-confirm", cmd=f"""curl -si -X POST $B/v1/confirm {J} \\
  -d '{{"token":"{{EMAIL_TOKEN}}"}}'""", lines=8),
    dict(name="picture-put", cmd=f"""curl -si -X PUT $B/v1/account/picture {AUTH} \\
  -H 'Content-Type: image/png' --data-binary @portrait.png"""),
    dict(name="picture-get", cmd=f"curl -s -D - -o picture $B/v1/account/picture {AUTH}"),
    dict(name="picture-delete", cmd=f"curl -si -X DELETE $B/v1/account/picture {AUTH}"),
    dict(name="picture-bad", cmd=f"""curl -si -X PUT $B/v1/account/picture {AUTH} \\
  -H 'Content-Type: image/jpeg' --data-binary @portrait.png"""),
    dict(name="measurements", cmd='curl -si "$B/v1/measurements?breasts=false"', lines=16),
    dict(name="models-create", cmd=f"""curl -si -X POST $B/v1/models {AUTH} {J} \\
  -d '{MODEL_BODY}'""", capture={"ID": "id"}, lines=12, after=_tick),
    dict(name="models-create-invalid", cmd=f"""curl -si -X POST $B/v1/models {AUTH} {J} \\
  -d '{{"name":"Tiny","breasts":false,"measurements":{{"neck":20}}}}'"""),
    dict(name="models-create-warning", cmd=f"""curl -si -X POST $B/v1/models {AUTH} {J} \\
  -d '{{"name":"Sketch","breasts":false,"measurements":{{"neck":380,"waist":1500}},"notes":"taken in March"}}'""",
         capture={"OTHER": "id"}),
    dict(name="models-list", cmd=f"curl -si $B/v1/models {AUTH}", lines=14),
    dict(name="model-get", cmd=f"curl -si $B/v1/models/$ID {AUTH}", lines=10),
    dict(name="model-patch", cmd=f"""curl -si -X PATCH $B/v1/models/$OTHER {AUTH} {J} \\
  -d '{{"measurements":{{"waist":810,"chest":1000}},"notes":null}}'"""),
    dict(name="model-patch-breasts", cmd=f"""curl -si -X PATCH $B/v1/models/$OTHER {AUTH} {J} \\
  -d '{{"measurements":{{"underbust":800}}}}'"""),
    dict(name="model-measurements-get", cmd=f"curl -s $B/v1/models/$ID/measurements {AUTH} > body.json; head -c 150 body.json; echo", raw=True),
    dict(name="model-measurements-put", cmd=f"""curl -si -X PUT $B/v1/models/$OTHER/measurements {AUTH} {J} \\
  -d @body.json""", lines=6),
    dict(name="avatar-put", cmd=f"""curl -si -X PUT $B/v1/models/$OTHER/avatar {AUTH} \\
  -H 'Content-Type: image/png' --data-binary @portrait.png"""),
    dict(name="avatar-get", cmd=f"curl -s -D - -o avatar $B/v1/models/$OTHER/avatar {AUTH}"),
    dict(name="avatar-delete", cmd=f"curl -si -X DELETE $B/v1/models/$OTHER/avatar {AUTH}"),
    dict(name="model-delete", cmd=f"curl -si -X DELETE $B/v1/models/$OTHER {AUTH}"),
    dict(name="model-not-found", cmd=f"curl -si $B/v1/models/$OTHER {AUTH}"),
    dict(name="designs", cmd="curl -si $B/v1/designs", lines=40),
    dict(name="pattern-svg", cmd=f"""curl -s -D - -o body.svg "$B/v1/models/$ID/patterns/body.svg?sa=12" {AUTH}"""),
    dict(name="pattern-pdf", cmd=f"""curl -s -D - -o trouser.pdf \\
  "$B/v1/models/$ID/patterns/trouser.pdf?paper=a4&units=imperial&sa=15.875&leg_shape=slim" {AUTH}"""),
    dict(name="pattern-json", cmd=f"curl -si $B/v1/models/$ID/patterns/tshirt.json?sleeve=long {AUTH}", lines=60),
    dict(name="pattern-invalid-option", cmd=f"""curl -si "$B/v1/models/$ID/patterns/skirt.svg?waist_ease=12" {AUTH}"""),
    dict(name="pattern-not-for-body", cmd=f"curl -si $B/v1/models/$ID/patterns/bodice.svg {AUTH}"),
    dict(name="pattern-unknown-design", cmd=f"curl -si $B/v1/models/$ID/patterns/cape.svg {AUTH}"),
    dict(name="model-sparse", cmd=f"""curl -si -X POST $B/v1/models {AUTH} {J} \\
  -d '{{"name":"Half measured","breasts":false,"measurements":{{"neck":380,"chest":1000,"waist":850}}}}'""",
         capture={"SPARSE": "id"}, hidden=True, after=_tick),
    dict(name="pattern-missing", cmd=f"curl -si $B/v1/models/$SPARSE/patterns/trouser.svg {AUTH}"),
    dict(name="model-odd", cmd=f"""curl -si -X PUT $B/v1/models/$SPARSE/measurements {AUTH} {J} \\
  -d '{ODD_BODY}'""", hidden=True),
    dict(name="pattern-warnings", cmd=f"""curl -s -D - -o body.svg $B/v1/models/$SPARSE/patterns/body.svg {AUTH} \\
  | grep -i atelier-warnings""", raw=True),
    dict(name="pattern-warnings-json", cmd=f"""curl -s $B/v1/models/$SPARSE/patterns/body.json {AUTH} \\
  | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["warnings"], indent=2))'""", raw=True),
    dict(name="saved-create", cmd=f"""curl -si -X POST $B/v1/patterns {AUTH} {J} \\
  -d '{{"model_id":"{{ID}}","design":"trouser","name":"Linen trousers","notes":"lengthen 2 cm",
       "options":{{"sa":12,"paper":"a4","leg_shape":"wide"}}}}'""", capture={"PID": "id"}, lines=70),
    dict(name="saved-create-invalid", cmd=f"""curl -si -X POST $B/v1/patterns {AUTH} {J} \\
  -d '{{"model_id":"{{ID}}","design":"skirt","name":"Too eased","options":{{"waist_ease":12}}}}'"""),
    dict(name="saved-list", cmd=f"curl -si $B/v1/patterns {AUTH}", lines=30),
    dict(name="saved-get", cmd=f"curl -si $B/v1/patterns/$PID {AUTH}", lines=20),
    dict(name="saved-patch", cmd=f"""curl -si -X PATCH $B/v1/patterns/$PID {AUTH} {J} \\
  -d '{{"name":"Linen trousers, wide","options":{{"sa":null}}}}'""", lines=20),
    dict(name="saved-patch-design", cmd=f"""curl -si -X PATCH $B/v1/patterns/$PID {AUTH} {J} \\
  -d '{{"design":"skirt"}}'"""),
    dict(name="saved-svg", cmd=f"curl -s -D - -o trousers.svg $B/v1/patterns/$PID.svg {AUTH}"),
    dict(name="saved-pdf", cmd=f"""curl -s -D - -o trousers.pdf "$B/v1/patterns/$PID.pdf?paper=letter" {AUTH}"""),
    dict(name="saved-json", cmd=f"curl -si $B/v1/patterns/$PID.json {AUTH}", lines=24),
    dict(name="saved-refresh", cmd=f"curl -si -X POST $B/v1/patterns/$PID/refresh {AUTH}", lines=14),
    dict(name="saved-delete", cmd=f"curl -si -X DELETE $B/v1/patterns/$PID {AUTH}"),
    dict(name="apikey-create", cmd=f"""curl -si -X POST $B/v1/apikeys {AUTH} {J} \\
  -d '{{"name":"nightly backup","scope":"read","expires_at":"2027-03-01T00:00:00Z"}}'""",
         capture={"KEY": "key", "KEY_ID": "id"}),
    dict(name="apikey-use", cmd='curl -s $B/v1/account/export -H "Authorization: Bearer $KEY" -o backup.json; echo $?',
         raw=True),
    dict(name="apikey-scope", cmd=f"""curl -si -X POST $B/v1/models -H "Authorization: Bearer $KEY" {J} \\
  -d '{{"name":"x","breasts":false,"measurements":{{}}}}'"""),
    dict(name="apikey-list", cmd=f"curl -si $B/v1/apikeys {AUTH}"),
    dict(name="apikey-delete", cmd=f"curl -si -X DELETE $B/v1/apikeys/$KEY_ID {AUTH}"),
    dict(name="export", cmd=f"curl -si $B/v1/account/export {AUTH}", lines=60),
    dict(name="mfa-setup", cmd=f"""curl -si -X POST $B/v1/account/mfa/setup {AUTH} {J} \\
  -d '{{"password":"{PASSWORD}"}}'""", capture={"SECRET": "secret"}, after=_code),
    dict(name="mfa-enable", cmd=f"""curl -si -X POST $B/v1/account/mfa/enable {AUTH} {J} \\
  -d '{{"code":"{{CODE}}"}}'""", capture={"RECOVERY": "recovery_codes.0"}),
    dict(name="login-mfa-required", cmd=f"""curl -si -X POST $B/v1/login {J} \\
  -d '{{"login":"ada","password":"{PASSWORD}"}}'"""),
    dict(name="login-mfa", cmd=f"""curl -si -X POST $B/v1/login {J} \\
  -d '{{"login":"ada","password":"{PASSWORD}","code":"{{RECOVERY}}"}}'""", capture={"TOKEN": "token"}),
    dict(name="mfa-recovery", cmd=f"""curl -si -X POST $B/v1/account/mfa/recovery {AUTH} {J} \\
  -d '{{"password":"{PASSWORD}","code":"{{CODE2}}"}}'""", capture={"RECOVERY2": "recovery_codes.0"}),
    dict(name="mfa-disable", cmd=f"""curl -si -X DELETE $B/v1/account/mfa {AUTH} {J} \\
  -d '{{"password":"{PASSWORD}","code":"{{RECOVERY2}}"}}'"""),
    dict(name="restrict", cmd=f"""curl -si -X POST $B/v1/account/restrict {AUTH} {J} \\
  -d '{{"password":"{PASSWORD}"}}'"""),
    dict(name="restricted", cmd=f"""curl -si -X POST $B/v1/models {AUTH} {J} \\
  -d '{{"name":"x","breasts":false,"measurements":{{}}}}'"""),
    dict(name="restrict-lift", cmd=f"""curl -si -X DELETE $B/v1/account/restrict {AUTH} {J} \\
  -d '{{"password":"{PASSWORD}"}}'"""),
    dict(name="opendata", cmd="curl -si $B/v1/opendata"),
    dict(name="opendata-csv", cmd="curl -si $B/v1/opendata/measurements.csv"),
    dict(name="opendata-json", cmd="curl -si $B/v1/opendata/measurements.json"),
    dict(name="not-found", cmd="curl -si $B/v1/nothing"),
    dict(name="method-not-allowed", cmd="curl -si -X PUT $B/v1/designs"),
    dict(name="media-type", cmd=f"""curl -si -X POST $B/v1/login -H 'Content-Type: text/plain' \\
  -d '{{"login":"ada","password":"{PASSWORD}"}}'"""),
    dict(name="malformed-json", cmd=f"""curl -si -X POST $B/v1/login {J} -d '{{"login":"ada",}}'"""),
    dict(name="too-large", cmd=f"""head -c 70000 /dev/zero | tr '\\0' 'a' > big.txt
curl -si -X PATCH $B/v1/account {AUTH} {J} --data-binary @big.txt"""),
    dict(name="uri-too-long", cmd='curl -si "$B/v1/designs?x=$(head -c 9000 /dev/zero | tr \'\\0\' a)"'),
    dict(name="too-many-headers", cmd='curl -si $B/healthz $(for i in $(seq 70); do printf -- "-H X-%d:1 " $i; done)'),
    dict(name="not-implemented", cmd=f"""curl -si -X POST $B/v1/login {J} -H 'Transfer-Encoding: gzip' \\
  -H 'Content-Length:' -d '{{}}'"""),
    dict(name="account-delete", cmd=f"""curl -si -X DELETE $B/v1/account {AUTH} {J} \\
  -d '{{"password":"{PASSWORD}"}}'"""),
    dict(name="site-page", cmd="curl -s -D - -o login.html $B/login"),
    dict(name="site-asset", cmd="curl -s -D - -o site.css $B/assets/site.css"),
    dict(name="site-js", cmd="curl -s -D - -o app.js $B/assets/app.js", hidden=True),
    dict(name="site-svg", cmd="curl -s -D - -o logo.svg $B/assets/logo.svg", hidden=True),
    dict(name="site-illustration", cmd="curl -s -D - -o waist.svg $B/assets/m/waist.svg"),
]

# ---------------------------------------------------------------------------
# running


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _png(path):
    """A small opaque PNG (pure Python: zlib + crc)."""
    import zlib

    w, h = 64, 48
    raw = b"".join(b"\x00" + b"".join(bytes((x * 4 % 256, y * 5 % 256, 120)) for x in range(w))
                   for y in range(h))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


class Normalizer:
    """Replaces what varies from run to run by stable stand-ins."""

    def __init__(self):
        self.named = {}  # real value -> stand-in (captured values)
        self.anon = {}  # real value -> stand-in (by order)
        self.counter = 0

    @staticmethod
    def stand_in(real, seed):
        h = hashlib.sha256(("atelier-example:" + seed).encode()).digest() * 4
        if real.startswith("atk_"):
            return "atk_" + Normalizer.stand_in(real[4:], seed)
        if re.fullmatch(r"[0-9]+", real):
            return "".join(str(b % 10) for b in h)[:len(real)]
        if re.fullmatch(r"[0-9a-f]+", real):
            return h.hex()[:len(real)]
        if re.fullmatch(r"[A-Z2-7]+", real):
            return base64.b32encode(h).decode()[:len(real)]
        if re.fullmatch(r"[a-z0-9-]+", real):  # recovery codes: xxxx-xxxx
            alpha = "abcdefghijkmnpqrstuvwxyz23456789"
            return "".join(c if c == "-" else alpha[h[i] % len(alpha)] for i, c in enumerate(real))
        return base64.urlsafe_b64encode(h).decode().rstrip("=")[:len(real)]

    def name(self, real, name):
        if real and real not in self.named:
            self.named[real] = self.stand_in(real, "named:" + name)
        return self.named.get(real, real)

    def _anon(self, real):
        if real in self.named:
            return self.named[real]
        if real in self.named.values() or real in self.anon.values():
            return real  # a stand-in already
        if real not in self.anon:
            self.counter += 1
            self.anon[real] = self.stand_in(real, f"anon:{self.counter}")
        return self.anon[real]

    def text(self, s):
        for real, fake in self.named.items():
            s = s.replace(real, fake)

        def when(m):
            t = datetime.datetime.fromisoformat(m.group(0).replace("Z", "+00:00"))
            d = (t - FIXED_NOW).total_seconds()
            t = FIXED_NOW + datetime.timedelta(seconds=(d // ROUND_S) * ROUND_S)
            return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")

        s = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", when, s)
        # ids (22), tokens (43), keys, request ids (32 hex), TOTP secrets
        s = re.sub(r"(?<![A-Za-z0-9_-])(atk_[A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{22})"
                   r"(?![A-Za-z0-9_:-])", lambda m: self._anon(m.group(1)) if _looks_random(m.group(1))
                   else m.group(1), s)
        s = re.sub(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", lambda m: self._anon(m.group(0)), s)
        s = re.sub(r"(?<![A-Z2-7])[A-Z2-7]{32}(?![A-Z2-7])", lambda m: self._anon(m.group(0)), s)
        s = re.sub(r'(?<=")[a-z2-7]{5}-[a-z2-7]{5}(?=")', lambda m: self._anon(m.group(0)), s)
        return s


def _looks_random(s):
    """A random id or token, not a code: mixed classes of characters. (A
    header name, followed by ':', is never taken: see the pattern.)"""
    if re.fullmatch(r"[a-z_]+", s):  # a code such as waist_wider_than_block
        return False
    classes = sum(bool(re.search(p, s)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return classes >= 2


def _json_path(obj, path):
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


def _shorten(v, cap=100):
    """Long strings (a QR code's SVG) cut: the start says what they are."""
    if isinstance(v, str) and len(v) > cap:
        return v[:cap - 20] + "..."
    if isinstance(v, list):
        return [_shorten(x, cap) for x in v]
    if isinstance(v, dict):
        return {k: _shorten(x, cap) for k, x in v.items()}
    return v


def _render_http(out, step, first, norm):
    """curl -i / -D - output: status, headers, body."""
    out = out.replace("\r\n", "\n")
    if not re.match(r"HTTP/\d", out):
        return norm.text(out.rstrip("\n"))
    head, _, body = out.partition("\n\n")
    lines = head.split("\n")
    shown = [lines[0]]
    for h in lines[1:]:
        k, _, v = h.partition(":")
        k_l, v = k.strip().lower(), v.strip()
        if not first and (k_l in COMMON_HEADERS or (k_l, v) in COMMON_VALUES):
            continue
        if k_l == "date":
            v = FIXED_NOW.strftime("%a, %d %b %Y %H:%M:%S GMT")
        shown.append(f"{k.strip()}: {v}")
    text = "\n".join(shown)
    if body:
        try:
            doc = _shorten(json.loads(body))
            body = json.dumps(doc, indent=2, ensure_ascii=False)
        except ValueError:
            pass
        body_lines = body.rstrip("\n").split("\n")
        cap = step.get("lines", 30)
        if len(body_lines) > cap:
            body_lines = body_lines[:cap] + [f"... ({len(body_lines) - cap} more lines)"]
        text += "\n\n" + "\n".join(body_lines)
    return norm.text(text)


def run(binary, database=None, verbose=False):
    """Start a server, run every step; returns {name: rendered block} and
    the list of (method, path) the steps requested."""
    tmp = tempfile.mkdtemp(prefix="atelier-examples-")
    data = os.path.join(tmp, "data")
    work = os.path.join(tmp, "work")
    os.makedirs(data)
    os.makedirs(work)
    _png(os.path.join(work, "portrait.png"))
    port = _free_port()
    offset = int(FIXED_NOW.timestamp() - time.time())
    args = [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data", data,
            "--clock-offset", str(offset), "--public-url", "https://atelier.example"]
    if database:
        args += ["--database", database]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    log = open(os.path.join(tmp, "server.log"), "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    blocks, requested = {}, []
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n"
                                   + open(os.path.join(tmp, "server.log"), errors="replace").read()[-3000:])
            time.sleep(0.05)
        ctx = {"data": data, "vars": {}, "used_mail": set(), "offset": offset}
        norm = Normalizer()
        first = True
        for step in STEPS:
            shown_cmd, real_cmd = step["cmd"], step["cmd"]
            for name, value in ctx["vars"].items():
                norm.name(value, name)
                shown_cmd = shown_cmd.replace("{" + name + "}", norm.name(value, name))
                real_cmd = real_cmd.replace("{" + name + "}", value)
            if re.search(r"\{[A-Z_]+\}", real_cmd):
                raise RuntimeError(f"step {step['name']}: unknown placeholder in {real_cmd!r}")
            env_run = dict(env, B=base, **ctx["vars"])
            p = subprocess.run(["bash", "-c", real_cmd], cwd=work, env=env_run, capture_output=True,
                               timeout=120)
            out = p.stdout.decode("utf-8", "replace")
            if verbose:
                print(f"--- {step['name']}\n{out[:2000]}", file=sys.stderr)
            if p.returncode != 0 and not step.get("raw"):
                raise RuntimeError(f"step {step['name']}: exit {p.returncode}: {p.stderr.decode()[-500:]}")
            requested += _requests_of(real_cmd, base)
            for var, path in (step.get("capture") or {}).items():
                body = out.replace("\r\n", "\n").partition("\n\n")[2]
                try:
                    ctx["vars"][var] = str(_json_path(json.loads(body), path))
                except (ValueError, KeyError, IndexError) as e:
                    raise RuntimeError(f"step {step['name']}: cannot capture {var} ({path}) from "
                                       f"{out[:600]!r}") from e
                norm.name(ctx["vars"][var], var)
            if step.get("after"):
                step["after"](ctx)
                for name, value in ctx["vars"].items():
                    norm.name(value, name)
            if step.get("hidden"):
                continue
            rendered = _render_http(out, step, first, norm)
            first = False
            block = _prompted(shown_cmd)
            blocks[step["name"]] = block + ("\n" + rendered if rendered else "")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return blocks, requested


def _prompted(cmd):
    """The command with "$ " before each shell line (not before a line that
    continues the previous one: after a backslash, or inside quotes)."""
    out, quotes, cont = [], 0, False
    for line in cmd.split("\n"):
        out.append(("" if cont or quotes % 2 else "$ ") + line)
        quotes += line.count("'")
        cont = line.endswith("\\")
    return "\n".join(out)


def _requests_of(cmd, base):
    """(METHOD, path) of each curl in a command line."""
    out = []
    for line in re.split(r"\n(?!\s)|\|", cmd.replace("\\\n", " ")):
        if "curl" not in line:
            continue
        m = re.search(r"-X (\w+)", line)
        method = m.group(1) if m else "GET"
        u = re.search(r"\$B(/[^\s\"'?]*)", line)
        if u:
            out.append((method, u.group(1)))
    return out


# ---------------------------------------------------------------------------
# the document


MARK = re.compile(r"<!-- example: ([a-z0-9-]+) -->\n```console\n(.*?)```", re.S)


def doc_blocks(text):
    return {m.group(1): m.group(2).rstrip("\n") for m in MARK.finditer(text)}


def write_doc(text, blocks):
    return MARK.sub(lambda m: f"<!-- example: {m.group(1)} -->\n```console\n"
                    + (blocks[m.group(1)] + "\n" if m.group(1) in blocks else m.group(2)) + "```", text)


def routes():
    src = open(ROUTES, encoding="utf-8").read()
    body = src[src.index("api_route_list[] = {"):]
    body = re.sub(r"/\*.*?\*/", "", body[:body.index("};")], flags=re.S)
    return [(m.group(1), m.group(2)) for m in re.finditer(r'\{"(\w+)",\s*"([^"]+)"', body)]


def uncovered(requested):
    """Routes of routes.c no step requested."""
    missing = []
    for method, pattern in routes():
        rx = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/.]+", re.escape(pattern)) + "$")
        if not any(m == method and rx.match(p) for m, p in requested):
            # the site's pages are one route each: one example stands for all
            if pattern.startswith("/assets/") or pattern.startswith("/v1/") or pattern == "/healthz":
                missing.append(f"{method} {pattern}")
            elif not any(m == "GET" and not p.startswith(("/v1/", "/assets/", "/healthz"))
                         for m, p in requested):
                missing.append(f"{method} {pattern}")
    return missing


def compare(text, blocks, requested):
    """(problems, unified diff, the text with today's examples)."""
    have = doc_blocks(text)
    problems = []
    for name in blocks:
        if name not in have:
            problems.append(f"docs/API.md has no block for example {name!r}: add\n"
                            f"<!-- example: {name} -->\n```console\n```")
    for name in have:
        if name not in blocks:
            problems.append(f"docs/API.md has a block {name!r} that no step of tools/api_examples.py makes")
    for r in uncovered(requested):
        problems.append(f"no example calls {r} (add a step to tools/api_examples.py)")
    new = write_doc(text, blocks)
    diff = ""
    if new != text:
        diff = "".join(difflib.unified_diff(text.splitlines(True), new.splitlines(True), "docs/API.md",
                                            "docs/API.md (what the server answers now)"))
        problems.append("the examples of docs/API.md differ from what the server answers now; "
                        "regenerate them with: tools/api_examples.py --write")
    return problems, diff, new


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help="rewrite the example blocks of docs/API.md")
    ap.add_argument("--check", action="store_true", help="compare (the default)")
    ap.add_argument("--bin", default=os.environ.get("ATELIER_BIN") or os.path.join(ROOT, "build", "atelier"))
    ap.add_argument("--database", default="", help="PostgreSQL URL of an empty database (default: SQLite)")
    ap.add_argument("--doc", default=DOC)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    blocks, requested = run(a.bin, a.database or None, a.verbose)
    text = open(a.doc, encoding="utf-8").read()
    problems, diff, new = compare(text, blocks, requested)
    if a.write:
        if new != text:
            with open(a.doc, "w", encoding="utf-8") as f:
                f.write(new)
            print(f"api_examples: rewrote the examples of {os.path.relpath(a.doc, ROOT)}")
        problems = [p for p in problems if not p.startswith("the examples of")]
    else:
        sys.stdout.write(diff)
    for p in problems:
        print("api_examples: " + p, file=sys.stderr)
    return 1 if problems else 0

if __name__ == "__main__":
    sys.exit(main())

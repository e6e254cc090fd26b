"""Error messages in one voice (issue 18, item 4; docs/API.md, "How errors
read"): a list of bad requests, one for nearly every refusal the API has,
and the rules every message they get must follow.

The rules, checked on every message:
  - one sentence for people: it starts in lower case (or with a name that
    has its own case: `API`, `Content-Type`, a measurement such as
    `hpsToWaistBack`), has no final period, and fits on a few lines;
  - it names what it is about once: no "x: x ..." repetition of the field;
  - a 422 invalid_field names its field in the message;
  - nothing internal: no NULL, errno, line -1, vips, SQL, printf left-overs;
  - sizes in units people read (64 KiB, 8 MiB): no count of five digits or
    more next to "byte";
  - one wording per situation: every 404 reads "no ...".
The test also pins the cases where the message points to the fix (a member
that lives on another route, DELETE /v1/account without a body), and that
a password cannot be changed to itself.

ATELIER_VOICE_DUMP=path writes every (request, status, code, field,
message) seen, one JSON line each, for a reviewer to read them all."""

import json
import os
import re

import pytest

import limits
from accounts_helpers import (
    assert_error,
    assert_invalid_field,
    bearer,
    create_account,
    outbox,
    strong_password,
)
from models_helpers import create_model, image_fixture, random_id

SEEN = []  # (label, status, error) of every error answer this module got


@pytest.fixture(scope="module")
def srv(module_server_factory):
    return module_server_factory.start()


@pytest.fixture(scope="module")
def acc(srv):
    return create_account(srv, outbox(srv), "voice")


@pytest.fixture(scope="module")
def model(srv, acc):
    return create_model(srv, acc, "voice", True, {"neck": 380})


def call(srv, label, method, path, **kw):
    """One request; its error (if any) is remembered for the voice rules."""
    r = srv.request(method, path, **kw)
    if r.status_code >= 400 and r.headers.get("Content-Type", "").startswith("application/json"):
        err = r.json().get("error")
        if isinstance(err, dict):
            SEEN.append((f"{label}: {method} {path}", r.status_code, err))
    return r


JSON = {"Content-Type": "application/json"}


def bad_requests(acc, model):
    """(label, method, path, keyword arguments of requests) of requests that
    are refused, grouped by route. `A` is the account's bearer header."""
    A = acc.auth
    AJ = {**A, **JSON}
    m = model["id"]
    nope = random_id()
    return [
        # the HTTP layer
        ("unknown path", "GET", "/v1/nothing-here", {}),
        ("unknown site path", "GET", "/nothing-here", {}),
        ("unknown asset", "GET", "/assets/nothing.js", {}),
        ("method", "DELETE", "/healthz", {}),
        ("no content type", "POST", "/v1/signup", {"data": b"{}"}),
        ("empty body", "POST", "/v1/signup", {"headers": JSON, "data": b""}),
        ("array body", "POST", "/v1/signup", {"headers": JSON, "data": b"[]"}),
        ("broken JSON", "POST", "/v1/signup", {"headers": JSON, "data": b'{"email":'}),
        ("duplicate key", "POST", "/v1/signup", {"headers": JSON, "data": b'{"a":1,"a":2}'}),
        ("NaN", "POST", "/v1/signup", {"headers": JSON, "data": b'{"a":NaN}'}),
        ("deep JSON", "POST", "/v1/signup", {"headers": JSON, "data": b'{"a":' * 100 + b"1" + b"}" * 100}),
        ("underflow", "POST", "/v1/signup", {"headers": JSON, "data": b'{"a":1e-400}'}),
        ("body over the limit", "POST", "/v1/signup",
         {"headers": JSON, "data": b'{"a":"' + b"x" * (limits.LIMIT_JSON_BODY + 10) + b'"}'}),
        ("body on a bodyless route", "GET", "/v1/models", {"headers": A, "data": b"x"}),
        ("target too long", "GET", "/v1/models?x=" + "a" * (limits.LIMIT_URL + 10), {"headers": A}),
        ("no token", "GET", "/v1/account", {}),
        ("bad token", "GET", "/v1/account", {"headers": bearer("nope")}),
        # signup, login, links
        ("signup: email type", "POST", "/v1/signup", {"json": {"email": 1}}),
        ("signup: bad email", "POST", "/v1/signup", {"json": {"email": "no-at-sign"}}),
        ("signup: bad username", "POST", "/v1/signup",
         {"json": {"email": "v1@example.org", "username": "A B", "password": strong_password()}}),
        ("signup: weak password", "POST", "/v1/signup",
         {"json": {"email": "v2@example.org", "username": "vtwo", "password": "password1"}}),
        ("signup: short password", "POST", "/v1/signup",
         {"json": {"email": "v3@example.org", "username": "vthree", "password": "abc"}}),
        ("signup: long password", "POST", "/v1/signup",
         {"json": {"email": "v4@example.org", "username": "vfour", "password": "x" * 1100}}),
        ("signup: unknown member", "POST", "/v1/signup", {"json": {"name": "x"}}),
        ("login: nothing", "POST", "/v1/login", {"json": {}}),
        ("login: username member", "POST", "/v1/login", {"json": {"username": "x", "password": "y"}}),
        ("login: email member", "POST", "/v1/login", {"json": {"email": "x@example.org", "password": "y"}}),
        ("login: wrong", "POST", "/v1/login", {"json": {"login": "nobody-voice", "password": "wrong"}}),
        ("login: bad code", "POST", "/v1/login", {"json": {"login": "x", "password": "y", "code": "12"}}),
        ("confirm: bad token", "POST", "/v1/confirm", {"json": {"token": "nope"}}),
        ("forgot: bad email", "POST", "/v1/password/forgot", {"json": {"email": "nope"}}),
        ("reset: bad token", "POST", "/v1/password/reset", {"json": {"token": "nope", "password": "x"}}),
        # the account
        ("patch: email", "PATCH", "/v1/account", {"headers": A, "json": {"email": "new@example.org"}}),
        ("patch: password", "PATCH", "/v1/account", {"headers": A, "json": {"password": "x"}}),
        ("patch: picture", "PATCH", "/v1/account", {"headers": A, "json": {"picture": None}}),
        ("patch: unknown", "PATCH", "/v1/account", {"headers": A, "json": {"colour": "red"}}),
        ("patch: username", "PATCH", "/v1/account", {"headers": A, "json": {"username": "A B"}}),
        ("patch: bio", "PATCH", "/v1/account", {"headers": A, "json": {"bio": 5}}),
        ("patch: website", "PATCH", "/v1/account", {"headers": A, "json": {"social": {"website": "ftp://x"}}}),
        ("patch: network", "PATCH", "/v1/account", {"headers": A, "json": {"social": {"myspace": "x"}}}),
        ("patch: social type", "PATCH", "/v1/account", {"headers": A, "json": {"social": 3}}),
        ("patch: units", "PATCH", "/v1/account", {"headers": A, "json": {"units": "km"}}),
        ("patch: consent", "PATCH", "/v1/account", {"headers": A, "json": {"consent": {"open_data": 1}}}),
        ("patch: bidi", "PATCH", "/v1/account", {"headers": A, "json": {"bio": "a\u202eb"}}),
        ("delete: no body", "DELETE", "/v1/account", {"headers": A}),
        ("delete: empty object", "DELETE", "/v1/account", {"headers": AJ, "data": b"{}"}),
        ("email: bad", "POST", "/v1/account/email", {"headers": A, "json": {"email": "nope", "password": "x"}}),
        ("email: same", "POST", "/v1/account/email",
         {"headers": A, "json": {"email": acc.email, "password": acc.password}}),
        ("password: unknown member", "POST", "/v1/account/password", {"headers": A, "json": {"password": "x"}}),
        ("password: weak", "POST", "/v1/account/password",
         {"headers": A, "json": {"current_password": acc.password, "new_password": "password1"}}),
        ("password: same", "POST", "/v1/account/password",
         {"headers": A, "json": {"current_password": acc.password, "new_password": acc.password}}),
        ("picture: text", "PUT", "/v1/account/picture",
         {"headers": {**A, "Content-Type": "text/plain"}, "data": b"hello"}),
        ("picture: not an image", "PUT", "/v1/account/picture",
         {"headers": {**A, "Content-Type": "image/png"}, "data": b"hello, not a png at all"}),
        ("picture: over the limit", "PUT", "/v1/account/picture",
         {"headers": {**A, "Content-Type": "image/png"}, "data": b"\0" * (limits.LIMIT_IMAGE_BODY + 1)}),
        ("picture: none", "GET", "/v1/account/picture", {"headers": A}),
        ("restrict: no body", "DELETE", "/v1/account/restrict", {"headers": A}),
        # API keys, two-factor login
        ("key: scope", "POST", "/v1/apikeys", {"headers": A, "json": {"name": "k", "scope": "admin"}}),
        ("key: name", "POST", "/v1/apikeys", {"headers": A, "json": {"name": "", "scope": "read"}}),
        ("key: expiry", "POST", "/v1/apikeys",
         {"headers": A, "json": {"name": "k", "scope": "read", "expires_at": "tomorrow"}}),
        ("key: past", "POST", "/v1/apikeys",
         {"headers": A, "json": {"name": "k", "scope": "read", "expires_at": "2001-01-01T00:00:00Z"}}),
        ("key: none", "DELETE", f"/v1/apikeys/{nope}", {"headers": A}),
        ("mfa: enable without setup", "POST", "/v1/account/mfa/enable", {"headers": A, "json": {"code": "123456"}}),
        ("mfa: enable bad code", "POST", "/v1/account/mfa/enable", {"headers": A, "json": {"code": "12"}}),
        ("mfa: off without a body", "DELETE", "/v1/account/mfa", {"headers": A}),
        # models
        ("models: no name", "POST", "/v1/models", {"headers": A, "json": {}}),
        ("models: no measurements", "POST", "/v1/models", {"headers": A, "json": {"name": "x", "breasts": True}}),
        ("models: range", "POST", "/v1/models",
         {"headers": A, "json": {"name": "x", "breasts": True, "measurements": {"neck": 1e9}}}),
        ("models: zero", "POST", "/v1/models",
         {"headers": A, "json": {"name": "x", "breasts": True, "measurements": {"neck": 0}}}),
        ("models: unknown measurement", "POST", "/v1/models",
         {"headers": A, "json": {"name": "x", "breasts": True, "measurements": {"nek": 1}}}),
        ("models: text measurement", "POST", "/v1/models",
         {"headers": A, "json": {"name": "x", "breasts": True, "measurements": {"neck": "380"}}}),
        ("models: breasts only", "POST", "/v1/models",
         {"headers": A, "json": {"name": "x", "breasts": False, "measurements": {"bustSpan": 180}}}),
        ("models: breasts type", "POST", "/v1/models",
         {"headers": A, "json": {"name": "x", "breasts": "yes", "measurements": {}}}),
        ("models: control", "POST", "/v1/models",
         {"headers": A, "json": {"name": "a\x01", "breasts": True, "measurements": {}}}),
        ("models: long name", "POST", "/v1/models",
         {"headers": A, "json": {"name": "x" * 5000, "breasts": True, "measurements": {}}}),
        ("models: avatar member", "PATCH", f"/v1/models/{m}", {"headers": A, "json": {"avatar": None}}),
        ("models: none", "GET", f"/v1/models/{nope}", {"headers": A}),
        ("models: none patch", "PATCH", f"/v1/models/{nope}", {"headers": A, "json": {}}),
        ("models: none delete", "DELETE", f"/v1/models/{nope}", {"headers": A}),
        ("models: none measurements", "GET", f"/v1/models/{nope}/measurements", {"headers": A}),
        ("models: filter", "GET", "/v1/measurements?breasts=maybe", {}),
        ("avatar: none", "GET", f"/v1/models/{m}/avatar", {"headers": A}),
        ("avatar: no model", "PUT", f"/v1/models/{nope}/avatar",
         {"headers": {**A, "Content-Type": "image/jpeg"}, "data": image_fixture("small.jpg")}),
        # patterns
        ("draft: design", "GET", f"/v1/models/{m}/patterns/nope.svg", {"headers": A}),
        ("draft: incomplete", "GET", f"/v1/models/{m}/patterns/body.svg", {"headers": A}),
        ("draft: no model", "GET", f"/v1/models/{nope}/patterns/body.svg", {"headers": A}),
        ("draft: sa", "GET", f"/v1/models/{m}/patterns/body.svg?sa=wide", {"headers": A}),
        ("draft: paper", "GET", f"/v1/models/{m}/patterns/body.pdf?paper=A7", {"headers": A}),
        ("draft: option", "GET", f"/v1/models/{m}/patterns/tshirt.svg?chest_ease=9999", {"headers": A}),
        ("saved: nothing", "POST", "/v1/patterns", {"headers": A, "json": {}}),
        ("saved: design", "POST", "/v1/patterns",
         {"headers": A, "json": {"name": "p", "design": "nope", "model_id": m}}),
        ("saved: model", "POST", "/v1/patterns",
         {"headers": A, "json": {"name": "p", "design": "body", "model_id": nope}}),
        ("saved: options", "POST", "/v1/patterns",
         {"headers": A, "json": {"name": "p", "design": "body", "model_id": m, "options": 3}}),
        ("saved: none", "GET", f"/v1/patterns/{nope}", {"headers": A}),
        ("saved: none svg", "GET", f"/v1/patterns/{nope}.svg", {"headers": A}),
        ("saved: none refresh", "POST", f"/v1/patterns/{nope}/refresh", {"headers": A}),
        # open data (no release on a fresh server)
        ("opendata", "GET", "/v1/opendata", {}),
        ("opendata csv", "GET", "/v1/opendata/measurements.csv", {}),
    ]


@pytest.fixture(scope="module")
def answers(srv, acc, model):
    out = {}
    for label, method, path, kw in bad_requests(acc, model):
        out[label] = call(srv, label, method, path, **kw)
    dump = os.environ.get("ATELIER_VOICE_DUMP")
    if dump:
        with open(dump, "w") as f:
            for label, status, err in SEEN:
                f.write(json.dumps({"request": label, "status": status, **err}) + "\n")
    return out


def test_every_bad_request_is_refused(answers):
    """Each request of the list is an error (so the rules below see them)."""
    ok = [f"{label}: {r.status_code}" for label, r in answers.items() if r.status_code < 400]
    assert not ok, ok
    assert len(SEEN) >= len(answers) - 2, "answers without a JSON error body"


# Names whose own case starts a message: routes, headers, measurement and
# member names as JSON spells them.
OWN_CASE = re.compile(r"^(API|JSON|HTTP|PNG|JPEG|WebP|SVG|PDF|Content-Type|Content-Length|Transfer-Encoding"
                      r"|[a-z]+[A-Z][A-Za-z]*|[A-Z]{3,})\b")
INTERNAL = re.compile(r"NULL|\(null\)|errno|line -1|vips|sqlite|SQL|jansson|libpq|%[sdzu]|\bBUG\b"
                      r"|internal error|\bstrtod\b")
BIG_BYTES = re.compile(r"\d{5,} ?bytes?\b|byte limit")


def voice_problems(status, err):
    msg, code = err.get("message", ""), err.get("code", "")
    out = []
    if not isinstance(msg, str) or not msg.strip():
        return ["no message"]
    if msg[0].isupper() and not OWN_CASE.match(msg):
        out.append("starts with a capital letter")
    if msg.rstrip().endswith("."):
        out.append("ends with a period")
    if len(msg) > 320:
        out.append("longer than a few lines")
    first = re.match(r"^([A-Za-z_.]+): (\S+)", msg)
    if first and first.group(2).rstrip(":,") == first.group(1):
        out.append("repeats its prefix")
    if re.search(r"\b(\w+) \1\b", msg):
        out.append("repeats a word")
    if INTERNAL.search(msg):
        out.append("says something internal")
    if BIG_BYTES.search(msg):
        out.append("counts bytes")
    if status == 422 and code == "invalid_field" and err.get("field") not in msg:
        out.append("does not name its field")
    if status == 404 and not msg.startswith("no "):
        out.append("a 404 that does not read 'no ...'")
    return out


def test_every_message_follows_the_rules(answers):
    problems = []
    for label, status, err in SEEN:
        for p in voice_problems(status, err):
            problems.append(f"{label} -> {status} {err.get('code')}: {p}: {err.get('message')!r}")
    assert not problems, "\n".join(problems)


def test_the_rules_catch_what_they_are_for():
    """The checker itself: each rule fails a message written the old way."""
    assert "repeats its prefix" in voice_problems(422, {
        "code": "invalid_field", "field": "password",
        "message": "password: password is too easy to guess"})
    assert "counts bytes" in voice_problems(413, {"code": "too_large",
                                                 "message": "the body is over the 65536 byte limit"})
    assert "counts bytes" in voice_problems(413, {"code": "too_large", "message": "at most 8388608 bytes"})
    assert "says something internal" in voice_problems(422, {
        "code": "invalid_field", "field": "x", "message": "x is wrong (line -1)"})
    assert "starts with a capital letter" in voice_problems(422, {
        "code": "invalid_image", "message": "The image is truncated or corrupt."})
    assert "ends with a period" in voice_problems(422, {"code": "invalid_image", "message": "corrupt."})
    assert "a 404 that does not read 'no ...'" in voice_problems(404, {"code": "not_found",
                                                                        "message": "not found"})
    assert voice_problems(422, {"code": "invalid_field", "field": "measurements.hpsToWaistBack",
                                "message": "measurements.hpsToWaistBack is required"}) == []


def test_one_wording_per_situation(answers):
    """Nothing with this id: the same sentence shape for each kind of thing."""
    expect = {
        "models: none": "no model with this id",
        "models: none patch": "no model with this id",
        "models: none delete": "no model with this id",
        "models: none measurements": "no model with this id",
        "draft: no model": "no model with this id",
        "avatar: no model": "no model with this id",
        "saved: none": "no saved pattern with this id",
        "saved: none svg": "no saved pattern with this id",
        "saved: none refresh": "no saved pattern with this id",
        "key: none": "no API key with this id",
    }
    for label, msg in expect.items():
        err = assert_error(answers[label], 404)
        assert err["message"] == msg, (label, err)


def test_members_of_other_routes_point_there(answers):
    for label, field, route in [("patch: email", "email", "POST /v1/account/email"),
                                ("patch: password", "password", "POST /v1/account/password"),
                                ("patch: picture", "picture", "PUT /v1/account/picture"),
                                ("models: avatar member", "avatar", "PUT /v1/models/{id}/avatar"),
                                ("login: username member", "username", "login"),
                                ("login: email member", "email", "login")]:
        err = assert_invalid_field(answers[label], field)
        assert route in err["message"], (label, err)


def test_delete_account_without_a_body_says_a_password_is_needed(answers):
    for label in ("delete: no body", "delete: empty object"):
        err = assert_invalid_field(answers[label], "password")
        assert "password" in err["message"] and '{"password":' in err["message"], err


def test_no_repeated_prefix_on_weak_passwords(answers):
    for label, field in [("signup: weak password", "password"), ("signup: short password", "password"),
                         ("signup: long password", "password"), ("password: weak", "new_password")]:
        err = assert_invalid_field(answers[label], field)
        assert err["message"].startswith(field + " is "), err
        assert f"{field}: " not in err["message"] and "password: " not in err["message"], err


def test_image_limits_in_units_people_read(answers):
    err = assert_error(answers["picture: over the limit"], 413)
    assert "8 MiB" in err["message"], err
    err = assert_error(answers["body over the limit"], 413)
    assert "64 KiB" in err["message"], err


def test_changing_a_password_to_itself_is_refused(srv, answers, acc):
    """422 naming new_password; the password is unchanged and the session
    still works."""
    err = assert_invalid_field(answers["password: same"], "new_password")
    assert "current" in err["message"], err
    r = srv.get("/v1/account", headers=acc.auth)
    assert r.status_code == 200, r.text[:300]

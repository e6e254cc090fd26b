"""Helpers for the API key and restriction tests (test_190_*, test_195_*):
making keys, reading the route table from the server's OpenAPI document, and
the access rules a credential must meet on each route (written here
independently of the server, so that a route whose flags disagree with them
fails the tests, including routes added later)."""

import datetime
import hashlib
import re

from accounts_helpers import assert_error, bearer

KEY_RE = re.compile(r"^atk_[A-Za-z0-9_-]{43}$")
KEY_FIELDS = {"id", "name", "scope", "created_at", "expires_at", "last_used_at"}
FAKE_ID = "AAAAAAAAAAAAAAAAAAAAAA"  # 22 characters: the shape of an id, of nobody


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def in_days(n):
    return rfc3339(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=n))


def create_key(srv, acc, scope="read", name=None, expires_at=None, token=None):
    """POST /v1/apikeys; asserts 201 and returns the answer (with "key")."""
    body = {"name": name or f"{scope} key", "scope": scope, "expires_at": expires_at or in_days(30)}
    r = srv.post("/v1/apikeys", headers=bearer(token or acc.token), json=body)
    assert r.status_code == 201, r.text[:300]
    k = r.json()
    assert set(k) == KEY_FIELDS | {"key"}, k
    assert KEY_RE.match(k["key"]), k["key"]
    return k


def list_keys(srv, acc):
    r = srv.get("/v1/apikeys", headers=acc.auth)
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert set(body) == {"api_keys"}, body
    for k in body["api_keys"]:
        assert set(k) == KEY_FIELDS, k
    return body["api_keys"]


def key_hash(key):
    """What the database holds for a key: BLAKE2b-256 of its secret part."""
    return hashlib.blake2b(key[4:].encode(), digest_size=32).digest()


def assert_scope_refused(r):
    err = assert_error(r, 403, "insufficient_scope")
    www = r.headers.get("WWW-Authenticate", "")
    assert www.lower().startswith("bearer") and "insufficient_scope" in www, www
    return err


def assert_restricted(r):
    return assert_error(r, 403, "restricted")


# --------------------------------------------------------------------------
# the route table, and the rules


# drafting: a pattern drawn (.svg, .pdf) or described (.json, which drafts it too)
DRAFTING = re.compile(r"/patterns/.*\.(svg|pdf|json)$")
# Routes that change security: never with an API key, whatever its scope.
SECURITY = (
    re.compile(r"^/v1/account/(password|email|restrict)$"),
    re.compile(r"^/v1/account/mfa(/.*)?$"),
    re.compile(r"^/v1/apikeys(/.*)?$"),
    re.compile(r"^/v1/logout$"),
)


def is_security(method, path):
    return (method == "DELETE" and path == "/v1/account") or any(p.match(path) for p in SECURITY)


def key_may(method, path, scope):
    """Whether an API key of scope may call an authenticated route: never a
    security route; a read key reads (GET), a write key does anything else."""
    if is_security(method, path):
        return False
    return method == "GET" or scope == "write"


def restricted_may(method, path):
    """Whether a restricted account's session may call an authenticated
    route: log out and lift (or repeat) the restriction, read (GET, but not
    drafting), erase (DELETE: the account, models, pictures, avatars, keys);
    nothing else. Two-factor changes wait for the lift."""
    if path in ("/v1/logout", "/v1/account/restrict"):
        return True
    if path.startswith("/v1/account/mfa"):
        return False
    if method == "GET":
        return not DRAFTING.search(path)
    return method == "DELETE"


def auth_routes(srv):
    """[(METHOD, pattern, operation)] of every authenticated operation the
    server documents (its own GET /v1/openapi.json: tests/unit/test_openapi.c
    keeps that equal to the route table)."""
    r = srv.get("/v1/openapi.json")
    assert r.status_code == 200, r.text[:200]
    out = []
    for path, item in r.json()["paths"].items():
        for method, op in item.items():
            if method == "parameters" or not isinstance(op, dict):
                continue
            if op.get("security"):
                out.append((method.upper(), path, op))
    assert len(out) >= 20, out
    return out


def concrete(path):
    """A path of the pattern: every {capture} an id of nobody ("{design}.svg"
    keeps its suffix)."""
    return re.sub(r"\{[a-z_]+\}", FAKE_ID, path)


class Cookie:
    """A browser's session cookie (and its CSRF token): sent as the site
    sends it, with this site's Origin and the X-CSRF-Token on writes, so
    that the CSRF checks pass and the rule under test decides."""

    def __init__(self, token, csrf):
        self.token = token
        self.csrf = csrf

    def headers(self, srv):
        return {"Cookie": f"__Host-atelier={self.token}; __Host-atelier-csrf={self.csrf}",
                "Origin": srv.base_url, "X-CSRF-Token": self.csrf}


def cookie_login(srv, acc):
    """Log in as the site does ("cookie": true); the Cookie of the answer."""
    r = srv.post("/v1/login", json={"login": acc.username, "password": acc.password, "cookie": True},
                 headers={"Origin": srv.base_url}, timeout=30)
    assert r.status_code == 200, r.text[:300]
    jar = {}
    for c in r.raw.headers.getlist("Set-Cookie"):
        name, _, rest = c.partition("=")
        jar[name] = rest.split(";")[0]
    return Cookie(jar["__Host-atelier"], jar["__Host-atelier-csrf"])


def try_route(srv, method, path, op, token):
    """One request with the least body the route takes (an empty JSON object,
    or an empty image), so that a refusal comes from the credential check and
    anything the handler does is harmless. token: a bearer credential, or a
    Cookie."""
    headers = token.headers(srv) if isinstance(token, Cookie) else bearer(token)
    kw = {}
    body = (op.get("requestBody") or {}).get("content") or {}
    if "application/json" in body:
        kw["json"] = {}
    elif body:
        headers["Content-Type"] = sorted(body)[0]
        kw["data"] = b""
    return srv.request(method, concrete(path), headers=headers, timeout=30, **kw)


def passed_the_check(r):
    """The credential was accepted: whatever the handler answered, it was not
    the answer of a refused credential."""
    if r.status_code == 401:
        return False
    if r.status_code == 403:
        code = r.json().get("error", {}).get("code")
        return code not in ("insufficient_scope", "restricted")
    return True

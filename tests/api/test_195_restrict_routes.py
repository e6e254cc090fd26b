"""Every authenticated route of the server, read from its own OpenAPI
document (tests/unit/test_openapi.c keeps that equal to the route table), is
tried with every kind of credential, and the answer must follow the rules of
apikeys_helpers (written independently of the server's route flags):

  - a read key and a write key: accepted where key_may() says, else 403
    insufficient_scope (security routes, writes with a read key);
  - an expired key (the server's clock moved past its expiry) and a deleted
    key: 401, like any unknown credential;
  - a restricted account's session, as a bearer token and as the site's
    cookie (with its CSRF token): accepted where restricted_may() says, else
    403 restricted; its API keys: 403 restricted everywhere;
  - an API key sent as the site's cookie: 401 (a cookie is only a session);
  - an unrestricted account's session: accepted everywhere (the control).

"Accepted" means the credential check passed: whatever the handler then
answered (404 for the ids of nobody the paths use, 422 for the empty bodies),
it was not 401 or 403 insufficient_scope / restricted. A route added later
is covered without touching this file: if its flags in routes.c disagree
with the rules, this test fails. The document must say the same: `apiKey`
in `security` where a write key may call it (with the `read` scope on GETs),
and `x-atelier-restricted-ok` where a restricted session may."""

import datetime

import pytest

from accounts_helpers import ClockedStore, bearer, create_account, login_token
from apikeys_helpers import (
    Cookie,
    auth_routes,
    cookie_login,
    create_key,
    is_security,
    key_may,
    passed_the_check,
    restricted_may,
    rfc3339,
    try_route,
)

EXPIRY_S = 60  # the expiring key's lifetime; the clock is then moved 5 minutes ahead


@pytest.fixture(scope="module")
def world(module_database, module_server_factory, tmp_path_factory):
    store = ClockedStore(module_server_factory, str(tmp_path_factory.mktemp("routes") / "data"),
                         module_database)
    srv = store.start()
    mails = store.mails
    free = create_account(srv, mails, "free")
    rst = create_account(srv, mails, "rstr")
    now = datetime.datetime.now(datetime.timezone.utc)
    cred = {
        "read": create_key(srv, free, "read")["key"],
        "write": create_key(srv, free, "write")["key"],
        "expired": create_key(srv, free, "write", expires_at=rfc3339(now + datetime.timedelta(seconds=EXPIRY_S)))["key"],
        "restricted_key": create_key(srv, rst, "write")["key"],
    }
    gone = create_key(srv, free, "write")
    assert srv.request("DELETE", f"/v1/apikeys/{gone['id']}", headers=free.auth).status_code == 204
    cred["deleted"] = gone["key"]
    r = srv.post("/v1/account/restrict", headers=rst.auth, json={"password": rst.password}, timeout=30)
    assert r.status_code == 200, r.text
    # every credential is used on a server whose clock is 5 minutes ahead:
    # past the expiring key's end, well within the others'
    srv = store.start(300)
    cred["restricted_session"] = rst.token
    cred["restricted_cookie"] = cookie_login(srv, rst)
    cred["key_cookie"] = Cookie(cred["write"], "0" * 32)
    cred["session"] = free.token
    return {"srv": srv, "cred": cred, "free": free, "rst": rst}


def expected(kind, method, path):
    """'ok', or the (status, code) the rules demand."""
    if kind in ("expired", "deleted", "key_cookie"):
        return (401, "unauthenticated")
    if kind == "restricted_key":
        return (403, "restricted")
    if kind in ("restricted_session", "restricted_cookie"):
        return "ok" if restricted_may(method, path) else (403, "restricted")
    if kind in ("read", "write"):
        return "ok" if key_may(method, path, kind) else (403, "insufficient_scope")
    return "ok"


KINDS = ("session", "read", "write", "expired", "deleted", "restricted_session", "restricted_cookie",
         "restricted_key", "key_cookie")


def test_every_route_against_every_credential(world):
    srv, cred = world["srv"], world["cred"]
    routes = auth_routes(srv)
    # logging out ends the session it is sent with: do it last
    routes.sort(key=lambda r: r[1] == "/v1/logout")
    problems = []
    tried = 0
    for method, path, op in routes:
        for kind in KINDS:
            r = try_route(srv, method, path, op, cred[kind])
            tried += 1
            want = expected(kind, method, path)
            if want == "ok":
                if not passed_the_check(r):
                    problems.append(f"{kind:18} {method} {path}: refused {r.status_code} {r.text[:120]}")
            else:
                code = r.json().get("error", {}).get("code") if r.headers.get(
                    "Content-Type", "").startswith("application/json") else None
                if (r.status_code, code) != want:
                    problems.append(f"{kind:18} {method} {path}: {r.status_code} {code}, want {want}")
                elif want[0] == 401 and not r.headers.get("WWW-Authenticate", "").lower().startswith("bearer"):
                    problems.append(f"{kind:18} {method} {path}: 401 without the Bearer challenge")
            if path == "/v1/logout" and r.status_code == 204:  # the session ended: log in again
                acc = world["free"] if kind == "session" else world["rst"]
                cred[kind] = (cookie_login(srv, acc) if kind == "restricted_cookie"
                              else login_token(srv, acc.username, acc.password))
    assert tried == len(routes) * len(KINDS)
    assert not problems, "\n".join(problems)


def test_the_document_says_the_same(world):
    problems = []
    for method, path, op in auth_routes(world["srv"]):
        schemes = {}
        for req in op["security"]:
            schemes.update(req)
        assert "bearer" in schemes, (method, path)
        want_scopes = [s for s in ("read", "write") if key_may(method, path, s)]
        if sorted(schemes.get("apiKey", [])) != want_scopes:
            problems.append(f"{method} {path}: apiKey scopes {schemes.get('apiKey')}, want {want_scopes}")
        if op.get("x-atelier-restricted-ok") is not restricted_may(method, path):
            problems.append(f"{method} {path}: x-atelier-restricted-ok {op.get('x-atelier-restricted-ok')}")
        if "403" not in op["responses"]:
            problems.append(f"{method} {path}: no 403 documented")
        if is_security(method, path) and "apiKey" in schemes:
            problems.append(f"{method} {path}: a security route open to keys")
    assert not problems, "\n".join(problems)


def test_refusals_change_nothing(world):
    """The matrix sent harmless bodies; these send real ones: a refused
    credential's write does not happen (the check runs before the handler)."""
    srv, cred, rst, free = world["srv"], world["cred"], world["rst"], world["free"]
    model = {"name": "should not exist", "breasts": True, "measurements": {"neck": 350}}
    for kind in ("read", "expired", "deleted", "restricted_session", "restricted_key"):
        r = srv.post("/v1/models", headers=bearer(cred[kind]), json=model)
        assert r.status_code in (401, 403), (kind, r.status_code, r.text[:200])
    for acc in (free, rst):
        tok = login_token(srv, acc.username, acc.password)
        assert srv.get("/v1/models", headers=bearer(tok)).json()["models"] == []
    r = srv.post("/v1/models", headers=bearer(cred["write"]), json=model)
    assert r.status_code == 201, r.text  # control
    r = srv.request("PATCH", "/v1/account", headers=bearer(cred["restricted_session"]), json={"bio": "no"})
    assert r.status_code == 403
    assert srv.get("/v1/account", headers=bearer(cred["restricted_session"])).json()["bio"] is None

"""The site's server side (issue 16): the pages and their headers, the
browser session cookie, the CSRF checks of cookie-authenticated writes,
and the account's units. The pages themselves are tested in a real browser
(tests/browser)."""
import hashlib
import re

import pytest
import requests

import limits
from accounts_helpers import (
    assert_error,
    assert_invalid_field,
    bearer,
    create_account,
    new_identity,
    outbox,
    setup_client,
)

PAGES = ["/", "/signup", "/confirm", "/login", "/forgot", "/reset", "/account", "/models",
         "/model", "/patterns", "/privacy", "/policy", "/opendata"]


def cookie_login(srv, acc, origin=True, **headers):
    h = dict(headers)
    if origin is True:
        h["Origin"] = srv.base_url
    elif origin:
        h["Origin"] = origin
    return srv.post("/v1/login", json={"login": acc.username, "password": acc.password,
                                        "cookie": True}, headers=h)


def set_cookies(r):
    return r.raw.headers.getlist("Set-Cookie")


def browser(srv, acc):
    """A requests session holding the site's cookies after a cookie login,
    and the CSRF token."""
    r = cookie_login(srv, acc)
    assert r.status_code == 200, r.text
    s = requests.Session()
    for c in set_cookies(r):
        name, _, rest = c.partition("=")
        s.cookies.set(name, rest.split(";")[0])
    return s, s.cookies.get("__Host-atelier-csrf")


@pytest.fixture(scope="module")
def acc(server):
    return create_account(server, outbox(server), "site")


def test_every_page_is_served_with_the_strict_headers(server):
    for p in PAGES:
        r = server.get(p)
        assert r.status_code == 200, p
        assert r.headers["Content-Type"] == "text/html; charset=utf-8", p
        csp = r.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp, csp
        assert "default-src 'none'" in csp
        assert "unsafe-inline" not in csp and "http" not in csp
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        # no inline script or style, nothing from another host
        assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), p
        assert not re.search(r"\sstyle=|<style", r.text), p
        assert not re.search(r'(src|href)="(https?:)?//', r.text), p


def test_pages_revalidate_by_etag(server):
    r = server.get("/assets/app.js")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/javascript")
    assert r.headers["Cache-Control"] == "no-cache"
    etag = r.headers["ETag"]
    r2 = server.get("/assets/app.js", headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b""
    r3 = server.get("/assets/app.js", headers={"If-None-Match": '"other"'})
    assert r3.status_code == 200 and r3.content == r.content
    # the API keeps no-store (but for its public documents: test_972_caching)
    assert server.get("/healthz").headers["Cache-Control"] == "no-store"


def test_pages_link_versioned_assets_that_are_immutable(server):
    """Every link of a page to an asset carries the asset's version (the
    first 12 hex digits of the SHA-256 of the bytes served); the asset asked
    for with that version may be kept for a year without asking again;
    with any other version, or none, it is revalidated like a page."""
    limit = limits.LIMIT_SITE_ASSET_MAX_AGE_S
    seen = set()
    for p in PAGES:
        html = server.get(p).text
        links = re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)
        assert len(links) >= 3, (p, links)  # icon, style sheet, app.js
        for link in links:
            path, _, query = link.partition("?")
            m = re.fullmatch(r"v=([0-9a-f]{12})", query)
            assert m, f"{p} links {link} without its version"
            body = server.get(path).content
            assert hashlib.sha256(body).hexdigest()[:12] == m.group(1), (p, link)
            if link in seen:
                continue
            seen.add(link)
            r = server.get(link)
            assert r.status_code == 200 and r.content == body, link
            assert r.headers["Cache-Control"] == f"public, max-age={limit}, immutable", link
            assert r.headers["ETag"]
    assert {"/assets/site.css", "/assets/app.js", "/assets/account.js"} <= {s.split("?")[0] for s in seen}
    for q in ["?v=000000000000", "?v=", "?x=1", ""]:
        assert server.get("/assets/app.js" + q).headers["Cache-Control"] == "no-cache", q
    # a page is never immutable, whatever it is asked with
    v = re.search(r"app\.js\?v=([0-9a-f]{12})", server.get("/login").text).group(1)
    assert server.get("/login?v=" + v).headers["Cache-Control"] == "no-cache"


def test_unknown_assets_are_404(server):
    for p in ["/assets/nothing.js", "/assets/m/nothing.svg", "/assets/app.exe", "/nothing"]:
        assert server.get(p).status_code == 404, p
    assert server.get("/assets/m/chest.svg").headers["Content-Type"] == "image/svg+xml"


def test_mailed_links_point_at_pages_that_exist(server):
    mails = outbox(server)
    ident = new_identity("sitelink")
    with setup_client() as c:
        r = c.post(server.url("/v1/signup"), json=ident, timeout=10)
    assert r.status_code == 202
    link = re.search(r"(http://\S+/confirm\?token=\S+)", mails.wait(ident["email"], match="confirm").text())
    assert link
    page = requests.get(link.group(1), timeout=10)
    assert page.status_code == 200 and "Confirm your address" in page.text
    acc = create_account(server, mails, "sitereset")
    server.post("/v1/password/forgot", json={"email": acc.email})
    reset = re.search(r"(http://\S+/reset\?token=\S+)", mails.wait(acc.email, match="reset").text())
    assert reset
    page = requests.get(reset.group(1), timeout=10)
    assert page.status_code == 200 and "new password" in page.text


def test_cookie_login_sets_the_cookies_and_answers_no_token(server, acc):
    r = cookie_login(server, acc)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"expires_at"}
    cookies = set_cookies(r)
    session = [c for c in cookies if c.startswith("__Host-atelier=")]
    csrf = [c for c in cookies if c.startswith("__Host-atelier-csrf=")]
    assert len(session) == 1 and len(csrf) == 1, cookies
    attrs = [a.strip() for a in session[0].split(";")]
    for a in ["Path=/", "HttpOnly", "Secure", "SameSite=Lax"]:
        assert a in attrs, session[0]
    assert not any(a.lower().startswith(("domain", "expires")) for a in attrs)
    assert re.match(r"Max-Age=(\d+)", [a for a in attrs if a.startswith("Max-Age")][0])
    assert int(attrs[[a.startswith("Max-Age") for a in attrs].index(True)][8:]) > 29 * 86400
    cattrs = [a.strip() for a in csrf[0].split(";")]
    assert "HttpOnly" not in cattrs and "Secure" in cattrs and "Path=/" in cattrs
    assert re.fullmatch(r"[0-9a-f]{32}", cattrs[0].split("=", 1)[1])
    # the session cookie's value is a working session, the same as a bearer token
    token = attrs[0].split("=", 1)[1]
    assert server.get("/v1/account", headers=bearer(token)).status_code == 200


def test_cookie_login_needs_this_sites_origin(server, acc):
    for origin in [None, "http://evil.example", server.base_url + ".evil.example",
                   "https://attacker.example"]:
        r = cookie_login(server, acc, origin=origin or False)
        assert_error(r, 403, "csrf_failed")
        assert not set_cookies(r)
    r = cookie_login(server, acc, **{"Sec-Fetch-Site": "cross-site"})
    assert_error(r, 403, "csrf_failed")
    # a bearer login needs no Origin
    r = server.post("/v1/login", json={"login": acc.username, "password": acc.password})
    assert r.status_code == 200 and "token" in r.json()


def test_cookie_reads_need_no_csrf_token(server, acc):
    s, _ = browser(server, acc)
    r = s.get(server.url("/v1/account"), timeout=10)
    assert r.status_code == 200 and r.json()["id"] == acc.id


def test_cookie_writes_need_origin_and_csrf_token(server, acc):
    s, csrf = browser(server, acc)
    url = server.url("/v1/account")
    good = {"Origin": server.base_url, "X-CSRF-Token": csrf}
    cases = [
        {},
        {"Origin": server.base_url},
        {"X-CSRF-Token": csrf},
        {"Origin": "http://evil.example", "X-CSRF-Token": csrf},
        {"Origin": server.base_url, "X-CSRF-Token": "0" * 32},
        {"Origin": server.base_url, "X-CSRF-Token": csrf[:-1]},
        {"Origin": server.base_url, "X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-site"},
    ]
    for h in cases:
        r = s.patch(url, json={"bio": "changed"}, headers=h, timeout=10)
        assert_error(r, 403, "csrf_failed")
    assert s.get(url, timeout=10).json()["bio"] is None  # nothing was written
    r = s.patch(url, json={"bio": "changed"}, headers=good, timeout=10)
    assert r.status_code == 200 and r.json()["bio"] == "changed"
    # a DELETE and an image PUT go through the same checks
    assert_error(s.delete(server.url("/v1/account/picture"), timeout=10), 403, "csrf_failed")
    assert s.delete(server.url("/v1/account/picture"), headers=good, timeout=10).status_code == 204


def test_another_sessions_csrf_token_does_not_pass(server, acc):
    s1, csrf1 = browser(server, acc)
    s2, csrf2 = browser(server, acc)
    assert csrf1 != csrf2
    r = s1.patch(server.url("/v1/account"), json={}, timeout=10,
                 headers={"Origin": server.base_url, "X-CSRF-Token": csrf2})
    assert_error(r, 403, "csrf_failed")


def test_a_bearer_header_wins_over_the_cookie(server, acc):
    s, csrf = browser(server, acc)
    r = s.get(server.url("/v1/account"), headers={"Authorization": "Bearer " + "x" * 43}, timeout=10)
    assert_error(r, 401)
    # a bearer client needs no CSRF token even when a cookie rides along
    r = s.patch(server.url("/v1/account"), json={}, headers=bearer(acc.token), timeout=10)
    assert r.status_code == 200


def test_logout_clears_the_cookies_and_ends_the_session(server, acc):
    s, csrf = browser(server, acc)
    token = s.cookies.get("__Host-atelier")
    r = s.post(server.url("/v1/logout"), headers={"Origin": server.base_url, "X-CSRF-Token": csrf},
               timeout=10)
    assert r.status_code == 204
    cleared = set_cookies(r)
    assert any(c.startswith("__Host-atelier=;") and "Max-Age=0" in c for c in cleared), cleared
    assert any(c.startswith("__Host-atelier-csrf=;") and "Max-Age=0" in c for c in cleared)
    assert_error(server.get("/v1/account", headers=bearer(token)), 401)
    # a stale cookie gets 401 and is cleared
    r = s.get(server.url("/v1/account"), timeout=10)
    assert_error(r, 401)
    assert any("Max-Age=0" in c for c in set_cookies(r))


def test_confirm_with_cookie(server):
    mails = outbox(server)
    ident = new_identity("siteconf")
    with setup_client() as c:
        assert c.post(server.url("/v1/signup"), json=ident, timeout=10).status_code == 202
    token = mails.wait(ident["email"], match="confirm").token
    body = {"token": token, "password": ident["password"], "cookie": True}
    r = server.post("/v1/confirm", json=body)
    assert_error(r, 403, "csrf_failed")
    r = server.post("/v1/confirm", json=body, headers={"Origin": server.base_url})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"account", "expires_at"}
    assert any(c.startswith("__Host-atelier=") for c in set_cookies(r))
    r = server.post("/v1/confirm", json={"token": token, "cookie": "yes"})
    assert_invalid_field(r, "cookie")


def test_public_url_sets_the_origin(server_factory):
    srv = server_factory.start(["--public-url", "https://atelier.example"])
    acc = create_account(srv, outbox(srv), "sitepub")
    assert_error(cookie_login(srv, acc), 403, "csrf_failed")  # its own host is not the public origin
    assert cookie_login(srv, acc, origin="https://atelier.example").status_code == 200
    assert_error(cookie_login(srv, acc, origin="http://atelier.example"), 403, "csrf_failed")


def test_units(server, acc):
    a = server.get("/v1/account", headers=acc.auth).json()
    assert a["units"] == "cm"
    for bad in ["ft", "", None, 1, "MM", ["in"]]:
        assert_invalid_field(server.request("PATCH", "/v1/account", json={"units": bad}, headers=acc.auth), "units")
    for u in ["in", "mm", "cm", "in"]:
        r = server.request("PATCH", "/v1/account", json={"units": u}, headers=acc.auth)
        assert r.status_code == 200 and r.json()["units"] == u
    assert server.get("/v1/account", headers=acc.auth).json()["units"] == "in"
    exp = server.get("/v1/account/export", headers=acc.auth).json()
    assert exp["account"]["units"] == "in"

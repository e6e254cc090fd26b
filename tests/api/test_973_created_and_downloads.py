"""201 Location, download names, and the confirmation's session end (issue
18, item 3; docs/API.md "HTTP conventions").

- every 201 carries Location, the path of the new resource (which answers);
  the document declares it on every 201;
- drawn patterns (SVG, PDF; from a model or saved) are downloads named
  after the design, the title date and the paper, never after the model
  or the saved pattern (people's text);
- POST /v1/confirm of a signup says when its session ends (expires_at), as
  a login does, with and without the cookie."""

import datetime
import re

import pytest

from accounts_helpers import (
    confirm, create_account, login, new_identity, outbox, parse_time, setup_client,
)
from apikeys_helpers import in_days
from models_helpers import create, female_sets
from saved_patterns_helpers import pattern_path, save

DISPOSITION = re.compile(r'^attachment; filename="atelier-([a-z]+)-(\d{4}-\d{2}-\d{2})(?:-([a-z0-9]+))?\.(svg|pdf)"$')


@pytest.fixture(scope="module")
def acc(server):
    return create_account(server, outbox(server), "loc")


def test_every_201_declares_location(server):
    paths = server.get("/v1/openapi.json").json()["paths"]
    created = [(m, p) for p, item in paths.items() for m, op in item.items()
               if isinstance(op, dict) and "201" in op.get("responses", {})]
    assert len(created) >= 3, created
    for m, p in created:
        assert "Location" in paths[p][m]["responses"]["201"].get("headers", {}), (m, p)


def test_location_on_201(server, acc):
    r = create(server, acc, name="Located", breasts=True, measurements=female_sets()["cisFemaleAdult34"])
    assert r.status_code == 201, r.text[:300]
    model = r.json()
    assert r.headers["Location"] == f"/v1/models/{model['id']}"
    assert server.get(r.headers["Location"], headers=acc.auth).json() == model

    r = save(server, acc, model["id"], "bodice", "located")
    assert r.status_code == 201, r.text[:300]
    assert r.headers["Location"] == f"/v1/patterns/{r.json()['id']}"
    assert server.get(r.headers["Location"], headers=acc.auth).json() == r.json()

    r = server.post("/v1/apikeys", headers=acc.auth,
                    json={"name": "located", "scope": "read", "expires_at": in_days(3)})
    assert r.status_code == 201, r.text[:300]
    assert r.headers["Location"] == f"/v1/apikeys/{r.json()['id']}"
    assert server.request("DELETE", r.headers["Location"], headers=acc.auth).status_code == 204


def test_patterns_are_named_downloads(server, acc):
    r = create(server, acc, name="Ann Secret-Name", breasts=True,
               measurements=female_sets()["cisFemaleAdult34"])
    model = r.json()
    base = f"/v1/models/{model['id']}/patterns/bodice"
    date = server.get(base + ".json", headers=acc.auth).json()["date"]
    for suffix, want in ((".svg", ("bodice", date, None, "svg")),
                         (".pdf", ("bodice", date, "full", "pdf")),
                         (".pdf?paper=a4", ("bodice", date, "a4", "pdf")),
                         (".pdf?paper=letter", ("bodice", date, "letter", "pdf"))):
        r = server.get(base + suffix, headers=acc.auth, timeout=60)
        assert r.status_code == 200, r.text[:200]
        m = DISPOSITION.match(r.headers.get("Content-Disposition", ""))
        assert m and m.groups() == want, (suffix, r.headers.get("Content-Disposition"))
        assert "Secret" not in r.headers["Content-Disposition"]
    # the description is no download
    assert "Content-Disposition" not in server.get(base + ".json", headers=acc.auth).headers

    p = save(server, acc, model["id"], "bodice", "My secret pattern", options={"paper": "a4"}).json()
    day = p["measured_at"][:10]
    for suffix, want in ((".svg", ("bodice", day, None, "svg")),
                         (".pdf", ("bodice", day, "a4", "pdf")),
                         (".pdf?paper=full", ("bodice", day, "full", "pdf"))):
        r = server.get(pattern_path(p["id"], suffix), headers=acc.auth, timeout=60)
        assert r.status_code == 200, r.text[:200]
        m = DISPOSITION.match(r.headers.get("Content-Disposition", ""))
        assert m and m.groups() == want, (suffix, r.headers.get("Content-Disposition"))


def test_export_is_a_named_download(server, acc):
    r = server.get("/v1/account/export", headers=acc.auth, timeout=60)
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == 'attachment; filename="atelier-export.json"'


@pytest.mark.parametrize("cookie", [False, True])
def test_confirm_says_when_the_session_ends(server, cookie):
    mails = outbox(server)
    ident = new_identity("exp")
    with setup_client() as client:
        r = client.post(server.url("/v1/signup"), timeout=10, json={
            "email": ident["email"], "username": ident["username"], "password": ident["password"]})
    assert r.status_code == 202, r.text[:300]
    token = mails.wait(ident["email"], match="confirm").token
    before = datetime.datetime.now(datetime.timezone.utc)
    if cookie:
        r = server.post("/v1/confirm", headers={"Origin": server.base_url}, json={
            "token": token, "password": ident["password"], "cookie": True})
    else:
        r = confirm(server, token, ident["password"])
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert ("token" in body) != cookie, body
    ends = parse_time(body["expires_at"])
    assert datetime.timedelta(days=29) < ends - before < datetime.timedelta(days=31), body
    # the same form as a login's
    lg = login(server, ident["username"], ident["password"]).json()
    assert re.sub(r"\d", "0", lg["expires_at"]) == re.sub(r"\d", "0", body["expires_at"])

"""Query parameters and choice values (issue 18, item 3; docs/API.md "HTTP
conventions").

- every API route (walked from the server's own OpenAPI document) refuses a
  query parameter it does not take with 422 invalid_field naming it, as an
  unknown body member is, before its handler runs (nothing changes);
- a declared parameter given twice is refused too; a declared one that
  does not apply (paper on an SVG, another design's option) names itself;
- the site's pages take any query (links to them are written by others);
- choice values are exact: paper=A4 was accepted until this test, a4 is
  the documented spelling, and the error names the accepted values; the
  same in bodies (options of saved patterns)."""

import pytest

from accounts_helpers import assert_error, assert_invalid_field, create_account, outbox
from models_helpers import create_model, female_sets, get_model
from saved_patterns_helpers import get_pattern, pattern_path, save, save_pattern

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def world(server):
    acc = create_account(server, outbox(server), "query")
    model = create_model(server, acc, name="Query", breasts=True,
                         measurements=female_sets()["cisFemaleAdult34"])
    saved = save_pattern(server, acc, model["id"], "trouser", "saved")
    return {"acc": acc, "model": model["id"], "saved": saved["id"]}


def concrete(path, world):
    path = path.replace("/v1/models/{id}", "/v1/models/" + world["model"])
    path = path.replace("/v1/patterns/{id}", "/v1/patterns/" + world["saved"])
    path = path.replace("{design}", "bodice")
    return path.replace("{id}", "AAAAAAAAAAAAAAAAAAAAAA")


def test_every_api_route_refuses_an_unknown_query_parameter(server, world):
    acc = world["acc"]
    paths = server.get("/v1/openapi.json").json()["paths"]
    tried = 0
    for pattern, item in paths.items():
        if not (pattern.startswith("/v1/") or pattern == "/healthz"):
            continue
        for method, op in item.items():
            if method not in METHODS:
                continue
            kw = {}
            content = (op.get("requestBody") or {}).get("content") or {}
            headers = dict(acc.auth)
            if "application/json" in content:
                kw["json"] = {}
            elif content:
                headers["Content-Type"] = sorted(content)[0]
                kw["data"] = b""
            r = server.request(method.upper(), concrete(pattern, world) + "?bogus=1",
                               headers=headers, timeout=60, **kw)
            err = assert_invalid_field(r, "bogus")
            assert "bogus" in err["message"], err
            tried += 1
    assert tried >= 50, tried
    # nothing ran: the session, the model and the saved pattern are all there
    assert get_model(server, acc, world["model"])["id"] == world["model"]
    assert get_pattern(server, acc, world["saved"])["id"] == world["saved"]


def test_the_error_says_what_the_route_takes(server, world):
    err = assert_invalid_field(server.get("/v1/designs?design=body"), "design")
    assert "takes none" in err["message"], err
    err = assert_invalid_field(server.get("/v1/measurements?breast=true"), "breast")
    assert "breasts" in err["message"], err
    # a name that is not text is shown, bounded, without its bytes
    r = server.get("/v1/designs?%FF%FE" + "x" * 200 + "=1")
    assert_error(r, 422, "invalid_field")
    assert len(r.json()["error"]["field"]) <= 40


def test_declared_parameters_still_work(server, world):
    acc = world["acc"]
    assert server.get("/v1/measurements?breasts=false").status_code == 200
    assert server.get("/v1/measurements?").status_code == 200
    r = server.get(f"/v1/models/{world['model']}/patterns/trouser.svg?sa=12&leg_shape=slim",
                   headers=acc.auth)
    assert r.status_code == 200, r.text[:300]
    r = server.get(pattern_path(world["saved"], ".pdf?paper=letter"), headers=acc.auth, timeout=60)
    assert r.status_code == 200, r.text[:300]
    # the site's picture links carry a cache buster
    r = server.get(f"/v1/models/{world['model']}/avatar?v=1733", headers=acc.auth)
    assert_error(r, 404, "not_found")


def test_twice_and_out_of_place(server, world):
    acc = world["acc"]
    err = assert_invalid_field(server.get("/v1/measurements?breasts=true&breasts=false"), "breasts")
    assert "more than once" in err["message"], err
    base = f"/v1/models/{world['model']}/patterns"
    # paper is the PDF's: an SVG or a description refuses it
    assert_invalid_field(server.get(f"{base}/bodice.svg?paper=a4", headers=acc.auth), "paper")
    assert_invalid_field(server.get(f"{base}/bodice.json?paper=a4", headers=acc.auth), "paper")
    assert_invalid_field(server.get(pattern_path(world["saved"], ".svg?paper=a4"), headers=acc.auth),
                         "paper")
    # another design's option is not silently dropped
    err = assert_invalid_field(server.get(f"{base}/bodice.svg?leg_shape=slim", headers=acc.auth),
                               "leg_shape")
    assert "does not apply" in err["message"], err


def test_site_pages_take_any_query(server):
    for path in ("/", "/login?next=%2Faccount&utm_source=mail", "/confirm?token=x&fbclid=y",
                 "/assets/app.js?v=whatever&x=1"):
        assert server.get(path).status_code == 200, path


@pytest.mark.parametrize("ext", ["pdf", "json-saved"])
def test_paper_is_exact(server, world, ext):
    """paper=A4 was accepted (case-insensitively) before issue 18."""
    acc = world["acc"]
    if ext == "pdf":
        path = f"/v1/models/{world['model']}/patterns/bodice.pdf"
    else:
        path = pattern_path(world["saved"], ".pdf")
    for wrong in ("A4", "Letter", "FULL", "a4 "):
        r = server.get(path, params={"paper": wrong}, headers=acc.auth, timeout=60)
        err = assert_invalid_field(r, "paper")
        assert "full, a4 or letter" in err["message"], err
    r = server.get(path, params={"paper": "a4"}, headers=acc.auth, timeout=60)
    assert r.status_code == 200 and r.content.startswith(b"%PDF"), r.text[:200]


def test_other_choices_are_exact(server, world):
    acc = world["acc"]
    base = f"/v1/models/{world['model']}/patterns"
    err = assert_invalid_field(server.get(f"{base}/bodice.svg?units=Imperial", headers=acc.auth),
                               "units")
    assert "metric or imperial" in err["message"], err
    err = assert_invalid_field(server.get(f"{base}/trouser.svg?leg_shape=SLIM", headers=acc.auth),
                               "leg_shape")
    assert "straight, slim or wide" in err["message"], err
    # in bodies too
    r = save(server, acc, world["model"], "trouser", "wide", options={"leg_shape": "Wide"})
    assert_invalid_field(r, "options.leg_shape")
    r = server.request("PATCH", pattern_path(world["saved"]), headers=acc.auth,
                       json={"options": {"paper": "A4"}})
    assert_invalid_field(r, "options.paper")
    r = server.request("PATCH", pattern_path(world["saved"]), headers=acc.auth,
                       json={"options": {"paper": "a4"}})
    assert r.status_code == 200 and r.json()["options"]["paper"] == "a4", r.text[:300]

"""Patterns (SPEC section 7, issue 7) through the API: the designs, SVG in
true mm, tiled PDF, owner-only drafting, and the 422 that lists every
missing measurement. The engine's geometric invariants are proven in
tests/unit/test_draft.c; this module proves what a client sees."""

import re
import subprocess
import tempfile

import pytest

import limits
from accounts_helpers import assert_error, assert_unauthenticated, create_account, outbox
from models_helpers import create_model, female_sets, male_sets, model_path, random_id, without_breasts_only


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


@pytest.fixture(scope="module")
def owner(server, mails):
    return create_account(server, mails, "drafter")


@pytest.fixture(scope="module")
def other(server, mails):
    return create_account(server, mails, "intruder")


@pytest.fixture(scope="module")
def flat_model(server, owner):
    values = without_breasts_only(male_sets()["cisMaleAdult42"])
    return create_model(server, owner, name="Bob <b> & Co", breasts=False, measurements=values)


@pytest.fixture(scope="module")
def bust_model(server, owner):
    return create_model(server, owner, name="Ann", breasts=True,
                        measurements=female_sets()["cisFemaleAdult34"])


def pattern(server, acc, model_id, design, ext="svg", **query):
    return server.get(model_path(model_id, f"/patterns/{design}.{ext}"), headers=acc.auth,
                      params=query)


def test_designs_list_the_blocks_and_garments_with_their_measurements(server):
    r = server.get("/v1/designs")
    assert r.status_code == 200, r.text
    designs = {d["name"]: d for d in r.json()["designs"]}
    assert set(designs) == {"body", "bodice", "trouser", "tshirt", "skirt"}
    assert designs["body"]["bodies"] == "without_breasts"
    assert designs["bodice"]["bodies"] == "with_breasts"
    assert designs["trouser"]["bodies"] == "any"
    assert designs["tshirt"]["bodies"] == "any" and designs["skirt"]["bodies"] == "any"
    vocab = {m["name"] for m in server.get("/v1/measurements").json()["measurements"]}
    for d in designs.values():
        assert d["required"] and set(d["required"]) <= vocab, d
        assert set(d["optional"]) <= vocab, d
    assert "chest" in designs["body"]["required"]
    assert "crossSeam" in designs["trouser"]["required"]


@pytest.mark.parametrize("design,fixture", [("body", "flat_model"), ("trouser", "flat_model"),
                                            ("bodice", "bust_model"), ("trouser", "bust_model")])
def test_svg_in_true_millimetres(server, owner, design, fixture, request):
    model = request.getfixturevalue(fixture)
    r = pattern(server, owner, model["id"], design, sa=10)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("image/svg+xml")
    svg = r.text
    m = re.search(r'<svg[^>]*width="([0-9.]+)mm"[^>]*height="([0-9.]+)mm"[^>]*viewBox="0 0 ([0-9.]+) ([0-9.]+)"', svg)
    assert m, svg[:300]
    assert float(m.group(1)) == pytest.approx(float(m.group(3)))
    assert float(m.group(2)) == pytest.approx(float(m.group(4)))
    assert not re.search(r'[=" ,(-](nan|inf)', svg.lower()), "a non-finite number in the SVG"
    # the model's name is in the titles, escaped for XML
    if fixture == "flat_model":
        assert "Bob &lt;b&gt; &amp; Co" in svg and "Bob <b>" not in svg


def test_seam_allowance_changes_the_drawing(server, owner, flat_model):
    a = pattern(server, owner, flat_model["id"], "body", sa=0).text
    b = pattern(server, owner, flat_model["id"], "body", sa=25).text
    assert a != b
    width = lambda s: float(re.search(r'width="([0-9.]+)mm"', s).group(1))
    assert width(b) > width(a), "a wider seam allowance makes the layout wider"


def test_pdf_full_and_tiled(server, owner, flat_model):
    full = pattern(server, owner, flat_model["id"], "body", ext="pdf")
    assert full.status_code == 200 and full.content.startswith(b"%PDF"), full.text[:200]
    a4 = pattern(server, owner, flat_model["id"], "body", ext="pdf", paper="a4")
    assert a4.status_code == 200 and a4.content.startswith(b"%PDF")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(a4.content)
        f.flush()
        info = subprocess.run(["pdfinfo", f.name], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    w, h = map(float, re.search(r"Page size:\s+([0-9.]+) x ([0-9.]+) pts", info).groups())
    assert pages > 1, "a full-size body block does not fit one A4 page"
    assert (round(w), round(h)) == (595, 842), info
    assert pattern(server, owner, flat_model["id"], "body", ext="pdf", paper="a3").status_code == 422


def test_missing_measurements_listed(server, owner):
    sparse = create_model(server, owner, name="sparse", breasts=False,
                          measurements={"chest": 1000, "neck": 380})
    r = pattern(server, owner, sparse["id"], "body")
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "missing_measurements"
    designs = {d["name"]: d for d in server.get("/v1/designs").json()["designs"]}
    expected = set(designs["body"]["required"]) - {"chest", "neck"}
    assert set(err["missing"]) == expected, err
    for name in expected:
        assert name in err["message"], err


def test_design_not_for_this_body(server, owner, flat_model, bust_model):
    r = pattern(server, owner, flat_model["id"], "bodice")
    assert_error(r, 422, "design_not_for_body")
    r = pattern(server, owner, bust_model["id"], "body")
    assert_error(r, 422, "design_not_for_body")


@pytest.mark.parametrize("sa", ["-1", f"{limits.LIMIT_SA_MAX + 1:g}", "abc", "1e400", "nan", ""])
def test_bad_seam_allowance(server, owner, flat_model, sa):
    r = pattern(server, owner, flat_model["id"], "body", sa=sa)
    assert r.status_code == 422, (sa, r.text)
    assert r.json()["error"]["field"] == "sa"


def test_unknown_design(server, owner, flat_model):
    assert_error(pattern(server, owner, flat_model["id"], "cape"), 404, "unknown_design")


@pytest.mark.parametrize("ext", ["svg", "pdf"])
def test_only_the_owner_drafts(server, owner, other, flat_model, ext):
    reference = pattern(server, other, random_id(), "body", ext=ext)
    r = pattern(server, other, flat_model["id"], "body", ext=ext)
    assert reference.status_code == 404
    assert r.status_code == 404 and r.json() == reference.json(), r.text
    r = server.get(model_path(flat_model["id"], f"/patterns/body.{ext}"))
    assert_unauthenticated(r)

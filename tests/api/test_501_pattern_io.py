"""Patterns through the API, input and output (issue 15 items 5-8): whole
FreeSewing sets and the model's breasts flag, warnings on odd but drawable
measurements (the Atelier-Warnings header on .svg and .pdf, in full on the
.json route), the assembly page and the tiles of a PDF, titles with the date
and the engine's version, and imperial labels. The geometry behind each of
these is proven in tests/unit/test_draft.c; this module proves what a client
sees."""

import datetime
import re
import subprocess
import tempfile

import pytest

from accounts_helpers import assert_error, create_account, outbox
from models_helpers import create_model, female_sets, male_sets, model_path, without_breasts_only

WARNING_CODES = {
    "waist_wider_than_block", "waist_wider_than_bust", "waist_wider_than_seat",
    "bust_smaller_than_high_bust", "bust_dart_too_large", "line_moved",
    "implausible_measurements",
}


@pytest.fixture(scope="module")
def owner(server):
    return create_account(server, outbox(server), "patternio")


@pytest.fixture(scope="module")
def man(server, owner):
    """FreeSewing's cisMaleAdult40 on a model without breasts: all it may
    hold (the 30 names a body without breasts has, SPEC section 3)."""
    return create_model(server, owner, name="Ben", breasts=False,
                        measurements=without_breasts_only(male_sets()["cisMaleAdult40"]))


@pytest.fixture(scope="module")
def woman(server, owner):
    """FreeSewing's cisFemaleAdult36, the whole set: 38 names."""
    return create_model(server, owner, name="Cleo", breasts=True,
                        measurements=female_sets()["cisFemaleAdult36"])


def pattern(server, acc, model_id, design, ext="svg", **query):
    return server.get(model_path(model_id, f"/patterns/{design}.{ext}"), headers=acc.auth,
                      params=query)


def today_or_yesterday():
    """The server's day (UTC), allowing for a request across midnight."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return {now.date().isoformat(), (now - datetime.timedelta(minutes=2)).date().isoformat()}


def pdf_text(data, first=None, last=None):
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        args = ["pdftotext"]
        if first:
            args += ["-f", str(first), "-l", str(last or first)]
        return subprocess.run(args + [f.name, "-"], capture_output=True, text=True,
                              check=True).stdout


def pdf_pages(data):
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        info = subprocess.run(["pdfinfo", f.name], capture_output=True, text=True,
                              check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


# ---- item 5: whole sets, the flag decides the body -------------------------


@pytest.mark.parametrize("fixture,design", [("man", "body"), ("man", "trouser"),
                                            ("woman", "bodice"), ("woman", "trouser")])
def test_freesewing_sets_draft_without_warnings(server, owner, fixture, design, request):
    model = request.getfixturevalue(fixture)
    for ext in ("svg", "pdf"):
        r = pattern(server, owner, model["id"], design, ext)
        assert r.status_code == 200, r.text[:300]
        assert "Atelier-Warnings" not in r.headers, r.headers
    info = pattern(server, owner, model["id"], design, "json").json()
    assert info["warnings"] == [], info["warnings"]


def test_the_flag_decides_the_body_not_the_names(server, owner, woman):
    # a whole women's set: the body block is not for it, whatever it holds
    assert_error(pattern(server, owner, woman["id"], "body"), 422, "design_not_for_body")
    # the same names a body without breasts has, on a model flagged with
    # breasts: still no body block, and the bodice lacks its own names
    flagged = create_model(server, owner, name="flagged", breasts=True,
                           measurements=without_breasts_only(male_sets()["cisMaleAdult40"]))
    assert_error(pattern(server, owner, flagged["id"], "body"), 422, "design_not_for_body")
    r = pattern(server, owner, flagged["id"], "bodice")
    assert_error(r, 422, "missing_measurements")
    assert "highBust" in r.json()["error"]["missing"]
    assert pattern(server, owner, flagged["id"], "trouser").status_code == 200


# ---- item 6: warnings -------------------------------------------------------


def odd_model(server, owner, **changes):
    values = without_breasts_only(male_sets()["cisMaleAdult40"])
    values.update(changes)
    return create_model(server, owner, name="odd", breasts=False, measurements=values)


def check_info_shape(server, info):
    doc = server.get("/v1/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert set(info) == set(schemas["PatternInfo"]["required"]), set(info)
    assert set(info["pages"]) == {"a4", "letter"}
    for part in info["parts"]:
        assert set(part) == {"name", "title", "cut", "on_fold"}, part
    for w in info["warnings"]:
        assert set(w) == set(schemas["DraftWarning"]["required"]), w
        assert w["code"] in schemas["DraftWarning"]["properties"]["code"]["enum"], w
        assert w["message"].isascii() and len(w["message"]) > 20, w
        assert w["measurements"], w
    assert set(schemas["DraftWarning"]["properties"]["code"]["enum"]) == WARNING_CODES


def test_odd_measurements_draft_with_warnings(server, owner):
    chest = male_sets()["cisMaleAdult40"]["chest"]
    model = odd_model(server, owner, waist=round(chest * 1.15))
    for ext in ("svg", "pdf"):
        r = pattern(server, owner, model["id"], "body", ext)
        assert r.status_code == 200, r.text[:300]
        codes = r.headers["Atelier-Warnings"].split(", ")
        assert "waist_wider_than_block" in codes, codes
        assert len(codes) == len(set(codes)) and set(codes) <= WARNING_CODES, codes
    info = pattern(server, owner, model["id"], "body", "json").json()
    check_info_shape(server, info)
    warned = {w["code"]: w for w in info["warnings"]}
    assert "waist" in warned["waist_wider_than_block"]["measurements"]
    assert "waist" in warned["waist_wider_than_block"]["message"]
    assert set(codes) == set(warned), (codes, warned)
    # the same measurements drafted for the trouser: the waist is also wider
    # than the seat there
    info = pattern(server, owner, model["id"], "trouser", "json").json()
    assert "waist_wider_than_seat" in {w["code"] for w in info["warnings"]}, info["warnings"]


def test_absurd_measurements_are_still_refused(server, owner):
    cs = male_sets()["cisMaleAdult40"]["crossSeam"]
    model = odd_model(server, owner, crossSeamFront=round(cs * 0.8))
    for ext in ("svg", "pdf", "json"):
        r = pattern(server, owner, model["id"], "trouser", ext)
        assert_error(r, 422, "cannot_draft")
        assert "crossSeamFront" in r.json()["error"]["message"]
        assert "Atelier-Warnings" not in r.headers


# ---- item 7: titles, the assembly page, the tiles ----------------------------


def test_json_describes_the_pattern_the_svg_and_pdf_give(server, owner, man):
    info = pattern(server, owner, man["id"], "body", "json", sa=15).json()
    check_info_shape(server, info)
    assert info["design"] == "body" and info["units"] == "metric" and info["sa"] == 15
    assert [p["name"] for p in info["parts"]] == ["front", "back", "sleeve"]
    assert [p["on_fold"] for p in info["parts"]] == [True, True, False]
    assert info["date"] in today_or_yesterday()
    svg = pattern(server, owner, man["id"], "body", sa=15).text
    m = re.search(r'<svg[^>]*width="([0-9.]+)mm"[^>]*height="([0-9.]+)mm"', svg)
    assert (float(m.group(1)), float(m.group(2))) == (info["width_mm"], info["height_mm"])
    # every title carries the date and the engine's version, the model and the design
    assert svg.count(f'{info["date"]}, atelier {info["engine"]}<') == 3, svg[:500]
    assert svg.count(">for Ben<") == 3 and svg.count(">Body block<") == 3
    for paper in ("a4", "letter"):
        pdf = pattern(server, owner, man["id"], "body", "pdf", sa=15, paper=paper).content
        assert pdf_pages(pdf) == info["pages"][paper] + 1, paper
        first = pdf_text(pdf, 1)
        assert "assembly" in first and f'{info["pages"][paper]} pages' in first, first
    assert pdf_pages(pattern(server, owner, man["id"], "body", "pdf").content) == 1


# ---- item 8: imperial labels --------------------------------------------------


def test_imperial_labels(server, owner, woman):
    svg = pattern(server, owner, woman["id"], "bodice", units="imperial", sa=15.875).text
    assert "4 in x 2 in." in svg and "100 mm x 50 mm" not in svg
    assert "seam allowance 5/8 in included" in svg
    metric = pattern(server, owner, woman["id"], "bodice", sa=15.875).text
    assert "100 mm x 50 mm." in metric and "seam allowance 15.88 mm included" in metric
    pdf = pattern(server, owner, woman["id"], "bodice", "pdf", units="imperial").content
    assert "4 in x 2 in." in pdf_text(pdf)
    info = pattern(server, owner, woman["id"], "bodice", "json", units="imperial").json()
    assert info["units"] == "imperial"
    # a choice is exact (test_971): another spelling is refused
    assert_error(pattern(server, owner, woman["id"], "bodice", "json", units="IMPERIAL"), 422,
                 "invalid_field")
    for ext in ("svg", "pdf", "json"):
        r = pattern(server, owner, woman["id"], "bodice", ext, units="furlongs")
        assert_error(r, 422, "invalid_field")
        assert r.json()["error"]["field"] == "units"


# ---- saved patterns: the same warnings, and the snapshot's day ---------------


def test_saved_patterns_carry_warnings(server, owner):
    from saved_patterns_helpers import pattern_path, save_pattern

    chest = male_sets()["cisMaleAdult40"]["chest"]
    model = odd_model(server, owner, waist=round(chest * 1.15))
    saved = save_pattern(server, owner, model["id"], "body", options={"units": "imperial"})
    assert saved["options"]["units"] == "imperial"
    r = server.get(pattern_path(saved["id"], ".svg"), headers=owner.auth)
    assert r.status_code == 200 and "4 in x 2 in." in r.text
    assert "waist_wider_than_block" in r.headers["Atelier-Warnings"].split(", ")
    info = server.get(pattern_path(saved["id"], ".json"), headers=owner.auth).json()
    check_info_shape(server, info)
    assert info["units"] == "imperial" and info["date"] == saved["measured_at"][:10]
    assert "waist_wider_than_block" in {w["code"] for w in info["warnings"]}
    r = server.get(pattern_path(saved["id"], ".json"), headers=create_account(
        server, outbox(server), "stranger").auth)
    assert_error(r, 404, "not_found")


def test_a_saved_pattern_keeps_its_day_and_its_bytes(fresh_database, server_factory, tmp_path):
    """A model's titles carry today; a saved pattern's the day of its
    snapshot, so its bytes do not change on the following days."""
    from accounts_helpers import ClockedStore
    from saved_patterns_helpers import pattern_path, save_pattern

    store = ClockedStore(server_factory, tmp_path / "data", fresh_database)
    srv = store.start()
    acc = create_account(srv, outbox(srv), "dated")
    model = create_model(srv, acc, name="Dee", breasts=False,
                         measurements=without_breasts_only(male_sets()["cisMaleAdult40"]))
    saved = save_pattern(srv, acc, model["id"], "trouser")
    day = saved["measured_at"][:10]
    first = srv.get(pattern_path(saved["id"], ".svg"), headers=acc.auth)
    first_pdf = srv.get(pattern_path(saved["id"], ".pdf"), headers=acc.auth, params={"paper": "a4"})
    assert first.status_code == 200 and f">{day}, atelier " in first.text

    srv = store.start(offset=3 * 86400 + 600)  # three days later
    later = srv.get(pattern_path(saved["id"], ".svg"), headers=acc.auth)
    later_pdf = srv.get(pattern_path(saved["id"], ".pdf"), headers=acc.auth, params={"paper": "a4"})
    assert later.content == first.content and later_pdf.content == first_pdf.content
    fresh = pattern(srv, acc, model["id"], "trouser", "json").json()
    assert fresh["date"] != day and fresh["date"] > day, fresh["date"]
    assert f">{fresh['date']}, atelier " in pattern(srv, acc, model["id"], "trouser").text

"""Saved patterns (issue 14) through the API: save, read, list, change and
delete; every bad input is a 422 naming its field and changes nothing;
another account's pattern answers exactly the 404 of one that does not
exist; a saved pattern drafts from its snapshot, byte for byte as its model
drafted when the snapshot was taken, also after the model changed, until a
refresh takes the model's new values; a pattern goes with its model."""

import pytest

import limits
from accounts_helpers import assert_error, assert_invalid_field, assert_unauthenticated, create_account, outbox
from lifecycle_helpers import Store
from models_helpers import assert_not_found_like, create_model, get_model, model_path, patch, random_id
from saved_patterns_helpers import (
    DEFAULT_OPTIONS,
    design_defaults,
    SUMMARY_KEYS,
    bust_body,
    draft_model,
    draft_saved,
    flat_body,
    get_pattern,
    list_patterns,
    patch_pattern,
    pattern_path,
    refresh,
    save,
    save_pattern,
    svg_size,
)


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


@pytest.fixture(scope="module")
def owner(server, mails):
    return create_account(server, mails, "saver")


@pytest.fixture(scope="module")
def other(server, mails):
    return create_account(server, mails, "snoop")


@pytest.fixture(scope="module")
def flat(server, owner):
    return create_model(server, owner, name="Flat <b> & Co", breasts=False, measurements=flat_body())


@pytest.fixture(scope="module")
def bust(server, owner):
    return create_model(server, owner, name="Bust", breasts=True, measurements=bust_body())


def count(server, acc):
    return len(list_patterns(server, acc))


# --------------------------------------------------------------------------
# create, read, list, change, delete


def test_save_read_list_change_delete(server, owner, flat):
    p = save_pattern(server, owner, flat["id"], "body", "Linen shirt", notes="first try\nshorter",
                     options={"sa": 15})
    assert p["model_id"] == flat["id"] and p["design"] == "body" and p["name"] == "Linen shirt"
    assert p["notes"] == "first try\nshorter"
    body_defaults = design_defaults(server, "body")
    assert p["options"] == {**body_defaults, "sa": 15}, "given options, the rest at their defaults"
    assert p["snapshot"] == {"model_name": flat["name"], "breasts": False,
                             "measurements": flat["measurements"]}
    assert p["created_at"] == p["updated_at"] == p["measured_at"]

    assert get_pattern(server, owner, p["id"]) == p
    listed = {e["id"]: e for e in list_patterns(server, owner)}
    assert listed[p["id"]] == {k: p[k] for k in SUMMARY_KEYS}

    r = patch_pattern(server, owner, p["id"], {"name": "Linen shirt, long", "notes": "second",
                                               "options": {"paper": "a4"}})
    assert r.status_code == 200, r.text
    q = r.json()
    assert q == get_pattern(server, owner, p["id"])
    assert q["name"] == "Linen shirt, long" and q["notes"] == "second"
    assert q["options"] == {**body_defaults, "sa": 15, "paper": "a4"}, "a choice is stored as the vocabulary writes it"
    assert q["snapshot"] == p["snapshot"] and q["measured_at"] == p["measured_at"]
    assert q["design"] == "body" and q["model_id"] == flat["id"] and q["created_at"] == p["created_at"]

    r = patch_pattern(server, owner, p["id"], {"notes": None, "options": {"sa": None}})
    assert r.status_code == 200, r.text
    assert r.json()["notes"] is None
    assert r.json()["options"] == {**body_defaults, "paper": "a4"}, "null resets to the default"

    r = server.request("DELETE", pattern_path(p["id"]), headers=owner.auth)
    assert r.status_code == 204 and r.content == b"", r.text
    assert_error(server.get(pattern_path(p["id"]), headers=owner.auth), 404, "not_found")
    assert p["id"] not in {e["id"] for e in list_patterns(server, owner)}
    assert_error(server.request("DELETE", pattern_path(p["id"]), headers=owner.auth), 404, "not_found")


@pytest.mark.parametrize("extra", [{}, {"options": None}, {"options": {}}])
def test_options_default(server, owner, flat, extra):
    p = save_pattern(server, owner, flat["id"], "trouser", "defaults", **extra)
    assert p["options"] == design_defaults(server, "trouser"), p
    assert set(DEFAULT_OPTIONS) < set(p["options"]) and p["options"]["leg_shape"] == "straight"
    assert p["notes"] is None


def test_designs_list_their_options(server):
    r = server.get("/v1/designs")
    assert r.status_code == 200, r.text
    for d in r.json()["designs"]:
        options = {o["name"]: o for o in d["options"]}
        assert set(options) >= {"sa", "paper"}, d
        sa = options["sa"]
        assert (sa["kind"], sa["unit"], sa["min"], sa["max"], sa["default"]) == (
            "number", "mm", 0, limits.LIMIT_SA_MAX, DEFAULT_OPTIONS["sa"]), sa
        assert sa["output_only"] is False
        paper = options["paper"]
        assert paper["kind"] == "choice" and paper["choices"] == ["full", "a4", "letter"], paper
        assert paper["default"] == "full" and paper["output_only"] is True
        for o in d["options"]:
            assert isinstance(o["description"], str) and o["description"], o


# --------------------------------------------------------------------------
# validation: 422 naming the field, nothing saved or changed

NAME_MAX = limits.LIMIT_MODEL_NAME_MAX
NOTES_MAX = limits.LIMIT_MODEL_NOTES_MAX

BAD_SAVES = [
    # (what is changed in a good body, the field named)
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * (NAME_MAX + 1)}, "name"),
    ({"name": 12}, "name"),
    ({"name": "a\u202eb"}, "name"),
    ({"name": "a\x01b"}, "name"),
    ({"notes": "y" * (NOTES_MAX + 1)}, "notes"),
    ({"notes": 5}, "notes"),
    ({"notes": "zero\u200bwidth"}, "notes"),
    ({"design": None}, "design"),
    ({"design": "cape"}, "design"),
    ({"design": ["body"]}, "design"),
    ({"model_id": None}, "model_id"),
    ({"model_id": "RANDOM"}, "model_id"),
    ({"model_id": 7}, "model_id"),
    ({"model_id": "../models"}, "model_id"),
    ({"model_id": "a" * 200}, "model_id"),
    ({"options": "sa=10"}, "options"),
    ({"options": [10]}, "options"),
    ({"options": {"sa": -1}}, "options.sa"),
    ({"options": {"sa": limits.LIMIT_SA_MAX + 0.5}}, "options.sa"),
    ({"options": {"sa": "10"}}, "options.sa"),
    ({"options": {"sa": True}}, "options.sa"),
    ({"options": {"sa": {}}}, "options.sa"),
    ({"options": {"paper": "a3"}}, "options.paper"),
    ({"options": {"paper": 4}}, "options.paper"),
    ({"options": {"sa": 10, "ease": 1}}, "options.ease"),
    ({"options": {"e" * 60: 1}}, "options." + "e" * 40 + "..."),
    ({"colour": "red"}, "colour"),
]


@pytest.mark.parametrize("change,field", BAD_SAVES, ids=[f for _, f in BAD_SAVES])
def test_bad_save_names_the_field(server, owner, flat, change, field):
    body = {"model_id": flat["id"], "design": "body", "name": "ok", "notes": "ok"}
    for k, v in change.items():
        if v is None and k in ("name", "design", "model_id"):
            body.pop(k)  # absent
        elif v == "RANDOM":
            body[k] = random_id()
        else:
            body[k] = v
    before = count(server, owner)
    r = server.post("/v1/patterns", headers=owner.auth, json=body)
    err = assert_invalid_field(r, field)
    assert err["code"] == "invalid_field", err
    assert count(server, owner) == before, "a refused save stored something"


def test_bounds_are_inclusive(server, owner, flat):
    p = save_pattern(server, owner, flat["id"], "body", "n" * NAME_MAX, notes="t" * NOTES_MAX,
                     options={"sa": limits.LIMIT_SA_MAX})
    assert len(p["name"]) == NAME_MAX and len(p["notes"]) == NOTES_MAX
    assert p["options"]["sa"] == limits.LIMIT_SA_MAX
    p = save_pattern(server, owner, flat["id"], "body", "\u00e9" * NAME_MAX, options={"sa": 0})
    assert p["name"] == "\u00e9" * NAME_MAX, "the bound counts characters, not bytes"


def test_design_not_for_the_body(server, owner, flat, bust):
    before = count(server, owner)
    for model, design in ((flat, "bodice"), (bust, "body")):
        err = assert_error(save(server, owner, model["id"], design), 422, "design_not_for_body")
        assert err["field"] == "design", err
    assert count(server, owner) == before


def test_missing_measurements_refused(server, owner):
    sparse = create_model(server, owner, name="sparse", breasts=False,
                          measurements={"chest": 1000, "neck": 380})
    err = assert_error(save(server, owner, sparse["id"], "body"), 422, "missing_measurements")
    assert err["field"] == "measurements" and "biceps" in err["missing"], err
    assert sparse["id"] not in {p["model_id"] for p in list_patterns(server, owner)}


BAD_PATCHES = [
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"name": "x" * (NAME_MAX + 1)}, "name"),
    ({"notes": 1}, "notes"),
    ({"options": {"sa": 99}}, "options.sa"),
    ({"options": {"paper": "tabloid"}}, "options.paper"),
    ({"options": {"fit": "snug"}}, "options.fit"),
    ({"options": 3}, "options"),
    ({"design": "trouser"}, "design"),
    ({"model_id": "x"}, "model_id"),
    ({"snapshot": {}}, "snapshot"),
    ({"name": "fine", "options": {"sa": -3}}, "options.sa"),
]


@pytest.mark.parametrize("body,field", BAD_PATCHES, ids=[f for _, f in BAD_PATCHES])
def test_bad_patch_names_the_field_and_changes_nothing(server, owner, flat, body, field):
    p = save_pattern(server, owner, flat["id"], "body", "steady", notes="n", options={"sa": 12})
    assert_invalid_field(patch_pattern(server, owner, p["id"], body), field)
    assert get_pattern(server, owner, p["id"]) == p


# --------------------------------------------------------------------------
# owner only


def test_other_accounts_get_the_404_of_nothing(server, owner, other, flat):
    p = save_pattern(server, owner, flat["id"], "body", "mine", notes="private")
    missing = random_id()
    calls = [
        ("GET", "", None),
        ("PATCH", "", {"name": "taken"}),
        ("POST", "/refresh", None),
        ("GET", ".svg", None),
        ("GET", ".pdf", None),
        ("DELETE", "", None),
    ]
    for method, suffix, body in calls:
        kw = {"headers": other.auth}
        if body is not None:
            kw["json"] = body
        reference = server.request(method, pattern_path(missing, suffix), **kw)
        r = server.request(method, pattern_path(p["id"], suffix), **kw)
        assert_not_found_like(r, reference)
    assert p["id"] not in {e["id"] for e in list_patterns(server, other)}
    # Saving from another account's model: the answer of a model that does not exist.
    reference = save(server, other, random_id())
    r = save(server, other, flat["id"])
    assert r.status_code == reference.status_code == 422, r.text
    assert r.json() == reference.json()
    assert list_patterns(server, other) == []
    # Untouched, and still the owner's.
    assert get_pattern(server, owner, p["id"]) == p
    for method, suffix in (("GET", ""), ("GET", ".svg"), ("POST", "/refresh"), ("DELETE", "")):
        assert_unauthenticated(server.request(method, pattern_path(p["id"], suffix)))
    assert_unauthenticated(server.get("/v1/patterns"))
    assert_unauthenticated(server.post("/v1/patterns", json={}))
    assert get_pattern(server, owner, p["id"]) == p


# --------------------------------------------------------------------------
# drafting from the snapshot


@pytest.mark.parametrize("design,fixture", [("body", "flat"), ("trouser", "flat"),
                                            ("bodice", "bust"), ("trouser", "bust")])
def test_a_saved_pattern_drafts_as_its_model_did(server, owner, design, fixture, request):
    model = request.getfixturevalue(fixture)
    expected = draft_model(server, owner, model["id"], design, sa=12.5)
    assert expected.status_code == 200, expected.text[:300]
    p = save_pattern(server, owner, model["id"], design, "same", options={"sa": 12.5})
    r = draft_saved(server, owner, p["id"])
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"] == expected.headers["Content-Type"]
    assert r.content == expected.content, "the saved pattern's SVG differs from the model's"
    if fixture == "flat":
        assert "Flat &lt;b&gt; &amp; Co" in r.text, "the model's name, escaped, in the titles"


def test_pdf_byte_for_byte_and_paper(server, owner, flat):
    expected = draft_model(server, owner, flat["id"], "body", ext="pdf", sa=8, paper="a4")
    assert expected.status_code == 200 and expected.content.startswith(b"%PDF")
    p = save_pattern(server, owner, flat["id"], "body", "print", options={"sa": 8, "paper": "a4"})
    r = draft_saved(server, owner, p["id"], ext="pdf")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf", r.text[:200]
    assert r.content == expected.content
    # ?paper= prints this once on another paper; the stored options stay.
    letter = draft_saved(server, owner, p["id"], ext="pdf", paper="letter")
    assert letter.status_code == 200 and letter.content != r.content
    assert letter.content == draft_model(server, owner, flat["id"], "body", ext="pdf", sa=8,
                                         paper="letter").content
    assert get_pattern(server, owner, p["id"])["options"]["paper"] == "a4"
    assert_invalid_field(draft_saved(server, owner, p["id"], ext="pdf", paper="a3"), "paper")
    # The SVG is the same whatever the paper.
    assert draft_saved(server, owner, p["id"]).content == draft_model(server, owner, flat["id"], "body",
                                                                       sa=8).content


def test_changed_options_change_the_drawing(server, owner, flat):
    p = save_pattern(server, owner, flat["id"], "body", "narrow", options={"sa": 0})
    narrow = draft_saved(server, owner, p["id"]).text
    r = patch_pattern(server, owner, p["id"], {"options": {"sa": 25}})
    assert r.status_code == 200, r.text
    wide = draft_saved(server, owner, p["id"]).text
    assert svg_size(wide)[0] > svg_size(narrow)[0], "a wider seam allowance makes the layout wider"
    assert wide == draft_model(server, owner, flat["id"], "body", sa=25).text


def test_snapshot_survives_the_model_and_refresh_takes_the_new_values(server, owner):
    values = flat_body()
    m = create_model(server, owner, name="Before", breasts=False, measurements=values)
    then = draft_model(server, owner, m["id"], "body", sa=10).content
    p = save_pattern(server, owner, m["id"], "body", "kept")
    assert draft_saved(server, owner, p["id"]).content == then

    changed = {"chest": values["chest"] + 60, "waist": values["waist"] + 40}
    r = patch(server, owner, m["id"], {"name": "After", "measurements": changed})
    assert r.status_code == 200, r.text
    now = draft_model(server, owner, m["id"], "body", sa=10).content
    assert now != then, "control: the model's own drafting changed"
    q = get_pattern(server, owner, p["id"])
    assert q["snapshot"] == p["snapshot"], "a model edit reached the saved snapshot"
    assert q["snapshot"]["model_name"] == "Before" and q["snapshot"]["measurements"]["chest"] == values["chest"]
    assert draft_saved(server, owner, p["id"]).content == then, "the saved pattern redrafted differently"

    r = refresh(server, owner, p["id"])
    assert r.status_code == 200, r.text
    q = r.json()
    assert q == get_pattern(server, owner, p["id"])
    model = get_model(server, owner, m["id"])
    assert q["snapshot"] == {"model_name": "After", "breasts": False, "measurements": model["measurements"]}
    assert q["measured_at"] >= p["measured_at"] and q["options"] == p["options"] and q["name"] == "kept"
    assert draft_saved(server, owner, p["id"]).content == now


def test_refresh_refused_when_the_model_no_longer_drafts_it(server, owner):
    m = create_model(server, owner, name="Shrinking", breasts=False, measurements=flat_body())
    p = save_pattern(server, owner, m["id"], "body", "fragile")
    svg = draft_saved(server, owner, p["id"]).content
    assert patch(server, owner, m["id"], {"measurements": {"biceps": None}}).status_code == 200
    err = assert_error(refresh(server, owner, p["id"]), 422, "missing_measurements")
    assert err["missing"] == ["biceps"], err
    assert patch(server, owner, m["id"], {"breasts": True}).status_code == 200
    err = assert_error(refresh(server, owner, p["id"]), 422, "design_not_for_body")
    assert err["field"] == "design"
    assert get_pattern(server, owner, p["id"]) == p, "a refused refresh changed the pattern"
    assert draft_saved(server, owner, p["id"]).content == svg


def test_a_pattern_goes_with_its_model(server, owner):
    m = create_model(server, owner, name="Short-lived", breasts=False, measurements=flat_body())
    kept = create_model(server, owner, name="Kept", breasts=False, measurements=flat_body())
    gone = [save_pattern(server, owner, m["id"], d, f"goes {d}")["id"] for d in ("body", "trouser")]
    stays = save_pattern(server, owner, kept["id"], "body", "stays")
    store = Store(server)
    assert {r["id"] for r in store.where("patterns", "model_id", m["id"])} == set(gone), "control"
    assert server.request("DELETE", model_path(m["id"]), headers=owner.auth).status_code == 204
    for pid in gone:
        assert_error(server.get(pattern_path(pid), headers=owner.auth), 404, "not_found")
        assert_error(refresh(server, owner, pid), 404, "not_found")
        assert_error(draft_saved(server, owner, pid), 404, "not_found")
    listed = {e["id"] for e in list_patterns(server, owner)}
    assert not listed & set(gone) and stays["id"] in listed
    assert store.where("patterns", "model_id", m["id"]) == [], "rows of the deleted model's patterns remain"
    assert get_pattern(server, owner, stays["id"]) == stays

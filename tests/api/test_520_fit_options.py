"""Fit options and the two garments (issue 15 items 9 and 10) through the API:
GET /v1/designs lists each design's fit options with kind, unit, range and
default (a name shared by designs has each design's own range); the model
routes take them as query arguments and a saved pattern stores them; a value
outside the design's range, or not among its choices, is a 422 naming it;
the T-shirt and the straight skirt draft for bodies with and without
breasts. The geometry (every option keeps every invariant) is proven in
tests/unit/test_draft.c; this module proves what a client sees."""

import pytest

from accounts_helpers import assert_invalid_field, create_account, outbox
from models_helpers import create_model, female_sets, male_sets, model_path, without_breasts_only
from saved_patterns_helpers import design_defaults, draft_model, draft_saved, patch_pattern, save, save_pattern

# the fit options of each design (besides sa, paper and units)
FIT = {
    "body": {"chest_ease", "hips_ease", "body_length", "sleeve_length", "armhole_depth"},
    "bodice": {"bust_ease", "waist_ease", "sleeve_length", "armhole_depth"},
    "trouser": {"waist_ease", "seat_ease", "leg_length", "leg_shape", "waistband"},
    "tshirt": {"chest_ease", "hips_ease", "body_length", "sleeve_length", "armhole_depth",
               "sleeve"},
    "skirt": {"waist_ease", "seat_ease", "waistband", "skirt_length"},
}


@pytest.fixture(scope="module")
def owner(server):
    return create_account(server, outbox(server), "fitter")


@pytest.fixture(scope="module")
def flat(server, owner):
    return create_model(server, owner, name="Flat", breasts=False,
                        measurements=without_breasts_only(male_sets()["cisMaleAdult40"]))


@pytest.fixture(scope="module")
def bust(server, owner):
    return create_model(server, owner, name="Bust", breasts=True,
                        measurements=female_sets()["cisFemaleAdult38"])


@pytest.fixture(scope="module")
def designs(server):
    r = server.get("/v1/designs")
    assert r.status_code == 200, r.text
    return {d["name"]: {o["name"]: o for o in d["options"]} for d in r.json()["designs"]}


def info(server, acc, model_id, design, **query):
    r = draft_model(server, acc, model_id, design, "json", **query)
    assert r.status_code == 200, r.text[:400]
    return r.json()


def test_designs_list_their_fit_options(designs):
    assert set(designs) == set(FIT)
    for name, options in designs.items():
        assert set(options) == FIT[name] | {"sa", "paper", "units"}, name
        for o in options.values():
            assert o["output_only"] is (o["name"] == "paper"), o
            if o["kind"] == "number":
                assert o["unit"] in ("mm", "%"), o
                assert o["min"] <= o["default"] <= o["max"], o
            else:
                assert o["choices"][0] == o["default"], o
    # one name, each design's own range and default
    assert [designs[d]["waist_ease"]["max"] for d in ("bodice", "trouser", "skirt")] == [20, 15, 10]
    assert [designs[d]["waist_ease"]["default"] for d in ("bodice", "trouser", "skirt")] == [6, 2, 2]
    assert designs["tshirt"]["chest_ease"]["min"] < 0 < designs["body"]["chest_ease"]["default"]
    assert designs["trouser"]["leg_shape"]["choices"] == ["straight", "slim", "wide"]
    assert designs["tshirt"]["sleeve"]["choices"] == ["short", "long"]
    assert designs["trouser"]["waistband"]["default"] == 0 < designs["skirt"]["waistband"]["default"]


@pytest.mark.parametrize("design,fixture,parts", [
    ("tshirt", "flat", {"front", "back", "sleeve", "neckband"}),
    ("tshirt", "bust", {"front", "back", "sleeve", "neckband"}),
    ("skirt", "flat", {"front", "back", "waistband"}),
    ("skirt", "bust", {"front", "back", "waistband"}),
])
def test_the_garments_draft_for_any_body(server, owner, design, fixture, parts, designs, request):
    model = request.getfixturevalue(fixture)
    for ext in ("svg", "pdf"):
        r = draft_model(server, owner, model["id"], design, ext)
        assert r.status_code == 200, r.text[:300]
        assert "Atelier-Warnings" not in r.headers, r.headers
    j = info(server, owner, model["id"], design)
    assert {p["name"] for p in j["parts"]} == parts, j["parts"]
    assert j["warnings"] == [], j["warnings"]
    assert j["options"] == {k: v["default"] for k, v in designs[design].items() if k != "paper"}


def test_query_options_draft_and_are_reported(server, owner, flat, bust):
    plain = draft_model(server, owner, flat["id"], "body").text
    roomy = draft_model(server, owner, flat["id"], "body", chest_ease=20).text
    assert plain != roomy
    assert info(server, owner, flat["id"], "body", chest_ease=20)["options"]["chest_ease"] == 20
    # a choice, spelt as the vocabulary writes it (test_971 refuses any other spelling)
    j = info(server, owner, bust["id"], "trouser", leg_shape="slim", waistband=40)
    assert j["options"]["leg_shape"] == "slim" and j["options"]["waistband"] == 40
    assert "waistband" in {p["name"] for p in j["parts"]}
    assert "waistband" not in {p["name"] for p in info(server, owner, bust["id"], "skirt",
                                                         waistband=0)["parts"]}
    j = info(server, owner, bust["id"], "tshirt", sleeve="long", chest_ease=-10)
    assert (j["options"]["sleeve"], j["options"]["chest_ease"]) == ("long", -10)
    # another design's option in the query is not this design's: refused, naming it
    r = draft_model(server, owner, flat["id"], "body", leg_shape="slim")
    assert r.status_code == 422 and r.json()["error"]["field"] == "leg_shape", r.text


@pytest.mark.parametrize("design,query,field", [
    ("body", {"chest_ease": "31"}, "chest_ease"),
    ("body", {"chest_ease": "-1"}, "chest_ease"),
    ("skirt", {"waist_ease": "11"}, "waist_ease"),  # the trouser takes 11, the skirt not
    ("trouser", {"waist_ease": "16"}, "waist_ease"),
    ("trouser", {"leg_shape": "flared"}, "leg_shape"),
    ("trouser", {"waistband": "-1"}, "waistband"),
    ("trouser", {"leg_length": "abc"}, "leg_length"),
    ("tshirt", {"sleeve": "medium"}, "sleeve"),
    ("tshirt", {"sleeve_length": "nan"}, "sleeve_length"),
    ("skirt", {"skirt_length": "1e400"}, "skirt_length"),
])
def test_an_option_out_of_range_is_422_naming_it(server, owner, flat, design, query, field):
    for ext in ("svg", "pdf", "json"):
        r = draft_model(server, owner, flat["id"], design, ext, **query)
        assert_invalid_field(r, field)
    if design == "skirt" and field == "waist_ease":
        assert draft_model(server, owner, flat["id"], "trouser", **query).status_code == 200


def test_saved_patterns_take_fit_options(server, owner, bust):
    p = save_pattern(server, owner, bust["id"], "trouser", "wide legs",
                     options={"leg_shape": "wide", "waistband": 40, "leg_length": -50})
    assert p["options"] == {**design_defaults(server, "trouser"), "leg_shape": "wide",
                            "waistband": 40, "leg_length": -50}
    saved = draft_saved(server, owner, p["id"])
    model = draft_model(server, owner, bust["id"], "trouser", leg_shape="wide", waistband=40,
                        leg_length=-50)
    assert saved.status_code == model.status_code == 200
    assert saved.content == model.content, "a saved pattern drafts as its model with its options"
    j = draft_saved(server, owner, p["id"], "json").json()
    assert j["options"]["leg_shape"] == "wide" and "waistband" in {x["name"] for x in j["parts"]}

    assert_invalid_field(patch_pattern(server, owner, p["id"], {"options": {"waistband": 61}}),
                         "options.waistband")
    assert_invalid_field(patch_pattern(server, owner, p["id"], {"options": {"chest_ease": 10}}),
                         "options.chest_ease")  # not a trouser's option
    r = patch_pattern(server, owner, p["id"], {"options": {"leg_shape": None, "seat_ease": 12.5}})
    assert r.status_code == 200, r.text
    assert r.json()["options"]["leg_shape"] == "straight" and r.json()["options"]["seat_ease"] == 12.5
    assert draft_saved(server, owner, p["id"]).content == draft_model(
        server, owner, bust["id"], "trouser", waistband=40, leg_length=-50, seat_ease=12.5).content


@pytest.mark.parametrize("design,options,field", [
    ("skirt", {"waist_ease": 12}, "options.waist_ease"),
    ("tshirt", {"sleeve": "sleeveless"}, "options.sleeve"),
    ("tshirt", {"chest_ease": "5"}, "options.chest_ease"),  # a number, not text
    ("skirt", {"leg_shape": "slim"}, "options.leg_shape"),
])
def test_saved_pattern_options_are_checked_against_the_design(server, owner, flat, design,
                                                                 options, field):
    assert_invalid_field(save(server, owner, flat["id"], design, "bad", options=options), field)

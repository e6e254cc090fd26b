"""Import and export in FreeSewing form (issue 4): GET /v1/models/{id}/measurements
is the flat object name -> number; PUT replaces every measurement with a flat
object (null means "not measured"). The 20 FreeSewing adult sets
(tests/fixtures/freesewing-adult-sizes.csv) import and round-trip exactly."""

import pytest

from accounts_helpers import assert_error, create_account, outbox
from models_helpers import (
    BREASTS_ONLY,
    assert_invalid_measurement,
    create_model,
    female_sets,
    get_measurements,
    get_model,
    male_sets,
    model_path,
    put_measurements,
    snapshot,
    without_breasts_only,
)


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


@pytest.fixture(scope="module")
def acc(server, mails):
    return create_account(server, mails, "importer")


def test_fixture_is_the_twenty_adult_sets():
    f, m = female_sets(), male_sets()
    assert len(f) == 10 and len(m) == 10
    for values in list(f.values()) + list(m.values()):
        assert len(values) == 38


def test_export_is_the_flat_object(server, acc):
    m = create_model(server, acc, "export", True, {"neck": 340, "chest": 925.5, "shoulderSlope": 13})
    r = server.get(model_path(m["id"], "/measurements"), headers=acc.auth)
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json")
    assert r.json() == {"neck": 340, "chest": 925.5, "shoulderSlope": 13}
    empty = create_model(server, acc, "empty", False, {})
    assert get_measurements(server, acc, empty["id"]) == {}


@pytest.mark.parametrize("set_name", sorted(female_sets()))
def test_female_set_into_a_model_with_breasts_round_trips(server, acc, set_name):
    values = female_sets()[set_name]
    m = create_model(server, acc, set_name, True, {"neck": 340, "ankle": 250})
    r = put_measurements(server, acc, m["id"], values)
    assert r.status_code == 200, f"{set_name}: {r.status_code} {r.text[:300]}"
    assert r.json() == values
    assert get_measurements(server, acc, m["id"]) == values
    got = get_model(server, acc, m["id"])
    assert got["measurements"] == values
    assert got["warnings"] == [], got["warnings"]
    assert got["name"] == set_name and got["breasts"] is True


@pytest.mark.parametrize("set_name", sorted(male_sets()))
def test_male_set_without_breasts_only_into_a_flat_model_round_trips(server, acc, set_name):
    values = without_breasts_only(male_sets()[set_name])
    assert len(values) == 30
    m = create_model(server, acc, set_name, False, {})
    r = put_measurements(server, acc, m["id"], values)
    assert r.status_code == 200, f"{set_name}: {r.status_code} {r.text[:300]}"
    assert get_measurements(server, acc, m["id"]) == values
    assert get_model(server, acc, m["id"])["warnings"] == []


def test_export_then_import_into_another_model(server, acc):
    values = female_sets()["cisFemaleAdult40"]
    a = create_model(server, acc, "source", True, {})
    assert put_measurements(server, acc, a["id"], values).status_code == 200
    exported = get_measurements(server, acc, a["id"])
    b = create_model(server, acc, "copy", True, {})
    r = put_measurements(server, acc, b["id"], exported)
    assert r.status_code == 200, r.text
    assert get_measurements(server, acc, b["id"]) == get_measurements(server, acc, a["id"]) == values


def test_female_set_into_a_flat_model_is_422_and_changes_nothing(server, acc):
    values = female_sets()["cisFemaleAdult36"]
    m = create_model(server, acc, "flat", False, {"neck": 380, "waist": 810}, "keep me")
    before = snapshot(server, acc, m["id"])
    r = put_measurements(server, acc, m["id"], values)
    err = assert_error(r, 422, "invalid_field")
    name = err.get("field", "").removeprefix("measurements.")
    assert name in BREASTS_ONLY, f"the 422 does not name a breasts-only measurement: {err}"
    assert name in err["message"], err
    assert snapshot(server, acc, m["id"]) == before


def test_put_replaces_everything(server, acc):
    m = create_model(server, acc, "replace", True, {"neck": 340, "waist": 750, "bustSpan": 160})
    r = put_measurements(server, acc, m["id"], {"chest": 930})
    assert r.status_code == 200, r.text
    assert r.json() == {"chest": 930}
    got = get_model(server, acc, m["id"])
    assert got["measurements"] == {"chest": 930}
    assert got["name"] == "replace" and got["breasts"] is True
    r = put_measurements(server, acc, m["id"], {})
    assert r.status_code == 200 and r.json() == {}
    assert get_model(server, acc, m["id"])["measurements"] == {}


def test_nulls_are_not_measured(server, acc):
    m = create_model(server, acc, "nulls", False, {"neck": 380, "waist": 810})
    flat = {"neck": 381, "waist": None, "hips": 840, "bustSpan": None, "underbust": None}
    r = put_measurements(server, acc, m["id"], flat)
    assert r.status_code == 200, r.text
    assert r.json() == {"neck": 381, "hips": 840}
    assert get_model(server, acc, m["id"])["measurements"] == {"neck": 381, "hips": 840}


def test_a_freesewing_export_with_nulls_imports(server, acc):
    """FreeSewing exports every name, with null for those not measured."""
    values = dict.fromkeys(female_sets()["cisFemaleAdult30"])
    values.update({"neck": 300, "chest": 816, "waist": 675})
    m = create_model(server, acc, "sparse", False, {})
    r = put_measurements(server, acc, m["id"], values)
    assert r.status_code == 200, r.text
    assert get_measurements(server, acc, m["id"]) == {"neck": 300, "chest": 816, "waist": 675}


@pytest.mark.parametrize(
    "flat,name",
    [
        ({"neck": 380, "necks": 380}, "necks"),
        ({"neck": "380"}, "neck"),
        ({"neck": True}, "neck"),
        ({"neck": [380]}, "neck"),
        ({"neck": {"value": 380}}, "neck"),
        ({"neck": -380}, "neck"),
        ({"neck": 1e9}, "neck"),
        ({"measurements": {"neck": 380}}, "measurements"),
    ],
)
def test_bad_import_is_422_and_changes_nothing(server, acc, flat, name):
    m = create_model(server, acc, "guarded", True, {"neck": 340, "bustSpan": 160})
    before = snapshot(server, acc, m["id"])
    err = assert_error(put_measurements(server, acc, m["id"], flat), 422, "invalid_field")
    assert err["field"] == f"measurements.{name}", err
    assert name in err["message"], err
    assert snapshot(server, acc, m["id"]) == before


def test_breasts_only_import_into_flat_model_names_it(server, acc):
    m = create_model(server, acc, "flat2", False, {"neck": 380})
    assert_invalid_measurement(put_measurements(server, acc, m["id"], {"neck": 380, "underbust": 800}), "underbust")
    assert get_measurements(server, acc, m["id"]) == {"neck": 380}

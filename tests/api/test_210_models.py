"""Models (SPEC sections 1 and 3, issue 4): create, list, read, update
(measurements merge; null removes one; notes null removes), delete; the
breasts flag and the breasts-only measurements; plausible ranges; warnings
for values far from what the neck predicts; at most 100 models an account."""

import concurrent.futures
import time

import pytest

import limits
from accounts_helpers import assert_error, assert_invalid_field, create_account, now_utc, outbox, parse_time
from models_helpers import (
    BREASTS_ONLY,
    ID_RE,
    assert_invalid_measurement,
    assert_model_shape,
    create,
    create_model,
    female_sets,
    get_measurements,
    get_model,
    list_models,
    male_sets,
    model_path,
    patch,
    warned_names,
    without_breasts_only,
)

LIMIT = limits.LIMIT_MODELS_PER_ACCOUNT  # SPEC/issue 4: at most 100 models per account


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


@pytest.fixture(scope="module")
def acc(server, mails):
    return create_account(server, mails, "models")


@pytest.fixture
def fresh(server, mails):
    return create_account(server, mails, "mfresh")


# ------------------------------------------------------------ create / read


def test_create_answers_201_with_the_model(server, acc):
    r = create(server, acc, "Ada's everyday body", True, {"neck": 340, "chest": 925.5, "bustSpan": 160},
               notes="measured in March\nby Grace")
    assert r.status_code == 201, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json")
    m = r.json()
    assert_model_shape(m)
    assert m["name"] == "Ada's everyday body"
    assert m["breasts"] is True
    assert m["measurements"] == {"neck": 340, "chest": 925.5, "bustSpan": 160}
    assert m["notes"] == "measured in March\nby Grace"
    assert m["has_avatar"] is False
    assert m["warnings"] == []
    assert m["created_at"] == m["updated_at"]
    assert abs((parse_time(m["created_at"]) - now_utc()).total_seconds()) < 60, m["created_at"]
    assert get_model(server, acc, m["id"]) == m


def test_notes_are_optional_and_null(server, acc):
    m = create_model(server, acc, "no notes", False, {"neck": 380})
    assert m["notes"] is None
    r = create(server, acc, "null notes", False, {"neck": 380}, notes=None)
    assert r.status_code == 201 and r.json()["notes"] is None


def test_unicode_name_and_notes_round_trip(server, acc):
    name = "Modèle d'été 👗 – Größe 38"
    notes = "Taille prise le matin.\n\tÉpaules: 13°\n" + "ü" * 500
    m = create_model(server, acc, name, True, {}, notes)
    again = get_model(server, acc, m["id"])
    assert again["name"] == name and again["notes"] == notes


def test_long_text_is_refused_never_truncated(server, acc):
    # Whatever the limits are, a text is stored whole or refused with 422.
    for field, value in (("name", "N" * 5000), ("notes", "n" * 60000)):
        body = {"name": "long", "breasts": False, "measurements": {}, field: value}
        r = server.post("/v1/models", headers=acc.auth, json=body)
        if r.status_code == 201:
            assert get_model(server, acc, r.json()["id"])[field] == value, f"{field} was altered"
        else:
            assert_invalid_field(r, field)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"breasts": True, "measurements": {}}, "name"),
        ({"name": "", "breasts": True, "measurements": {}}, "name"),
        ({"name": None, "breasts": True, "measurements": {}}, "name"),
        ({"name": 7, "breasts": True, "measurements": {}}, "name"),
        ({"name": "x", "measurements": {}}, "breasts"),
        ({"name": "x", "breasts": "true", "measurements": {}}, "breasts"),
        ({"name": "x", "breasts": 1, "measurements": {}}, "breasts"),
        ({"name": "x", "breasts": None, "measurements": {}}, "breasts"),
        ({"name": "x", "breasts": True, "measurements": []}, "measurements"),
        ({"name": "x", "breasts": True, "measurements": "neck=380"}, "measurements"),
        ({"name": "x", "breasts": True, "measurements": {}, "notes": 5}, "notes"),
        ({"name": "x", "breasts": True, "measurements": {}, "id": "AAAAAAAAAAAAAAAAAAAAAA"}, "id"),
        ({"name": "x", "breasts": True, "measurements": {}, "has_avatar": True}, "has_avatar"),
    ],
)
def test_create_refuses_invalid_members(server, acc, body, field):
    before = len(list_models(server, acc))
    assert_invalid_field(server.post("/v1/models", headers=acc.auth, json=body), field)
    assert len(list_models(server, acc)) == before


def test_create_requires_measurements(server, acc):
    """SPEC: POST /v1/models {name, breasts, measurements, notes?}: only
    notes is optional."""
    before = len(list_models(server, acc))
    r = server.post("/v1/models", headers=acc.auth, json={"name": "x", "breasts": True})
    assert_invalid_field(r, "measurements")
    assert len(list_models(server, acc)) == before


def test_ids_are_random_and_distinct(server, fresh):
    ids = [create_model(server, fresh, f"m{i}", False, {})["id"] for i in range(12)]
    assert len(set(ids)) == len(ids)
    for i in ids:
        assert ID_RE.match(i), i
    # No shared prefix as with counters or timestamps.
    assert len({i[:6] for i in ids}) == len(ids), ids


def test_list_holds_exactly_the_callers_models(server, fresh):
    assert list_models(server, fresh) == []
    a = create_model(server, fresh, "first", True, {"neck": 340})
    b = create_model(server, fresh, "second", False, {"neck": 380, "waist": 810}, "n")
    listed = list_models(server, fresh)
    assert sorted(m["id"] for m in listed) == sorted([a["id"], b["id"]])
    by_id = {m["id"]: m for m in listed}
    assert by_id[a["id"]] == get_model(server, fresh, a["id"])
    assert by_id[b["id"]] == get_model(server, fresh, b["id"])


# ------------------------------------------------------------ update


def test_patch_merges_measurements_and_null_removes_one(server, acc):
    m = create_model(server, acc, "merge", True, {"neck": 340, "chest": 925, "waist": 750})
    r = patch(server, acc, m["id"], {"measurements": {"chest": 930, "hips": 900, "waist": None}})
    assert r.status_code == 200, r.text
    got = r.json()
    assert_model_shape(got)
    assert got["measurements"] == {"neck": 340, "chest": 930, "hips": 900}
    assert got["name"] == "merge" and got["breasts"] is True and got["notes"] is None
    assert get_model(server, acc, m["id"]) == got
    assert get_measurements(server, acc, m["id"]) == got["measurements"]
    # Removing a name that is not there is harmless.
    r = patch(server, acc, m["id"], {"measurements": {"ankle": None}})
    assert r.status_code == 200 and r.json()["measurements"] == got["measurements"]


def test_patch_name_notes_and_null_notes(server, acc):
    m = create_model(server, acc, "before", False, {"neck": 380}, "some notes")
    r = patch(server, acc, m["id"], {"name": "after"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "after" and r.json()["notes"] == "some notes"
    assert r.json()["measurements"] == {"neck": 380}
    r = patch(server, acc, m["id"], {"notes": None})
    assert r.status_code == 200, r.text
    assert r.json()["notes"] is None and r.json()["name"] == "after"
    assert get_model(server, acc, m["id"])["notes"] is None
    r = patch(server, acc, m["id"], {"notes": "new notes"})
    assert r.json()["notes"] == "new notes"


def test_empty_patch_changes_nothing(server, acc):
    m = create_model(server, acc, "same", True, {"neck": 340}, "n")
    r = patch(server, acc, m["id"], {})
    assert r.status_code == 200, r.text
    got = r.json()
    for k in ("id", "name", "breasts", "measurements", "notes", "has_avatar", "warnings", "created_at"):
        assert got[k] == m[k], k


def test_patch_keeps_created_at_and_moves_updated_at(server, acc):
    m = create_model(server, acc, "times", True, {"neck": 340})
    time.sleep(1.1)
    r = patch(server, acc, m["id"], {"measurements": {"neck": 341}})
    assert r.status_code == 200
    got = r.json()
    assert got["created_at"] == m["created_at"]
    assert parse_time(got["updated_at"]) > parse_time(m["updated_at"]), (m, got)


def test_name_cannot_be_removed(server, acc):
    m = create_model(server, acc, "keep", True, {})
    assert_invalid_field(patch(server, acc, m["id"], {"name": None}), "name")
    assert_invalid_field(patch(server, acc, m["id"], {"name": ""}), "name")
    assert get_model(server, acc, m["id"])["name"] == "keep"


def test_delete(server, acc):
    m = create_model(server, acc, "doomed", True, {"neck": 340})
    r = server.request("DELETE", model_path(m["id"]), headers=acc.auth)
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_error(server.get(model_path(m["id"]), headers=acc.auth), 404, "not_found")
    assert_error(server.get(model_path(m["id"], "/measurements"), headers=acc.auth), 404, "not_found")
    assert_error(patch(server, acc, m["id"], {"name": "zombie"}), 404, "not_found")
    assert_error(server.request("DELETE", model_path(m["id"]), headers=acc.auth), 404, "not_found")
    assert m["id"] not in [x["id"] for x in list_models(server, acc)]


# ------------------------------------------------------------ breasts


def test_breasts_only_measurement_on_a_flat_body_is_422(server, acc):
    before = len(list_models(server, acc))
    for name in sorted(BREASTS_ONLY):
        r = create(server, acc, "flat", False, {"neck": 380, name: 100})
        err = assert_error(r, 422, "invalid_field")
        assert err["field"] == f"measurements.{name}" and name in err["message"], err
    assert len(list_models(server, acc)) == before
    m = create_model(server, acc, "flat", False, {"neck": 380})
    for name in sorted(BREASTS_ONLY):
        assert_invalid_measurement(patch(server, acc, m["id"], {"measurements": {name: 100}}), name)
    assert get_model(server, acc, m["id"])["measurements"] == {"neck": 380}
    # A null for a breasts-only name is simply nothing to remove.
    r = patch(server, acc, m["id"], {"measurements": {"bustSpan": None}})
    assert r.status_code == 200 and r.json()["measurements"] == {"neck": 380}


def test_switching_to_no_breasts_lists_every_measurement_that_must_go(server, acc):
    held = {"bustSpan": 160, "underbust": 780, "highBust": 865, "waistToUnderbust": 80}
    m = create_model(server, acc, "switch", True, {"neck": 340, "waist": 750, **held})
    err = assert_invalid_field(patch(server, acc, m["id"], {"breasts": False}), "breasts")
    for name in held:
        assert name in err["message"], f"{name} not listed: {err['message']}"
    for name in BREASTS_ONLY - set(held):
        assert name not in err["message"], f"{name} listed but not held: {err['message']}"
    after = get_model(server, acc, m["id"])
    assert after["breasts"] is True and after["measurements"] == m["measurements"]

    # Removing only some of them is not enough; the rest are named.
    partial = {"bustSpan": None, "underbust": None}
    err = assert_invalid_field(patch(server, acc, m["id"], {"breasts": False, "measurements": partial}), "breasts")
    assert "highBust" in err["message"] and "waistToUnderbust" in err["message"], err
    assert get_model(server, acc, m["id"]) == after

    # With all of them set to null in the same PATCH it works.
    r = patch(server, acc, m["id"], {"breasts": False, "measurements": {k: None for k in held}})
    assert r.status_code == 200, r.text
    assert r.json()["breasts"] is False
    assert r.json()["measurements"] == {"neck": 340, "waist": 750}
    # And back: a body with breasts may hold them again.
    r = patch(server, acc, m["id"], {"breasts": True, "measurements": {"bustSpan": 170}})
    assert r.status_code == 200, r.text
    assert r.json()["breasts"] is True and r.json()["measurements"]["bustSpan"] == 170


def test_switching_lists_all_eight(server, acc):
    every = {"bustFront": 480, "bustPointToUnderbust": 100, "bustSpan": 160, "highBust": 865,
             "highBustFront": 440, "hpsToWaistFront": 400, "underbust": 780, "waistToUnderbust": 80}
    assert set(every) == BREASTS_ONLY
    m = create_model(server, acc, "all eight", True, {"neck": 340, **every})
    err = assert_invalid_field(patch(server, acc, m["id"], {"breasts": False}), "breasts")
    missing = [n for n in sorted(BREASTS_ONLY) if n not in err["message"]]
    assert not missing, f"not listed: {missing} in {err['message']!r}"
    r = patch(server, acc, m["id"], {"breasts": False, "measurements": dict.fromkeys(every)})
    assert r.status_code == 200 and r.json()["measurements"] == {"neck": 340}, r.text


def test_switching_without_breasts_only_values_is_fine(server, acc):
    m = create_model(server, acc, "easy switch", True, {"neck": 340, "chest": 925})
    r = patch(server, acc, m["id"], {"breasts": False})
    assert r.status_code == 200, r.text
    assert r.json()["breasts"] is False and r.json()["measurements"] == {"neck": 340, "chest": 925}


def test_switching_and_adding_a_breasts_only_value_is_422(server, acc):
    m = create_model(server, acc, "contradiction", True, {"neck": 340})
    assert_invalid_measurement(patch(server, acc, m["id"], {"breasts": False, "measurements": {"bustSpan": 160}}), "bustSpan")
    assert get_model(server, acc, m["id"]) == m


# ------------------------------------------------------------ ranges


@pytest.mark.parametrize("name,value", [("neck", 1e9), ("neck", -380), ("neck", 0), ("chest", 50000),
                                        ("shoulderSlope", 95), ("shoulderSlope", -1), ("waist", 3)])
def test_value_outside_its_range_is_422_with_the_range(server, acc, name, value):
    vocab = {v["name"]: v["range"] for v in server.get("/v1/measurements").json()["measurements"]}
    lo, hi = vocab[name]["min"], vocab[name]["max"]
    m = create_model(server, acc, "ranges", True, {"neck": 340, "shoulderSlope": 13})
    err = assert_invalid_measurement(patch(server, acc, m["id"], {"measurements": {name: value}}), name)
    assert f"{lo:g}" in err["message"] and f"{hi:g}" in err["message"], err
    assert get_model(server, acc, m["id"]) == m
    assert_invalid_measurement(create(server, acc, "ranges", True, {name: value}), name)


def test_fractional_values_are_kept(server, acc):
    m = create_model(server, acc, "fractions", True, {"neck": 340.25, "chest": 1234.5, "shoulderSlope": 12.75})
    assert get_model(server, acc, m["id"])["measurements"] == {"neck": 340.25, "chest": 1234.5, "shoulderSlope": 12.75}


# ------------------------------------------------------------ warnings


def test_far_from_the_neck_is_accepted_with_a_warning(server, acc):
    r = create(server, acc, "odd", False, {"neck": 380, "waist": 1500})
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["measurements"] == {"neck": 380, "waist": 1500}
    assert warned_names(m) == ["waist"], m["warnings"]
    for w in m["warnings"]:
        if isinstance(w, dict) and "message" in w:
            assert isinstance(w["message"], str) and w["message"], w
    assert warned_names(get_model(server, acc, m["id"])) == ["waist"]
    # Fixing the value clears the warning.
    r = patch(server, acc, m["id"], {"measurements": {"waist": 810}})
    assert r.status_code == 200 and r.json()["warnings"] == []
    # Changing the neck instead can raise one on the others.
    r = patch(server, acc, m["id"], {"measurements": {"waist": 1500}})
    assert warned_names(r.json()) == ["waist"]
    r = patch(server, acc, m["id"], {"measurements": {"waist": None}})
    assert r.json()["warnings"] == []


def test_several_warnings(server, acc):
    m = create_model(server, acc, "odder", True, {"neck": 340, "waist": 1500, "wrist": 60 + 10, "chest": 925})
    assert sorted(warned_names(m)) == ["waist", "wrist"], m["warnings"]


def test_consistent_sets_have_no_warnings(server, fresh):
    for name, values in female_sets().items():
        r = create(server, fresh, name, True, values)
        assert r.status_code == 201, f"{name}: {r.status_code} {r.text[:300]}"
        assert r.json()["warnings"] == [], (name, r.json()["warnings"])
    for name, values in male_sets().items():
        r = create(server, fresh, name, False, without_breasts_only(values))
        assert r.status_code == 201, f"{name}: {r.status_code} {r.text[:300]}"
        assert r.json()["warnings"] == [], (name, r.json()["warnings"])


def test_hand_made_plausible_body_has_no_warnings(server, acc):
    body = {"neck": 370, "chest": 980, "waist": 800, "hips": 830, "seat": 1000, "biceps": 330,
            "wrist": 170, "inseam": 790, "shoulderSlope": 14}
    m = create_model(server, acc, "plausible", False, body)
    assert m["warnings"] == [], m["warnings"]


def test_no_neck_no_warnings(server, acc):
    m = create_model(server, acc, "neckless", False, {"waist": 1700, "chest": 400})
    assert m["warnings"] == []


# ------------------------------------------------------------ the limit


def test_at_most_100_models(server, fresh, mails):
    for i in range(LIMIT):
        r = create(server, fresh, f"m{i}", i % 2 == 0, {"neck": 340 + i})
        assert r.status_code == 201, f"model {i + 1}: {r.status_code} {r.text[:200]}"
    assert len(list_models(server, fresh)) == LIMIT
    r = create(server, fresh, "one too many", True, {"neck": 340})
    assert_error(r, 409, "limit_reached")
    assert len(list_models(server, fresh)) == LIMIT
    # Another account is not affected.
    other = create_account(server, mails, "mother")
    create_model(server, other, "mine", True, {})
    # Deleting one makes room for exactly one.
    victim = list_models(server, fresh)[0]["id"]
    assert server.request("DELETE", model_path(victim), headers=fresh.auth).status_code == 204
    create_model(server, fresh, "the hundredth again", False, {})
    assert_error(create(server, fresh, "one too many", True, {}), 409, "limit_reached")
    assert len(list_models(server, fresh)) == LIMIT


def test_limit_holds_under_concurrent_creates(fresh_database, server_factory):
    """The limit is a promise, not a best effort: creates racing for the last
    free places never leave more than 100 models. A server with many worker
    threads makes the race likely."""
    srv = server_factory.start(extra_args=["--threads", "16"], database=fresh_database)
    acc = create_account(srv, outbox(srv), "racer")
    for i in range(LIMIT - 5):
        assert create(srv, acc, f"m{i}", True, {}).status_code == 201
    for attempt in range(30):
        with concurrent.futures.ThreadPoolExecutor(max_workers=32) as ex:
            codes = list(ex.map(lambda i: create(srv, acc, f"race{i}", True, {}).status_code, range(64)))
        assert set(codes) <= {201, 409}, codes
        assert len(list_models(srv, acc)) == LIMIT, (
            f"{len(list_models(srv, acc))} models after concurrent creates ({codes.count(201)} succeeded)"
        )
        # Free 5 places for the next round.
        for m in list_models(srv, acc)[:5]:
            assert srv.request("DELETE", model_path(m["id"]), headers=acc.auth).status_code == 204

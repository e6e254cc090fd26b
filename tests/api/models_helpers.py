"""Helpers for the model tests (test_2xx_*): the measurement vocabulary of
SPEC section 3 / issue 4, the FreeSewing size sets of tests/fixtures, model
requests and shape checks. Accounts come from accounts_helpers.py.

Plain functions; the fixtures themselves live in each test module."""

import csv
import json
import os
import re
import secrets

from accounts_helpers import assert_error, bearer, parse_time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")
SIZES_CSV = os.path.join(FIXTURES, "freesewing-adult-sizes.csv")
IMAGES = os.path.join(FIXTURES, "images")

# The vocabulary (issue 4): 38 names, mm except shoulderSlope (degrees).
VOCABULARY = (
    "ankle", "biceps", "bustFront", "bustPointToUnderbust", "bustSpan", "chest", "crossSeam",
    "crossSeamFront", "crotchDepth", "head", "heel", "highBust", "highBustFront", "hips",
    "hpsToBust", "hpsToWaistBack", "hpsToWaistFront", "inseam", "knee", "neck", "seat",
    "seatBack", "shoulderSlope", "shoulderToElbow", "shoulderToShoulder", "shoulderToWrist",
    "underbust", "upperLeg", "waist", "waistBack", "waistToArmpit", "waistToFloor",
    "waistToHips", "waistToKnee", "waistToSeat", "waistToUnderbust", "waistToUpperLeg", "wrist",
)
BREASTS_ONLY = frozenset({
    "bustFront", "bustPointToUnderbust", "bustSpan", "highBust", "highBustFront",
    "hpsToWaistFront", "underbust", "waistToUnderbust",
})
DEGREE_UNITS = ("deg", "degrees")
MODEL_KEYS = {
    "id", "name", "breasts", "measurements", "notes", "has_avatar", "warnings", "created_at",
    "updated_at",
}
ID_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")

assert len(VOCABULARY) == 38 and len(set(VOCABULARY)) == 38
assert BREASTS_ONLY <= set(VOCABULARY) and len(BREASTS_ONLY) == 8


# --------------------------------------------------------------------------
# the FreeSewing adult sets (copied from ../shared/data at authoring time)


def load_sizes():
    """{set name: {measurement: int}} for the 20 adult sets of the fixture."""
    out = {}
    with open(SIZES_CSV, newline="") as f:
        for row in csv.DictReader(f):
            name = row.pop("model")
            out[name] = {k: int(v) for k, v in row.items()}
    assert len(out) == 20, sorted(out)
    return out


def female_sets():
    return {k: v for k, v in load_sizes().items() if k.startswith("cisFemale")}


def male_sets():
    return {k: v for k, v in load_sizes().items() if k.startswith("cisMale")}


def without_breasts_only(values):
    return {k: v for k, v in values.items() if k not in BREASTS_ONLY}


def image_fixture(name):
    with open(os.path.join(IMAGES, name), "rb") as f:
        return f.read()


# --------------------------------------------------------------------------
# requests


def model_path(model_id, suffix=""):
    return f"/v1/models/{model_id}{suffix}"


def random_id():
    """An id of the same form as the server's, that no model has."""
    return secrets.token_urlsafe(16)


def create(server, acc, name="model", breasts=True, measurements=None, notes=None, **extra):
    body = {"name": name, "breasts": breasts, "measurements": measurements or {}}
    if notes is not None:
        body["notes"] = notes
    body.update(extra)
    return server.post("/v1/models", headers=acc.auth, json=body)


def create_model(server, acc, name="model", breasts=True, measurements=None, notes=None):
    r = create(server, acc, name, breasts, measurements, notes)
    assert r.status_code == 201, f"POST /v1/models: {r.status_code} {r.text[:400]}"
    m = r.json()
    assert_model_shape(m)
    return m


def get_model(server, acc, model_id):
    r = server.get(model_path(model_id), headers=acc.auth)
    assert r.status_code == 200, f"GET model: {r.status_code} {r.text[:300]}"
    m = r.json()
    assert_model_shape(m)
    return m


def list_models(server, acc):
    r = server.get("/v1/models", headers=acc.auth)
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert set(body) == {"models"} and isinstance(body["models"], list), body
    for m in body["models"]:
        assert_model_shape(m)
    return body["models"]


def patch(server, acc, model_id, body):
    return server.request("PATCH", model_path(model_id), headers=acc.auth, json=body)


def patch_raw(server, token, model_id, raw, suffix="", method="PATCH"):
    """Send raw bytes as a JSON body (duplicate keys, NaN literals...)."""
    return server.request(
        method, model_path(model_id, suffix),
        headers={**bearer(token), "Content-Type": "application/json"}, data=raw, timeout=30,
    )


def put_measurements(server, acc, model_id, flat):
    return server.request("PUT", model_path(model_id, "/measurements"), headers=acc.auth, json=flat)


def get_measurements(server, acc, model_id):
    r = server.get(model_path(model_id, "/measurements"), headers=acc.auth)
    assert r.status_code == 200, r.text[:300]
    return r.json()


def put_avatar(server, token, model_id, data, ctype):
    return server.request(
        "PUT", model_path(model_id, "/avatar"), headers={**bearer(token), "Content-Type": ctype},
        data=data, timeout=60,
    )


def get_avatar(server, token, model_id):
    return server.get(model_path(model_id, "/avatar"), headers=bearer(token))


def snapshot(server, acc, model_id):
    """Everything the owner can read about a model: the model, its flat
    measurements, and its avatar (status, type, bytes)."""
    m = get_model(server, acc, model_id)
    flat = get_measurements(server, acc, model_id)
    av = get_avatar(server, acc.token, model_id)
    return {
        "model": m,
        "flat": flat,
        "avatar": (av.status_code, av.headers.get("Content-Type"), av.content),
    }


# --------------------------------------------------------------------------
# checks


def assert_model_shape(m):
    assert isinstance(m, dict), m
    assert set(m) == MODEL_KEYS, f"model keys: {sorted(m)}"
    assert isinstance(m["id"], str) and ID_RE.match(m["id"]), m["id"]
    assert isinstance(m["name"], str) and m["name"], m
    assert isinstance(m["breasts"], bool), m
    assert isinstance(m["measurements"], dict), m
    for k, v in m["measurements"].items():
        assert k in VOCABULARY, f"unknown measurement {k!r} stored"
        assert isinstance(v, (int, float)) and not isinstance(v, bool), (k, v)
        if not m["breasts"]:
            assert k not in BREASTS_ONLY, f"{k} on a model without breasts: {m}"
    assert m["notes"] is None or isinstance(m["notes"], str), m
    assert isinstance(m["has_avatar"], bool), m
    assert isinstance(m["warnings"], list), m
    created = parse_time(m["created_at"])
    updated = parse_time(m["updated_at"])
    assert updated >= created, m


def warned_names(m):
    """The measurement names listed in a model's warnings (each warning is an
    object naming its measurement, or the name itself)."""
    names = []
    for w in m["warnings"]:
        if isinstance(w, str):
            names.append(w)
        else:
            assert isinstance(w, dict) and isinstance(w.get("measurement"), str), w
            names.append(w["measurement"])
    return names


def assert_invalid_measurement(r, name):
    """422 naming measurements.<name> (field and message)."""
    err = assert_error(r, 422, "invalid_field")
    assert err.get("field") == f"measurements.{name}", err
    assert name in err["message"], err
    return err


def assert_not_found_like(r, reference):
    """The same status and body as `reference` (a 404 for a random id)."""
    assert reference.status_code == 404, reference.text
    assert r.status_code == reference.status_code, (
        f"{r.request.method} {r.request.path_url}: {r.status_code} {r.text[:300]} "
        f"but a nonexistent id answers {reference.status_code} {reference.text[:300]}"
    )
    assert r.json() == reference.json(), (r.text, reference.text)
    assert r.json()["error"]["code"] == "not_found", r.text


def json_bytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode()

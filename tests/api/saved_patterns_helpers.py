"""Helpers for the saved-pattern tests (test_510_saved_patterns*.py, issue
14): requests, the shapes of a saved pattern and of a list entry, and the
bodies that can be drafted (the FreeSewing sets of tests/fixtures).

Plain functions; fixtures live in each test module."""

import re

from accounts_helpers import parse_time
from models_helpers import BREASTS_ONLY, ID_RE, female_sets, male_sets, without_breasts_only

# GET /v1/patterns/{id}: everything; the list gives the summary
PATTERN_KEYS = {"id", "model_id", "design", "name", "notes", "options", "snapshot", "measured_at",
                "created_at", "updated_at"}
SUMMARY_KEYS = PATTERN_KEYS - {"notes", "snapshot"}
SNAPSHOT_KEYS = {"model_name", "breasts", "measurements"}
# the options every design has; each design adds its fit options (design_defaults)
DEFAULT_OPTIONS = {"sa": 10, "paper": "full", "units": "metric"}
DESIGNS = ("body", "bodice", "trouser", "tshirt", "skirt")


def design_defaults(srv, design):
    """Every option of a design at its default, as GET /v1/designs lists them:
    what a saved pattern stores when it is given none."""
    r = srv.get("/v1/designs")
    assert r.status_code == 200, r.text[:300]
    d = {e["name"]: e for e in r.json()["designs"]}[design]
    return {o["name"]: o["default"] for o in d["options"]}


def flat_body():
    """A complete body without breasts (drafts body and trouser)."""
    return without_breasts_only(male_sets()["cisMaleAdult42"])


def bust_body():
    """A complete body with breasts (drafts bodice and trouser)."""
    return dict(female_sets()["cisFemaleAdult34"])


def save(srv, acc, model_id, design="body", name="my pattern", **extra):
    """POST /v1/patterns; extra members (notes, options, or anything) as given."""
    body = {"model_id": model_id, "design": design, "name": name}
    body.update(extra)
    return srv.post("/v1/patterns", headers=acc.auth, json=body)


def save_pattern(srv, acc, model_id, design="body", name="my pattern", **extra):
    r = save(srv, acc, model_id, design, name, **extra)
    assert r.status_code == 201, f"POST /v1/patterns: {r.status_code} {r.text[:400]}"
    p = r.json()
    assert_pattern_shape(p)
    return p


def pattern_path(pattern_id, suffix=""):
    return f"/v1/patterns/{pattern_id}{suffix}"


def get_pattern(srv, acc, pattern_id):
    r = srv.get(pattern_path(pattern_id), headers=acc.auth)
    assert r.status_code == 200, f"GET pattern: {r.status_code} {r.text[:300]}"
    p = r.json()
    assert_pattern_shape(p)
    return p


def list_patterns(srv, acc):
    r = srv.get("/v1/patterns", headers=acc.auth)
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert set(body) == {"patterns"} and isinstance(body["patterns"], list), body
    for p in body["patterns"]:
        assert_summary_shape(p)
    return body["patterns"]


def patch_pattern(srv, acc, pattern_id, body):
    return srv.request("PATCH", pattern_path(pattern_id), headers=acc.auth, json=body)


def refresh(srv, acc, pattern_id):
    return srv.post(pattern_path(pattern_id, "/refresh"), headers=acc.auth)


def draft_saved(srv, acc, pattern_id, ext="svg", **query):
    return srv.get(pattern_path(pattern_id, f".{ext}"), headers=acc.auth, params=query, timeout=60)


def draft_model(srv, acc, model_id, design, ext="svg", **query):
    return srv.get(f"/v1/models/{model_id}/patterns/{design}.{ext}", headers=acc.auth,
                   params=query, timeout=60)


def assert_summary_shape(p):
    assert isinstance(p, dict), p
    assert set(p) == SUMMARY_KEYS, f"summary keys: {sorted(p)}"
    _assert_common(p)


def assert_pattern_shape(p):
    assert isinstance(p, dict), p
    assert set(p) == PATTERN_KEYS, f"pattern keys: {sorted(p)}"
    _assert_common(p)
    assert p["notes"] is None or isinstance(p["notes"], str), p
    s = p["snapshot"]
    assert isinstance(s, dict) and set(s) == SNAPSHOT_KEYS, s
    assert isinstance(s["model_name"], str) and s["model_name"], s
    assert isinstance(s["breasts"], bool), s
    assert isinstance(s["measurements"], dict), s
    for k, v in s["measurements"].items():
        assert isinstance(v, (int, float)) and not isinstance(v, bool), (k, v)
        if not s["breasts"]:
            assert k not in BREASTS_ONLY, s


def _assert_common(p):
    assert ID_RE.match(p["id"]) and ID_RE.match(p["model_id"]), p
    assert p["design"] in DESIGNS, p
    assert isinstance(p["name"], str) and p["name"], p
    assert isinstance(p["options"], dict) and set(DEFAULT_OPTIONS) <= set(p["options"]), p
    created, updated = parse_time(p["created_at"]), parse_time(p["updated_at"])
    measured = parse_time(p["measured_at"])
    assert created <= measured <= updated, p


def svg_size(svg):
    """(width, height) in mm of a drafted SVG."""
    m = re.search(r'<svg[^>]*width="([0-9.]+)mm"[^>]*height="([0-9.]+)mm"', svg)
    assert m, svg[:300]
    return float(m.group(1)), float(m.group(2))

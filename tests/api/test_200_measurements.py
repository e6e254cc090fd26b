"""The measurement vocabulary (SPEC section 3, issue 4): GET /v1/measurements
serves 38 names with unit, description, breasts_only and a plausible range,
filtered by ?breasts=true|false; every listed name is usable in a model."""

import pytest

from accounts_helpers import assert_invalid_field, create_account, outbox
from models_helpers import (
    BREASTS_ONLY,
    DEGREE_UNITS,
    VOCABULARY,
    create_model,
    load_sizes,
    patch,
)


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


@pytest.fixture(scope="module")
def acc(server, mails):
    return create_account(server, mails, "vocab")


def vocab(server, query=""):
    r = server.get("/v1/measurements" + query)
    assert r.status_code == 200, r.text[:300]
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"measurements"}, sorted(body)
    assert isinstance(body["measurements"], list)
    return body["measurements"]


def test_full_vocabulary(server):
    items = vocab(server)
    names = [m["name"] for m in items]
    assert len(names) == len(set(names)), f"duplicate names: {names}"
    assert set(names) == set(VOCABULARY), (
        f"missing {sorted(set(VOCABULARY) - set(names))}, extra {sorted(set(names) - set(VOCABULARY))}"
    )
    assert len(items) == 38
    for m in items:
        assert set(m) == {"name", "unit", "description", "breasts_only", "range"}, m
        if m["name"] == "shoulderSlope":
            assert m["unit"] in DEGREE_UNITS, m
        else:
            assert m["unit"] == "mm", m
        assert isinstance(m["description"], str) and len(m["description"].strip()) >= 10, m
        assert isinstance(m["breasts_only"], bool), m
        assert m["breasts_only"] == (m["name"] in BREASTS_ONLY), m
        rng = m["range"]
        assert set(rng) == {"min", "max"}, m
        for k in ("min", "max"):
            assert isinstance(rng[k], (int, float)) and not isinstance(rng[k], bool), m
        assert 0 <= rng["min"] < rng["max"], m
        if m["unit"] == "mm":
            assert rng["min"] > 0 and rng["max"] < 5000, m
        else:
            assert rng["max"] <= 90, m
    assert sum(m["breasts_only"] for m in items) == 8


def test_absent_filter_is_everything(server):
    assert vocab(server) == vocab(server, "?breasts=true")


def test_breasts_true_has_all_38(server):
    items = vocab(server, "?breasts=true")
    assert {m["name"] for m in items} == set(VOCABULARY)
    assert len(items) == 38


def test_breasts_false_has_the_30_others(server):
    items = vocab(server, "?breasts=false")
    names = {m["name"] for m in items}
    assert len(items) == 30, sorted(names)
    assert names == set(VOCABULARY) - BREASTS_ONLY
    assert not any(m["breasts_only"] for m in items)
    # Same entries as in the full list.
    full = {m["name"]: m for m in vocab(server)}
    for m in items:
        assert m == full[m["name"]]


@pytest.mark.parametrize("value", ["maybe", "1", "yes"])
def test_bad_filter_is_422(server, value):
    assert_invalid_field(server.get(f"/v1/measurements?breasts={value}"), "breasts")


def test_no_authentication_needed_but_a_token_is_fine(server, acc):
    anon = vocab(server, "?breasts=false")
    r = server.get("/v1/measurements?breasts=false", headers=acc.auth)
    assert r.status_code == 200
    assert r.json()["measurements"] == anon


def test_ranges_admit_every_freesewing_size(server):
    """Plausible ranges refuse typing mistakes, not real bodies: every value
    of the 20 FreeSewing adult sets lies inside its range."""
    ranges = {m["name"]: m["range"] for m in vocab(server)}
    sizes = load_sizes()
    for set_name, values in sizes.items():
        assert set(values) == set(VOCABULARY), set_name
        for k, v in values.items():
            assert ranges[k]["min"] <= v <= ranges[k]["max"], f"{set_name}.{k}={v} outside {ranges[k]}"


def test_every_listed_name_is_accepted_in_a_model(server, acc):
    """Each vocabulary name, alone, at the middle of its range, is accepted
    by POST /v1/models and stored as given."""
    refused = {}
    for m in vocab(server):
        value = (m["range"]["min"] + m["range"]["max"]) / 2
        r = server.post(
            "/v1/models", headers=acc.auth,
            json={"name": f"one {m['name']}", "breasts": True, "measurements": {m["name"]: value}},
        )
        if r.status_code != 201:
            refused[m["name"]] = f"{r.status_code} {r.text[:200]}"
            continue
        assert r.json()["measurements"] == {m["name"]: value}
        assert server.request("DELETE", f"/v1/models/{r.json()['id']}", headers=acc.auth).status_code == 204
    assert not refused, f"names listed by GET /v1/measurements but refused in a model: {refused}"


def test_range_bounds_are_inclusive_and_enforced(server, acc):
    """min and max are accepted; just outside either is 422 naming the
    measurement, with the range in the message. Every name is tried; the
    failures are reported together."""
    model = create_model(server, acc, "bounds", True, {})
    problems = []
    for m in vocab(server):
        name, lo, hi = m["name"], m["range"]["min"], m["range"]["max"]
        for ok in (lo, hi):
            r = patch(server, acc, model["id"], {"measurements": {name: ok}})
            if r.status_code != 200 or r.json()["measurements"].get(name) != ok:
                problems.append(f"{name}={ok} (range {lo}..{hi}): {r.status_code} {r.text[:160]}")
        for bad in (lo - 0.5, hi + 0.5):
            r = patch(server, acc, model["id"], {"measurements": {name: bad}})
            body = r.json() if r.headers.get("Content-Type", "").startswith("application/json") else {}
            err = body.get("error", {}) if isinstance(body, dict) else {}
            msg = err.get("message", "")
            if (r.status_code != 422 or err.get("code") != "invalid_field"
                    or err.get("field") != f"measurements.{name}" or name not in msg
                    or f"{lo:g}" not in msg or f"{hi:g}" not in msg):
                problems.append(f"{name}={bad} (range {lo}..{hi}): {r.status_code} {r.text[:200]}")
    assert not problems, "\n".join(problems)

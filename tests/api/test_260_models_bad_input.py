"""Bad input to the model routes (SPEC section 3 validation rules, issue 4):
every bad body answers 4xx naming the problem (never 500, never a silent
truncation), and the stored model is exactly as before; a bad POST creates
nothing."""

import json

import pytest

from accounts_helpers import assert_error, create_account, outbox
from models_helpers import create_model, list_models, patch_raw, snapshot

KIB = 1024


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


@pytest.fixture(scope="module")
def acc(server, mails):
    return create_account(server, mails, "badinput")


@pytest.fixture(scope="module")
def model(server, acc):
    return create_model(server, acc, "target", True, {"neck": 340, "chest": 925, "bustSpan": 160}, "the notes")


def j(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def many_keys(n, value="1"):
    return b"{" + b",".join(b'"k%d":%s' % (i, value.encode()) for i in range(n)) + b"}"


# Each case: (label, raw flat measurements object, status, field or None, words
# of which at least one must be in the message).
MEASUREMENT_CASES = [
    ("unknown name", j({"neckk": 380}), 422, "neckk", ["unknown", "neckk"]),
    ("wrong case", j({"Neck": 380}), 422, "Neck", ["unknown"]),
    ("empty name", j({"": 380}), 422, "", ["unknown"]),
    ("string", j({"neck": "380"}), 422, "neck", ["number"]),
    ("empty string", j({"neck": ""}), 422, "neck", ["number"]),
    ("boolean", j({"neck": True}), 422, "neck", ["number"]),
    ("array", j({"neck": [380]}), 422, "neck", ["number"]),
    ("nested object", j({"neck": {"value": 380, "unit": "mm"}}), 422, "neck", ["number"]),
    ("negative", j({"neck": -380}), 422, "neck", ["between"]),
    ("zero", j({"neck": 0}), 422, "neck", ["between"]),
    ("absurd 1e9", b'{"neck":1e9}', 422, "neck", ["between"]),
    ("absurd integer", b'{"chest":1000000000}', 422, "chest", ["between"]),
    ("negative degrees", j({"shoulderSlope": -3}), 422, "shoulderSlope", ["between"]),
    ("60 KB key", j({"x" * (60 * KIB): 1}), 422, ("cut", "x" * 40), ["unknown"]),
    ("long name cut inside a 2-byte character", j({"a" + "\u00e9" * 100: 1}), 422, ("cut", "a\u00e9"), ["unknown"]),
    ("long name cut inside a 4-byte character", j({"a" + "\U0001f600" * 30: 1}), 422, ("cut", "a\U0001f600"), ["unknown"]),
    ("5,000 unknown keys", many_keys(5000), 422, "k0", ["unknown"]),
    ("10,000 keys", many_keys(10000), 413, None, ["65536", "64 KiB"]),
    ("1 MB key", j({"y" * (1024 * KIB): 1}), 413, None, ["65536", "64 KiB"]),
    ("NaN", b'{"neck":NaN}', 400, None, ["NaN"]),
    ("Infinity", b'{"neck":Infinity}', 400, None, ["Infinity"]),
    ("-Infinity", b'{"neck":-Infinity}', 400, None, ["Infinity", "invalid token"]),
    ("overflowing real", b'{"neck":1e400}', 400, None, ["overflow"]),
    ("underflowing real", b'{"neck":1e-400}', 400, None, ["too small", "underflow"]),
    ("huge integer", b'{"neck":123456789012345678901234567890}', 400, None, ["too big", "overflow"]),
    ("duplicate key", b'{"neck":380,"neck":390}', 400, None, ["duplicate"]),
    ("hex number", b'{"neck":0x17c}', 400, None, ["expected", "invalid"]),
    ("trailing comma", b'{"neck":380,}', 400, None, ["expected", "invalid"]),
    ("single quotes", b"{'neck':380}", 400, None, ["expected", "invalid"]),
    ("invalid UTF-8", b'{"neck\xff":380}', 400, None, ["decode", "UTF-8", "utf-8"]),
    ("NUL in a name", b'{"ne\\u0000ck":380}', 400, None, ["NUL"]),
]


def check_answer(r, status, field, words, prefix):
    err = assert_error(r, status)
    if status == 422:
        assert err["code"] == "invalid_field", err
        assert "field" in err, f"a 422 without the field it is about: {err}"
        if isinstance(field, tuple):  # a long name: cut short, not echoed whole
            start = prefix + field[1]
            assert err["field"].startswith(start), err
            assert len(err["field"]) < 200 and len(err["message"]) < 500, err
            assert field[1] in err["message"], f"the message does not name the measurement: {err}"
        else:
            assert err["field"] == prefix + field, err
    assert any(w in err["message"] for w in words), f"the message names none of {words}: {err}"
    return err


@pytest.mark.parametrize("label,raw,status,field,words", MEASUREMENT_CASES, ids=[c[0] for c in MEASUREMENT_CASES])
def test_bad_patch_changes_nothing(server, acc, model, label, raw, status, field, words):
    before = snapshot(server, acc, model["id"])
    body = b'{"measurements":' + raw + b"}"
    r = patch_raw(server, acc.token, model["id"], body)
    check_answer(r, status, field, words, "measurements.")
    assert snapshot(server, acc, model["id"]) == before, f"{label}: the model changed"


@pytest.mark.parametrize("label,raw,status,field,words", MEASUREMENT_CASES, ids=[c[0] for c in MEASUREMENT_CASES])
def test_bad_import_changes_nothing(server, acc, model, label, raw, status, field, words):
    before = snapshot(server, acc, model["id"])
    r = patch_raw(server, acc.token, model["id"], raw, suffix="/measurements", method="PUT")
    check_answer(r, status, field, words, "measurements.")
    assert snapshot(server, acc, model["id"]) == before, f"{label}: the model changed"


@pytest.mark.parametrize("label,raw,status,field,words", MEASUREMENT_CASES, ids=[c[0] for c in MEASUREMENT_CASES])
def test_bad_create_creates_nothing(server, acc, label, raw, status, field, words):
    before = list_models(server, acc)
    body = b'{"name":"bad","breasts":true,"measurements":' + raw + b"}"
    r = server.post("/v1/models", headers={**acc.auth, "Content-Type": "application/json"}, data=body, timeout=30)
    check_answer(r, status, field, words, "measurements.")
    assert list_models(server, acc) == before


TOP_LEVEL_CASES = [
    ("duplicate name", b'{"name":"a","name":"b"}', 400, None, ["duplicate"]),
    ("duplicate measurements", b'{"measurements":{"neck":380},"measurements":{"neck":390}}', 400, None, ["duplicate"]),
    ("unknown member", j({"nmae": "x"}), 422, "nmae", ["unknown"]),
    ("long unknown member cut inside a character", j({"n" + "\u00e9" * 100: "x"}), 422, ("cut", "n\u00e9"), ["unknown"]),
    # members the server sets: the message says so (issue 18), not only "unknown"
    ("id member", j({"id": "AAAAAAAAAAAAAAAAAAAAAA"}), 422, "id", ["set by the server"]),
    ("warnings member", j({"warnings": []}), 422, "warnings", ["cannot be set"]),
    ("name number", j({"name": 5}), 422, "name", ["string"]),
    ("name object", j({"name": {"first": "a"}}), 422, "name", ["string"]),
    ("name null", j({"name": None}), 422, "name", ["name"]),
    ("breasts string", j({"breasts": "false"}), 422, "breasts", ["true or false"]),
    ("breasts null", j({"breasts": None}), 422, "breasts", ["true or false"]),
    ("measurements array", j({"measurements": [["neck", 380]]}), 422, "measurements", ["object"]),
    ("measurements string", j({"measurements": "neck=380"}), 422, "measurements", ["object"]),
    ("notes number", j({"notes": 5}), 422, "notes", ["string"]),
    ("body is an array", b'[{"name":"x"}]', 400, None, ["object"]),
    ("body is a string", b'"x"', 400, None, ["object", "'{' expected"]),
    ("empty body", b"", 400, None, ["empty", "object"]),
    ("truncated body", b'{"name":"x"', 400, None, ["end of file", "expected"]),
    ("too deep", b'{"measurements":{"neck":' + b'{"a":' * 40 + b"1" + b"}" * 40 + b"}}", 400, None, ["deep", "nested", "depth"]),
    ("body over 64 KiB", j({"notes": "n" * (65 * KIB)}), 413, None, ["65536", "64 KiB"]),
]


@pytest.mark.parametrize("label,raw,status,field,words", TOP_LEVEL_CASES, ids=[c[0] for c in TOP_LEVEL_CASES])
def test_bad_patch_body_changes_nothing(server, acc, model, label, raw, status, field, words):
    before = snapshot(server, acc, model["id"])
    r = patch_raw(server, acc.token, model["id"], raw)
    check_answer(r, status, field, words, "")
    assert snapshot(server, acc, model["id"]) == before, f"{label}: the model changed"


def test_valid_fields_with_one_bad_one_change_nothing(server, acc, model):
    """All or nothing: a PATCH that renames, edits notes and measurements but
    has one bad value writes none of it."""
    before = snapshot(server, acc, model["id"])
    body = {"name": "renamed", "notes": None, "breasts": True,
            "measurements": {"neck": 350, "chest": None, "waist": 760, "hips": -1}}
    r = patch_raw(server, acc.token, model["id"], j(body))
    err = assert_error(r, 422, "invalid_field")
    assert err["field"] == "measurements.hips", err
    assert snapshot(server, acc, model["id"]) == before


def test_wrong_content_type_is_415_and_changes_nothing(server, acc, model):
    before = snapshot(server, acc, model["id"])
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx"):
        r = server.request("PATCH", f"/v1/models/{model['id']}", headers={**acc.auth, "Content-Type": ctype},
                           data=j({"name": "renamed"}))
        assert_error(r, 415)
    assert snapshot(server, acc, model["id"]) == before

"""The profile (SPEC sections 1 and 3): GET and PATCH /v1/account, every
optional field changeable and removable, validation all-or-nothing, and
account deletion."""

import pytest

import limits
from accounts_helpers import (
    assert_account_shape,
    assert_error,
    assert_invalid_field,
    assert_unauthenticated,
    bearer,
    create_account,
    get_account,
    login,
    login_token,
    outbox,
    uniq,
)

NETWORKS = ("github", "instagram", "mastodon", "twitter", "youtube", "website")
BIO_MAX = limits.LIMIT_BIO_MAX  # characters
SOCIAL_MAX = limits.LIMIT_SOCIAL_VALUE_MAX  # bytes (these tests use ASCII)


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


@pytest.fixture
def acc(server, mails):
    return create_account(server, mails, "prof")


def patch(server, token, body):
    return server.request("PATCH", "/v1/account", headers=bearer(token), json=body)


def patch_ok(server, token, body):
    r = patch(server, token, body)
    assert r.status_code == 200, f"PATCH {body}: {r.status_code} {r.text[:300]}"
    acc = r.json()
    assert_account_shape(acc)
    assert get_account(server, token) == acc, "PATCH answer differs from a following GET"
    return acc


# ------------------------------------------------------------ GET


def test_get_account(server, acc):
    r = server.get("/v1/account", headers=bearer(acc.token))
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert_account_shape(body)
    assert body == acc.data
    assert body["email"] == acc.email and body["username"] == acc.username


def test_get_account_needs_auth(server):
    assert_unauthenticated(server.get("/v1/account"))
    assert_unauthenticated(server.request("PATCH", "/v1/account", json={"bio": "x"}))


# ------------------------------------------------------------ bio


def test_bio_set_and_remove(server, acc):
    a = patch_ok(server, acc.token, {"bio": "I sew. Ünïcödé ✂️ too."})
    assert a["bio"] == "I sew. Ünïcödé ✂️ too."
    a = patch_ok(server, acc.token, {"bio": None})
    assert a["bio"] is None
    # Other fields were not touched.
    assert a["username"] == acc.username and a["email"] == acc.email


def test_bio_1000_multibyte_characters_accepted(server, acc):
    bio = "é" * BIO_MAX
    a = patch_ok(server, acc.token, {"bio": bio})
    assert a["bio"] == bio
    bio = "✂" * (BIO_MAX - 1) + "x"
    assert patch_ok(server, acc.token, {"bio": bio})["bio"] == bio


@pytest.mark.parametrize("bio", ["x" * (BIO_MAX + 1), "é" * (BIO_MAX + 1), "✂" * (BIO_MAX + 1)])
def test_bio_over_1000_characters_refused(server, acc, bio):
    patch_ok(server, acc.token, {"bio": "before"})
    r = patch(server, acc.token, {"bio": bio})
    assert_invalid_field(r, "bio")
    assert get_account(server, acc.token)["bio"] == "before"


def test_bio_wrong_type_refused(server, acc):
    r = patch(server, acc.token, {"bio": 42})
    assert_invalid_field(r, "bio")


# ------------------------------------------------------------ social


def test_social_every_network(server, acc):
    values = {
        "github": "octo-cat",
        "instagram": "sewing.daily",
        "mastodon": "@me@mastodon.social",
        "twitter": "stitcher",
        "youtube": "UCabc123",
        "website": "https://example.org/me?x=1",
    }
    a = patch_ok(server, acc.token, {"social": values})
    assert a["social"] == values


def test_social_merges_and_null_removes_one(server, acc):
    patch_ok(server, acc.token, {"social": {"github": "gh", "twitter": "tw"}})
    a = patch_ok(server, acc.token, {"social": {"youtube": "yt"}})
    assert a["social"] == {"github": "gh", "twitter": "tw", "youtube": "yt"}
    a = patch_ok(server, acc.token, {"social": {"twitter": None}})
    assert a["social"] == {"github": "gh", "youtube": "yt"}
    a = patch_ok(server, acc.token, {"social": {"github": "gh2"}})
    assert a["social"] == {"github": "gh2", "youtube": "yt"}


def test_social_null_removes_all(server, acc):
    patch_ok(server, acc.token, {"social": {"github": "gh", "website": "http://example.org"}})
    a = patch_ok(server, acc.token, {"social": None})
    assert a["social"] == {}


def test_social_value_200_characters_accepted(server, acc):
    v = "a" * SOCIAL_MAX
    assert patch_ok(server, acc.token, {"social": {"github": v}})["social"]["github"] == v
    w = "https://" + "b" * (SOCIAL_MAX - len("https://"))
    assert len(w) == SOCIAL_MAX
    assert patch_ok(server, acc.token, {"social": {"website": w}})["social"]["website"] == w


@pytest.mark.parametrize("network", ["facebook", "linkedin", "GitHub", ""])
def test_social_unknown_network_refused(server, acc, network):
    patch_ok(server, acc.token, {"social": {"github": "kept"}})
    r = patch(server, acc.token, {"social": {network: "someone"}})
    err = assert_error(r, 422, "invalid_field")
    # The field names where the problem is: inside "social".
    assert err.get("field", "").startswith("social"), (
        f"an unknown network inside social is reported as field {err.get('field')!r}"
    )
    assert get_account(server, acc.token)["social"] == {"github": "kept"}


@pytest.mark.parametrize(
    "network,value",
    [
        ("github", ""),
        ("github", "a" * (SOCIAL_MAX + 1)),
        ("twitter", "two words"),
        ("instagram", 42),
        ("mastodon", ["x"]),
        ("youtube", {"id": "x"}),
        ("website", "example.org"),
        ("website", "ftp://example.org"),
        ("website", "javascript:alert(1)"),
        ("website", "https://" + "b" * 193),
        ("github", "tab\there"),
        ("github", "new\nline"),
    ],
)
def test_social_invalid_value_refused(server, acc, network, value):
    patch_ok(server, acc.token, {"social": {"github": "kept"}})
    r = patch(server, acc.token, {"social": {network: value}})
    err = assert_invalid_field(r, f"social.{network}")
    assert err
    assert get_account(server, acc.token)["social"] == {"github": "kept"}


@pytest.mark.parametrize("social", ["github", 1, ["github"], True])
def test_social_not_an_object_refused(server, acc, social):
    r = patch(server, acc.token, {"social": social})
    assert_invalid_field(r, "social")


# ------------------------------------------------------------ consent


def test_consent_open_data(server, acc):
    assert get_account(server, acc.token)["consent"] == {"open_data": False}
    a = patch_ok(server, acc.token, {"consent": {"open_data": True}})
    assert a["consent"] == {"open_data": True}
    a = patch_ok(server, acc.token, {"consent": {"open_data": False}})
    assert a["consent"] == {"open_data": False}


@pytest.mark.parametrize("consent", [{"open_data": "yes"}, {"open_data": 1}, {"open_data": None}, "on", True])
def test_consent_invalid(server, acc, consent):
    r = patch(server, acc.token, {"consent": consent})
    err = assert_error(r, 422, "invalid_field")
    # The field names where the problem is: "consent" or "consent.open_data",
    # like "social.github" for a value inside social.
    assert err.get("field") in ("consent", "consent.open_data"), err
    assert get_account(server, acc.token)["consent"] == {"open_data": False}


def test_consent_unknown_key(server, acc):
    r = patch(server, acc.token, {"consent": {"open_data": True, "marketing": True}})
    err = assert_error(r, 422, "invalid_field")
    assert err.get("field", "").startswith("consent"), (
        f"an unknown key inside consent is reported as field {err.get('field')!r}"
    )
    assert get_account(server, acc.token)["consent"] == {"open_data": False}


# ------------------------------------------------------------ username


def test_username_change_case_folded(server, acc):
    new = f"NewName_{uniq()}"
    a = patch_ok(server, acc.token, {"username": new})
    assert a["username"] == new.lower()
    assert login(server, new.lower(), acc.password).status_code == 200
    assert_error(login(server, acc.username, acc.password), 401, "invalid_credentials")


def test_username_change_to_own_name(server, acc):
    a = patch_ok(server, acc.token, {"username": acc.username.upper()})
    assert a["username"] == acc.username


def test_username_change_to_taken_is_409(server, mails, acc):
    other = create_account(server, mails, "other")
    patch_ok(server, acc.token, {"bio": "unchanged bio"})
    r = patch(server, acc.token, {"username": other.username.upper(), "bio": "should not be applied"})
    assert_error(r, 409)
    a = get_account(server, acc.token)
    assert a["username"] == acc.username
    assert a["bio"] == "unchanged bio", "a refused PATCH applied another of its fields"
    assert get_account(server, other.token)["username"] == other.username


@pytest.mark.parametrize("username", ["a", "x" * (limits.LIMIT_USERNAME_MAX + 1), "has space", "émile", 12, None])
def test_username_invalid(server, acc, username):
    r = patch(server, acc.token, {"username": username})
    assert_invalid_field(r, "username")
    assert get_account(server, acc.token)["username"] == acc.username


# ------------------------------------------------------------ all or nothing


@pytest.mark.parametrize(
    "bad",
    [
        {"username": "x"},
        {"bio": "y" * (BIO_MAX + 1)},
        {"social": {"facebook": "z"}},
        {"social": {"website": "nope"}},
        {"consent": {"open_data": "maybe"}},
        {"email": "new@example.org"},
        {"id": "abc"},
        {"has_picture": True},
    ],
)
def test_patch_with_one_invalid_field_changes_nothing(server, acc, bad):
    before = get_account(server, acc.token)
    body = {
        "username": f"changed_{uniq()}",
        "bio": "changed bio",
        "social": {"github": "changed"},
        "consent": {"open_data": True},
    }
    body.update(bad)
    r = patch(server, acc.token, body)
    assert_error(r, 422, "invalid_field")
    after = get_account(server, acc.token)
    assert after == before, f"a refused PATCH changed the account: {before} -> {after}"


def test_patch_several_fields_at_once(server, acc):
    new = f"multi_{uniq()}"
    a = patch_ok(
        server,
        acc.token,
        {"username": new, "bio": "all at once", "social": {"github": "gh"}, "consent": {"open_data": True}},
    )
    assert a["username"] == new
    assert a["bio"] == "all at once"
    assert a["social"] == {"github": "gh"}
    assert a["consent"] == {"open_data": True}
    assert a["email"] == acc.email and a["id"] == acc.id


def test_empty_patch_changes_nothing(server, acc):
    before = get_account(server, acc.token)
    a = patch_ok(server, acc.token, {})
    assert a == before


def test_patch_non_json_is_415(server, acc):
    r = server.request(
        "PATCH", "/v1/account", headers={**bearer(acc.token), "Content-Type": "text/plain"}, data='{"bio":"x"}'
    )
    assert_error(r, 415)


def test_patch_malformed_json_is_400(server, acc):
    r = server.request(
        "PATCH", "/v1/account", headers={**bearer(acc.token), "Content-Type": "application/json"}, data='{"bio":'
    )
    assert_error(r, 400)


# ------------------------------------------------------------ delete


def delete_account(server, token, password):
    return server.request("DELETE", "/v1/account", headers=bearer(token), json={"password": password})


def test_delete_account(server, mails, acc):
    other_session = login_token(server, acc.email, acc.password)
    r = delete_account(server, acc.token, acc.password)
    assert r.status_code == 204, r.text
    assert r.content == b""
    for t in (acc.token, other_session):
        assert_unauthenticated(server.get("/v1/account", headers=bearer(t)))
    assert_error(login(server, acc.username, acc.password), 401, "invalid_credentials")
    assert_error(login(server, acc.email, acc.password), 401, "invalid_credentials")
    # Erased completely: the address and the username are free again.
    again = "Vq7#Again-" + uniq()
    r = server.post("/v1/signup", json={"email": acc.email, "username": acc.username, "password": again})
    assert r.status_code == 202
    m = mails.wait(acc.email, match="confirm")
    r = server.post("/v1/confirm", json={"token": m.token, "password": again})
    assert r.status_code == 200, r.text
    assert r.json()["account"]["id"] != acc.id
    assert r.json()["account"]["bio"] is None


def test_delete_account_wrong_password(server, acc):
    r = delete_account(server, acc.token, acc.password + "x")
    assert_error(r, 403, "wrong_password")
    assert get_account(server, acc.token)["id"] == acc.id
    assert login(server, acc.username, acc.password).status_code == 200


def test_delete_account_needs_password_and_auth(server, acc):
    r = server.request("DELETE", "/v1/account", headers=bearer(acc.token), json={})
    assert_invalid_field(r, "password")
    assert_unauthenticated(server.request("DELETE", "/v1/account", json={"password": acc.password}))
    assert get_account(server, acc.token)["id"] == acc.id

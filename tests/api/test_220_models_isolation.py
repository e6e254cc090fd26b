"""Owner-only models (SPEC section 1 "Model data"): another account gets, on
every model route, exactly the 404 of a model that does not exist, and
changes nothing; lists hold only the caller's models; every model route
needs authentication; models go with their account."""

import pytest

import pg_helpers
from accounts_helpers import (
    assert_error,
    assert_unauthenticated,
    bearer,
    create_account,
    outbox,
)
from models_helpers import (
    assert_not_found_like,
    create_model,
    get_avatar,
    image_fixture,
    json_bytes,
    list_models,
    model_path,
    put_avatar,
    random_id,
    snapshot,
)


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


@pytest.fixture(scope="module")
def alice(server, mails):
    return create_account(server, mails, "alice")


@pytest.fixture(scope="module")
def bob(server, mails):
    return create_account(server, mails, "bob")


@pytest.fixture
def alices_model(server, alice):
    m = create_model(server, alice, "Alice's body", True, {"neck": 340, "chest": 925, "bustSpan": 160},
                     "Alice's notes")
    r = put_avatar(server, alice.token, m["id"], image_fixture("small.jpg"), "image/jpeg")
    assert r.status_code == 200, r.text
    return m


def _requests(server, token, model_id):
    """Every model route with a valid request body, as (label, response)."""
    jpeg = image_fixture("photo.jpg")
    auth = bearer(token)
    js = {**auth, "Content-Type": "application/json"}
    return [
        ("GET model", server.get(model_path(model_id), headers=auth)),
        ("PATCH model", server.request("PATCH", model_path(model_id), headers=js,
                                       data=json_bytes({"name": "pwned", "breasts": False, "notes": None,
                                                        "measurements": {"bustSpan": None, "neck": 400}}))),
        ("GET measurements", server.get(model_path(model_id, "/measurements"), headers=auth)),
        ("PUT measurements", server.request("PUT", model_path(model_id, "/measurements"), headers=js,
                                            data=json_bytes({"neck": 401}))),
        ("PUT avatar", server.request("PUT", model_path(model_id, "/avatar"),
                                      headers={**auth, "Content-Type": "image/jpeg"}, data=jpeg, timeout=60)),
        ("GET avatar", server.get(model_path(model_id, "/avatar"), headers=auth)),
        ("DELETE avatar", server.request("DELETE", model_path(model_id, "/avatar"), headers=auth)),
        ("DELETE model", server.request("DELETE", model_path(model_id), headers=auth)),
    ]


def test_another_account_gets_the_404_of_a_missing_model_everywhere(server, alice, bob, alices_model):
    mid = alices_model["id"]
    before = snapshot(server, alice, mid)
    assert before["avatar"][0] == 200 and before["model"]["has_avatar"] is True

    missing = dict(_requests(server, bob.token, random_id()))
    for label, r in missing.items():
        assert_error(r, 404, "not_found")

    for label, r in _requests(server, bob.token, mid):
        assert_not_found_like(r, missing[label])
        assert mid not in r.text, f"{label} echoes the model id"
        assert "Alice" not in r.text, f"{label} leaks the model"
        # The model is unchanged after each attempt (read with the owner's token).
        assert snapshot(server, alice, mid) == before, f"Alice's model changed after Bob's {label}"

    # A's own id used by the owner still works for everything.
    r = server.get(model_path(mid), headers=alice.auth)
    assert r.status_code == 200 and r.json()["name"] == "Alice's body"


def test_lists_are_per_account(server, alice, bob, alices_model):
    bobs = create_model(server, bob, "Bob's body", False, {"neck": 380})
    bob_ids = [m["id"] for m in list_models(server, bob)]
    alice_ids = [m["id"] for m in list_models(server, alice)]
    assert alices_model["id"] not in bob_ids
    assert bobs["id"] in bob_ids
    assert bobs["id"] not in alice_ids
    assert alices_model["id"] in alice_ids
    assert not set(bob_ids) & set(alice_ids)
    # Neither Bob's model nor its id answer to Alice.
    missing = server.get(model_path(random_id()), headers=alice.auth)
    assert_not_found_like(server.get(model_path(bobs["id"]), headers=alice.auth), missing)


def test_deleted_model_answers_like_a_missing_one(server, alice, alices_model):
    mid = alices_model["id"]
    assert server.request("DELETE", model_path(mid), headers=alice.auth).status_code == 204
    missing = dict(_requests(server, alice.token, random_id()))
    for label, r in _requests(server, alice.token, mid):
        assert_not_found_like(r, missing[label])
    assert_error(get_avatar(server, alice.token, mid), 404, "not_found")


def test_avatar_goes_with_its_model(server, alice, backend):
    m = create_model(server, alice, "with avatar", True, {})
    assert put_avatar(server, alice.token, m["id"], image_fixture("photo.jpg"), "image/jpeg").status_code == 200
    assert server.request("DELETE", model_path(m["id"]), headers=alice.auth).status_code == 204
    assert_error(get_avatar(server, alice.token, m["id"]), 404, "not_found")
    if backend == "sqlite":
        import sqlite3

        con = sqlite3.connect(f"file:{server.data_dir}/atelier.db?mode=ro", uri=True)
        try:
            n = con.execute("SELECT count(*) FROM model_avatars WHERE model_id = ?", (m["id"],)).fetchone()[0]
        finally:
            con.close()
    else:
        n = pg_helpers.execute(server.database_url,
                               f"SELECT count(*) FROM model_avatars WHERE model_id = '{m['id']}'")[0][0]
    assert n == 0, "the avatar row outlived its model"


def test_models_go_with_their_account(server, mails, backend):
    carol = create_account(server, mails, "carol")
    m = create_model(server, carol, "Carol's body", True, {"neck": 330})
    assert put_avatar(server, carol.token, m["id"], image_fixture("small.jpg"), "image/jpeg").status_code == 200
    r = server.request("DELETE", "/v1/account", headers=carol.auth, json={"password": carol.password})
    assert r.status_code == 204, r.text
    if backend == "sqlite":
        import sqlite3

        con = sqlite3.connect(f"file:{server.data_dir}/atelier.db?mode=ro", uri=True)
        try:
            left = [con.execute(f"SELECT count(*) FROM {t} WHERE {c} = ?", (m["id"],)).fetchone()[0]
                    for t, c in (("models", "id"), ("model_avatars", "model_id"))]
        finally:
            con.close()
    else:
        left = [pg_helpers.execute(server.database_url, f"SELECT count(*) FROM {t} WHERE {c} = '{m['id']}'")[0][0]
                for t, c in (("models", "id"), ("model_avatars", "model_id"))]
    assert left == [0, 0], f"rows left after the account was erased (models, model_avatars): {left}"


# ------------------------------------------------------------ authentication

ROUTES = [
    ("GET", "/v1/models", None),
    ("POST", "/v1/models", "json"),
    ("GET", "/v1/models/{id}", None),
    ("PATCH", "/v1/models/{id}", "json"),
    ("DELETE", "/v1/models/{id}", None),
    ("GET", "/v1/models/{id}/measurements", None),
    ("PUT", "/v1/models/{id}/measurements", "json"),
    ("PUT", "/v1/models/{id}/avatar", "image"),
    ("GET", "/v1/models/{id}/avatar", None),
    ("DELETE", "/v1/models/{id}/avatar", None),
]
BAD_AUTH = [
    {},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    {"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="},
    {"Authorization": "Bearer not a token"},
]


@pytest.mark.parametrize("method,path,body", ROUTES)
def test_every_model_route_needs_authentication(server, alice, method, path, body):
    m = create_model(server, alice, "guarded", True, {"neck": 340})
    before = snapshot(server, alice, m["id"])
    url = path.replace("{id}", m["id"])
    for headers in BAD_AUTH:
        kw = {"headers": dict(headers)}
        if body == "json":
            kw["headers"]["Content-Type"] = "application/json"
            kw["data"] = json_bytes({"name": "x", "breasts": False, "measurements": {}} if method == "POST"
                                    else {"neck": 400} if url.endswith("/measurements") else {"name": "x"})
        elif body == "image":
            kw["headers"]["Content-Type"] = "image/jpeg"
            kw["data"] = image_fixture("small.jpg")
        r = server.request(method, url, **kw)
        assert_unauthenticated(r)
    assert snapshot(server, alice, m["id"]) == before
    assert len([x for x in list_models(server, alice) if x["name"] == "x"]) == 0


@pytest.mark.parametrize("method,path,body", [r for r in ROUTES if r[2]])
def test_bare_unauthenticated_request_is_401(server, alice, method, path, body):
    """Without a token, a request with no body at all is still refused as
    unauthenticated (401), not judged on its missing Content-Type."""
    url = path.replace("{id}", random_id())
    assert_unauthenticated(server.request(method, url))

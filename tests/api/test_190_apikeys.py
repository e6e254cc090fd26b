"""API keys for scripts (issue 14): POST /v1/apikeys answers the key once,
GET /v1/apikeys lists them without it, DELETE /v1/apikeys/{id} (owner only);
a key is sent as a bearer token, is stored only as a hash, stops working the
second it expires (the server's clock is moved with --clock-offset), never
reaches security routes, and a read key never writes. At most
LIMIT_APIKEYS_PER_ACCOUNT keys; the last use is recorded at most once a
minute. (Every route against every kind of credential:
test_195_restrict_routes.py.)"""

import datetime

import pytest

import limits
from accounts_helpers import (
    ClockedStore,
    assert_error,
    assert_invalid_field,
    assert_unauthenticated,
    bearer,
    create_account,
    login,
    outbox,
    parse_time,
)
from apikeys_helpers import (
    FAKE_ID,
    KEY_FIELDS,
    assert_scope_refused,
    create_key,
    in_days,
    key_hash,
    list_keys,
    rfc3339,
)
from lifecycle_helpers import Store
from models_helpers import create_model


@pytest.fixture(scope="module")
def srv(module_server_factory):
    return module_server_factory.start()


@pytest.fixture(scope="module")
def accounts(srv):
    mails = outbox(srv)
    return {tag: create_account(srv, mails, f"key{tag}") for tag in ("a", "b", "c")}


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def test_a_key_is_answered_once_and_works(srv, accounts):
    acc = accounts["a"]
    k = create_key(srv, acc, "write", name="backup script")
    assert k["name"] == "backup script" and k["scope"] == "write" and k["last_used_at"] is None
    assert abs((parse_time(k["created_at"]) - now()).total_seconds()) < 60
    r = srv.get("/v1/account", headers=bearer(k["key"]))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == acc.id
    listed = {x["id"]: x for x in list_keys(srv, acc)}
    assert set(listed[k["id"]]) == KEY_FIELDS  # never the key
    assert k["key"] not in srv.get("/v1/apikeys", headers=acc.auth).text
    assert {f: listed[k["id"]][f] for f in ("name", "scope", "created_at", "expires_at")} == {
        f: k[f] for f in ("name", "scope", "created_at", "expires_at")}
    # the key is its account's: another account's list does not show it
    assert k["id"] not in {x["id"] for x in list_keys(srv, accounts["b"])}


def test_a_read_key_reads_and_never_writes(srv, accounts):
    acc = accounts["a"]
    m = create_model(srv, acc, "read key body", True, {"neck": 350})
    read = create_key(srv, acc, "read")["key"]
    assert srv.get(f"/v1/models/{m['id']}", headers=bearer(read)).status_code == 200
    assert srv.get(f"/v1/models/{m['id']}/patterns/bodice.svg", headers=bearer(read)).status_code != 403
    before = srv.get("/v1/models", headers=acc.auth).json()
    r = srv.post("/v1/models", headers=bearer(read), json={"name": "x", "breasts": True, "measurements": {}})
    assert_scope_refused(r)
    r = srv.request("PATCH", f"/v1/models/{m['id']}", headers=bearer(read), json={"name": "renamed"})
    assert_scope_refused(r)
    assert_scope_refused(srv.request("DELETE", f"/v1/models/{m['id']}", headers=bearer(read)))
    assert_scope_refused(srv.request("PATCH", "/v1/account", headers=bearer(read), json={"bio": "x"}))
    assert srv.get("/v1/models", headers=acc.auth).json() == before
    assert srv.get("/v1/account", headers=acc.auth).json()["bio"] is None
    # a write key does what the read key could not
    write = create_key(srv, acc, "write")["key"]
    r = srv.request("PATCH", f"/v1/models/{m['id']}", headers=bearer(write), json={"name": "renamed"})
    assert r.status_code == 200 and r.json()["name"] == "renamed", r.text


def test_keys_never_change_security(srv, accounts):
    acc = accounts["b"]
    write = create_key(srv, acc, "write")
    key = write["key"]
    refused = [
        ("POST", "/v1/account/password", {"current_password": acc.password, "new_password": "Zq9#" + acc.password}),
        ("POST", "/v1/account/email", {"email": "moved@example.org", "password": acc.password}),
        ("DELETE", "/v1/account", {"password": acc.password}),
        ("POST", "/v1/account/restrict", {"password": acc.password}),
        ("DELETE", "/v1/account/restrict", {"password": acc.password}),
        ("POST", "/v1/apikeys", {"name": "k", "scope": "write", "expires_at": in_days(1)}),
        ("GET", "/v1/apikeys", None),
        ("DELETE", f"/v1/apikeys/{write['id']}", None),
        ("POST", "/v1/logout", None),
    ]
    for method, path, body in refused:
        kw = {"json": body} if body is not None else {}
        assert_scope_refused(srv.request(method, path, headers=bearer(key), timeout=30, **kw))
    # nothing changed: the password, the address, the keys, the account
    assert login(srv, acc.username, acc.password).status_code == 200
    a = srv.get("/v1/account", headers=acc.auth).json()
    assert a["email"] == acc.email and a["restriction"]["restricted"] is False
    assert [k["id"] for k in list_keys(srv, acc)] == [write["id"]]
    assert srv.get("/v1/account", headers=bearer(key)).status_code == 200


def test_deleting_a_key_owner_only(srv, accounts):
    a, b = accounts["a"], accounts["b"]
    k = create_key(srv, a, "read")
    # another account's key id answers like one that does not exist
    r_other = srv.request("DELETE", f"/v1/apikeys/{k['id']}", headers=b.auth)
    r_none = srv.request("DELETE", f"/v1/apikeys/{FAKE_ID}", headers=b.auth)
    assert_error(r_other, 404, "not_found")
    assert_error(r_none, 404, "not_found")
    assert r_other.json() == r_none.json()
    assert srv.get("/v1/account", headers=bearer(k["key"])).status_code == 200
    r = srv.request("DELETE", f"/v1/apikeys/{k['id']}", headers=a.auth)
    assert r.status_code == 204 and r.content == b""
    assert_unauthenticated(srv.get("/v1/account", headers=bearer(k["key"])))
    assert k["id"] not in {x["id"] for x in list_keys(srv, a)}
    assert_error(srv.request("DELETE", f"/v1/apikeys/{k['id']}", headers=a.auth), 404, "not_found")


def test_malformed_and_unknown_keys_are_401(srv, accounts):
    k = create_key(srv, accounts["a"], "read")["key"]
    for bad in ("atk_", "atk_" + "A" * 43, "atk_" + k[4:-1], k + "A", k[4:], "ATK_" + k[4:],
                "atk_" + k[4:-1] + "!"):
        assert_unauthenticated(srv.get("/v1/account", headers=bearer(bad)))


@pytest.mark.parametrize("body,field", [
    ({"scope": "read", "expires_at": "2099-01-01T00:00:00Z"}, "name"),
    ({"name": "", "scope": "read"}, "name"),
    ({"name": 7, "scope": "read"}, "name"),
    ({"name": "tab\there", "scope": "read"}, "name"),
    ({"name": "bidi\u202eevil", "scope": "read"}, "name"),
    ({"name": "n"}, "scope"),
    ({"name": "n", "scope": "admin"}, "scope"),
    ({"name": "n", "scope": ["read"]}, "scope"),
    ({"name": "n", "scope": "read"}, "expires_at"),
    ({"name": "n", "scope": "read", "expires_at": 1893456000}, "expires_at"),
    ({"name": "n", "scope": "read", "expires_at": "tomorrow"}, "expires_at"),
    ({"name": "n", "scope": "read", "expires_at": "2099-01-01"}, "expires_at"),
    ({"name": "n", "scope": "read", "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
    ({"name": "n", "scope": "read", "expires_at": "PAST"}, "expires_at"),
    ({"name": "n", "scope": "read", "expires_at": "TOO_FAR"}, "expires_at"),
    ({"name": "n", "scope": "read", "expires_at": "SOON", "extra": 1}, "extra"),
])
def test_validation_names_the_field(srv, accounts, body, field):
    acc = accounts["c"]
    body = dict(body)
    ttl = datetime.timedelta(seconds=limits.LIMIT_APIKEY_TTL_MAX_S)
    subs = {"PAST": rfc3339(now() - datetime.timedelta(seconds=2)),
            "TOO_FAR": rfc3339(now() + ttl + datetime.timedelta(minutes=5)),
            "SOON": in_days(1)}
    if body.get("expires_at") in subs:
        body["expires_at"] = subs[body["expires_at"]]
    if field != "expires_at" and "expires_at" not in body:
        body["expires_at"] = in_days(1)
    before = list_keys(srv, acc)
    assert_invalid_field(srv.post("/v1/apikeys", headers=acc.auth, json=body), field)
    assert list_keys(srv, acc) == before


def test_name_and_expiry_bounds(srv, accounts):
    acc = accounts["c"]
    n = limits.LIMIT_APIKEY_NAME_MAX
    longest = create_key(srv, acc, "read", name="é" * n)  # characters, not bytes
    assert longest["name"] == "é" * n
    r = srv.post("/v1/apikeys", headers=acc.auth, json={"name": "é" * (n + 1), "scope": "read",
                                                       "expires_at": in_days(1)})
    assert_invalid_field(r, "name")
    ttl = datetime.timedelta(seconds=limits.LIMIT_APIKEY_TTL_MAX_S)
    far = create_key(srv, acc, "read", expires_at=rfc3339(now() + ttl - datetime.timedelta(minutes=5)))
    assert parse_time(far["expires_at"]) > now() + ttl - datetime.timedelta(minutes=6)
    # an offset and a fraction are read as the same instant
    at = now().replace(microsecond=0) + datetime.timedelta(days=2)
    k = create_key(srv, acc, "read", expires_at=at.astimezone(
        datetime.timezone(datetime.timedelta(hours=-5))).isoformat(timespec="milliseconds"))
    assert parse_time(k["expires_at"]) == at
    for x in list_keys(srv, acc):
        srv.request("DELETE", f"/v1/apikeys/{x['id']}", headers=acc.auth)


def test_at_most_the_limit_of_keys(srv, module_server_factory):
    acc = create_account(srv, outbox(srv), "keylimit")
    n = limits.LIMIT_APIKEYS_PER_ACCOUNT
    assert n == 20
    made = [create_key(srv, acc, "read", name=f"k{i}") for i in range(n)]
    r = srv.post("/v1/apikeys", headers=acc.auth, json={"name": "one too many", "scope": "read",
                                                       "expires_at": in_days(1)})
    assert_error(r, 409, "limit_reached")
    assert str(n) in r.json()["error"]["message"]
    assert len(list_keys(srv, acc)) == n
    assert srv.request("DELETE", f"/v1/apikeys/{made[0]['id']}", headers=acc.auth).status_code == 204
    create_key(srv, acc, "write", name="room again")
    assert_error(srv.post("/v1/apikeys", headers=acc.auth, json={
        "name": "again too many", "scope": "read", "expires_at": in_days(1)}), 409, "limit_reached")
    # every key still works
    for k in made[1:]:
        assert srv.get("/v1/models", headers=bearer(k["key"])).status_code == 200


def test_the_key_is_stored_hashed_and_its_name_sealed(srv, accounts):
    acc = accounts["a"]
    name = "needle-name-" + FAKE_ID[:6] + "-" + acc.id[:8]
    k = create_key(srv, acc, "write", name=name)
    assert srv.get("/v1/account", headers=bearer(k["key"])).status_code == 200
    blob = Store(srv).stored_bytes()
    assert key_hash(k["key"]) in blob or key_hash(k["key"]).hex().encode() in blob, (
        "control: the key's hash is not where the test looks")
    secret = k["key"][4:]
    for form in (k["key"].encode(), secret.encode(), secret.encode().hex().encode()):
        assert form not in blob, "the API key is stored in clear"
    assert name.encode() not in blob and name.encode().hex().encode() not in blob, "the key's name is not sealed"


# --------------------------------------------------------------------------
# the clock: expiry to the second, and the last use at most once a minute


@pytest.fixture(scope="module")
def clocked(module_database, module_server_factory, tmp_path_factory):
    store = ClockedStore(module_server_factory, str(tmp_path_factory.mktemp("keys") / "data"),
                         module_database)
    srv = store.start()
    acc = create_account(srv, store.mails, "keyclock")
    return {"store": store, "acc": acc}


def offset_to(instant):
    """The --clock-offset (whole seconds) that puts the server's clock at
    `instant` when it starts."""
    return int((instant - now()).total_seconds())


def test_a_key_stops_working_the_second_it_expires(clocked):
    store, acc = clocked["store"], clocked["acc"]
    srv = store.current
    expires = now().replace(microsecond=0) + datetime.timedelta(seconds=600)
    k = create_key(srv, acc, "read", expires_at=rfc3339(expires))
    other = create_key(srv, acc, "read", expires_at=in_days(30))
    assert parse_time(k["expires_at"]) == expires
    # 5 s before: it works
    srv = store.start(offset_to(expires - datetime.timedelta(seconds=5)))
    assert srv.get("/v1/account", headers=bearer(k["key"])).status_code == 200
    # 1 s after: the same answer as any unknown key
    srv = store.start(offset_to(expires + datetime.timedelta(seconds=1)))
    assert_unauthenticated(srv.get("/v1/account", headers=bearer(k["key"])))
    assert_unauthenticated(srv.get("/v1/account", headers=bearer(k["key"][:-1] + "A")))
    assert srv.get("/v1/account", headers=bearer(other["key"])).status_code == 200
    # still listed (with its expiry) until the sweep deletes it; it does not count
    ids = [x["id"] for x in list_keys(srv, acc)]
    assert k["id"] in ids and other["id"] in ids
    srv = store.start(0)


def test_last_use_is_recorded_at_most_once_a_minute(clocked):
    store, acc = clocked["store"], clocked["acc"]
    srv = store.start(0)
    k = create_key(srv, acc, "write", name="touch")

    def last_used():
        return {x["id"]: x for x in list_keys(srv, acc)}[k["id"]]["last_used_at"]

    assert last_used() is None
    t0 = now()
    assert srv.get("/v1/models", headers=bearer(k["key"])).status_code == 200  # a GET (read scope)
    first = last_used()
    assert first is not None and abs((parse_time(first) - t0).total_seconds()) < 30
    # within the minute: not written again, whatever the method
    assert srv.post("/v1/models", headers=bearer(k["key"]),
                    json={"name": "m", "breasts": False, "measurements": {}}).status_code == 201
    assert srv.get("/v1/account/export", headers=bearer(k["key"])).status_code == 200
    assert last_used() == first
    # a refused request is no use
    srv = store.start(120)
    assert_scope_refused(srv.get("/v1/apikeys", headers=bearer(k["key"])))
    assert last_used() == first
    # more than a minute later: recorded again
    assert srv.get("/v1/account/export", headers=bearer(k["key"])).status_code == 200  # slow route
    second = last_used()
    assert (parse_time(second) - parse_time(first)).total_seconds() >= 110, (first, second)
    srv = store.start(240)
    assert srv.get("/v1/account", headers=bearer(k["key"])).status_code == 200
    assert (parse_time(last_used()) - parse_time(second)).total_seconds() >= 110
    # the export shows the same
    doc = srv.get("/v1/account/export", headers=acc.auth).json()
    assert {x["id"]: x for x in doc["api_keys"]}[k["id"]]["last_used_at"] == last_used()
    store.start(0)


def test_the_sweep_deletes_expired_keys(clocked):
    from lifecycle_helpers import sweep

    store, acc = clocked["store"], clocked["acc"]
    srv = store.start(0)
    short = create_key(srv, acc, "read", name="short", expires_at=rfc3339(now() + datetime.timedelta(hours=2)))
    long_ = create_key(srv, acc, "read", name="long", expires_at=in_days(60))
    rep = sweep(store, now=now() + datetime.timedelta(hours=3))
    assert rep["sessions_deleted"] >= 1, rep
    ids = {x["id"] for x in list_keys(srv, acc)}
    assert short["id"] not in ids and long_["id"] in ids
    assert Store(store).where("api_keys", "id", short["id"]) == []


def test_keys_go_with_the_account(srv):
    acc = create_account(srv, outbox(srv), "keygone")
    k = create_key(srv, acc, "write")
    st = Store(srv)
    assert len(st.where("api_keys", "account_id", acc.id)) == 1
    r = srv.request("DELETE", "/v1/account", headers=acc.auth, json={"password": acc.password}, timeout=30)
    assert r.status_code == 204, r.text
    assert st.where("api_keys", "account_id", acc.id) == []
    assert st.where("api_keys", "id", k["id"]) == []
    assert_unauthenticated(srv.get("/v1/account", headers=bearer(k["key"])))

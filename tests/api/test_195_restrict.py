"""Restriction of processing (GDPR article 18; issue 14):
POST /v1/account/restrict {password} and DELETE /v1/account/restrict
{password}, with a session. While restricted the account can log in, read,
export, erase and log out, and lift the restriction; its writes and drafting
answer 403 restricted (every route: test_195_restrict_routes.py); its API
keys stop working (403 restricted); its models leave the open data from the
next build on; it gets no mail but the confirmation of the restriction (a
password reset request sends nothing and answers as for anyone, the sweeper
sends no inactivity notice); two-factor login stays as it was (still asked
at login, unchangeable until the lift); retention still erases it after 365
days without a login. GET /v1/account and the export show whether and since
when."""

import datetime
import time

import pytest

import mfa_helpers
from accounts_helpers import (
    ClockedStore,
    assert_error,
    assert_unauthenticated,
    bearer,
    create_account,
    login,
    login_token,
    new_identity,
    parse_time,
    setup_client,
)
from apikeys_helpers import assert_restricted, create_key
from lifecycle_helpers import INACTIVE_DAYS, NOTICE_DAYS, NOTICE_SUBJECT, Store, days, sweep
from models_helpers import create_model
from opendata_helpers import build_fails, typical_body

CONFIRM_SUBJECT = "Processing of your atelier account is restricted"
LIFTED_SUBJECT = "The restriction of your atelier account was lifted"


@pytest.fixture(scope="module")
def store(module_database, module_server_factory, tmp_path_factory):
    st = ClockedStore(module_server_factory, str(tmp_path_factory.mktemp("restrict") / "data"),
                      module_database)
    st.start()
    return st


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def restrict(srv, acc, on=True, password=None, token=None):
    return srv.request("POST" if on else "DELETE", "/v1/account/restrict",
                       headers=bearer(token or acc.token), json={"password": password or acc.password},
                       timeout=30)


def state(srv, acc):
    r = srv.get("/v1/account", headers=acc.auth)
    assert r.status_code == 200, r.text[:300]
    return r.json()["restriction"]


def mails_to(store, acc):
    return [m for m in store.mails.to(acc.email)]


def test_restrict_and_lift(store):
    srv = store.current
    acc = create_account(srv, store.mails, "rst")
    before = len(mails_to(store, acc))
    assert state(srv, acc) == {"restricted": False, "since": None}
    # the password is required, and checked
    assert_error(restrict(srv, acc, password=acc.password + "x"), 403, "wrong_password")
    r = srv.post("/v1/account/restrict", headers=acc.auth, json={}, timeout=30)
    assert_error(r, 422, "invalid_field")
    assert state(srv, acc)["restricted"] is False
    t0 = now().replace(microsecond=0)
    r = restrict(srv, acc)
    assert r.status_code == 200, r.text
    res = r.json()["restriction"]
    assert res["restricted"] is True and abs((parse_time(res["since"]) - t0).total_seconds()) < 30
    assert state(srv, acc) == res
    # the export says so too
    doc = srv.get("/v1/account/export", headers=acc.auth, timeout=30).json()
    assert doc["account"]["restriction"] == res
    row = Store(store).where("accounts", "id", acc.id)[0]
    assert int(row["restricted_at"]) == int(parse_time(res["since"]).timestamp())
    # one mail: the confirmation
    store.mails.wait(acc.email, match=CONFIRM_SUBJECT)
    # repeating changes nothing and mails nothing
    r = restrict(srv, acc)
    assert r.status_code == 200 and r.json()["restriction"] == res, r.text
    # logging in still works, and so does reading
    tok = login_token(srv, acc.username, acc.password)
    assert srv.get("/v1/models", headers=bearer(tok)).status_code == 200
    # lifting: the password again
    assert_error(restrict(srv, acc, on=False, password="nope-" + acc.password), 403, "wrong_password")
    r = restrict(srv, acc, on=False)
    assert r.status_code == 200 and r.json()["restriction"] == {"restricted": False, "since": None}, r.text
    assert state(srv, acc) == {"restricted": False, "since": None}
    store.mails.wait(acc.email, match=LIFTED_SUBJECT)
    assert restrict(srv, acc, on=False).json()["restriction"]["restricted"] is False
    r = srv.request("PATCH", "/v1/account", headers=acc.auth, json={"bio": "back"})
    assert r.status_code == 200, r.text
    subjects = sorted(m.subject for m in mails_to(store, acc)[before:])
    assert subjects == sorted([CONFIRM_SUBJECT, LIFTED_SUBJECT]), subjects


def test_writes_and_drafting_are_refused_reads_and_erasure_are_not(store):
    srv = store.current
    acc = create_account(srv, store.mails, "rsw")
    m1 = create_model(srv, acc, "kept", True, typical_body(True))
    m2 = create_model(srv, acc, "to erase", False, {"neck": 380})
    assert srv.get(f"/v1/models/{m1['id']}/patterns/bodice.svg", headers=acc.auth).status_code == 200
    assert restrict(srv, acc).status_code == 200
    snapshot = srv.get(f"/v1/models/{m1['id']}", headers=acc.auth).json()
    assert_restricted(srv.request("PATCH", f"/v1/models/{m1['id']}", headers=acc.auth, json={"name": "x"}))
    assert_restricted(srv.post("/v1/models", headers=acc.auth, json={"name": "n", "breasts": True,
                                                                     "measurements": {}}))
    assert_restricted(srv.request("PATCH", "/v1/account", headers=acc.auth, json={"bio": "x"}))
    assert_restricted(srv.request("PATCH", "/v1/account", headers=acc.auth,
                                  json={"consent": {"open_data": True}}))
    assert_restricted(srv.get(f"/v1/models/{m1['id']}/patterns/bodice.svg", headers=acc.auth))
    assert_restricted(srv.get(f"/v1/models/{m1['id']}/patterns/bodice.pdf", headers=acc.auth))
    assert_restricted(srv.post("/v1/apikeys", headers=acc.auth, json={
        "name": "n", "scope": "read", "expires_at": "2099-01-01T00:00:00Z"}))
    assert_restricted(srv.post("/v1/account/password", headers=acc.auth, json={
        "current_password": acc.password, "new_password": "Zq9#" + acc.password}, timeout=30))
    assert srv.get(f"/v1/models/{m1['id']}", headers=acc.auth).json() == snapshot
    a = srv.get("/v1/account", headers=acc.auth).json()
    assert a["bio"] is None and a["consent"] == {"open_data": False}
    assert srv.get(f"/v1/models/{m1['id']}/measurements", headers=acc.auth).status_code == 200
    assert srv.get("/v1/apikeys", headers=acc.auth).status_code == 200
    # erasure of parts is the owner's right, restricted or not
    assert srv.request("DELETE", f"/v1/models/{m2['id']}", headers=acc.auth).status_code == 204
    assert [m["id"] for m in srv.get("/v1/models", headers=acc.auth).json()["models"]] == [m1["id"]]
    # logging out ends that session only
    tok = login_token(srv, acc.username, acc.password)
    assert srv.post("/v1/logout", headers=bearer(tok)).status_code == 204
    assert_unauthenticated(srv.get("/v1/account", headers=bearer(tok)))
    # and the whole account can go
    r = srv.request("DELETE", "/v1/account", headers=acc.auth, json={"password": acc.password}, timeout=30)
    assert r.status_code == 204, r.text
    assert Store(store).where("accounts", "id", acc.id) == []


def test_api_keys_stop_working_while_restricted(store):
    srv = store.current
    acc = create_account(srv, store.mails, "rsk")
    read = create_key(srv, acc, "read")["key"]
    write = create_key(srv, acc, "write")["key"]
    assert srv.get("/v1/account", headers=bearer(read)).status_code == 200
    assert restrict(srv, acc).status_code == 200
    for key in (read, write):
        for method, path in (("GET", "/v1/account"), ("GET", "/v1/models"), ("GET", "/v1/account/export")):
            assert_restricted(srv.request(method, path, headers=bearer(key), timeout=30))
        assert_restricted(srv.post("/v1/models", headers=bearer(key),
                                   json={"name": "n", "breasts": True, "measurements": {}}))
    assert srv.get("/v1/models", headers=acc.auth).json()["models"] == []
    assert restrict(srv, acc, on=False).status_code == 200
    assert srv.get("/v1/account", headers=bearer(read)).status_code == 200
    assert srv.post("/v1/models", headers=bearer(write),
                    json={"name": "n", "breasts": True, "measurements": {}}).status_code == 201


def test_two_factor_stays_as_it_was_while_restricted(store):
    """2FA on before the restriction is still asked at login; it cannot be
    turned off, set up again or given new recovery codes until the lift
    (403 restricted before the handler: nothing changes, no notice mailed,
    and no code is used up); afterwards it can."""
    srv = store.current
    mails = store.mails
    acc = create_account(srv, mails, "rsf")
    m = mfa_helpers.enable(srv, acc)
    mails.wait(acc.email, match="Two-factor login is on")
    assert restrict(srv, acc).status_code == 200
    mails.wait(acc.email, match=CONFIRM_SUBJECT)
    assert_error(login(srv, acc.username, acc.password), 401, "mfa_required")
    r = mfa_helpers.login(srv, acc, m.next_code(srv))
    assert r.status_code == 200, r.text
    code = m.recovery[-1]
    body = {"password": acc.password, "code": code}
    assert_restricted(srv.request("DELETE", "/v1/account/mfa", headers=acc.auth, json=body, timeout=30))
    assert_restricted(srv.post("/v1/account/mfa/recovery", headers=acc.auth, json=body, timeout=30))
    assert_restricted(srv.post("/v1/account/mfa/setup", headers=acc.auth,
                               json={"password": acc.password}, timeout=30))
    assert_restricted(srv.post("/v1/account/mfa/enable", headers=acc.auth, json={"code": "123456"}))
    assert_error(login(srv, acc.username, acc.password), 401, "mfa_required")
    codes = Store(store).where("mfa_recovery_codes", "account_id", acc.id)
    assert len(codes) == len(m.recovery), "a refused call used up a recovery code"
    restrict(srv, acc, on=False)
    mails.wait(acc.email, match=LIFTED_SUBJECT)
    r = srv.request("DELETE", "/v1/account/mfa", headers=acc.auth, json=body, timeout=30)
    assert r.status_code == 204, r.text
    mails.wait(acc.email, match="Two-factor login is off")
    subjects = [x.subject for x in mails.untaken(acc.email)]
    assert subjects == [], f"mailed while restricted: {subjects}"
    assert login(srv, acc.username, acc.password).status_code == 200


def test_no_mail_but_the_confirmation(store):
    """Everything that mails an account, tried on a restricted one and on
    an unrestricted control: the control gets its mails, the restricted
    account only its confirmation."""
    srv = store.current
    mails = store.mails
    rst = create_account(srv, mails, "rsm")
    ctl = create_account(srv, mails, "ctl")
    mover = create_account(srv, mails, "mov")
    # a reset link asked before the restriction is revoked by it
    assert srv.post("/v1/password/forgot", json={"email": rst.email}).status_code == 202
    old_link = mails.wait(rst.email, match="reset").token
    assert restrict(srv, rst).status_code == 200
    mails.wait(rst.email, match=CONFIRM_SUBJECT)
    r = srv.post("/v1/password/reset", json={"token": old_link, "password": "Vq7#" + rst.password},
                 timeout=30)
    assert_error(r, 400, "invalid_token")

    def tries(acc):
        # a password reset request: the same answer as for an address nobody has
        with setup_client() as c:
            r = c.post(srv.url("/v1/password/forgot"), json={"email": acc.email}, timeout=10)
            nobody = c.post(srv.url("/v1/password/forgot"),
                            json={"email": new_identity("nobody")["email"]}, timeout=10)
        assert r.status_code == nobody.status_code == 202
        assert r.json() == nobody.json()
        # a signup with its address
        ident = new_identity("dup")
        with setup_client() as c:
            r = c.post(srv.url("/v1/signup"), json={"email": acc.email, "username": ident["username"],
                                                    "password": ident["password"]}, timeout=30)
        assert r.status_code == 202, r.text
        # another account moving to its address
        r = srv.post("/v1/account/email", headers=mover.auth,
                     json={"email": acc.email, "password": mover.password}, timeout=30)
        assert r.status_code == 202, r.text

    tries(ctl)
    for match in ("reset", "sign up", "use your address"):
        mails.wait(ctl.email, match=match)
    mails.wait(mover.email, match="change of your atelier address")
    tries(rst)
    # the mover's own notice is delivered (the request was handled, and the
    # delivery thread has passed the queue since) ...
    mails.wait(mover.email, match="change of your atelier address")
    time.sleep(1.0)  # ... and anything queued with it had a second more to arrive
    # nothing went to the restricted account
    assert [m.subject for m in mails.untaken(rst.email)] == []
    rows = [r for r in Store(store).rows("mail_queue") if r["account_id"] == rst.id]
    assert rows == [], "a mail of the restricted account waits in the queue"
    assert Store(store).where("tokens", "account_id", rst.id) == [], "a reset link was stored"
    restrict(srv, rst, on=False)
    mails.wait(rst.email, match=LIFTED_SUBJECT)


def test_open_data_leaves_out_a_restricted_account(store):
    srv = store.current
    mails = store.mails
    out = create_account(srv, mails, "odr")
    ctl = create_account(srv, mails, "odc")
    for acc in (out, ctl):
        create_model(srv, acc, "body", True, typical_body(True))
        r = srv.request("PATCH", "/v1/account", headers=acc.auth, json={"consent": {"open_data": True}})
        assert r.status_code == 200, r.text
    assert restrict(srv, out).status_code == 200

    def spent(acc):
        r = srv.get("/v1/account/export", headers=acc.auth, timeout=30)
        assert r.status_code == 200, r.text[:300]
        return r.json()["open_data_budget"]["rho_spent"]

    before = {"out": spent(out), "ctl": spent(ctl)}
    assert "the ledger was charged" in build_fails(srv, "--ignore-cadence", "--min-stratum", "100000000")
    assert spent(ctl) == before["ctl"] + 0.25, "control: the opted-in account was charged"
    assert spent(out) == before["out"] == 0, "a restricted account was charged (included)"
    # the consent is kept: after the lift the next build includes it again
    assert restrict(srv, out, on=False).status_code == 200
    assert "the ledger was charged" in build_fails(srv, "--ignore-cadence", "--min-stratum", "100000000")
    assert spent(out) == 0.25 and spent(ctl) == before["ctl"] + 0.5


def test_retention_still_applies_and_no_notice_is_mailed(store):
    """Run last in this module: the sweeps, as of a year ahead, erase every
    account of this world."""
    srv = store.start(0)
    mails = store.mails
    rst = create_account(srv, mails, "rse")
    ctl = create_account(srv, mails, "rsn")
    assert restrict(srv, rst).status_code == 200
    mails.wait(rst.email, match=CONFIRM_SUBJECT)
    last = parse_time(srv.get("/v1/account", headers=rst.auth).json()["last_login_at"])
    rep = sweep(store, now=last + days(INACTIVE_DAYS - NOTICE_DAYS) + datetime.timedelta(hours=1))
    assert rep["notices"] >= 1, rep
    mails.wait(ctl.email, match=NOTICE_SUBJECT)  # control
    assert [m.subject for m in mails.untaken(rst.email)] == []
    assert Store(store).where("accounts", "id", rst.id)[0]["notice_sent_at"] is None
    rep = sweep(store, now=last + days(INACTIVE_DAYS) + datetime.timedelta(hours=1))
    assert rep["accounts_erased"] >= 2, rep
    st = Store(store)
    assert st.where("accounts", "id", rst.id) == [] and st.where("accounts", "id", ctl.id) == []
    assert_error(login(srv, rst.username, rst.password), 401, "invalid_credentials")

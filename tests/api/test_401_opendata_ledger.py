"""The open data release's privacy budget and selection (issue 13;
docs/OPENDATA.md "The budget"):

- every build charges each included account's ledger, published or not,
  before any noise is drawn; an account's export shows what it spent;
- an account whose ledger would pass the cap (rho 1) is left out of every
  later build, and the ledger never exceeds the cap;
- an account without consent, or without a model, is neither charged nor
  counted; withdrawing consent stops the charges;
- erasing the account erases its ledger;
- the unit is the account: its most recently updated model that is
  complete and plausible for its stratum, else it counts as incomplete or
  implausible according to its newest model.

The selection test reads noisy counts at rho = 1 (noise SD sqrt(10)) for
groups of 30-40 accounts whose cell a wrong rule would change: a wrong rule
moves a count by 30 or more, the tolerance is 15 (4.7 SD)."""

import math
import time

import pytest

from accounts_helpers import create_account, outbox
from lifecycle_helpers import Store
from models_helpers import create_model
from opendata_helpers import (
    build,
    build_fails,
    failed_counts,
    fetch_release,
    populate,
    predict,
    typical_body,
)

MIN = 300
UPDATE_TICK_S = 1.1  # models.updated_at has whole seconds


@pytest.fixture(scope="module")
def world(module_server_factory):
    srv = module_server_factory.start()
    mails = outbox(srv)
    populate(srv, 900, 3)  # about 380 eligible persons per stratum
    acc = {}
    for tag, consent, model in (("a", True, True), ("b", True, False), ("c", False, True),
                                ("d", True, True)):
        a = create_account(srv, mails, f"odl{tag}")
        if model:
            create_model(srv, a, f"body {tag}", True, typical_body(True))
        if consent:
            opt(srv, a, True)
        acc[tag] = a
    return {"srv": srv, "acc": acc}


def opt(srv, acc, on):
    r = srv.request("PATCH", "/v1/account", headers=acc.auth, json={"consent": {"open_data": on}})
    assert r.status_code == 200, r.text[:300]


def spent(srv, acc):
    r = srv.get("/v1/account/export", headers=acc.auth)
    assert r.status_code == 200, r.text[:300]
    b = r.json()["open_data_budget"]
    assert b["rho_cap"] == 1.0, b
    return b["rho_spent"]


def spent_all(w):
    return {k: spent(w["srv"], a) for k, a in w["acc"].items()}


def small_build(w, *extra):
    return build(w["srv"], "--ignore-cadence", "--min-stratum", str(MIN), *extra)


def test_410_nothing_is_spent_before_a_build(world):
    assert spent_all(world) == {"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0}


def test_411_a_build_charges_the_included_accounts_only(world):
    small_build(world)
    assert spent_all(world) == {"a": 0.25, "b": 0.0, "c": 0.0, "d": 0.25}


def test_412_a_build_that_publishes_nothing_still_charges(world):
    before = fetch_release(world["srv"])
    reason = build_fails(world["srv"], "--ignore-cadence", "--min-stratum", "100000000")
    assert "the ledger was charged" in reason, reason
    assert spent_all(world) == {"a": 0.5, "b": 0.0, "c": 0.0, "d": 0.5}
    assert fetch_release(world["srv"]).meta_bytes == before.meta_bytes


def test_413_withdrawing_consent_stops_the_charges(world):
    opt(world["srv"], world["acc"]["d"], False)
    small_build(world)
    assert spent_all(world) == {"a": 0.75, "b": 0.0, "c": 0.0, "d": 0.5}


def test_414_an_account_at_the_cap_is_left_out(world):
    small_build(world)
    assert spent_all(world) == {"a": 1.0, "b": 0.0, "c": 0.0, "d": 0.5}
    # everyone who is opted in now sits at the cap (the populated accounts
    # were in all four builds): the next build includes nobody, so every
    # noisy count is pure noise (SD sqrt(40))
    reason = build_fails(world["srv"], "--ignore-cadence", "--min-stratum", str(MIN))
    counts = failed_counts(reason)
    assert all(abs(v) <= 6 * math.sqrt(40) for v in counts.values()), counts
    # a smaller rho does not squeeze under a full cap either
    reason = build_fails(world["srv"], "--ignore-cadence", "--rho", "0.01", "--min-stratum",
                         str(MIN))
    counts = failed_counts(reason)
    # rho 0.01: counts SD sqrt(ceil(1 / (2 * 0.0005))) = sqrt(1000)
    assert all(abs(v) <= 6 * math.sqrt(1000) for v in counts.values()), counts
    assert spent_all(world) == {"a": 1.0, "b": 0.0, "c": 0.0, "d": 0.5}
    rows = Store(world["srv"]).rows("dp_ledger")
    assert rows and max(int(r["spent_milli"]) for r in rows) == 1000, rows[:3]


def test_415_erasing_the_account_erases_its_ledger(world):
    srv, a = world["srv"], world["acc"]["a"]
    store = Store(srv)
    assert len(store.where("dp_ledger", "account_id", a.id)) == 1
    r = srv.request("DELETE", "/v1/account", headers=a.auth, json={"password": a.password})
    assert r.status_code == 204, r.text
    assert store.where("dp_ledger", "account_id", a.id) == []
    assert len(store.where("dp_ledger", "account_id", world["acc"]["d"].id)) == 1


# ------------------------------------------------------------ selection


def test_416_each_account_contributes_its_newest_usable_model(server_factory):
    """40 accounts: an older complete body with breasts, then a newer one
    missing a column: the older one is used (eligible with breasts). 30
    accounts: an older incomplete body without breasts, then a newer
    implausible one: no usable model, counted by the newest (implausible).
    Rho 1, the only build of this world."""
    srv = server_factory.start()
    mails = outbox(srv)
    accounts = []
    for i in range(70):
        acc = create_account(srv, mails, f"odsel{i}")
        accounts.append(acc)
        if i < 40:
            create_model(srv, acc, "complete", True, typical_body(True))
        else:
            body = typical_body(False)
            del body["head"]
            create_model(srv, acc, "incomplete", False, body)
    time.sleep(UPDATE_TICK_S)
    for i, acc in enumerate(accounts):
        if i < 40:
            body = typical_body(True, 352)
            del body["bustSpan"]
            create_model(srv, acc, "newer, incomplete", True, body)
        else:
            body = typical_body(False)
            body["chest"] = int(round(predict("chest", False, body["neck"]) * 1.5))
            create_model(srv, acc, "newer, implausible", False, body)
        opt(srv, acc, True)
    reason = build_fails(srv, "--rho", "1", "--ignore-cadence")  # 40 < the default threshold
    got = failed_counts(reason)
    want = {"eligible_with_breasts": 40, "eligible_without_breasts": 0, "incomplete": 0,
            "implausible": 30}
    print(f"\nselection: noisy {got}, true {want}")
    for cell, n in want.items():
        assert abs(got[cell] - n) <= 15, (cell, got, want)

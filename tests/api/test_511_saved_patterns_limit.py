"""At most LIMIT_PATTERNS_PER_ACCOUNT (500) saved patterns per account
(issue 14): the real limit, reached through the API (one keep-alive
connection, so 500 saves take a few seconds); the next save is 409
limit_reached and stores nothing; concurrent saves at the edge cannot pass
it together; a deletion makes room; other accounts are not affected."""

import concurrent.futures
import time

import pytest
import requests

import limits
from accounts_helpers import assert_error, create_account, outbox
from models_helpers import create_model
from saved_patterns_helpers import flat_body, list_patterns, pattern_path

LIMIT = limits.LIMIT_PATTERNS_PER_ACCOUNT


@pytest.fixture(scope="module")
def mails(server):
    return outbox(server)


def body(model_id, i):
    return {"model_id": model_id, "design": "trouser" if i % 2 else "body", "name": f"pattern {i}",
            "options": {"sa": i % 50}}


def test_the_limit_is_500_and_holds_under_concurrency(server, mails):
    assert LIMIT == 500, "the issue's figure"
    acc = create_account(server, mails, "hoarder")
    bystander = create_account(server, mails, "bystander")
    m = create_model(server, acc, name="many", breasts=False, measurements=flat_body())
    mb = create_model(server, bystander, name="one", breasts=False, measurements=flat_body())

    t0 = time.monotonic()
    with requests.Session() as s:
        s.headers.update(acc.auth)
        for i in range(LIMIT - 4):
            r = s.post(server.url("/v1/patterns"), json=body(m["id"], i), timeout=10)
            assert r.status_code == 201, (i, r.status_code, r.text[:300])
    elapsed = time.monotonic() - t0
    print(f"{LIMIT - 4} saves through the API in {elapsed:.2f} s")

    # The last 4 places, asked for by 12 concurrent saves: exactly 4 win.
    def one(i):
        return server.post("/v1/patterns", headers=acc.auth, json=body(m["id"], i), timeout=30)

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(one, range(LIMIT - 4, LIMIT + 8)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] * 4 + [409] * 8, codes
    for r in answers:
        if r.status_code == 409:
            err = assert_error(r, 409, "limit_reached")
            assert str(LIMIT) in err["message"], err

    listed = list_patterns(server, acc)
    assert len(listed) == LIMIT
    err = assert_error(server.post("/v1/patterns", headers=acc.auth, json=body(m["id"], 0)), 409,
                       "limit_reached")
    assert len(list_patterns(server, acc)) == LIMIT, "a refused save stored something"

    # Another account saves as usual.
    r = server.post("/v1/patterns", headers=bystander.auth, json=body(mb["id"], 1))
    assert r.status_code == 201, r.text

    # A deletion makes room for exactly one.
    r = server.request("DELETE", pattern_path(listed[0]["id"]), headers=acc.auth)
    assert r.status_code == 204, r.text
    assert server.post("/v1/patterns", headers=acc.auth, json=body(m["id"], 1)).status_code == 201
    assert_error(server.post("/v1/patterns", headers=acc.auth, json=body(m["id"], 2)), 409,
                 "limit_reached")

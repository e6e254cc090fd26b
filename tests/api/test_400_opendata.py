"""The open data release (SPEC sections 1 and 6; reference
measurements-anonymization 5.1 and 6): `atelier populate` and `atelier
opendata build` against the test server's data dir / database, the three
public routes, and what "fully anonymized" means, checked on the OUTPUT:

- nothing is served before the first build (404 no_release);
- a build publishes metadata (date, k, rows per stratum, every gate's
  figure within its threshold), a CSV and a JSON holding the same rows,
  k-anonymous per stratum, integers only, no identifiers, shuffled;
- only opted-in accounts count, one model per account (the most recently
  updated), complete and plausible models only; withdrawing consent removes
  the person from the next release without a trace;
- a planted outlier cannot be singled out;
- a stratum below --min-stratum is not published; a build that publishes
  nothing (no stratum large enough, or a failing gate) leaves the previous
  release served unchanged;
- a build of 20,000 models does not block the API.

The main population is `populate --models 2000 --seed 7` (about 850 eligible
models per stratum), not 1200: at 1200 (about 500 per stratum) the
partial-knowledge gate sits at 4.0-5.1 % and, because the build draws the
attacker's tape error from the CSPRNG, about one build in twenty (5 of 100
measured) refuses to publish the same data (see docs/OPENDATA.md); this
module builds about 20 times. At 2000 it is 2.8-3.7 % (0 of 100 refused)."""

import collections
import re
import subprocess
import threading
import time

import pytest
import requests

from accounts_helpers import bearer, create_account, get_account, now_utc, outbox, parse_time
from models_helpers import BREASTS_ONLY, create_model, patch
from opendata_helpers import (
    GATES,
    K,
    NAMES,
    STRATA,
    adjacent_equal_pairs,
    assert_meta_shape,
    assert_no_release,
    build,
    build_args,
    build_fails,
    columns,
    fetch_release,
    implausible,
    in_range,
    monotonic,
    nearest_rows,
    populate,
    predict,
    run_cli,
    scaled_body,
    typical_body,
)
from conftest import server_env

POP_MODELS = 2000
POP_SEED = 7
MIN = 200  # --min-stratum of the main world
DETERMINISTIC_FIGURES = ("groups", "min_group", "max_prosecutor_risk", "record_linkage_pct",
                         "interval_disclosure_pct", "information_loss_pct", "il1s",
                         "correlation_change", "max_mean_difference", "mean_absolute_error")
UPDATE_TICK_S = 1.1  # models.updated_at has whole seconds


@pytest.fixture(scope="module")
def srv(module_server_factory):
    return module_server_factory.start()


@pytest.fixture(scope="module")
def mails(srv):
    return outbox(srv)


@pytest.fixture(scope="module")
def population(srv):
    """The synthetic population plus its first release."""
    populate(srv, POP_MODELS, POP_SEED)
    summary = build(srv, "--min-stratum", str(MIN))
    return {"summary": summary, "release": fetch_release(srv)}


def rebuild(srv, *extra):
    """Build with the main world's --min-stratum and fetch what is served."""
    summary = build(srv, "--min-stratum", str(MIN), *extra)
    rel = fetch_release(srv)
    assert summary["accounts"] == rel.sel["accounts_opted_in"], (summary, rel.sel)
    assert summary["incomplete"] == rel.sel["incomplete"], (summary, rel.sel)
    assert summary["implausible"] == rel.sel["implausible"], (summary, rel.sel)
    assert summary["rows_with"] == rel.published_rows(True), (summary, rel.meta["strata"])
    assert summary["rows_without"] == rel.published_rows(False), (summary, rel.meta["strata"])
    assert_meta_shape(rel.meta, K, MIN)
    assert_release_rows(rel)
    return rel


def opt(srv, acc, on):
    r = srv.request("PATCH", "/v1/account", headers=acc.auth, json={"consent": {"open_data": on}})
    assert r.status_code == 200, r.text[:300]
    assert r.json()["consent"] == {"open_data": on}, r.json()
    assert get_account(srv, acc.token)["consent"] == {"open_data": on}


def row_of(breasts, body):
    """A body as a tuple of its stratum's published columns."""
    return tuple(body[c] for c in columns(breasts))


def counts(rel):
    return (rel.sel["accounts_opted_in"], rel.sel["incomplete"], rel.sel["implausible"],
            rel.published_rows(True), rel.published_rows(False))


def assert_release_rows(rel):
    """Every property of the rows that can be checked on the output alone."""
    assert collections.Counter(rel.rows) == collections.Counter(rel.json_rows), (
        "the CSV and the JSON do not hold the same rows")
    assert rel.rows == rel.json_rows, "the CSV and the JSON list the rows in different orders"
    for name in STRATA:
        breasts = name == "with_breasts"
        s = rel.meta["strata"][name]
        rows = rel.stratum(breasts)
        assert len(rows) == s["rows"], (name, len(rows), s["rows"])
        if not s["published"]:
            continue
        runs = collections.Counter(rows)
        smallest = min(runs.values())
        assert smallest >= K, f"{name}: a released row occurs only {smallest} times (k={K})"
        f = s["figures"]
        assert f["min_group"] == smallest, (name, f["min_group"], smallest)
        assert f["groups"] == len(runs), (name, f["groups"], len(runs))
        assert abs(f["max_prosecutor_risk"] - 1.0 / smallest) < 1e-9, f
        for row in rows:
            assert all(isinstance(v, int) and not isinstance(v, bool) for v in row), row


# ------------------------------------------------------------ before any build


def test_400_nothing_is_served_before_the_first_build(srv):
    assert_no_release(srv)


# ------------------------------------------------------------ a release


def test_401_populate_and_build_publish_a_release(srv, population):
    summary, rel = population["summary"], population["release"]
    assert summary["k"] == K
    assert summary["accounts"] == POP_MODELS, summary
    # every opted-in account is exactly one of: incomplete, implausible, published
    assert (summary["incomplete"] + summary["implausible"] + summary["rows_with"]
            + summary["rows_without"]) == POP_MODELS, summary
    assert summary["incomplete"] > 0, "populate makes about 15 % of the models sparse"
    assert_meta_shape(rel.meta, K, MIN)
    date = parse_time(rel.meta["date"])
    assert abs((now_utc() - date).total_seconds()) < 600, rel.meta["date"]
    for name in STRATA:
        s = rel.meta["strata"][name]
        assert s["published"] is True, s
        assert s["rows"] >= MIN, s
    assert rel.sel == {"accounts_opted_in": summary["accounts"], "incomplete": summary["incomplete"],
                       "implausible": summary["implausible"]}
    assert rel.published_rows(True) == summary["rows_with"]
    assert rel.published_rows(False) == summary["rows_without"]
    assert len(rel.rows) == summary["rows_with"] + summary["rows_without"]
    print(f"\nrelease of populate --models {POP_MODELS} --seed {POP_SEED}, --min-stratum {MIN}:")
    for name in STRATA:
        f = rel.meta["strata"][name]["figures"]
        print(f"  {name}: rows {rel.meta['strata'][name]['rows']}, "
              + ", ".join(f"{g} {f[g]:.4g}" for g in GATES) + f", groups {f['groups']}")


def test_402_every_released_row_is_k_anonymous_integers_without_identifiers(srv, population):
    rel = population["release"]
    assert_release_rows(rel)
    vocab = srv.get("/v1/measurements").json()
    listed = [m["name"] for m in (vocab["measurements"] if isinstance(vocab, dict) else vocab)]
    assert tuple(listed) == NAMES, "the CSV columns are not in the vocabulary's order"
    # Nothing but the stratum flag and measurement values: the CSV and JSON
    # parsers above accept only the header breasts + the 38 names, "true" /
    # "false", digits, and empty breasts-only cells on rows without breasts.
    for breasts, vals in rel.rows:
        for name, v in zip(NAMES, vals):
            assert (v is None) == (not breasts and name in BREASTS_ONLY), (breasts, name, v)
    text = rel.csv_bytes.decode()
    assert "@" not in text and "populate" not in text and "Synthetic" not in text
    rows_text = repr(rel.doc["rows"])
    assert "@" not in rows_text and "populate" not in rows_text and "Synthetic" not in rows_text
    # every value is a measurement within its range (a group mean of
    # in-range values), not an id, a count or a time
    for breasts, vals in rel.rows:
        for name, v in zip(NAMES, vals):
            if v is not None:
                assert in_range(name, v), (name, v)


def test_403_rows_are_shuffled_and_two_builds_differ_only_in_order(srv, population):
    first = rebuild(srv)
    second = rebuild(srv)
    assert first.meta["id"] != second.meta["id"]
    assert first.multiset() == second.multiset(), "two builds of the same data hold different rows"
    assert counts(first) == counts(second)
    for name in STRATA:
        breasts = name == "with_breasts"
        a, b = first.stratum(breasts), second.stratum(breasts)
        assert a != b, f"{name}: two builds wrote the rows in the same order"
        for rows in (a, b):
            n = len(rows)
            # MDAV writes a group's identical rows together; shuffled, a row is
            # followed by one of its group's k-1 others with probability ~(k-1)/n.
            pairs = adjacent_equal_pairs(rows)
            assert pairs < max(10, n // 20), f"{name}: {pairs} adjacent identical rows of {n}"
            for j, col in enumerate(columns(breasts)):
                assert not monotonic([r[j] for r in rows]), f"{name}: rows sorted by {col}"
        fa = first.meta["strata"][name]["figures"]
        fb = second.meta["strata"][name]["figures"]
        for key in DETERMINISTIC_FIGURES:
            assert fa[key] == fb[key], f"{name}: {key} differs between builds of the same data"


# ------------------------------------------------------------ selection


def test_404_only_opted_in_accounts_count_and_withdrawal_removes_them(srv, mails, population):
    before = rebuild(srv)
    acc = create_account(srv, mails, "odconsent")
    assert acc.data["consent"] == {"open_data": False}, "open-data consent must default to off"
    body = scaled_body(True, 1.25)  # all girths +25 %: distinctive, yet plausible
    model = create_model(srv, acc, "Planted distinctive body", True, body, notes="od-note-7f3a")
    assert model["warnings"] == [], model["warnings"]

    not_in = rebuild(srv)
    assert counts(not_in) == counts(before), "a model without consent was counted"
    assert not_in.multiset() == before.multiset(), "a model without consent changed the release"

    opt(srv, acc, True)
    with_it = rebuild(srv)
    a, inc, imp, rw, rwo = counts(before)
    assert counts(with_it) == (a + 1, inc, imp, rw + 1, rwo), (counts(before), counts(with_it))
    assert with_it.multiset() != before.multiset()
    assert_release_rows(with_it)
    for needle in (acc.email, acc.username, acc.id, model["id"], "Planted", "od-note-7f3a"):
        assert needle.encode() not in with_it.csv_bytes, needle
        assert needle.encode() not in with_it.json_bytes, needle
    assert row_of(True, body) not in set(with_it.stratum(True)), "the exact body was published"

    opt(srv, acc, False)
    after = rebuild(srv)
    assert after.sel["accounts_opted_in"] == with_it.sel["accounts_opted_in"] - 1
    assert counts(after) == counts(before)
    assert after.multiset() == before.multiset(), "the withdrawn body still shapes the release"


def test_405_one_model_per_account_the_most_recently_updated(srv, mails, population):
    acc = create_account(srv, mails, "odtwo")
    opt(srv, acc, True)
    before = rebuild(srv)
    a, inc, imp, rw, rwo = counts(before)  # an opted-in account without models does not count

    complete = typical_body(False, 392)
    sparse = {k: v for k, v in typical_body(False, 376).items() if k != "head"}
    older = create_model(srv, acc, "older, complete", False, complete)
    time.sleep(UPDATE_TICK_S)
    newer = create_model(srv, acc, "newer, without head", False, sparse)
    rel = rebuild(srv)
    assert counts(rel) == (a + 1, inc + 1, imp, rw, rwo), (
        "the newest model (incomplete) must be the one used", counts(before), counts(rel))

    time.sleep(UPDATE_TICK_S)
    r = patch(srv, acc, older["id"], {"measurements": {"waist": complete["waist"] + 3}})
    assert r.status_code == 200, r.text[:300]
    rel = rebuild(srv)
    assert counts(rel) == (a + 1, inc, imp, rw, rwo + 1), (
        "the updated (now newest) complete model must be the one used", counts(before), counts(rel))

    time.sleep(UPDATE_TICK_S)
    r = patch(srv, acc, newer["id"], {"measurements": {"head": typical_body(False, 376)["head"]}})
    assert r.status_code == 200, r.text[:300]
    rel = rebuild(srv)
    assert counts(rel) == (a + 1, inc, imp, rw, rwo + 1), (
        "an account with two complete models must count once", counts(before), counts(rel))


def test_406_incomplete_and_implausible_models_are_excluded_and_counted(srv, mails, population):
    before = rebuild(srv)
    a, inc, imp, rw, rwo = counts(before)
    planted = []
    # incomplete: a breasts-only column missing on a body with breasts; head on one without
    for tag, breasts, drop in (("odinc1", True, "bustSpan"), ("odinc2", False, "head")):
        acc = create_account(srv, mails, tag)
        body = {k: v for k, v in typical_body(breasts).items() if k != drop}
        create_model(srv, acc, tag, breasts, body)
        opt(srv, acc, True)
        planted.append(acc)
    # implausible: within the hard ranges, more than 35 % from what the neck predicts
    for tag, breasts, name, factor in (("odimp1", False, "chest", 1.5), ("odimp2", True, "waist", 0.6)):
        acc = create_account(srv, mails, tag)
        body = typical_body(breasts)
        body[name] = int(round(predict(name, breasts, body["neck"]) * factor))
        assert implausible(name, breasts, body["neck"], body[name])
        m = create_model(srv, acc, tag, breasts, body)
        assert [w["measurement"] for w in m["warnings"]] == [name], m["warnings"]
        opt(srv, acc, True)
        planted.append(acc)
    rel = rebuild(srv)
    assert counts(rel) == (a + 4, inc + 2, imp + 2, rw, rwo), (counts(before), counts(rel))
    assert rel.multiset() == before.multiset(), "an excluded model changed the release"


def test_407_a_planted_outlier_cannot_be_singled_out(srv, mails, population):
    before = rebuild(srv)
    acc = create_account(srv, mails, "odunique")
    body = scaled_body(False, 1.25)  # all girths +25 % of a typical body without breasts
    create_model(srv, acc, "outlier", False, body)
    opt(srv, acc, True)
    rel = rebuild(srv)
    a, inc, imp, rw, rwo = counts(before)
    assert counts(rel) == (a + 1, inc, imp, rw, rwo + 1), (counts(before), counts(rel))
    assert_release_rows(rel)
    target = row_of(False, body)
    rows = rel.stratum(False, source="json")
    assert target not in set(rows), "the outlier's exact measurements were published"
    dist, nearest = nearest_rows(rows, target)
    runs = collections.Counter(rows)
    for r in nearest:
        assert runs[r] >= K, f"the row nearest to the outlier occurs {runs[r]} times"
    assert dist > 0
    # the published girths are pulled towards the population: no row holds the
    # outlier's chest (the girth the +25 % moved most)
    j = columns(False).index("chest")
    print(f"\noutlier chest {target[j]} mm; nearest released row: chest "
          f"{sorted(r[j] for r in nearest)} mm, z-distance^2 {dist:.2f}, shared by "
          f"{[runs[r] for r in nearest]} rows")


# ------------------------------------------------------------ strata and failures


def test_408_a_small_stratum_is_not_published_and_a_failed_build_keeps_the_release(srv, population):
    base = rebuild(srv)
    elig = {name: base.meta["strata"][name]["eligible"] for name in STRATA}
    assert elig["with_breasts"] != elig["without_breasts"], elig
    big = max(elig, key=elig.get)
    small = min(elig, key=elig.get)
    hi = elig[big]

    summary = build(srv, "--min-stratum", str(hi))
    rel = fetch_release(srv)
    assert_meta_shape(rel.meta, K, hi)
    s = rel.meta["strata"][small]
    assert s["published"] is False and s["rows"] == 0 and s["eligible"] == elig[small], s
    assert re.search(r"minimum|fewer", s["reason"]), s["reason"]
    assert rel.meta["strata"][big]["published"] is True
    assert rel.meta["strata"][big]["rows"] == hi
    small_breasts = small == "with_breasts"
    assert not any(b == small_breasts for b, _ in rel.rows), "rows of the unpublished stratum"
    assert not any(b == small_breasts for b, _ in rel.json_rows), "rows of the unpublished stratum"
    assert len(rel.rows) == hi
    assert (summary["rows_with"], summary["rows_without"]) == (
        (hi, 0) if big == "with_breasts" else (0, hi)), summary
    assert rel.sel == base.sel
    assert_release_rows(rel)

    reason = build_fails(srv, "--min-stratum", str(hi + 1))
    assert re.search(r"no stratum has %d eligible models" % (hi + 1), reason), reason
    after = fetch_release(srv)
    assert after.meta["id"] == rel.meta["id"] and after.meta["date"] == rel.meta["date"]
    assert (after.meta_bytes, after.csv_bytes, after.json_bytes) == (
        rel.meta_bytes, rel.csv_bytes, rel.json_bytes), "a failed build changed the release"


def test_409_a_failing_gate_publishes_nothing_and_keeps_the_release(srv, population):
    before = rebuild(srv)
    # k = 10 on ~850 bodies a stratum: groups twice as large lose more than
    # 25 % of the information (reference 5.2: 26.3 % at N = 1000)
    reason = build_fails(srv, "--k", "10", "--min-stratum", str(MIN))
    m = re.fullmatch(r"stratum (with_breasts|without_breasts): information loss ([0-9.]+)% > 25\.0%",
                     reason)
    assert m and float(m.group(2)) > 25.0, reason
    print(f"\nfailing gate (--k 10): {reason}")
    after = fetch_release(srv)
    assert (after.meta_bytes, after.csv_bytes, after.json_bytes) == (
        before.meta_bytes, before.csv_bytes, before.json_bytes), "a failed build changed the release"


def test_410_a_tiny_population_fails_a_gate_and_publishes_nothing(server_factory):
    small = server_factory.start()
    # 12 models (the brief's first idea) leave no stratum with 10 eligible models
    populate(small, 12, 1)
    reason = build_fails(small, "--k", "5", "--min-stratum", "10")
    assert re.fullmatch(r"no stratum has 10 eligible models \(with breasts: \d+, without: \d+\)",
                        reason), reason
    assert_no_release(small)
    # 30 models: strata of 10-20; k = 5 groups of so few bodies single out more
    # than 5 % of them from 4 measurements
    populate(small, 18, 2)
    reason = build_fails(small, "--k", "5", "--min-stratum", "10")
    m = re.fullmatch(r"stratum (with_breasts|without_breasts): (.+)", reason)
    assert m, reason
    gate = m.group(2)
    assert re.fullmatch(
        r"(k-anonymity: .+|record linkage [0-9.]+% > 21\.0%|partial-knowledge linkage [0-9.]+% > 5\.0%"
        r"|interval disclosure [0-9.]+% > 1\.0%|mean difference [0-9.]+ mm > 0\.50 mm"
        r"|information loss [0-9.]+% > 25\.0%|correlation change [0-9.]+ > 0\.120)", gate), gate
    print(f"\nfailing gate (30 models, --min-stratum 10): {reason}")
    assert_no_release(small)


# ------------------------------------------------------------ the API during a build


def test_411_a_build_of_20000_models_does_not_block_the_api(server_factory, backend):
    big = server_factory.start()
    acc = create_account(big, outbox(big), "odlive")
    t0 = time.monotonic()
    populate(big, 20000, 11)
    populate_s = time.monotonic() - t0

    samples = {"healthz": [], "account": []}
    errors = []
    stop = threading.Event()

    def poll(kind, path, headers):
        s = requests.Session()
        while not stop.is_set():
            t = time.monotonic()
            try:
                r = s.get(big.url(path), headers=headers, timeout=10)
                samples[kind].append((t, time.monotonic() - t, r.status_code))
            except requests.RequestException as e:
                errors.append(f"{kind}: {type(e).__name__}: {e}")
            time.sleep(0.005)

    threads = [threading.Thread(target=poll, args=("healthz", "/healthz", {})),
               threading.Thread(target=poll, args=("account", "/v1/account", bearer(acc.token)))]
    for th in threads:
        th.start()
    try:
        time.sleep(0.3)  # baseline samples before the build
        start = time.monotonic()
        proc = subprocess.Popen(build_args(big), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=server_env(), stdin=subprocess.DEVNULL)
        out, err = proc.communicate(timeout=600)
        end = time.monotonic()
        time.sleep(0.2)
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=30)
    assert proc.returncode == 0, f"build exited {proc.returncode}\n{out}\n{err[-3000:]}"
    assert not errors, errors[:5]
    report = [f"\n[{backend}] populate 20000: {populate_s:.2f} s; build: {end - start:.2f} s"]
    for kind, got in samples.items():
        during = [(t, lat, st) for t, lat, st in got if start <= t <= end]
        assert len(during) >= 3, f"{kind}: only {len(during)} requests during the build"
        bad = [(round(lat, 3), st) for _t, lat, st in got if st != 200]
        assert not bad, f"{kind}: non-200 answers: {bad[:10]}"
        lats = sorted(lat for _t, lat, _st in during)
        report.append(f"  {kind}: {len(during)} requests during the build, max "
                      f"{lats[-1] * 1000:.1f} ms, median {lats[len(lats) // 2] * 1000:.1f} ms")
    print("\n".join(report))

    rel = fetch_release(big)
    assert_meta_shape(rel.meta, K, 1000)  # the defaults: --k 5 --min-stratum 1000
    assert rel.sel["accounts_opted_in"] == 20000  # the live account neither opted in nor has a model
    assert_release_rows(rel)
    for name in STRATA:
        assert rel.meta["strata"][name]["rows"] > 5000, rel.meta["strata"][name]


def test_412_the_release_is_documented_as_served(srv, population):
    """docs/openapi.json (served at /v1/openapi.json) names every member the
    release has, so the documentation cannot drift from the code."""
    doc = srv.get("/v1/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for path in ("/v1/opendata", "/v1/opendata/measurements.csv", "/v1/opendata/measurements.json"):
        op = doc["paths"][path]["get"]
        assert "security" not in op, path
        assert set(op["responses"]) >= {"200", "404"}, path
    rel = fetch_release(srv)
    assert set(schemas["OpendataRelease"]["required"]) == set(rel.meta)
    assert set(schemas["OpendataRelease"]["properties"]["selection"]["required"]) == set(rel.sel)
    assert set(schemas["OpendataDocument"]["required"]) == set(rel.doc)
    for s in rel.meta["strata"].values():
        assert set(schemas["OpendataStratum"]["required"]) <= set(s)
        assert set(s) <= set(schemas["OpendataStratum"]["properties"])
        if s["published"]:
            assert set(schemas["OpendataFigures"]["required"]) == set(s["figures"])


def test_413_k_below_5_and_tiny_minimums_are_usage_errors(srv, population):
    before = fetch_release(srv)
    for extra in (("--k", "4"), ("--k", "1"), ("--min-stratum", "9")):
        p = run_cli(build_args(srv, *extra))
        assert p.returncode == 2, f"{extra}: exited {p.returncode}\n{p.stdout}\n{p.stderr[-2000:]}"
        assert p.stdout.strip() == "", p.stdout
        assert extra[0] in p.stderr, p.stderr
    after = fetch_release(srv)
    assert after.meta_bytes == before.meta_bytes and after.csv_bytes == before.csv_bytes

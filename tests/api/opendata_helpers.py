"""Helpers for the open data tests (test_4xx_*): running `atelier populate`
and `atelier opendata build` against a test server's data dir / database,
fetching and parsing a release (metadata, CSV, JSON), the measurement
prediction of src/draft/measures.c, and plausible bodies built from it.

Plain functions; fixtures live in conftest.py and in each test module."""

import collections
import csv
import io
import math
import re
import subprocess

import limits
from accounts_helpers import assert_error, parse_time
from conftest import ATELIER_BIN, server_env
from models_helpers import BREASTS_ONLY, VOCABULARY

K = limits.LIMIT_OPENDATA_K_DEFAULT  # the k of a build without --k
# The vocabulary in the server's order (src/draft/measures.c: sorted by name, as
# GET /v1/measurements lists it); the CSV's columns follow it.
NAMES = tuple(sorted(VOCABULARY))
CSV_HEADER = ("breasts",) + NAMES
STRATA = ("with_breasts", "without_breasts")
ROUTES = ("/v1/opendata", "/v1/opendata/measurements.csv", "/v1/opendata/measurements.json")

# The gates of SPEC section 6 (reference: measurements-anonymization 6.1):
# figure name in the metadata -> (comparison, threshold).
GATES = {
    "min_group": (">=", K),
    "record_linkage_pct": ("<=", 100.0 / K + 1.0),
    "partial_knowledge_linkage_pct": ("<=", 5.0),
    "interval_disclosure_pct": ("<=", 1.0),
    "information_loss_pct": ("<=", 25.0),
    "correlation_change": ("<=", 0.12),
    "max_mean_difference": ("<=", 0.5),
}
FIGURE_KEYS = set(GATES) | {"groups", "max_prosecutor_risk", "il1s", "mean_absolute_error"}
META_KEYS = {"id", "date", "k", "min_stratum", "method", "selection", "strata", "gates", "note"}
SELECTION_KEYS = {"accounts_opted_in", "incomplete", "implausible"}

# src/draft/measures.c, copied at authoring time: name -> (breasts_only, min, max,
# base with breasts (neck 340), base without (neck 380), ratio to the neck).
MEASURES = {
    "ankle": (0, 95, 540, 245, 235, 1.0),
    "biceps": (0, 110, 770, 270, 350, 1.0),
    "bustFront": (1, 190, 1230, 480, 560, 0.5),
    "bustPointToUnderbust": (1, 25, 220, 100, 60, 0.5),
    "bustSpan": (1, 65, 420, 160, 190, 0.5),
    "chest": (0, 370, 2200, 925, 1000, 1.0),
    "crossSeam": (0, 295, 1915, 740, 870, 0.6),
    "crossSeamFront": (0, 150, 900, 370, 410, 0.6),
    "crotchDepth": (0, 110, 750, 270, 340, 0.65),
    "head": (0, 225, 1300, 565, 590, 0.35),
    "heel": (0, 125, 790, 315, 360, 0.25),
    "highBust": (1, 345, 2265, 865, 1030, 1.0),
    "highBustFront": (1, 175, 1255, 440, 570, 0.5),
    "hips": (0, 335, 1980, 900, 840, 1.0),
    "hpsToBust": (0, 110, 615, 275, 280, 0.65),
    "hpsToWaistBack": (0, 160, 1035, 395, 470, 0.65),
    "hpsToWaistFront": (1, 160, 1010, 400, 460, 0.65),
    "inseam": (0, 305, 1715, 765, 780, 0.25),
    "knee": (0, 150, 900, 380, 410, 0.65),
    "neck": (0, 135, 835, 340, 380, 1.0),
    "seat": (0, 405, 2245, 1010, 1020, 0.6),
    "seatBack": (0, 210, 1230, 520, 560, 0.6),
    "shoulderSlope": (0, 0, 45, 13, 13, 0.0),
    "shoulderToElbow": (0, 135, 790, 340, 360, 0.5),
    "shoulderToShoulder": (0, 165, 990, 415, 450, 0.65),
    "shoulderToWrist": (0, 235, 1385, 590, 630, 0.3),
    "underbust": (1, 310, 2155, 780, 980, 1.0),
    "upperLeg": (0, 230, 1375, 570, 625, 0.45),
    "waist": (0, 300, 1780, 750, 810, 0.85),
    "waistBack": (0, 150, 900, 380, 410, 0.85),
    "waistToArmpit": (0, 70, 460, 170, 210, 0.65),
    "waistToFloor": (0, 420, 2550, 1050, 1160, 0.4),
    "waistToHips": (0, 50, 285, 125, 130, 0.65),
    "waistToKnee": (0, 240, 1410, 600, 640, 0.65),
    "waistToSeat": (0, 100, 595, 250, 270, 0.65),
    "waistToUnderbust": (1, 20, 175, 80, 55, 0.65),
    "waistToUpperLeg": (0, 115, 750, 285, 340, 0.65),
    "wrist": (0, 65, 385, 165, 175, 0.5),
}
IMPLAUSIBLE_RATIO = 0.35  # MEASURES_IMPLAUSIBLE_RATIO

# The girths of the synthetic generator (src/privacy/synth.c, reference 5.1).
GIRTHS = (
    "ankle", "biceps", "bustFront", "chest", "heel", "highBust", "highBustFront", "hips", "knee",
    "seat", "seatBack", "underbust", "upperLeg", "waist", "waistBack", "wrist", "crossSeam",
    "crossSeamFront",
)

assert tuple(sorted(MEASURES)) == tuple(sorted(VOCABULARY))
assert {n for n, m in MEASURES.items() if m[0]} == BREASTS_ONLY


def columns(breasts):
    """The published columns of a stratum, in vocabulary order (38 / 30)."""
    return tuple(n for n in NAMES if breasts or n not in BREASTS_ONLY)


def stratum_name(breasts):
    return "with_breasts" if breasts else "without_breasts"


# --------------------------------------------------------------------------
# bodies (src/draft/measures.c measures_predict / measures_implausible)


def predict(name, breasts, neck):
    """base * (1 + ratio * (neck - N0) / N0), N0 = 340 with breasts, 380 without."""
    _only, _lo, _hi, b_with, b_without, ratio = MEASURES[name]
    base, n0 = (b_with, 340.0) if breasts else (b_without, 380.0)
    return base * (1.0 + ratio * (neck - n0) / n0)


def implausible(name, breasts, neck, value):
    p = predict(name, breasts, neck)
    if MEASURES[name][5] == 0.0 or not p > 0:
        return False
    return abs(value - p) / p > IMPLAUSIBLE_RATIO


def in_range(name, value):
    _only, lo, hi = MEASURES[name][:3]
    return lo <= value <= hi


def typical_body(breasts, neck=None):
    """The body the neck predicts: every published column, integer mm."""
    neck = neck if neck is not None else (340 if breasts else 380)
    out = {}
    for name in columns(breasts):
        out[name] = int(neck) if name == "neck" else int(round(predict(name, breasts, neck)))
    return out


def scaled_body(breasts, girth_factor, neck=None, others=None):
    """A typical body whose girths are multiplied by girth_factor (and the
    other columns, neck excepted, by `others` when given); checked to be
    within every range and plausible for its neck."""
    body = typical_body(breasts, neck)
    for name in body:
        if name in GIRTHS:
            body[name] = int(round(body[name] * girth_factor))
        elif others is not None and name not in ("neck", "shoulderSlope"):
            body[name] = int(round(body[name] * others))
    for name, v in body.items():
        assert in_range(name, v), (name, v)
        assert not implausible(name, breasts, body["neck"], v), (name, v)
    return body


# --------------------------------------------------------------------------
# the command line


def cli_target(srv):
    args = ["--data", srv.data_dir]
    if srv.database_url:
        args += ["--database", srv.database_url]
    return args


def run_cli(args, timeout=600):
    return subprocess.run(args, capture_output=True, text=True, env=server_env(), timeout=timeout,
                          stdin=subprocess.DEVNULL)


def populate(srv, models, seed, timeout=600):
    args = [ATELIER_BIN, "populate", "--models", str(models), "--seed", str(seed), *cli_target(srv)]
    p = run_cli(args, timeout)
    assert p.returncode == 0, f"{' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr[-3000:]}"
    assert f"created {models} accounts" in p.stdout, p.stdout
    return p


def build_args(srv, *extra):
    return [ATELIER_BIN, "opendata", "build", *extra, *cli_target(srv)]


SUMMARY_RE = re.compile(
    r"^atelier: published (\d+) rows with breasts and (\d+) without \(k=(\d+); (\d+) opted-in "
    r"accounts, (\d+) incomplete, (\d+) implausible\)$"
)


def build(srv, *extra, timeout=600):
    """`atelier opendata build` that must publish: exit 0 and one summary
    line; returns the summary figures as a dict."""
    args = build_args(srv, *extra)
    p = run_cli(args, timeout)
    assert p.returncode == 0, f"{' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr[-3000:]}"
    lines = [line for line in p.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, p.stdout
    m = SUMMARY_RE.match(lines[0])
    assert m, f"unexpected summary line: {lines[0]!r}"
    keys = ("rows_with", "rows_without", "k", "accounts", "incomplete", "implausible")
    return dict(zip(keys, map(int, m.groups())))


def build_fails(srv, *extra, timeout=600):
    """`atelier opendata build` that must publish nothing: exit 1, nothing on
    stdout, and "nothing published: <reason>" on stderr; returns the reason."""
    args = build_args(srv, *extra)
    p = run_cli(args, timeout)
    assert p.returncode == 1, f"{' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr[-3000:]}"
    assert p.stdout.strip() == "", p.stdout
    m = re.search(r"nothing published: (.+)", p.stderr)
    assert m, p.stderr[-3000:]
    return m.group(1).strip()


# --------------------------------------------------------------------------
# a release as served


class Release:
    """The three documents of the latest release, parsed.

    rows: list of (breasts: bool, values: tuple of 38 ints or None) from the
    CSV; json_rows: the same from the JSON document."""

    def __init__(self, meta, meta_bytes, csv_bytes, json_bytes, json_doc):
        self.meta = meta
        self.meta_bytes = meta_bytes
        self.csv_bytes = csv_bytes
        self.json_bytes = json_bytes
        self.doc = json_doc
        self.rows = parse_csv(csv_bytes)
        self.json_rows = parse_json_rows(json_doc["rows"])

    def stratum(self, breasts, source="csv"):
        """The rows of one stratum (from the CSV, or source="json") as tuples
        of its published columns, in file order."""
        idx = [NAMES.index(c) for c in columns(breasts)]
        rows = self.rows if source == "csv" else self.json_rows
        return [tuple(v[i] for i in idx) for b, v in rows if b == breasts]

    def multiset(self):
        return collections.Counter(self.rows)

    @property
    def sel(self):
        return self.meta["selection"]

    def published_rows(self, breasts):
        s = self.meta["strata"][stratum_name(breasts)]
        return s["rows"] if s["published"] else 0


def parse_csv(data):
    text = data.decode("utf-8")
    assert text.endswith("\n"), text[-200:]
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert tuple(header) == CSV_HEADER, f"CSV header: {header}"
    rows = []
    for n, rec in enumerate(reader, 2):
        assert len(rec) == len(CSV_HEADER), f"CSV line {n}: {rec}"
        assert rec[0] in ("true", "false"), f"CSV line {n}: breasts={rec[0]!r}"
        breasts = rec[0] == "true"
        vals = []
        for name, cell in zip(NAMES, rec[1:]):
            if not breasts and name in BREASTS_ONLY:
                assert cell == "", f"CSV line {n}: {name}={cell!r} on a row without breasts"
                vals.append(None)
            else:
                assert re.fullmatch(r"[0-9]+", cell), f"CSV line {n}: {name}={cell!r} is not an integer"
                vals.append(int(cell))
        rows.append((breasts, tuple(vals)))
    return rows


def parse_json_rows(rows):
    assert isinstance(rows, list), type(rows)
    out = []
    for n, r in enumerate(rows):
        assert isinstance(r, dict), r
        assert isinstance(r.get("breasts"), bool), f"JSON row {n}: {r}"
        breasts = r["breasts"]
        expect = {"breasts", *columns(breasts)}
        assert set(r) == expect, f"JSON row {n}: keys {sorted(set(r) ^ expect)} differ"
        vals = []
        for name in NAMES:
            if name in r:
                v = r[name]
                assert isinstance(v, int) and not isinstance(v, bool), f"JSON row {n}: {name}={v!r}"
                vals.append(v)
            else:
                vals.append(None)
        out.append((breasts, tuple(vals)))
    return out


def fetch(srv, path):
    r = srv.get(path, timeout=60)
    assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text[:300]}"
    return r


def fetch_release(srv):
    m = fetch(srv, "/v1/opendata")
    assert m.headers.get("Content-Type", "").startswith("application/json"), m.headers
    c = fetch(srv, "/v1/opendata/measurements.csv")
    assert c.headers.get("Content-Type", "").startswith("text/csv"), c.headers
    j = fetch(srv, "/v1/opendata/measurements.json")
    assert j.headers.get("Content-Type", "").startswith("application/json"), j.headers
    doc = j.json()
    assert isinstance(doc, dict) and set(doc) == {"release", "rows"}, sorted(doc)
    meta = m.json()
    assert doc["release"] == meta, "the JSON document's release is not GET /v1/opendata's"
    return Release(meta, m.content, c.content, j.content, doc)


def assert_no_release(srv):
    for path in ROUTES:
        assert_error(srv.get(path), 404, "no_release")


def check_figure(name, value):
    op, limit = GATES[name]
    assert isinstance(value, (int, float)) and not isinstance(value, bool), (name, value)
    assert math.isfinite(value), (name, value)
    ok = value >= limit if op == ">=" else value <= limit + 1e-9
    assert ok, f"gate {name}: {value} not {op} {limit}"


def assert_meta_shape(meta, k=K, min_stratum=None):
    assert set(meta) == META_KEYS, sorted(meta)
    assert isinstance(meta["id"], str) and re.fullmatch(r"[A-Za-z0-9_-]{16,64}", meta["id"]), meta["id"]
    parse_time(meta["date"])
    assert meta["k"] == k, meta["k"]
    if min_stratum is not None:
        assert meta["min_stratum"] == min_stratum, meta["min_stratum"]
    assert set(meta["selection"]) == SELECTION_KEYS, meta["selection"]
    for key, v in meta["selection"].items():
        assert isinstance(v, int) and not isinstance(v, bool) and v >= 0, (key, v)
    assert set(meta["strata"]) == set(STRATA), sorted(meta["strata"])
    for name, s in meta["strata"].items():
        breasts = name == "with_breasts"
        assert s["columns"] == list(columns(breasts)), (name, s["columns"])
        assert isinstance(s["published"], bool), s
        assert isinstance(s["eligible"], int) and s["eligible"] >= 0, s
        if s["published"]:
            assert set(s) == {"published", "rows", "eligible", "columns", "figures"}, sorted(s)
            assert s["rows"] == s["eligible"] > 0, s
            f = s["figures"]
            assert set(f) == FIGURE_KEYS, sorted(f)
            for g in GATES:
                check_figure(g, f[g])
            assert f["max_prosecutor_risk"] <= 1.0 / k + 1e-12, f
            assert set(f["mean_absolute_error"]) == set(columns(breasts)), f["mean_absolute_error"]
        else:
            assert set(s) == {"published", "rows", "eligible", "columns", "reason"}, sorted(s)
            assert s["rows"] == 0, s
            assert isinstance(s["reason"], str) and s["reason"].strip(), s
    assert any(s["published"] for s in meta["strata"].values()), meta["strata"]
    gates = meta["gates"]
    for g in ("k_anonymity", "record_linkage", "partial_knowledge_linkage", "information_loss",
              "correlation_change"):
        assert isinstance(gates.get(g), str) and gates[g], (g, gates)


def zstats(rows):
    """Column means and sample SDs of a list of equal-length tuples."""
    n = len(rows)
    p = len(rows[0])
    mean = [sum(r[j] for r in rows) / n for j in range(p)]
    sd = [math.sqrt(sum((r[j] - mean[j]) ** 2 for r in rows) / (n - 1)) for j in range(p)]
    return mean, sd


def nearest_rows(rows, target):
    """The released rows nearest to target in z-standardised squared
    Euclidean distance (columns standardised by the rows' own mean and SD;
    zero-SD columns left out): (distance, the set of nearest distinct rows)."""
    mean, sd = zstats(rows)
    cols = [j for j, s in enumerate(sd) if s > 0]
    best, found = None, set()
    for r in set(rows):
        d = sum(((r[j] - target[j]) / sd[j]) ** 2 for j in cols)
        if best is None or d < best - 1e-9:
            best, found = d, {r}
        elif abs(d - best) <= 1e-9:
            found.add(r)
    return best, found


def adjacent_equal_pairs(rows):
    return sum(1 for a, b in zip(rows, rows[1:]) if a == b)


def monotonic(seq):
    inc = all(a <= b for a, b in zip(seq, seq[1:]))
    dec = all(a >= b for a, b in zip(seq, seq[1:]))
    return inc or dec

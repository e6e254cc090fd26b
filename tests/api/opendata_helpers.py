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
from accounts_helpers import assert_error
from conftest import ATELIER_BIN, server_env
from models_helpers import BREASTS_ONLY, VOCABULARY

# The vocabulary in the server's order (src/draft/measures.c: sorted by name, as
# GET /v1/measurements lists it); the CSV's columns follow it.
NAMES = tuple(sorted(VOCABULARY))
CSV_HEADER = ("breasts",) + NAMES
STRATA = ("with_breasts", "without_breasts")
ROUTES = ("/v1/opendata", "/v1/opendata/measurements.csv", "/v1/opendata/measurements.json")
CELLS = ("incomplete", "implausible", "eligible_with_breasts", "eligible_without_breasts")
QUERIES = ("counts", "stage1", "sum", "second_moments", "histograms")
HISTS = ("chest", "waist", "seat", "inseam")
RHO_DEFAULT = limits.LIMIT_OPENDATA_RHO_DEFAULT / 1000.0
RHO_CAP = limits.LIMIT_OPENDATA_RHO_CAP / 1000.0

# The design's noise variances at rho = 0.25 (docs/OPENDATA.md), per stratum.
SIGMA2_AT_025 = {
    "with_breasts": {"counts": 40, "stage1": 3112960, "sum": 1556480,
                     "second_moments": 11279451376, "histograms": 80},
    "without_breasts": {"counts": 40, "stage1": 2457600, "sum": 1228800,
                        "second_moments": 7356163942, "histograms": 80},
}

META_KEYS = {"id", "date", "method", "method_version", "privacy", "mechanism", "noisy_counts",
             "strata", "note"}
PRIVACY_KEYS = {"definition", "unit", "neighbouring", "rho", "split", "rho_cap_per_account",
                "epsilon", "epsilon_lifetime_cap", "membership_auc_bound",
                "membership_tpr_bound_at_5pct_fpr", "cadence", "cadence_ignored"}
STRATUM_KEYS = {"published", "noisy_count", "rows", "columns", "budget"}
# Figures that compare a release with the originals, or count them exactly:
# never published (docs/OPENDATA.md, "what is never published").
FORBIDDEN_KEYS = {"eligible", "accounts_opted_in", "selection", "figures", "k", "min_group",
                  "groups", "record_linkage_pct", "partial_knowledge_linkage_pct",
                  "interval_disclosure_pct", "information_loss_pct", "correlation_change",
                  "max_mean_difference", "mean_absolute_error", "clipped", "clipped_share",
                  "gates", "exact", "duration", "elapsed"}

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


def populate(srv, models, seed, timeout=600, csv_path=None):
    args = [ATELIER_BIN, "populate", "--models", str(models), "--seed", str(seed), *cli_target(srv)]
    if csv_path:
        args += ["--csv", csv_path]
    p = run_cli(args, timeout)
    assert p.returncode == 0, f"{' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr[-3000:]}"
    assert f"created {models} accounts" in p.stdout, p.stdout
    return p


def build_args(srv, *extra):
    return [ATELIER_BIN, "opendata", "build", *extra, *cli_target(srv)]


SUMMARY_RE = re.compile(
    r"^atelier: published release ([A-Za-z0-9_-]+): (\d+) rows with breasts, (\d+) without; noisy "
    r"counts: (-?\d+) eligible with breasts, (-?\d+) without, (-?\d+) incomplete, (-?\d+) "
    r"implausible \(rho (\d\.\d{3}) per person\)$"
)
FAILED_RE = re.compile(
    r"noisy counts: (-?\d+) eligible with breasts, (-?\d+) without, (-?\d+) incomplete, "
    r"(-?\d+) implausible"
)


def build(srv, *extra, timeout=600):
    """`atelier opendata build` that must publish: exit 0 and one summary
    line; returns the summary as a dict (noisy counts only)."""
    args = build_args(srv, *extra)
    p = run_cli(args, timeout)
    assert p.returncode == 0, f"{' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr[-3000:]}"
    lines = [line for line in p.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, p.stdout
    m = SUMMARY_RE.match(lines[0])
    assert m, f"unexpected summary line: {lines[0]!r}"
    g = m.groups()
    return {"id": g[0], "rows_with": int(g[1]), "rows_without": int(g[2]),
            "noisy": dict(zip(("eligible_with_breasts", "eligible_without_breasts", "incomplete",
                               "implausible"), map(int, g[3:7]))),
            "rho": float(g[7])}


def build_fails(srv, *extra, timeout=600, status=1):
    """`atelier opendata build` that must publish nothing: exit status,
    nothing on stdout, and "nothing published: <reason>" on stderr; returns
    the reason."""
    args = build_args(srv, *extra)
    p = run_cli(args, timeout)
    assert p.returncode == status, f"{' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr[-3000:]}"
    assert p.stdout.strip() == "", p.stdout
    m = re.search(r"nothing published: (.+)", p.stderr)
    assert m, p.stderr[-3000:]
    return m.group(1).strip()


def failed_counts(reason):
    """The noisy counts a build that published nothing reports."""
    m = FAILED_RE.search(reason)
    assert m, reason
    return dict(zip(("eligible_with_breasts", "eligible_without_breasts", "incomplete",
                     "implausible"), map(int, m.groups())))


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
    def noisy(self):
        return self.meta["noisy_counts"]

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


def walk_keys(doc):
    """Every key of every object in a JSON document."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield k
            yield from walk_keys(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from walk_keys(v)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def assert_meta_shape(meta, rho=RHO_DEFAULT, min_stratum=None, cadence_ignored=True):
    """The metadata: data-independent parameters and DP outputs only."""
    assert set(meta) == META_KEYS, sorted(set(meta) ^ META_KEYS)
    leaked = set(walk_keys(meta)) & FORBIDDEN_KEYS
    assert not leaked, f"the metadata publishes {sorted(leaked)}"
    assert isinstance(meta["id"], str) and re.fullmatch(r"[A-Za-z0-9_-]{16,64}", meta["id"]), meta["id"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["date"]), meta["date"]
    pv = meta["privacy"]
    assert set(pv) == PRIVACY_KEYS, sorted(set(pv) ^ PRIVACY_KEYS)
    assert pv["rho"] == rho, pv["rho"]
    assert pv["cadence_ignored"] is cadence_ignored, pv
    assert set(pv["split"]) == set(QUERIES), pv["split"]
    assert abs(sum(pv["split"].values()) - 1.0) < 1e-12, pv["split"]
    assert pv["epsilon"]["delta"] == 1e-9, pv["epsilon"]
    assert 0.5 < pv["membership_auc_bound"] < 1.0, pv
    assert set(meta["noisy_counts"]) == set(CELLS), meta["noisy_counts"]
    assert all(is_int(v) for v in meta["noisy_counts"].values()), meta["noisy_counts"]
    mech = meta["mechanism"]
    assert (mech["q"], mech["c"], mech["log_scale"], mech["histogram_bin_mm"]) == (32, 4, 0.1, 40), mech
    if min_stratum is not None:
        assert mech["publish_threshold"] == min_stratum, mech
    assert set(meta["strata"]) == set(STRATA), sorted(meta["strata"])
    for name, s in meta["strata"].items():
        breasts = name == "with_breasts"
        assert STRATUM_KEYS <= set(s), sorted(s)
        assert [c["name"] for c in s["columns"]] == list(columns(breasts)), (name, s["columns"])
        assert s["noisy_count"] == meta["noisy_counts"][f"eligible_{name}"], (name, s)
        assert s["budget"]["b2"] == 2 * len(columns(breasts)), s["budget"]
        assert set(s["budget"]["sigma2"]) == set(QUERIES), s["budget"]
        if s["published"] is True:
            assert set(s) == STRATUM_KEYS | {"noisy_statistics", "model", "histograms"}, sorted(s)
            assert s["rows"] == max(0, s["noisy_count"]), s
            p = len(columns(breasts))
            st = s["noisy_statistics"]
            for key in ("stage1_sum", "stage1_abs_sum", "sum"):
                assert len(st[key]) == p and all(is_int(v) for v in st[key]), key
            assert len(st["second_moments"]) == p * (p + 1) // 2, len(st["second_moments"])
            assert len(st["centre"]) == p and len(st["scale"]) == p
            model = s["model"]
            assert 1 <= model["factors"] <= p, model["factors"]
            assert len(model["mean"]) == p and len(model["uniquenesses"]) == p
            assert all(len(row) == model["factors"] for row in model["loadings"])
            assert len(model["covariance"]) == p * (p + 1) // 2
            assert set(s["histograms"]) == set(HISTS), s["histograms"]
            for h in s["histograms"].values():
                assert h["bin_mm"] == 40 and h["lower_mm"] % 40 == 0, h
                assert all(is_int(v) for v in h["counts"]), h
        else:
            assert s["published"] is False, s
            assert set(s) == STRATUM_KEYS | {"reason"}, sorted(s)
            assert s["rows"] == 0, s
            assert isinstance(s["reason"], str) and s["reason"].strip(), s
    assert any(s["published"] for s in meta["strata"].values()), meta["strata"]


def read_population(path):
    """The bodies `populate --csv` wrote: (breasts, {name: value}) each."""
    out = []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        assert tuple(header) == CSV_HEADER, header
        for rec in reader:
            out.append((rec[0] == "true", {n: int(v) for n, v in zip(NAMES, rec[1:]) if v != ""}))
    return out


def eligible(population, breasts):
    """The rows of a population that enter a stratum: complete and
    plausible, as tuples of the stratum's columns."""
    cols = columns(breasts)
    rows = []
    for b, body in population:
        if b != breasts or any(c not in body for c in cols):
            continue
        if any(not in_range(c, body[c]) or implausible(c, breasts, body["neck"], body[c])
               for c in cols):
            continue
        rows.append(tuple(body[c] for c in cols))
    return rows


def column_stats(rows):
    """Means, SDs and the correlation matrix of a list of equal tuples."""
    n, p = len(rows), len(rows[0])
    mean = [sum(r[j] for r in rows) / n for j in range(p)]
    cen = [[r[j] - mean[j] for j in range(p)] for r in rows]
    cov = [[sum(c[a] * c[b] for c in cen) / (n - 1) for b in range(p)] for a in range(p)]
    sd = [math.sqrt(cov[j][j]) for j in range(p)]
    cor = [[cov[a][b] / (sd[a] * sd[b]) for b in range(p)] for a in range(p)]
    return mean, sd, cor, cov


def tv_distance(a, b, width=40):
    """Total variation distance of two samples binned at width mm."""
    ca = collections.Counter(int(v // width) for v in a)
    cb = collections.Counter(int(v // width) for v in b)
    return 0.5 * sum(abs(ca[k] / len(a) - cb[k] / len(b)) for k in set(ca) | set(cb))

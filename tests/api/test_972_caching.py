"""Cacheable answers (issue 18, item 3; docs/API.md "HTTP conventions"):
the open-data release (/v1/opendata, its CSV and JSON) and the public
documents that change only with a build (/v1/designs, /v1/measurements,
/v1/openapi.json).

- a strong ETag: the BLAKE2b-128 of the identity bytes, "-gz" appended for
  the gzip representation (so equal bytes give equal ETags on every node);
- If-None-Match naming the representation the client would get (weakly
  compared: W/ ignored, * matches) answers 304 without a body, with the
  same ETag, Cache-Control and Vary;
- gzip when Accept-Encoding allows it (not with q=0, not when not asked),
  Vary: Accept-Encoding on every answer; the decompressed bytes are the
  identity bytes;
- Cache-Control: the release public for LIMIT_OPENDATA_MAX_AGE_S with
  stale-while-revalidate, the build's documents public, no-cache;
- a new release changes every ETag of the release; before any, 404 stays
  no-store."""

import gzip
import hashlib

import pytest

from accounts_helpers import assert_error
import limits
from opendata_helpers import build, populate

RELEASE = ("/v1/opendata", "/v1/opendata/measurements.csv", "/v1/opendata/measurements.json")
BUILD_DOCS = ("/v1/designs", "/v1/measurements", "/v1/openapi.json")
OPENDATA_CACHE = (f"public, max-age={limits.LIMIT_OPENDATA_MAX_AGE_S}, "
                  f"stale-while-revalidate={limits.LIMIT_OPENDATA_STALE_S}")
IDENTITY = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}


def etag_of(body, gz=False):
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + ('-gz"' if gz else '"')


def raw_get(server, path, headers):
    """GET without decoding the body (requests would gunzip it)."""
    r = server.get(path, headers=headers, stream=True, timeout=60)
    body = r.raw.read(decode_content=False)
    r.close()
    return r, body


@pytest.fixture(scope="module")
def release(server):
    for path in RELEASE:
        r = server.get(path)
        assert_error(r, 404, "no_release")
        assert r.headers["Cache-Control"] == "no-store" and "ETag" not in r.headers, r.headers
    populate(server, 1000, 7)
    build(server, "--ignore-cadence", "--min-stratum", "300")
    return server


def check_cacheable(server, path, cache_control):
    r, plain = raw_get(server, path, IDENTITY)
    assert r.status_code == 200, plain[:200]
    assert "Content-Encoding" not in r.headers, r.headers
    assert r.headers["ETag"] == etag_of(plain), (path, r.headers["ETag"])
    assert r.headers["Cache-Control"] == cache_control, r.headers
    assert r.headers["Vary"] == "Accept-Encoding", r.headers
    assert len(plain) >= limits.LIMIT_GZIP_MIN_BYTES, (path, len(plain))

    g, packed = raw_get(server, path, GZIP)
    assert g.status_code == 200 and g.headers["Content-Encoding"] == "gzip", g.headers
    assert gzip.decompress(packed) == plain, path
    assert len(packed) < len(plain)
    assert int(g.headers["Content-Length"]) == len(packed)
    assert g.headers["ETag"] == etag_of(plain, gz=True), g.headers
    assert g.headers["Cache-Control"] == cache_control and g.headers["Vary"] == "Accept-Encoding"
    for k in ("Content-Type", "Content-Disposition"):
        assert g.headers.get(k) == r.headers.get(k), k

    # conditional GETs: the representation the client would get
    for headers, tag in ((IDENTITY, r.headers["ETag"]), (GZIP, g.headers["ETag"])):
        for inm in (tag, "W/" + tag, '"nope", ' + tag, "*"):
            n, body = raw_get(server, path, {**headers, "If-None-Match": inm})
            assert n.status_code == 304 and body == b"", (path, inm, n.status_code)
            assert n.headers["ETag"] == tag and n.headers["Cache-Control"] == cache_control
            assert n.headers["Vary"] == "Accept-Encoding"
        # another representation's tag is not this one
        other = g.headers["ETag"] if tag == r.headers["ETag"] else r.headers["ETag"]
        n, body = raw_get(server, path, {**headers, "If-None-Match": other})
        assert n.status_code == 200 and body in (plain, packed), (path, other)

    # what a client does not accept, it does not get
    for ae in ("gzip;q=0", "br", "deflate, identity", "x-gzip;q=0, *;q=0.5", "*;q=0"):
        n, body = raw_get(server, path, {"Accept-Encoding": ae})
        assert "Content-Encoding" not in n.headers, (path, ae, n.headers)
        assert body == plain
    for ae in ("x-gzip", "*", "br;q=1, gzip;q=0.1", "GZIP"):
        n, body = raw_get(server, path, {"Accept-Encoding": ae})
        assert n.headers.get("Content-Encoding") == "gzip", (path, ae)
        assert gzip.decompress(body) == plain
    return plain, r.headers["ETag"]


@pytest.mark.parametrize("path", RELEASE)
def test_release_is_cacheable(release, path):
    check_cacheable(release, path, OPENDATA_CACHE)


@pytest.mark.parametrize("path", BUILD_DOCS)
def test_build_documents_are_cacheable(server, path):
    check_cacheable(server, path, "public, no-cache")


def test_downloads_are_named(release):
    for path, name in (("/v1/opendata/measurements.csv", "atelier-measurements.csv"),
                       ("/v1/opendata/measurements.json", "atelier-measurements.json")):
        for headers in (IDENTITY, GZIP):
            r, _ = raw_get(release, path, headers)
            assert r.headers["Content-Disposition"] == f'attachment; filename="{name}"', r.headers


def test_a_new_release_changes_every_etag(release):
    before = {p: raw_get(release, p, IDENTITY)[0].headers["ETag"] for p in RELEASE}
    build(release, "--rho", "0.1", "--ignore-cadence", "--min-stratum", "300")
    for p in RELEASE:
        r, body = raw_get(release, p, {**IDENTITY, "If-None-Match": before[p]})
        assert r.status_code == 200, p
        assert r.headers["ETag"] == etag_of(body) != before[p], p


def test_the_api_stays_no_store(server):
    r = server.get("/healthz", headers=GZIP)
    assert r.headers["Cache-Control"] == "no-store" and "ETag" not in r.headers, r.headers
    assert "Content-Encoding" not in r.headers

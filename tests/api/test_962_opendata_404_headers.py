"""The open data downloads before the first release: a JSON 404
`no_release` without the CSV's `Content-Disposition` (a browser would save
the error as atelier-measurements.csv). Found by docs/API.md's generated
examples (issue 18)."""

import pytest

from accounts_helpers import assert_error


@pytest.mark.parametrize("path", ["/v1/opendata", "/v1/opendata/measurements.csv",
                                  "/v1/opendata/measurements.json"])
def test_no_release_is_a_plain_json_404(server, path):
    r = server.get(path)
    assert_error(r, 404, "no_release")
    assert r.headers["Content-Type"].startswith("application/json")
    assert "Content-Disposition" not in r.headers, r.headers

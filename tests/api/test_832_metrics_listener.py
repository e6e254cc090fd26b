"""Issue 12 item 4: /metrics is not on the public port.

The counters told accounts apart (mail_sent moved after POST
/v1/password/forgot only for a registered address) and showed per-route
statuses and erasure counts to anyone. Metrics are now served on their own
listener (--metrics-listen, off by default, loopback advised), GET /metrics
only; the public port, its route table and docs/openapi.json have no /metrics.
"""

import json
import os
import re

import requests


HERE = os.path.dirname(os.path.abspath(__file__))


def test_public_port_has_no_metrics(server):
    for method, path in [("GET", "/metrics"), ("GET", "/metrics?x=1"), ("HEAD", "/metrics"),
                         ("POST", "/metrics")]:
        r = server.request(method, path)
        assert r.status_code == 404, f"{method} {path} on the public port: {r.status_code}"
        assert "atelier_" not in r.text


def test_metrics_listener_serves_metrics_only(server):
    r = server.metrics()
    assert r.status_code == 200, r.text[:200]
    assert re.search(r'^atelier_events_total\{event="mail_sent"\} \d+$', r.text, re.M), r.text[-1500:]
    base = f"http://{server.host}:{server.metrics_port}"
    # nothing of the API on the metrics address
    for path in ("/healthz", "/v1/account", "/v1/openapi.json", "/metrics/x"):
        assert requests.get(base + path, timeout=10).status_code == 404, path
    assert requests.post(base + "/metrics", data=b"x", timeout=10).status_code == 405


def test_no_metrics_listener_by_default(server_factory):
    srv = server_factory.start(extra_args=["--metrics-listen="])
    assert srv.get("/metrics").status_code == 404
    assert "metrics on" not in srv.stdout()


def test_openapi_has_no_metrics(server):
    doc = server.get("/v1/openapi.json").json()
    assert "/metrics" not in doc["paths"]
    with open(os.path.join(HERE, "..", "..", "docs", "openapi.json"), encoding="utf-8") as f:
        assert "/metrics" not in json.load(f)["paths"]

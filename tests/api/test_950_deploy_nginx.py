"""The nginx site of deploy/nginx/atelier.conf in front of two atelier nodes
(issue 17, item 4; docs/DEPLOY.md).

The test runs the real file, changed only by the substitutions of
`site_for_test` (shown there): test ports on 127.0.0.1 instead of 80/443,
the two test nodes instead of the three example addresses, a self-signed
certificate, temporary paths. TLS stays on. nginx runs unprivileged, like
bench/run.sh's. The nodes share one database on the postgres run (and the
key file); on SQLite each has its own, which changes nothing here.

  - `nginx -t` accepts the site;
  - plain HTTP redirects to HTTPS, path and query kept;
  - a request through nginx reaches a node, and the node's access log holds
    the client's own address (a loopback address of the test's choosing),
    not nginx's and not an X-Forwarded-For the client forged; requests are
    spread over both nodes;
  - /metrics is answered 404 by nginx itself: no node sees the request;
  - a body over client_max_body_size (LIMIT_IMAGE_BODY, the largest route
    limit) is refused 413 by nginx, and a body of exactly the limit reaches
    a node (so the limit is not smaller than atelier's).
"""

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import time

import pytest
import requests
from requests.adapters import HTTPAdapter

import limits
from conftest import ROOT, free_port

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
SITE = os.path.join(ROOT, "deploy", "nginx", "atelier.conf")
CLIENT_IP = "127.0.0.23"  # the test's client address (all of 127/8 is loopback)

if not os.access(NGINX, os.X_OK):
    pytest.skip(f"environment: no nginx at {NGINX} (Debian's nginx-light)", allow_module_level=True)


def site_for_test(text, http_port, https_port, nodes, d):
    """The real site file with test ports, nodes, certificate and paths."""
    subs = [
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen \[::\]:80;\n", ""),
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        (r"listen \[::\]:443 ssl http2;\n", ""),
        (r"/etc/letsencrypt/live/atelier\.example\.org/fullchain\.pem", f"{d}/cert.pem"),
        (r"/etc/letsencrypt/live/atelier\.example\.org/privkey\.pem", f"{d}/key.pem"),
        (r"/var/log/nginx/", f"{d}/"),
        (r"/var/www/letsencrypt", f"{d}/acme"),
    ]
    for pattern, repl in subs:
        text, n = re.subn(pattern, repl, text)
        assert n >= 1, f"the site file no longer has {pattern!r}: update the test's substitutions"
    servers = re.findall(r"^ *server 10\.0\.0\.\d+:8080 (.*);$", text, re.M)
    assert servers, "the upstream's example nodes are gone: update the test"
    first = True

    def node_line(m):
        nonlocal first
        if not first:
            return ""
        first = False
        return "".join(f"    server 127.0.0.1:{p} {servers[0]};\n" for p in nodes)

    text = re.sub(r"^ *server 10\.0\.0\.\d+:8080 .*;\n", node_line, text, flags=re.M)
    return text


MAIN = """user root;
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {d}/atelier.conf;
}}
"""


def self_signed(d):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "2", "-subj", "/CN=atelier.example.org",
                    "-addext", "subjectAltName=DNS:atelier.example.org,IP:127.0.0.1",
                    "-keyout", f"{d}/key.pem", "-out", f"{d}/cert.pem"],
                   check=True, capture_output=True, timeout=60)


def write_conf(d, nodes):
    http_port, https_port = free_port(), free_port()
    with open(SITE) as f:
        site = site_for_test(f.read(), http_port, https_port, nodes, d)
    with open(f"{d}/atelier.conf", "w") as f:
        f.write(site)
    with open(f"{d}/nginx.conf", "w") as f:
        f.write(MAIN.format(d=d))
    os.makedirs(f"{d}/acme", exist_ok=True)
    return http_port, https_port


def wait_port(port, proc, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "nginx exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nginx does not listen on {port}")


class _Source(HTTPAdapter):
    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (CLIENT_IP, 0)
        return super().init_poolmanager(*args, **kw)


class _Client(requests.Session):
    """From CLIENT_IP, trusting the test's certificate (given per request:
    a session's verify loses to REQUESTS_CA_BUNDLE in requests)."""

    def __init__(self, cert):
        super().__init__()
        self.mount("https://", _Source())
        self.mount("http://", _Source())
        self._cert = cert

    def request(self, method, url, **kw):
        kw.setdefault("verify", self._cert)
        return super().request(method, url, **kw)


def client(proxy):
    return _Client(os.path.join(proxy["dir"], "cert.pem"))


def log_lines(node):
    d = os.path.join(node.data_dir, "logs")
    out = []
    if os.path.isdir(d):
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name)) as f:
                out += [json.loads(line) for line in f if line.strip()]
    return out


def wait_logged(nodes, request_id, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for i, node in enumerate(nodes):
            for line in log_lines(node):
                if line["request_id"] == request_id:
                    return i, line
        time.sleep(0.05)
    raise AssertionError(f"request {request_id} in no node's access log")


@pytest.fixture(scope="module")
def proxy(module_server_factory, module_database, tmp_path_factory):
    """Two nodes (one database on PostgreSQL, one key), nginx in front."""
    keydir = str(tmp_path_factory.mktemp("key"))
    key = os.path.join(keydir, "secret.key")
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(key, 0o600)
    args = ["--trusted-proxy", "127.0.0.1", "--key-file", key]
    nodes = [module_server_factory.start(args, database=module_database) for _ in range(2)]
    d = str(tmp_path_factory.mktemp("nginx"))
    self_signed(d)
    http_port, https_port = write_conf(d, [n.port for n in nodes])
    proc = subprocess.Popen([NGINX, "-p", d, "-c", f"{d}/nginx.conf"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        wait_port(https_port, proc)
        yield {"nodes": nodes, "http": http_port, "https": https_port, "dir": d}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_nginx_accepts_the_site(tmp_path):
    d = str(tmp_path)
    self_signed(d)
    write_conf(d, [free_port(), free_port()])
    p = subprocess.run([NGINX, "-t", "-p", d, "-c", f"{d}/nginx.conf"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert "syntax is ok" in p.stderr and "test is successful" in p.stderr, p.stderr
    # the only warning allowed: no OCSP stapling for a self-signed certificate
    for line in p.stderr.splitlines():
        if "[warn]" in line:
            assert "ssl_stapling" in line, line


def test_http_redirects_to_https(proxy):
    with client(proxy) as c:
        r = c.get(f"http://127.0.0.1:{proxy['http']}/v1/designs?a=1", allow_redirects=False, timeout=10,
                  headers={"Host": "atelier.example.org"})
    assert r.status_code == 301, r.status_code
    assert r.headers["Location"] == "https://atelier.example.org/v1/designs?a=1", r.headers


def test_tls_is_modern(proxy):
    ctx = ssl.create_default_context(cafile=os.path.join(proxy["dir"], "cert.pem"))
    with socket.create_connection(("127.0.0.1", proxy["https"]), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="atelier.example.org") as s:
            assert s.version() == "TLSv1.3", s.version()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", proxy["https"]), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="atelier.example.org") as s:
            assert s.version() == "TLSv1.2"
            assert s.cipher()[0].startswith("ECDHE-"), s.cipher()


def test_the_nodes_log_the_clients_address(proxy):
    nodes = proxy["nodes"]
    seen = set()
    with client(proxy) as c:
        for _ in range(6):
            # a forged X-Forwarded-For: nginx replaces it
            r = c.get(f"https://127.0.0.1:{proxy['https']}/v1/designs", timeout=10,
                      headers={"X-Forwarded-For": "203.0.113.9"})
            assert r.status_code == 200, r.text[:300]
            node, line = wait_logged(nodes, r.headers["X-Request-Id"])
            assert line["ip"] == CLIENT_IP, line
            assert line["route"] == "/v1/designs", line
            seen.add(node)
    assert seen == {0, 1}, "nginx should spread requests over both nodes"
    assert "203.0.113.9" not in json.dumps([log_lines(n) for n in nodes])


def test_metrics_are_not_proxied(proxy):
    nodes = proxy["nodes"]
    before = [len(log_lines(n)) for n in nodes]
    with client(proxy) as c:
        for path in ("/metrics", "/metrics/", "/metrics?x=1"):
            r = c.get(f"https://127.0.0.1:{proxy['https']}{path}", timeout=10)
            assert r.status_code == 404, (path, r.status_code)
            assert "X-Request-Id" not in r.headers, (path, r.headers)  # every atelier answer has one
            assert r.headers["Content-Type"].startswith("text/html"), r.headers
        # a request that does reach a node, to know the logs are written by now
        r = c.get(f"https://127.0.0.1:{proxy['https']}/v1/designs", timeout=10)
        wait_logged(nodes, r.headers["X-Request-Id"])
    after = [len(log_lines(n)) for n in nodes]
    assert sum(after) - sum(before) == 1, (before, after)
    # and the nodes' metrics stay on their own listeners
    assert nodes[0].metrics().status_code == 200


def test_a_body_over_the_largest_route_limit_is_refused_by_nginx(proxy):
    limit = limits.LIMIT_IMAGE_BODY
    url = f"https://127.0.0.1:{proxy['https']}/v1/account/picture"
    with client(proxy) as c:
        r = c.put(url, data=b"\0" * (limit + 1), headers={"Content-Type": "image/jpeg"}, timeout=60)
        assert r.status_code == 413, r.status_code
        assert "X-Request-Id" not in r.headers, r.headers  # nginx's answer, not a node's
        r = c.put(url, data=b"\0" * limit, headers={"Content-Type": "image/jpeg"}, timeout=60)
        # exactly the limit reaches a node, which wants a session first
        assert r.status_code == 401, (r.status_code, r.text[:200])
        assert "X-Request-Id" in r.headers, r.headers

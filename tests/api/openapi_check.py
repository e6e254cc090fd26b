"""Every answer the API tests receive, checked against docs/openapi.json.

conftest.py installs check() as a wrapper of requests.Session.send (which
requests.get/post/request and every Session go through) for the servers the
fixtures start (their public port; not the metrics listener). For each
response:

  - the operation is found by method and path template (HEAD uses the GET
    operation when the document has no HEAD one); a path that matches no
    template must be the 404 `not_found` of an unknown path, a known path
    with another method the 405 `method_not_allowed`;
  - the response is found by its status (then `NXX`, then `default`); a
    status the operation does not describe is a failure;
  - the headers it declares: a `required` one must be sent, and each one
    sent must match its schema (X-Request-Id, Retry-After, Atelier-Warnings,
    WWW-Authenticate ...);
  - its Content-Type must be one the response describes (none when it
    describes no content), and a JSON body must validate against the schema
    (JSON Schema 2020-12, the dialect of OpenAPI 3.1, with the document's
    `$ref`s inlined). An unknown path's 404 must be `not_found`, a 405
    `method_not_allowed`.

Failures are collected, not raised where the request was made (a test that
expects an odd answer still sees it); conftest.py's autouse fixture fails
the test that caused them, listing each. Validators are compiled once per
schema and cached. ATELIER_TEST_OPENAPI=0 turns the check off (to measure
its cost)."""

import json
import os
import re
import threading
import urllib.parse

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC_PATH = os.path.join(ROOT, "docs", "openapi.json")
ENABLED = os.environ.get("ATELIER_TEST_OPENAPI", "1") != "0"

_lock = threading.Lock()
_ports = set()  # public ports of the servers started by the fixtures
_failures = []  # strings, drained by take_failures()
_state = {}  # doc, routes, validators
_ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}


def watch_port(port):
    with _lock:
        _ports.add(int(port))


def unwatch_port(port):
    """A port freed (its server stopped) may come back as another listener's
    (a metrics listener, a fake relay): stop checking it."""
    with _lock:
        _ports.discard(int(port))


def take_failures():
    with _lock:
        out = list(_failures)
        _failures.clear()
    return out


def _fail(msg):
    with _lock:
        _failures.append(msg)


def _load():
    """The document and its path templates, once per process (thread-safe:
    the API tests also send from threads)."""
    if "routes" in _state:
        return _state
    with _lock:
        if "routes" in _state:
            return _state
        with open(DOC_PATH, encoding="utf-8") as f:
            doc = json.load(f)
        routes = []
        for template, item in doc["paths"].items():
            rx = ""
            literal = 0
            for part in re.split(r"(\{[^}]+\})", template):
                if part.startswith("{"):
                    rx += "[^/.]+"  # ids, names and designs hold no dot (routes.c)
                else:
                    rx += re.escape(part)
                    literal += len(part)
            routes.append((literal, re.compile("^" + rx + "$"), template, item))
        routes.sort(key=lambda r: -r[0])  # the most literal template first
        _state.update(doc=doc, validators={}, inlined={}, checked=0)
        _state["routes"] = routes  # last: its presence says the state is complete
    return _state


def _resolve(doc, obj):
    """Follow a local $ref chain (#/components/...)."""
    seen = 0
    while isinstance(obj, dict) and "$ref" in obj and seen < 16:
        node = doc
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        obj = node
        seen += 1
    return obj


def _inline(state, obj, stack=()):
    """obj with every local $ref replaced by its target (a $ref with
    siblings becomes allOf [target] plus them): validating an inlined schema
    is about 2.5 times faster than resolving the references each time."""
    if isinstance(obj, dict):
        ref = obj.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in stack:
                raise RecursionError(ref)
            done = state["inlined"]
            if ref not in done:
                done[ref] = _inline(state, _resolve(state["doc"], {"$ref": ref}), stack + (ref,))
            rest = {k: _inline(state, v, stack) for k, v in obj.items() if k != "$ref"}
            return {"allOf": [done[ref]], **rest} if rest else done[ref]
        return {k: _inline(state, v, stack) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_inline(state, v, stack) for v in obj]
    return obj


def _validator(state, schema):
    """A compiled validator per schema object of the document, cached."""
    key = id(schema)
    hit = state["validators"].get(key)
    if hit is not None:
        return hit[0]
    with _lock:
        return _compile(state, schema, key)


def _compile(state, schema, key):
    try:
        v = jsonschema.Draft202012Validator(_inline(state, schema))
    except RecursionError:  # a recursive schema: let jsonschema resolve it
        v = jsonschema.Draft202012Validator(schema, resolver=jsonschema.RefResolver("", state["doc"]))
    state["validators"][key] = (v, schema)  # holding schema keeps id() unique
    return v


def _media(ctype):
    return (ctype or "").split(";", 1)[0].strip().lower()


def _find(state, method, path):
    """(template, operation) or (template, None) for another method, or
    (None, None) for an unknown path."""
    for _, rx, template, item in state["routes"]:
        if rx.match(path):
            op = item.get(method)
            if op is None and method == "head":
                op = item.get("get")
            return template, op
    return None, None


def check(response, streamed=False):
    """Check one requests.Response; never raises (failures are collected)."""
    if not ENABLED:
        return
    try:
        _check(response, streamed)
    except Exception as e:  # a bug here must not look like the server's
        _fail(f"openapi_check: internal error on {response.request.method} "
              f"{response.request.url}: {type(e).__name__}: {e}")


def checked():
    """How many answers were checked in this process."""
    return _state.get("checked", 0)


def _check(response, streamed):
    req = response.request
    url = urllib.parse.urlsplit(req.url)
    if url.hostname not in ("127.0.0.1", "localhost") or url.port not in _ports:
        return
    state = _load()
    with _lock:
        state["checked"] += 1
    doc = state["doc"]
    method = req.method.lower()
    status = response.status_code
    where = f"{req.method} {url.path} -> {status}"
    template, op = _find(state, method, url.path)
    if method == "options" and template is not None:
        # OPTIONS on a known path: 204 with Allow (docs/API.md, HTTP
        # conventions; described once in info.description)
        if status != 204 or not response.headers.get("Allow"):
            _fail(f"{where}: OPTIONS on {template} should be 204 with Allow")
        return
    if op is None:
        # the HTTP layer's answers for what the document does not list
        want = 404 if template is None else 405
        if status != want and status not in (414, 431):
            _fail(f"{where}: {'no path template matches' if template is None else 'no ' + req.method + ' operation on ' + template}"
                  f", so the answer should be {want}")
            return
        if method == "head":
            return
        body_schema = _ERROR_SCHEMA
        if _media(response.headers.get("Content-Type")) != "application/json":
            _fail(f"{where}: an error answer is not application/json")
            return
        body = _validate_json(state, where, response, body_schema, streamed)
        code = {404: "not_found", 405: "method_not_allowed"}.get(status)
        if code and isinstance(body, dict) and body.get("error", {}).get("code") != code:
            _fail(f"{where}: the code should be {code}: {response.content[:200]!r}")
        return
    where = f"{req.method} {template} -> {status}"
    responses = op.get("responses", {})
    spec = responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default")
    if spec is None:
        _fail(f"{where}: status {status} is not described (described: "
              f"{', '.join(sorted(responses))}); body: {response.content[:300]!r}" if not streamed
              else f"{where}: status {status} is not described")
        return
    spec = _resolve(doc, spec)
    _check_headers(state, where, response, spec)
    if method == "head" or status in (204, 304):
        return
    content = spec.get("content") or {}
    media = _media(response.headers.get("Content-Type"))
    if not content:
        if not streamed and response.content:
            _fail(f"{where}: the document describes no body, the server sent {media or 'one'}"
                  f" ({len(response.content)} bytes)")
        return
    if media not in content:
        _fail(f"{where}: Content-Type {media!r} is not among {sorted(content)}")
        return
    schema = content[media].get("schema")
    if schema is None or not (media == "application/json" or media.endswith("+json")):
        return
    _validate_json(state, where, response, schema, streamed)


def _check_headers(state, where, response, spec):
    """The headers the response declares: a required one must be there, and
    each one there must match its schema (an integer schema reads the value
    as a number)."""
    for name, h in (spec.get("headers") or {}).items():
        h = _resolve(state["doc"], h)
        value = response.headers.get(name)
        if value is None:
            if h.get("required"):
                _fail(f"{where}: the required header {name} is missing")
            continue
        schema = h.get("schema")
        if not schema:
            continue
        if _resolve(state["doc"], schema).get("type") == "integer":
            try:
                value = int(value)
            except ValueError:
                _fail(f"{where}: header {name}: {value!r} is not an integer")
                continue
        errors = list(_validator(state, schema).iter_errors(value))
        if errors:
            _fail(f"{where}: header {name}: {value!r}: {errors[0].message[:200]}")


def _validate_json(state, where, response, schema, streamed):
    """Validate the JSON body; returns it (None when streamed or not JSON)."""
    if streamed:
        return None  # the test reads the body itself; do not consume it here
    try:
        body = json.loads(response.content)
    except ValueError as e:
        _fail(f"{where}: the body is not JSON ({e})")
        return None
    errors = sorted(_validator(state, schema).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for e in errors[:5]:
            at = "/".join(str(p) for p in e.absolute_path) or "(root)"
            lines.append(f"    at {at}: {e.message[:300]}")
        _fail(f"{where}: the body does not match the document's schema:\n" + "\n".join(lines)
              + f"\n    body: {response.content[:400]!r}")
    return body


def install(requests_module):
    """Wrap requests.Session.send once (idempotent)."""
    sess = requests_module.Session
    if getattr(sess.send, "_openapi_checked", False):
        return
    original = sess.send

    def send(self, request, **kwargs):
        r = original(self, request, **kwargs)
        check(r, streamed=bool(kwargs.get("stream")))
        for h in r.history:  # redirects followed
            check(h, streamed=True)
        return r

    send._openapi_checked = True
    sess.send = send

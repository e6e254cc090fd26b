#!/usr/bin/env python3
"""Write into docs/openapi.json who may call each authenticated route, from
the route table's flags (src/api/routes.c):

  - `security`: the session schemes (`bearer`, and `cookie` for the site:
    auth.c takes either on every authenticated route), plus `apiKey` on
    ROUTE_KEY_OK routes, with the scopes that may
    call them (`read` and `write` on GET, `write` otherwise);
  - `x-atelier-restricted-ok`: whether ROUTE_RESTRICTED_OK is set (a
    restricted account's session may call it);
  - its 403 response: `#/components/responses/AuthForbidden` on GET
    (insufficient_scope, restricted), `WriteForbidden` on other methods
    (csrf_failed too), `PasswordForbidden` where the operation
    documents `wrong_password` (its 403 was `Forbidden`), or
    `CodeForbidden` where it documents the two-factor `wrong_code` (its 403
    was written for it: a description naming `wrong_code`).

On every route, public ones included:

  - `security: []` on the routes without ROUTE_AUTH (public: no
    credential; Redocly's `security-defined` rule wants it said);
  - the answers of the HTTP layer that any request can get, whatever its
    route: 413 (`TooLarge`: a body over the route's limit, or any body on
    a route that takes none, http_first_call), 414
    (`#/components/responses/UriTooLong`, src/http/http.c
    http_check_target) and 431 (`TooManyHeaders`, http_check_headers);
  - the `X-Request-Id` header (`#/components/headers/RequestId`, required)
    on every response the document describes: src/http/http.c sets it on
    every answer. (A response that is a `$ref` gets it from its component.)

tests/unit/test_openapi.c fails when the document and the flags disagree;
after adding a route (or merging a branch that did), set its flags in
routes.c, then run

    python3 tools/openapi_access.py

and review the diff. Idempotent; keys and layout are kept (indent 2)."""

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUTES = os.path.join(ROOT, "src", "api", "routes.c")
DOC = os.path.join(ROOT, "docs", "openapi.json")


def routes():
    src = open(ROUTES, encoding="utf-8").read()
    body = src[src.index("api_route_list[] = {"):]
    body = body[:body.index("};")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    out = []
    for m in re.finditer(r'\{"(\w+)",\s*"([^"]+)",\s*(\w+),\s*([^}]*)\}', body):
        flags = set(re.findall(r"ROUTE_[A-Z_]+", m.group(4)))
        out.append((m.group(1).lower(), m.group(2), flags))
    return out


def request_id_everywhere(doc):
    """X-Request-Id on every response object: the shared ones in
    components.responses and every inline one of an operation."""
    hdr = {"$ref": "#/components/headers/RequestId"}

    def add(resp):
        if "$ref" in resp:
            return  # the component it names carries it
        headers = resp.get("headers", {})
        if "X-Request-Id" not in headers:
            resp["headers"] = {"X-Request-Id": hdr, **headers}

    for resp in doc["components"]["responses"].values():
        add(resp)
    for item in doc["paths"].values():
        for method, op in item.items():
            if isinstance(op, dict) and "responses" in op:
                for resp in op["responses"].values():
                    add(resp)


def main():
    doc = json.load(open(DOC, encoding="utf-8"))
    resp = doc["components"]["responses"]
    for name in ("AuthForbidden", "WriteForbidden", "PasswordForbidden", "CodeForbidden",
                 "UriTooLong", "TooManyHeaders", "TooLarge"):
        if name not in resp:
            sys.exit(f"openapi_access: components.responses.{name} is missing")
    ref = lambda n: {"$ref": "#/components/responses/" + n}  # noqa: E731
    schemes = doc["components"]["securitySchemes"]
    missing = []
    for method, pattern, flags in routes():
        op = doc["paths"].get(pattern, {}).get(method)
        if op is None:
            missing.append(f"{method.upper()} {pattern}")
            continue
        rs = op["responses"]
        rs.setdefault("413", ref("TooLarge"))  # a body over the limit, or on a bodyless route
        rs.setdefault("414", ref("UriTooLong"))
        rs.setdefault("431", ref("TooManyHeaders"))
        if "ROUTE_AUTH" not in flags:
            op["security"] = []
            op["responses"] = {k: rs[k] for k in sorted(rs)}
            continue
        # every session scheme the document has: api/auth.c takes a session
        # from the header or from the site's cookie on every ROUTE_AUTH route
        sec = [{name: []} for name in ("bearer", "cookie") if name in schemes]
        if "ROUTE_KEY_OK" in flags:
            sec.append({"apiKey": ["read", "write"] if method == "get" else ["write"]})
        op["security"] = sec
        op["x-atelier-restricted-ok"] = "ROUTE_RESTRICTED_OK" in flags
        rs = op["responses"]
        own = rs.get("403", {})
        if own == ref("CodeForbidden") or "`wrong_code`" in own.get("description", ""):
            rs["403"] = ref("CodeForbidden")
        elif own in (ref("Forbidden"), ref("PasswordForbidden")):
            rs["403"] = ref("PasswordForbidden")
        else:
            rs["403"] = ref("AuthForbidden" if method == "get" else "WriteForbidden")
        op["responses"] = {k: rs[k] for k in sorted(rs)}
    if "RequestId" not in doc["components"].get("headers", {}):
        sys.exit("openapi_access: components.headers.RequestId is missing")
    request_id_everywhere(doc)
    with open(DOC, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    if missing:
        sys.exit("openapi_access: not in docs/openapi.json (describe them first): " + ", ".join(missing))


if __name__ == "__main__":
    main()

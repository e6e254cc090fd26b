"""Every error code the server can send is in docs/API.md's error table,
with its status, and the table names no code the server does not send
(issue 18, item 1).

The codes are read from src/: the table of src/base/err.c (each error's
default code), and every literal given as the code of req_fail(),
req_fail_json(), http_error() or pattern_fail(), or as the "code" member of
an error body built with json_pack. The status is the one err.c maps the
call's ERR_* value to."""

import os
import re

import conftest

ROOT = conftest.ROOT
SRC = os.path.join(ROOT, "src")
CODE = r'"([a-z]+(?:_[a-z]+)*)"'


def _statuses(err_c):
    """ERR_NAME -> (status, default code), from err.c's table."""
    return {m.group(1): (int(m.group(2)), m.group(3))
            for m in re.finditer(r"\{(ERR_[A-Z_]+),\s*(\d+),\s*" + CODE, err_c)}


def _call_args(text, start):
    """The argument text of the call whose '(' is at start (balanced)."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    return text[start + 1:]


def _split_args(args):
    out, depth, cur, i = [], 0, "", 0
    while i < len(args):
        c = args[i]
        if c == '"':
            j = i + 1
            while args[j] != '"':
                j += 2 if args[j] == "\\" else 1
            cur += args[i:j + 1]
            i = j + 1
            continue
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        if c == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    out.append(cur.strip())
    return out


def emitted(sources, statuses):
    """{(status, code)} the sources can send. sources: {path: text}."""
    found = {(s, c) for s, c in statuses.values() if s != 200}
    for path, text in sources.items():
        for m in re.finditer(r"\b(req_fail_json|req_fail|http_error|pattern_fail)\s*\(", text):
            args = _split_args(_call_args(text, m.end() - 1))
            if m.group(1) == "pattern_fail":
                codes, errs = re.findall(CODE, args[1]) if len(args) > 1 else [], ["ERR_INVALID"]
            elif m.group(1) == "req_fail_json":
                codes = []
                errs = re.findall(r"ERR_[A-Z_]+", args[1]) if len(args) > 1 else []
                codes = re.findall(r'"code",\s*' + CODE, args[2]) if len(args) > 2 else []
            else:
                errs = re.findall(r"ERR_[A-Z_]+", args[1]) if len(args) > 1 else []
                codes = re.findall(CODE, args[2]) if len(args) > 2 else []
                if not errs and codes:  # f(rq, rc, rc == ERR_X ? "code" : NULL, ...)
                    errs = re.findall(r"ERR_[A-Z_]+", args[2])
            for e in errs:
                for c in codes:
                    found.add((statuses[e][0], c))
        # an error body built first, failed later: "code", "x" in json_pack,
        # with the ERR_* of the next req_fail_json in the same file
        for m in re.finditer(r'json_pack\([^;]*?"error",\s*"code",\s*' + CODE, text):
            nxt = re.search(r"req_fail_json\(\s*\w+,\s*(ERR_[A-Z_]+)", text[m.end():])
            if nxt:
                found.add((statuses[nxt.group(1)][0], m.group(1)))
    return found


def table(doc):
    """{(status, code)} of the error table of docs/API.md."""
    sec = doc[doc.index("## Errors"):]
    sec = sec[:sec.index("\n## ", 4)]
    return {(int(m.group(1)), m.group(2))
            for m in re.finditer(r"^\| (\d{3}) \| `([a-z_]+)` \|", sec, re.M)}


def _sources():
    out = {}
    for d, _, files in os.walk(SRC):
        for f in files:
            if f.endswith(".c"):
                p = os.path.join(d, f)
                with open(p, encoding="utf-8") as fh:
                    out[os.path.relpath(p, ROOT)] = fh.read()
    return out


def _doc():
    with open(os.path.join(ROOT, "docs", "API.md"), encoding="utf-8") as f:
        return f.read()


def test_every_code_the_server_sends_is_in_the_table():
    sources = _sources()
    statuses = _statuses(sources["src/base/err.c"])
    sent = emitted(sources, statuses)
    # what the issue named, so that the scan itself cannot lose them
    for want in [(422, "missing_measurements"), (422, "design_not_for_body"), (422, "cannot_draft"),
                 (404, "unknown_design"), (404, "no_release"), (414, "uri_too_long"),
                 (431, "too_many_headers"), (501, "not_implemented"), (400, "malformed_json"),
                 (422, "invalid_image"), (401, "mfa_required")]:
        assert want in sent, f"the scan of src/ did not find {want}"
    documented = table(_doc())
    missing = sorted(sent - documented)
    assert not missing, f"codes the server sends that docs/API.md's error table lacks: {missing}"
    stale = sorted(documented - sent)
    assert not stale, f"codes in docs/API.md's error table that nothing in src/ sends: {stale}"


def test_the_scan_finds_a_new_code():
    statuses = {"ERR_OK": (200, "ok"), "ERR_CONFLICT": (409, "conflict"), "ERR_INVALID": (422, "invalid_field")}
    src = {"x.c": 'static int f(struct req *rq)\n{\n    return req_fail(rq, ERR_CONFLICT, "pattern_clash",\n'
                  '                    "a pattern %s exists", "x");\n}\n'
                  'static int g(struct req *rq)\n{\n    return pattern_fail(rq, "too_tight", "sa", "msg");\n}\n'}
    sent = emitted(src, statuses)
    assert (409, "pattern_clash") in sent and (422, "too_tight") in sent, sent
    assert (409, "a pattern %s exists") not in sent

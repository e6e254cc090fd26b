"""docs/API.md's examples are what the server answers now (issue 18, item 1).

tools/api_examples.py runs every example command against a real server
started for this module (on this run's backend) and compares the answers,
normalized, with the example blocks of docs/API.md. One run of the examples
serves every test here; the tampered copies show that the comparison can
fail, and says how to regenerate."""

import importlib.util
import os

import pytest

import conftest

ROOT = conftest.ROOT
TOOL = os.path.join(ROOT, "tools", "api_examples.py")


def _tool():
    spec = importlib.util.spec_from_file_location("api_examples", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def examples(module_database):
    """(tool module, blocks, requested) of one run on this backend."""
    tool = _tool()
    blocks, requested = tool.run(conftest.ATELIER_BIN, module_database)
    return tool, blocks, requested


def _doc():
    with open(os.path.join(ROOT, "docs", "API.md"), encoding="utf-8") as f:
        return f.read()


def test_api_md_examples_are_what_the_server_answers(examples):
    tool, blocks, requested = examples
    problems, diff, _ = tool.compare(_doc(), blocks, requested)
    assert not problems, "\n".join(problems) + "\n" + diff[-20000:]


def test_every_route_has_an_example(examples):
    tool, _, requested = examples
    assert tool.uncovered(requested) == []
    # and the check notices a route without one
    assert "POST /v1/signup" in tool.uncovered([r for r in requested if r != ("POST", "/v1/signup")])


def test_a_stale_example_is_reported_with_the_command_to_regenerate(examples):
    tool, blocks, requested = examples
    text = _doc()
    stale = text.replace('"status": "ok"', '"status": "fine"', 1)
    assert stale != text
    problems, diff, new = tool.compare(stale, blocks, requested)
    assert any("tools/api_examples.py --write" in p for p in problems), problems
    assert '-  "status": "fine"' in diff and '+  "status": "ok"' in diff, diff
    assert new == text  # --write would restore exactly what the server says


def test_blocks_and_steps_match_one_to_one(examples):
    tool, blocks, requested = examples
    text = _doc()
    marker = "<!-- example: healthz -->\n```console\n"
    i = text.index(marker)
    j = text.index("```", i + len(marker))
    without = text[:i] + text[j + 3:]
    problems, _, _ = tool.compare(without, blocks, requested)
    assert any("no block for example 'healthz'" in p for p in problems), problems
    extra = text + "\n<!-- example: no-such-step -->\n```console\n```\n"
    problems, _, _ = tool.compare(extra, blocks, requested)
    assert any("'no-such-step'" in p for p in problems), problems


def test_the_route_index_lists_every_route(examples):
    """The table of routes at the top of docs/API.md names every route of
    src/api/routes.c (the site's pages and assets in their own rows)."""
    tool = examples[0]
    text = _doc()
    index = text[text.index("## Routes"):text.index("## Conventions")]
    missing = []
    for method, pattern in tool.routes():
        if f"`{method} {pattern}`" in index:
            continue
        if method == "GET" and (f"`{pattern}`" in index or f", `{pattern}`" in index
                                or f"`GET {pattern}`" in index):
            continue
        if method == "GET" and pattern.startswith("/assets/") and pattern[len("/assets"):] in index:
            continue
        missing.append(f"{method} {pattern}")
    assert missing == [], f"routes missing from the index of docs/API.md: {missing}"

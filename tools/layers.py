#!/usr/bin/python3
"""layers.py - check that atelier's layers hold, and draw the module graph.

Every folder of src/ is a module of one layer (docs/ARCHITECTURE.md). A module
may use itself and the modules listed for it in ALLOWED, nothing else. Two
kinds of use are checked:

  includes  every #include "folder/name.h" in src/ (and the private headers:
            a header in PRIVATE may be included only from its own folder and
            from the unit test named with it);
  symbols   every undefined symbol of an object file built from src/FOLDER
            that is defined by an object of another folder (nm on the build),
            so a call through a forward declaration cannot slip past.

Usage: tools/layers.py [--build DIR] [--dot FILE] [--check-dot FILE] [--quiet]
  --build DIR       also check linked symbols, with the objects under DIR
  --dot FILE        write the module graph (Graphviz) of the uses found
  --check-dot FILE  fail when FILE (docs/modules.dot) is not that graph
Exit status: 0 when every use is allowed, 1 otherwise (each one printed).
"""

import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")

# The layers, bottom up. A module may use the modules listed for it.
ALLOWED = {
    "base": set(),
    "obs": {"base"},
    "store": {"base"},
    "draft": {"base"},
    "account": {"base", "obs", "store"},
    "models": {"base", "store", "draft"},
    "privacy": {"base", "obs", "store", "draft", "account", "models"},
    "http": {"base", "obs"},
    "api": {"base", "obs", "store", "draft", "account", "models", "privacy", "http"},
    "cli": {"base", "obs", "store", "draft", "account", "models", "privacy", "http", "api"},
}

LAYER_OF = {
    "base": "base",
    "obs": "obs, store, draft",
    "store": "obs, store, draft",
    "draft": "obs, store, draft",
    "account": "services",
    "models": "services",
    "privacy": "services",
    "http": "http",
    "api": "api",
    "cli": "cli",
}

# Headers private to their folder: (header, extra files allowed to include it).
PRIVATE = {
    "store/driver.h": {"tests/unit/test_db.c", "bench/pg_pipeline_bench.c"},
    "draft/draft_impl.h": set(),
    "obs/accesslog_internal.h": {"tests/unit/test_accesslog.c"},
}

# Folders of include/: the public headers of a module (libatelier_draft's).
PUBLIC = {"atelier": "draft"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([A-Za-z0-9_.]+)"', re.M)
# A relative include ("../store/driver.h") would slip past the folder rule.
RELATIVE = re.compile(r'^\s*#\s*include\s+"[^"]*\.\./[^"]*"', re.M)


def source_files(top):
    for dirpath, _, names in os.walk(top):
        for n in sorted(names):
            if n.endswith((".c", ".h")):
                yield os.path.join(dirpath, n)


def module_of(path):
    rel = os.path.relpath(path, SRC)
    return rel.split(os.sep)[0] if os.sep in rel else None


def check_includes(problems, edges):
    for path in source_files(SRC):
        mod = module_of(path)
        if mod not in ALLOWED:
            problems.append(f"{os.path.relpath(path, ROOT)}: folder {mod!r} is in no layer")
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for m in RELATIVE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            problems.append(f"{os.path.relpath(path, ROOT)}:{line}: a relative include; "
                            "name the folder from src/")
        for m in INCLUDE.finditer(text):
            target, header = PUBLIC.get(m.group(1), m.group(1)), f"{m.group(1)}/{m.group(2)}"
            line = text.count("\n", 0, m.start()) + 1
            where = f"{os.path.relpath(path, ROOT)}:{line}"
            if header in PRIVATE and target != mod:
                problems.append(f"{where}: includes {header}, private to src/{target}")
            if target == mod:
                continue
            edges.add((mod, target))
            if target not in ALLOWED[mod]:
                problems.append(f"{where}: {mod} ({LAYER_OF[mod]}) may not include {header}")
    # a public header includes other public headers (<atelier/...>) and the
    # system's, never a header of src/
    for path in source_files(os.path.join(ROOT, "include")):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for m in INCLUDE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            problems.append(f"{os.path.relpath(path, ROOT)}:{line}: a public header includes "
                            f"{m.group(1)}/{m.group(2)}")
    tests = os.path.join(ROOT, "tests")
    for path in source_files(tests):
        rel = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for m in INCLUDE.finditer(text):
            header = f"{m.group(1)}/{m.group(2)}"
            if header in PRIVATE and rel not in PRIVATE[header]:
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{rel}:{line}: includes {header}, private to src/{m.group(1)}")


def nm(obj):
    out = subprocess.run(["nm", "-P", obj], check=True, capture_output=True, text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(name)
        elif kind in "TDBRCGSVW" or kind in "tdbrgsvw":
            if kind.isupper():
                defined.add(name)
    return defined, undefined


def check_symbols(build, problems, edges):
    objs = {}
    for dirpath, _, names in os.walk(build):
        for n in names:
            if not n.endswith(".c.o"):
                continue
            path = os.path.join(dirpath, n)
            m = re.search(r"/src/([a-z_]+)/([A-Za-z0-9_]+)\.c\.o$", path)
            if m:
                objs[(m.group(1), m.group(2))] = path
    if not objs:
        problems.append(f"{build}: no object built from src/ found (build first)")
        return
    owner = {}
    table = {}
    for key, path in objs.items():
        defined, undefined = nm(path)
        table[key] = undefined
        for sym in defined:
            owner.setdefault(sym, key[0])
    for (mod, name), undefined in sorted(table.items()):
        for sym in sorted(undefined):
            target = owner.get(sym)
            if target is None or target == mod:
                continue
            edges.add((mod, target))
            if target not in ALLOWED.get(mod, set()):
                problems.append(f"src/{mod}/{name}.c: uses {sym} of src/{target} "
                                f"({mod} may not depend on {target})")


def dot_text(edges):
    ranks = ["base", "obs, store, draft", "services", "http", "api", "cli"]
    lines = ["// generated by tools/layers.py: the modules of src/ and their uses",
             "digraph atelier {", "  rankdir=BT;", "  node [shape=box, fontname=monospace];"]
    for rank in ranks:
        mods = [m for m in ALLOWED if LAYER_OF[m] == rank]
        lines.append("  { rank=same; " + " ".join(f'"{m}";' for m in mods) + " }")
    for a, b in sorted(edges):
        lines.append(f'  "{a}" -> "{b}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", help="build directory whose objects are checked")
    ap.add_argument("--dot", help="write the module graph here")
    ap.add_argument("--check-dot", help="fail when this file is not the current graph")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    problems, edges = [], set()
    check_includes(problems, edges)
    if args.build:
        check_symbols(args.build, problems, edges)
    if args.dot:
        with open(args.dot, "w", encoding="utf-8") as f:
            f.write(dot_text(edges))
    if args.check_dot:
        try:
            with open(args.check_dot, encoding="utf-8") as f:
                current = f.read()
        except OSError as e:
            current = f"({e})"
        if current != dot_text(edges):
            problems.append(f"{args.check_dot} is not the module graph of the code; run "
                            f"tools/layers.py --build BUILD --dot {args.check_dot}")
    for p in problems:
        print(f"layers: {p}")
    if not args.quiet or problems:
        print("layers: module uses found: " +
              ", ".join(f"{a}->{b}" for a, b in sorted(edges)))
    print(f"layers: {len(problems)} wrong-way use(s)"
          f"{' (includes and linked symbols)' if args.build else ' (includes)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

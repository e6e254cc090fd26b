#!/usr/bin/env python3
"""docs/LIMITS.md against src/base/policy.h, run by CTest as limits_doc.

usage: limits_doc.py ATELIER_BIN POLICY_H LIMITS_MD

Three lists must hold the same names, and the two with values the same values:
  - the LIMIT_* and RETAIN_* macros #defined in policy.h (names only),
  - `atelier limits` (the compiled values, generated from POLICY_LIMITS),
  - the table under "## Every constant" in LIMITS.md (| `NAME` | value | unit |).
Exit status 0 when they agree, 1 with every difference listed otherwise.
"""
import json
import re
import subprocess
import sys

DEFINE_RE = re.compile(r"^\s*#\s*define\s+((?:LIMIT|RETAIN)_[A-Z0-9_]+)\b", re.M)
ROW_RE = re.compile(r"^\|\s*`([A-Z0-9_]+)`\s*\|\s*([^|]+?)\s*\|")


def policy_names(path):
    with open(path, encoding="utf-8") as f:
        return DEFINE_RE.findall(f.read())


def compiled(binary):
    out = subprocess.run([binary, "limits"], check=True, capture_output=True, timeout=30).stdout
    return json.loads(out)


def doc_table(path):
    """{name: value} of the rows under the "## Every constant" heading."""
    rows, inside = {}, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                inside = line.startswith("## Every constant")
                continue
            m = ROW_RE.match(line) if inside else None
            if m:
                name, text = m.groups()
                if name in rows:
                    raise ValueError(f"{name} listed twice in {path}")
                rows[name] = float(text) if re.search(r"[.eE]", text) else int(text)
    return rows


def differences(names, values, doc):
    problems = []
    if len(set(names)) != len(names):
        problems.append("policy.h defines a name twice")
    for n in sorted(set(names) - set(values)):
        problems.append(f"{n}: defined in policy.h, missing from POLICY_LIMITS (atelier limits)")
    for n in sorted(set(values) - set(names)):
        problems.append(f"{n}: printed by atelier limits, not defined in policy.h")
    for n in sorted(set(values) - set(doc)):
        problems.append(f"{n}: missing from the LIMITS.md table")
    for n in sorted(set(doc) - set(values)):
        problems.append(f"{n}: in the LIMITS.md table, not a limit of policy.h")
    for n in sorted(set(doc) & set(values)):
        if doc[n] != values[n] or type(doc[n]) is not type(values[n]):
            problems.append(f"{n}: LIMITS.md says {doc[n]!r}, policy.h {values[n]!r}")
    if not doc:
        problems.append("LIMITS.md has no table under '## Every constant'")
    return problems


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    problems = differences(policy_names(argv[2]), compiled(argv[1]), doc_table(argv[3]))
    for p in problems:
        print(p)
    print(f"limits_doc: {len(problems)} difference(s)" if problems else "limits_doc: all agree")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

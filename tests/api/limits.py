"""The server's limits, read from the binary under test instead of copied.

`$ATELIER_BIN limits` prints every LIMIT_* and RETAIN_* constant of
src/base/policy.h as JSON (docs/LIMITS.md lists them). It runs once, on the
first use; then each is an attribute of this module under its C name:

    import limits
    body = b"x" * (limits.LIMIT_JSON_BODY + 1)

An unknown name raises AttributeError, so a renamed limit fails loudly.
"""

import functools
import json
import subprocess

from conftest import ATELIER_BIN


@functools.lru_cache(maxsize=None)
def values():
    """{name: value} as printed by `atelier limits`."""
    r = subprocess.run([ATELIER_BIN, "limits"], capture_output=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"{ATELIER_BIN} limits: exit {r.returncode}: {r.stderr[:300]!r}")
    out = json.loads(r.stdout)
    if not isinstance(out, dict) or not out:
        raise RuntimeError(f"{ATELIER_BIN} limits: not a JSON object of limits: {r.stdout[:300]!r}")
    return out


def __getattr__(name):
    if name.startswith(("LIMIT_", "RETAIN_")):
        try:
            return values()[name]
        except KeyError:
            pass
    raise AttributeError(f"atelier limits has no {name}")

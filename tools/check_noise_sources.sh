#!/usr/bin/env bash
# check_noise_sources.sh - the open data release's noise has one source
# (run by CTest as noise_sources; design: differential-privacy.md, section 4):
#   1. neither the atelier binary nor the libraries it is built from import
#      or call a libc pseudo-random generator (rand, random, drand48 and
#      their kin, arc4random): randomness comes from libsodium only;
#   2. the sampler, src/privacy/dgauss.c, uses no floating point (float,
#      double), not the seeded generator of base/rng.h (rng_*, the include),
#      and no rand(): its code, with comments stripped, is searched for the
#      tokens.
# Usage: check_noise_sources.sh atelier dgauss.c libatelier_core.a [more.a ...]
set -euo pipefail

if [ $# -lt 3 ]; then
    echo "usage: $0 atelier-binary dgauss.c libatelier_core.a [archives...]" >&2
    exit 2
fi
binary="$1"
dgauss="$2"
shift 2
for f in "$binary" "$dgauss" "$@"; do
    [ -r "$f" ] || {
        echo "noise_sources: cannot read '$f'" >&2
        exit 2
    }
done

# libc's generators: the names the design forbids, with their reentrant and
# state-setting variants.
forbidden='rand random srand srandom rand_r drand48 erand48 lrand48 mrand48 nrand48 jrand48
srand48 seed48 lcong48 arc4random arc4random_buf arc4random_uniform random_r srandom_r
initstate initstate_r setstate setstate_r drand48_r erand48_r lrand48_r mrand48_r nrand48_r
jrand48_r srand48_r seed48_r lcong48_r'
pattern="^($(echo $forbidden | tr ' ' '|'))\$"

status=0

# 1. Symbols: what the binary imports (nm -u, versions like @GLIBC_2.2.5
# dropped) and what any object of the archives leaves undefined. An nm that
# fails stops the check (set -e), and the binary and the first archive must
# show libsodium's randombytes_buf, so that an empty listing cannot pass.
binsyms="$(nm -u "$binary" | awk '{ print $NF }' | sed 's/@.*//' | sort -u)"
grep -qx randombytes_buf <<<"$binsyms" || {
    echo "noise_sources: $binary does not import randombytes_buf: wrong file or nm output" >&2
    exit 2
}
imported="$(grep -E "$pattern" <<<"$binsyms" || true)"
if [ -n "$imported" ]; then
    echo "noise_sources: $binary imports a libc random generator:" >&2
    printf '%s\n' "$imported" | sed 's/^/  /' >&2
    status=1
fi
first=1
for lib in "$@"; do
    libsyms="$(nm "$lib" | awk '$1 == "U" { print $2 }' | sed 's/@.*//' | sort -u)"
    if [ "$first" = 1 ] && ! grep -qx randombytes_buf <<<"$libsyms"; then
        echo "noise_sources: $lib does not call randombytes_buf: wrong file or nm output" >&2
        exit 2
    fi
    first=0
    used="$(grep -E "$pattern" <<<"$libsyms" || true)"
    if [ -n "$used" ]; then
        echo "noise_sources: $lib calls a libc random generator:" >&2
        printf '%s\n' "$used" | sed 's/^/  /' >&2
        status=1
    fi
done

# 2. The sampler's code without its comments (block and line comments
# become blanks, newlines kept so that line numbers stay right; string and
# character literals are skipped over so that a "/*" inside one is not a
# comment, but kept, so that an #include "base/rng.h" is still seen).
code="$(python3 - "$dgauss" <<'PY'
import re, sys
src = open(sys.argv[1], encoding="utf-8").read()
tok = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/|//[^\n]*', re.S)
def blank(m):
    s = m.group(0)
    return s if s[0] in "\"'" else re.sub(r"[^\n]", " ", s)
sys.stdout.write(tok.sub(blank, src))
PY
)"
check_token() {
    local what="$1" regex="$2" hits
    hits="$(printf '%s\n' "$code" | grep -nE "$regex" || true)"
    if [ -n "$hits" ]; then
        echo "noise_sources: $dgauss uses $what:" >&2
        printf '%s\n' "$hits" | sed 's/^/  line /' >&2
        status=1
    fi
}
check_token "floating point" '\b(float|double)\b'
check_token "the seeded generator (rng_*)" '\brng_'
check_token "base/rng.h" '#[[:space:]]*include[[:space:]]*[<"]([^">]*/)?rng\.h[">]'
check_token "a libc random generator" "\\b($(echo $forbidden | tr ' ' '|'))[[:space:]]*\\("

if [ "$status" = 0 ]; then
    echo "noise_sources: no libc random generator in $(basename "$binary") or $# archive(s);" \
        "$(basename "$dgauss") has no floating point, rng_ or rand()"
fi
exit "$status"

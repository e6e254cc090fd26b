#!/usr/bin/env bash
# check_draft_symbols.sh - the link contract of libatelier_draft (run by
# CTest as draft_symbols; docs/DRAFTING.md):
#   1. every global symbol it defines starts with draft_, geom_ or
#      measures_, so it cannot collide in a program that embeds it;
#   2. every symbol its objects leave undefined is defined by the library
#      itself, by libatelier_base, or by libc, libm or cairo.
# Sanitizer runtimes (__asan_*, __ubsan_*, __sanitizer_*, sancov sections) and the
# globals ASan generates for ours are allowed, so the check also holds in
# the ASan build.
# Usage: check_draft_symbols.sh libatelier_draft.a libatelier_base.a [libcairo.so ...]
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 libatelier_draft.a libatelier_base.a [shared libraries...]" >&2
    exit 2
fi
draft="$1"
base="$2"
shift 2

# The shared libraries the engine may use: libc and libm as the compiler
# links them, cairo as CMake found it (or as ldconfig knows it).
libs=()
for so in libc.so.6 libm.so.6; do
    path="$(${CC:-cc} -print-file-name="$so")"
    [ -e "$path" ] || path="$(ldconfig -p | awk -v n="$so" '$1 == n { print $NF; exit }')"
    libs+=("$path")
done
for so in "$@"; do
    case "$so" in
    *.so | *.so.*) libs+=("$so") ;;
    esac
done
[ $# -gt 0 ] || libs+=("$(ldconfig -p | awk '$1 == "libcairo.so.2" { print $NF; exit }')")
for so in "${libs[@]}"; do
    [ -e "$so" ] || {
        echo "draft_symbols: cannot find shared library '$so'" >&2
        exit 2
    }
done

scratch="$(mktemp -d "${TMPDIR:-/tmp}/draft-symbols.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

defined() { nm --defined-only -g "$1" 2>/dev/null | awk 'NF == 3 { print $3 }' | sed 's/@.*//'; }

defined "$draft" | sort -u >"$scratch/draft"
[ -s "$scratch/draft" ] || {
    echo "draft_symbols: $draft defines no symbol" >&2
    exit 2
}
defined "$base" | sort -u >"$scratch/base"
for so in "${libs[@]}"; do
    nm -D --defined-only "$so" | awk 'NF == 3 { print $3 }' | sed 's/@.*//'
done | sort -u >"$scratch/shared"

status=0
sanitizer='^(__asan_|__ubsan_|__sanitizer_|__sancov_|__start___sancov_|__stop___sancov_|__odr_asan(_gen_|\.)(draft|geom|measures)_)'
unprefixed="$(grep -Ev '^(draft|geom|measures)_' "$scratch/draft" | grep -Ev "$sanitizer" || true)"
if [ -n "$unprefixed" ]; then
    echo "draft_symbols: exported without a draft_/geom_/measures_ prefix:" >&2
    printf '%s\n' "$unprefixed" | sed 's/^/  /' >&2
    status=1
fi

nm -u "$draft" | awk 'NF == 2 { print $2 }' | sed 's/@.*//' | sort -u >"$scratch/undefined"
outside="$(comm -23 "$scratch/undefined" "$scratch/draft" | comm -23 - "$scratch/base" |
    comm -23 - "$scratch/shared" | grep -Ev "$sanitizer" || true)"
if [ -n "$outside" ]; then
    echo "draft_symbols: needed from outside libc, libm, cairo and atelier_base:" >&2
    printf '%s\n' "$outside" | sed 's/^/  /' >&2
    status=1
fi

if [ "$status" = 0 ]; then
    echo "draft_symbols: $(wc -l <"$scratch/draft") exported symbols, all prefixed;" \
        "$(wc -l <"$scratch/undefined") undefined, all from the engine, atelier_base, libc, libm or cairo"
fi
exit "$status"

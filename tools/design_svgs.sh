#!/usr/bin/env bash
# tools/design_svgs.sh - redraw the pictures of docs/DRAFTING.md: each design
# drafted by atelier-draft from one of FreeSewing's adult sets (the test
# fixtures), at the default options, seam allowance 10 mm, the title date
# fixed so that the files change only when the drafting does.
#   tools/design_svgs.sh [BUILD]      (default build; needs atelier-draft and
#                                      draft_bench built there)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
CSV="$ROOT/tests/fixtures/freesewing-adult-sizes.csv"
OUT="$ROOT/docs/designs"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"
# design, set, body, extra options
while read -r design set breasts extra; do
    "$BUILD/draft_bench" json "$CSV" "$set" >"$TMP/$set.json"
    # shellcheck disable=SC2086
    "$BUILD/atelier-draft" "$design" --measurements "$TMP/$set.json" --breasts "$breasts" \
        --name "$set" --date 2026-12-07 $extra --output "$OUT/$design.svg"
    echo "docs/designs/$design.svg: $set"
done <<'LIST'
body cisMaleAdult38 false
bodice cisFemaleAdult36 true
trouser cisMaleAdult38 false
tshirt cisFemaleAdult36 true
skirt cisFemaleAdult36 true
LIST

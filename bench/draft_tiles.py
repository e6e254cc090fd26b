#!/usr/bin/python3
"""Blank pages in tiled PDFs, measured from outside the engine (issue 15 item 7).

For each of the 20 FreeSewing adult sets (tests/fixtures) and each design
that fits the body, the drafting executable BIN writes the pattern twice:
tiled on PAPER (a4 or letter) and as one full-size page. The full-size page
(pattern only, no tile furniture) is rasterised by poppler at 2 px/mm; every
tiled page is identified by its large label (the tallest word on the page,
from pdftotext -bbox), and its printed window is looked up in that raster.
A page whose window holds no ink of the pattern is blank: only alignment
marks. Windows lying wholly inside a piece hold no line either; they are
counted apart ("inside"), as they carry a piece's paper. Ink that no
printed page's window holds is counted as lost (a sliver along a tile's
edge left out is printed by its neighbour, whose window overlaps by 10 mm).

Usage: bench/draft_tiles.py BIN [PAPER] [DESIGN...]
       (BIN: build/atelier-draft, or an older build's, to compare)
Needs pdftoppm and pdftotext (poppler-utils). Not part of the test suite.
"""

import csv
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CSV = os.path.join(HERE, "..", "tests", "fixtures", "freesewing-adult-sizes.csv")
BREASTS_ONLY = {"bustFront", "bustPointToUnderbust", "bustSpan", "highBust", "highBustFront",
                "hpsToWaistFront", "underbust", "waistToUnderbust"}
PAPER = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
MARGIN = OVERLAP = 10.0
PX_PER_MM = 2


def sets():
    with open(CSV, newline="") as f:
        for row in csv.DictReader(f):
            name = row.pop("model")
            yield name, {k: int(v) for k, v in row.items()}


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    w, h = int(m.group(1)), int(m.group(2))
    return w, h, data[m.end():]


def inked(raster, x0, y0, x1, y1):
    """Any pixel darker than 200 in the rectangle (pixels, clipped)."""
    w, h, px = raster
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    for y in range(y0, y1):
        row = px[y * w + x0:y * w + x1]
        if row and min(row) < 200:
            return True
    return False


def page_labels(pdf):
    """The tile label of each page (None for the assembly page)."""
    html = subprocess.run(["pdftotext", "-bbox", pdf, "-"], capture_output=True, text=True,
                          check=True).stdout
    labels = []
    for page in html.split("<page ")[1:]:
        if ">assembly<" in page:  # the assembly page opens a tiled PDF
            labels.append(None)
            continue
        best, tallest = None, 0.0
        for m in re.finditer(r'yMin="([0-9.]+)" xMax="[0-9.]+" yMax="([0-9.]+)">([^<]*)<', page):
            height = float(m.group(2)) - float(m.group(1))
            if height > tallest:
                tallest, best = height, m.group(3)
        labels.append(best if best and re.fullmatch(r"[A-Z]+[0-9]+", best) else None)
    return labels


def label_cell(label):
    m = re.fullmatch(r"([A-Z]+)([0-9]+)", label)
    col = 0
    for ch in m.group(1):
        col = col * 26 + (ord(ch) - 64)
    return col - 1, int(m.group(2)) - 1


def inside_piece(raster, x0, y0, x1, y1):
    """A window without ink whose centre is enclosed by ink on all four sides."""
    w, h, px = raster
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    if not (0 <= cx < w and 0 <= cy < h):
        return False
    rays = [range(cx, -1, -1), range(cx, w)], [range(cy, -1, -1), range(cy, h)]
    hit = [any(px[cy * w + x] < 200 for x in r) for r in rays[0]]
    hit += [any(px[y * w + cx] < 200 for y in r) for r in rays[1]]
    return all(hit)


def measure(binary, paper, design, name, values, breasts, work):
    src = os.path.join(work, "m.json")
    with open(src, "w") as f:
        json.dump(values if breasts else {k: v for k, v in values.items()
                                          if k not in BREASTS_ONLY}, f)
    base = [binary, design, "--measurements", src, "--breasts", "true" if breasts else "false"]
    full, tiled = os.path.join(work, "full.pdf"), os.path.join(work, "tiled.pdf")
    subprocess.run(base + ["--paper", "full", "--output", full], check=True,
                   capture_output=True)
    subprocess.run(base + ["--paper", paper, "--output", tiled], check=True, capture_output=True)
    stem = os.path.join(work, "full")
    subprocess.run(["pdftoppm", "-r", str(25.4 * PX_PER_MM), "-gray", "-singlefile", full, stem],
                   check=True)
    raster = read_pgm(stem + ".pgm")
    pw, ph = PAPER[paper]
    uw, uh = pw - 2 * MARGIN, ph - 2 * MARGIN
    sx, sy = uw - OVERLAP, uh - OVERLAP
    width_mm, height_mm = raster[0] / PX_PER_MM - 2 * MARGIN, raster[1] / PX_PER_MM - 2 * MARGIN
    cols = 1 if width_mm <= uw else 1 + int(-(-(width_mm - uw) // sx))
    rows = 1 if height_mm <= uh else 1 + int(-(-(height_mm - uh) // sy))

    def window(c, r):  # pixels in the full-size raster, 1 px inside the window
        k = PX_PER_MM
        return (int((MARGIN + c * sx) * k) + 1, int((MARGIN + r * sy) * k) + 1,
                int((MARGIN + c * sx + uw) * k) - 1, int((MARGIN + r * sy + uh) * k) - 1)

    printed = {label_cell(lab) for lab in page_labels(tiled) if lab}
    blank = inside = missing = 0
    for r in range(rows):
        for c in range(cols):
            ink = inked(raster, *window(c, r))
            if (c, r) in printed and not ink:
                if inside_piece(raster, *window(c, r)):
                    inside += 1
                else:
                    blank += 1
                    print(f"  blank: {name} {design} {c},{r}", file=sys.stderr)
            if (c, r) not in printed and ink and lost(raster, window, printed, c, r):
                missing += 1
                print(f"  lost: {name} {design} {c},{r}", file=sys.stderr)
    return len(printed), blank, inside, missing


def lost(raster, window, printed, c, r):
    """Ink in the window of tile (c, r) that no printed tile's window holds."""
    w, h, px = raster
    x0, y0, x1, y1 = window(c, r)
    shown = [window(*t) for t in printed]
    for y in range(max(0, y0), min(h, y1)):
        covered = sorted((a, b) for a, top, b, bottom in shown if top <= y < bottom)
        x = max(0, x0)
        for a, b in covered + [(min(w, x1), min(w, x1))]:
            if a > x:
                row = px[y * w + x:y * w + min(a, min(w, x1))]
                if row and min(row) < 200:
                    return True
            x = max(x, b)
            if x >= min(w, x1):
                break
    return False


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary, paper = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "a4"
    designs = sys.argv[3:] or ["body", "bodice", "trouser"]
    with tempfile.TemporaryDirectory() as work:
        for design in designs:
            total = [0, 0, 0, 0]
            for name, values in sets():
                breasts = name.startswith("cisFemale")
                if (design == "body" and breasts) or (design == "bodice" and not breasts):
                    continue
                got = measure(binary, paper, design, name, values, breasts, work)
                total = [a + b for a, b in zip(total, got)]
            print(f"{design:8s} {paper}: {total[0]} tile pages printed, {total[1]} blank "
                  f"(alignment marks only), {total[2]} inside a piece, {total[3]} with ink "
                  f"printed nowhere")


if __name__ == "__main__":
    main()

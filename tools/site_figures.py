#!/usr/bin/env python3
"""Write the measurement drawings of the model editor (web/assets/m/*.svg).

Each drawing is the same plain figure (front view; the back view for
hpsToWaistBack) with the measurement drawn over it in the accent colour:
a girth as an ellipse around the body, a length as a line with end marks.
Run once after changing a drawing; the SVG files are committed, the site
has no build step.  Usage: tools/site_figures.py [web/assets/m]
"""
import os
import sys

FIG = ("M88 18a15 17 0 1 0 .1 0Z"  # head
       "M80 50v8l-28 8q-8 3-10 14l-10 58q-1 6 4 6l6 0 10-52 2 40q-8 16-8 40l2 70h18l6-76h6l6 76h18"
       "l2-70q0-24-8-40l2-40 10 52h6q5 0 4-6l-10-58q-2-11-10-14l-28-8v-8")
BUST = "M66 92q10 10 22 2q12 8 22-2"

def girth(y, rx, ry=5):
    return (f'<ellipse cx="88" cy="{y}" rx="{rx}" ry="{ry}" class="m"/>'
            f'<path d="M{88 - rx} {y}h-8M{88 + rx} {y}h8" class="m"/>')

def length(x1, y1, x2, y2):
    return (f'<path d="M{x1} {y1}L{x2} {y2}" class="m"/>'
            f'<path d="M{x1 - 5} {y1}h10M{x2 - 5} {y2}h10" class="m"/>')

DRAWINGS = {
    "neck": ("Neck: around the base of the neck, where a shirt collar sits.", girth(56, 10, 4), True),
    "chest": ("Chest or bust: around the fullest part, tape level all round.", girth(94, 30), True),
    "highBust": ("High bust: right under the arms, above the bust, level at the back.", girth(80, 27, 4), True),
    "waist": ("Waist: around the narrowest part, usually a little above the navel.", girth(128, 22), True),
    "hips": ("Hips: around the top of the hip bones, where trousers sit.", girth(146, 27), True),
    "seat": ("Seat: around the fullest part of the buttocks, tape level.", girth(168, 31, 6), True),
    "hpsToWaistFront": ("HPS to waist, front: from the highest point of the shoulder, beside the neck, over the bust down to the waist.",
                        '<path d="M80 60q0 30 -8 36q-2 14 0 32" class="m"/><path d="M75 60h10M67 128h10" class="m"/>', True),
    "hpsToWaistBack": ("HPS to waist, back: from the highest point of the shoulder, beside the neck, straight down the back to the waist.",
                       length(80, 60, 80, 128), False),
    "crossSeam": ("Cross seam: from the centre front waist, down between the legs, up to the centre back waist.",
                  '<path d="M88 128v56q0 10 -6 10" class="m" stroke-dasharray="4 3"/><path d="M83 128h10" class="m"/>', True),
    "inseam": ("Inseam: from the crotch straight down the inside of the leg to the floor.",
               length(86, 192, 86, 262), True),
    "shoulderSlope": ("Shoulder slope: the angle between the shoulder line and the horizontal.",
                      '<path d="M80 58L52 66" class="m"/><path d="M80 58H44" class="m" stroke-dasharray="3 3"/><path d="M58 58q2 4 0 6" class="m"/>', True),
}

def svg(name, text, marks, front):
    view = "front" if front else "back"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 176 270" width="176" height="270" role="img">'
            f'<title>{text}</title>'
            '<style>.b{fill:#f3ede4;stroke:#55504a;stroke-width:1.5}.m{fill:none;stroke:#b3261e;stroke-width:2.5;stroke-linecap:round}'
            'text{font:11px sans-serif;fill:#55504a}</style>'
            f'<path d="{FIG}" class="b"/>' + (f'<path d="{BUST}" fill="none" stroke="#55504a"/>' if front else "") +
            marks + f'<text x="4" y="266">{view}</text></svg>\n')

def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "web", "assets", "m")
    for name, (text, marks, front) in DRAWINGS.items():
        with open(os.path.join(out, name + ".svg"), "w") as f:
            f.write(svg(name, text, marks, front))

if __name__ == "__main__":
    main()

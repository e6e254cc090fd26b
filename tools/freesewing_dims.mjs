// tools/freesewing_dims.mjs - the key dimensions of FreeSewing 4.10.2's
// Teagan (T-shirt) and Penelope (pencil skirt) on FreeSewing's adult sets,
// with the keys `draft_bench dims` prints for atelier's tshirt and skirt, for
// the comparison table of docs/DRAFTING.md. Measured from the points and
// paths FreeSewing drafts; nothing of FreeSewing is part of atelier, and
// nothing of atelier's build or tests needs this script or Node.
//
//   mkdir /tmp/fs && cd /tmp/fs && npm init -y && npm install \
//     @freesewing/teagan@4.10.2 @freesewing/penelope@4.10.2 \
//     @freesewing/plugin-transform@4.10.2 @freesewing/config@4.10.2
//   cp .../tools/freesewing_dims.mjs . && node freesewing_dims.mjs \
//     .../tests/fixtures/freesewing-adult-sizes.csv cisFemaleAdult30 cisMaleAdult38
//
// Teagan at its defaults (chestEase 12 %, hipsEase 18 %, lengthBonus 5 %,
// sleeveLength 30 %), Penelope at its defaults (waistEase 1 %, seatEase
// 1 %, two darts, back vent 40 % of the length, waistband 10 % of
// waistToKnee wide). The waist seam of Penelope is its waist path less the
// darts' legs; its waistband is cut on the fold, so twice its part long.
import { Teagan } from '@freesewing/teagan'
import { Penelope } from '@freesewing/penelope'
import fs from 'fs'
const csv = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n')
const cols = csv[0].split(',')
const sets = Object.fromEntries(csv.slice(1).map(l => { const v = l.split(','); const m = {}; cols.slice(1).forEach((c, i) => m[c] = +v[i + 1]); return [v[0], m] }))
const names = process.argv.slice(3)
const r1 = x => Math.round(x * 10) / 10
const out = {}
for (const name of names) {
  const m = sets[name]
  const t = new Teagan({ measurements: m, sa: 0 }).draft()
  const P = t.parts[0]
  const f = P['teagan.front'], b = P['teagan.back'], s = P['teagan.sleeve']
  const fp = f.points, bp = b.points, sp = s.points
  const path = (part, n) => part.paths[n].length()
  const cap = path(s, 'saBase') - 2 * sp.hemRight.dist(sp.bicepsRight)
  out[name] = {
    tshirt: {
      chest_girth: r1(2 * (fp.armhole.x + bp.armhole.x)),
      hem_girth: r1(2 * (fp.hem.x + bp.hem.x)),
      cb_length: r1(bp.cbHem.y),
      armhole_depth: r1(bp.cbArmhole.y),
      front_neck_depth: r1(fp.cfNeck.y), back_neck_depth: r1(bp.cbNeck.y),
      sleeve_width: r1(sp.bicepsRight.x - sp.bicepsLeft.x),
      cap_height: r1(-sp.sleeveTop.y),
      sleeve_length: r1(sp.hemLeft.y - sp.sleeveTop.y),
      sleeve_hem: r1(sp.hemRight.x - sp.hemLeft.x),
      cap: r1(cap),
    },
  }
  const pe = new Penelope({ measurements: m, sa: 0 }).draft()
  const Q = pe.parts[0]
  const pf = Q['penelope.front'], pb = Q['penelope.back'], pw = Q['penelope.waistband']
  const st = pf.context?.store ?? pe.setStores?.[0] ?? pe.store
  // the waist seam without darts: the waist path less each dart's two legs
  const legs = (pt, k) => pt[`dart${k}Start`] ? pt[`dart${k}Start`].dist(pt[`dart${k}Middle`]) + pt[`dart${k}Middle`].dist(pt[`dart${k}End`]) : 0
  const seam = (part) => part.paths.waist.length() - legs(part.points, 1) - legs(part.points, 2)
  const dart = (part) => part.points.dart1Start ? r1(part.points.dart1Start.dist(part.points.dart1End)) : 0
  const depth = (part) => part.points.dart1Middle ? r1(part.points.dart1Middle.y) : 0
  out[name].skirt = {
    waist_girth: r1(2 * (seam(pf) + seam(pb))),
    seat_girth: r1(2 * (pf.points.rSeat.x + pb.points.rSeat.x)),
    hem_girth: r1(2 * (pf.points.rLeg.x + pb.points.rLeg.x)),
    length: r1(pf.points.lLeg.y),
    darts_per_panel: pf.points.dart2Start ? 2 : pf.points.dart1Start ? 1 : 0,
    front_dart: dart(pf), back_dart: dart(pb),
    front_dart_depth: depth(pf), back_dart_depth: depth(pb),
    side_rise: r1(-pf.points.rWaist.y),
    vent: pb.points.vTop ? r1(pb.points.vLeg.y - pb.points.vTop.y) : 0,
    // cut on the fold at the centre front: the band is twice its part as long
    waistband_length: r1(2 * Math.abs(pw.points.BL.y - pw.points.TL.y)),
    waistband_width: r1(pw.points.TR.x - pw.points.TL.x),
  }
}
console.log(JSON.stringify(out, null, 1))

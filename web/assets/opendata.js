/* opendata.js - the latest release (GET /v1/opendata): its guarantee, its
 * figures, and plots of the published histograms per measurement and
 * stratum, drawn here as SVG; the downloads. */
'use strict';
const SVGNS = 'http://www.w3.org/2000/svg';
function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function fmt(x, d) { return typeof x === 'number' ? x.toFixed(d === undefined ? 2 : d) : '—'; }

/* one histogram: bars of counts (noisy, clipped at 0) over mm bins */
function plot(name, h, cls, label) {
  const W = 560, H = 200, L = 44, B = 28;
  const counts = h.counts.map((c) => Math.max(0, c));
  const max = Math.max(1, ...counts);
  const bw = (W - L - 8) / counts.length;
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H + B}`, role: 'img', 'aria-label': label });
  svg.append(svgEl('title', {}, label));
  counts.forEach((c, i) => {
    const bh = (c / max) * (H - 10);
    svg.append(svgEl('rect', { x: L + i * bw, y: H - bh, width: Math.max(1, bw - 1), height: bh, class: cls }));
  });
  svg.append(svgEl('line', { x1: L, y1: H, x2: W - 4, y2: H, class: 'axis' }));
  svg.append(svgEl('line', { x1: L, y1: 4, x2: L, y2: H, class: 'axis' }));
  svg.append(svgEl('text', { x: L - 4, y: 14, 'text-anchor': 'end', class: 'axis-text' }, String(max)));
  svg.append(svgEl('text', { x: L - 4, y: H, 'text-anchor': 'end', class: 'axis-text' }, '0'));
  const ticks = Math.min(6, counts.length);
  for (let t = 0; t <= ticks; t++) {
    const i = Math.round((t * counts.length) / ticks);
    svg.append(svgEl('text', { x: L + i * bw, y: H + 16, 'text-anchor': 'middle', class: 'axis-text' }, String((h.lower_mm + i * h.bin_mm) / 10)));
  }
  svg.append(svgEl('text', { x: W - 4, y: H + B - 2, 'text-anchor': 'end', class: 'axis-text' }, 'cm'));
  return A.el('figure', { class: 'plot' }, svg, A.el('figcaption', { text: label }));
}

A.page(async () => {
  const box = A.$('#release');
  const r = await A.api('GET', '/v1/opendata');
  if (r.status === 404) {
    box.append(A.el('div', { class: 'alert warn', role: 'status', text: 'No release has been published yet. A release needs enough people who opted in; the first one comes once they are there.' }));
    return;
  }
  if (!r.ok) return A.say('#page-msg', 'bad', r.error.message);
  const m = r.data;
  const p = m.privacy || {};
  const eps = p.epsilon || {};
  const card = A.el('section', { class: 'card' }, A.el('h2', { text: 'The release of ' + m.date }));
  const dl = A.el('table', {},
    A.el('caption', { class: 'muted', text: 'Figures of this release' }),
    A.el('tbody', {},
      ...[
        ['Privacy spent per account (rho, zCDP)', fmt(p.rho)],
        ['Lifetime cap per account (rho)', fmt(p.rho_cap_per_account)],
        ['Epsilon at delta = ' + (eps.delta || 1e-9), fmt(eps.canonne_kamath_steinke)],
        ['Best possible membership test (AUC; 0.5 is a coin toss)', fmt(p.membership_auc_bound)],
        ['Noisy count, with breasts', String((m.strata.with_breasts || {}).noisy_count)],
        ['Noisy count, without breasts', String((m.strata.without_breasts || {}).noisy_count)],
        ['Synthetic rows, with breasts', String((m.strata.with_breasts || {}).rows)],
        ['Synthetic rows, without breasts', String((m.strata.without_breasts || {}).rows)],
      ].map(([k, v]) => A.el('tr', {}, A.el('th', { scope: 'row', text: k }), A.el('td', { text: v })))));
  card.append(A.el('div', { class: 'table-wrap' }, dl));
  card.append(A.el('p', { class: 'actions' },
    A.el('a', { class: 'button secondary', href: '/v1/opendata/measurements.csv', download: 'atelier-measurements.csv', text: 'Download the rows (CSV)' }),
    A.el('a', { class: 'button secondary', href: '/v1/opendata/measurements.json', download: 'atelier-measurements.json', text: 'Rows and metadata (JSON)' }),
    A.el('a', { class: 'button secondary', href: '/v1/opendata', download: 'atelier-release.json', text: 'Metadata (JSON)' })));
  card.append(A.el('p', { class: 'muted', text: m.note || '' }));
  box.append(card);

  const plots = A.el('section', { class: 'card' }, A.el('h2', { text: 'Distributions' }),
    A.el('p', { text: 'The published sizing histograms: how many people (a noisy count) fall in each 1 cm band of a measurement, per stratum. A count can be off by a few people; that noise is what protects them.' }));
  for (const [key, label, cls] of [['with_breasts', 'with breasts', 'bar-a'], ['without_breasts', 'without breasts', 'bar-b']]) {
    const s = m.strata[key];
    if (!s) continue;
    plots.append(A.el('h3', { text: 'Bodies ' + label }));
    if (!s.published || !s.histograms) {
      plots.append(A.el('p', { class: 'muted', text: 'Not published in this release: ' + (s.reason || 'too few people') + '.' }));
      continue;
    }
    for (const [name, h] of Object.entries(s.histograms)) plots.append(plot(name, h, cls, name + ', bodies ' + label + ' (cm)'));
  }
  box.append(plots);
});

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

/* one histogram: bars of counts over mm bins; a noisy count can be below
 * zero (the noise that protects the people in it), and is drawn as 0 */
function plot(key, name, h, cls, label) {
  const W = 560, H = 200, L = 44, B = 34;
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
    svg.append(svgEl('text', { x: L + i * bw, y: H + 16, 'text-anchor': t === ticks ? 'end' : 'middle', class: 'axis-text' }, String((h.lower_mm + i * h.bin_mm) / 10)));
  }
  svg.append(svgEl('text', { x: W - 4, y: H + 30, 'text-anchor': 'end', class: 'axis-text' }, 'cm'));
  // the same numbers as a table, for screen readers and anyone who wants them
  const cm = (mm) => String(mm / 10);
  const rows = h.counts.map((c, i) => A.el('tr', {},
    A.el('th', { scope: 'row', text: cm(h.lower_mm + i * h.bin_mm) + ' to ' + cm(h.lower_mm + (i + 1) * h.bin_mm) + ' cm' }),
    A.el('td', { text: String(c) })));
  const table = A.el('details', {}, A.el('summary', { text: 'The counts of ' + label }),
    A.el('div', { class: 'table-wrap' }, A.el('table', {},
      A.el('thead', {}, A.el('tr', {}, A.el('th', { scope: 'col', text: 'Band' }), A.el('th', { scope: 'col', text: 'Noisy count' }))),
      A.el('tbody', {}, ...rows))));
  return A.el('figure', { class: 'plot', 'data-plot': key + '/' + name }, svg, A.el('figcaption', { text: label }), table);
}

const NAMES = { chest: 'Chest', waist: 'Waist', seat: 'Seat', inseam: 'Inseam' };

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
  const epsCap = p.epsilon_lifetime_cap || {};
  const nc = m.noisy_counts || {};
  const st = m.strata || {};
  const pct = (x) => (typeof x === 'number' ? Math.round(x * 100) + ' %' : '—');
  const n = (x) => (typeof x === 'number' ? String(x) : '—');
  const card = A.el('section', { class: 'card' }, A.el('h2', { text: 'The release of ' + m.date }));
  const figures = [
    ['rho', 'Privacy spent by this release per person (rho, zCDP)', fmt(p.rho)],
    ['rho_cap', 'Lifetime cap per person (rho); after it, you are left out', fmt(p.rho_cap_per_account)],
    ['epsilon', 'The same as epsilon, at delta = ' + (eps.delta || 1e-9), fmt(eps.canonne_kamath_steinke)],
    ['epsilon_cap', 'Lifetime cap as epsilon', fmt(epsCap.canonne_kamath_steinke)],
    ['membership_auc', 'Best possible test of whether someone is in (AUC; 0.5 is a coin toss)', fmt(p.membership_auc_bound)],
    ['membership_tpr', 'Share of people such a test finds, at most, when it wrongly flags 5 % of others', pct(p.membership_tpr_bound_at_5pct_fpr)],
    ['noisy_with', 'Noisy count of people, bodies with breasts', n(nc.eligible_with_breasts)],
    ['noisy_without', 'Noisy count of people, bodies without breasts', n(nc.eligible_without_breasts)],
    ['noisy_incomplete', 'Noisy count of models left out as incomplete', n(nc.incomplete)],
    ['noisy_implausible', 'Noisy count of models left out as implausible', n(nc.implausible)],
    ['rows_with', 'Synthetic rows, bodies with breasts', n((st.with_breasts || {}).rows)],
    ['rows_without', 'Synthetic rows, bodies without breasts', n((st.without_breasts || {}).rows)],
  ];
  const dl = A.el('table', {},
    A.el('caption', { class: 'muted', text: 'Figures of this release' }),
    A.el('tbody', {}, ...figures.map(([id, k, v]) => A.el('tr', { 'data-figure': id }, A.el('th', { scope: 'row', text: k }), A.el('td', { text: v })))));
  card.append(A.el('div', { class: 'table-wrap' }, dl));
  card.append(A.el('p', { class: 'muted', text: 'Every count here is noisy on purpose: a few people more or less, so that no one can be singled out. The membership bound holds for anyone, whatever else they know.' }));
  card.append(A.el('p', { class: 'actions' },
    A.el('a', { class: 'button secondary', href: '/v1/opendata/measurements.csv', download: 'atelier-measurements.csv', text: 'Download the rows (CSV)' }),
    A.el('a', { class: 'button secondary', href: '/v1/opendata/measurements.json', download: 'atelier-measurements.json', text: 'Rows and metadata (JSON)' }),
    A.el('a', { class: 'button secondary', href: '/v1/opendata', download: 'atelier-release.json', text: 'Metadata (JSON)' })));
  card.append(A.el('p', { class: 'muted', text: m.note || '' }));
  box.append(card);

  const bins = new Set();
  for (const s of Object.values(st)) for (const h of Object.values(s.histograms || {})) bins.add(h.bin_mm / 10);
  const band = bins.size === 1 ? [...bins][0] + ' cm' : 'fixed';
  const plots = A.el('section', { class: 'card' }, A.el('h2', { text: 'Distributions' }),
    A.el('p', { text: 'The published sizing histograms: how many people (a noisy count) fall in each ' + band + ' band of a measurement, per stratum. A count can be off by a few people, and can even be below zero, drawn as 0: that noise is what protects them.' }));
  for (const [key, label, cls] of [['with_breasts', 'with breasts', 'bar-a'], ['without_breasts', 'without breasts', 'bar-b']]) {
    const s = st[key];
    if (!s) continue;
    plots.append(A.el('h3', { text: 'Bodies ' + label }));
    if (!s.published || !s.histograms) {
      plots.append(A.el('p', { class: 'muted', text: 'Not published in this release: ' + (s.reason || 'too few people') + '.' }));
      continue;
    }
    for (const [name, h] of Object.entries(s.histograms)) plots.append(plot(key, name, h, cls, (NAMES[name] || name) + ', bodies ' + label + ' (cm)'));
  }
  box.append(plots);
});

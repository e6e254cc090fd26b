/* patterns.js - drafting: choose a model and a design, see which
 * measurements it needs and which are missing, set the seam allowance,
 * preview the SVG (zoom and pan: wheel, drag, buttons, keys) and download
 * the PDF (A4, Letter or full size); save the pattern with a snapshot of
 * the model, list the saved ones and reopen them (?saved=ID). */
'use strict';
A.page(async () => {
  const [account, mr, dr] = await A.loginAnd('/v1/models', '/v1/designs');
  const units = account.units || 'cm';
  if (!mr.ok || !dr.ok) return A.say('#page-msg', 'bad', (mr.error || dr.error).message);
  const models = mr.data.models;
  const designs = dr.data.designs;
  const fm = A.$('#f-model'), fd = A.$('#f-design'), fsa = A.$('#f-sa'), fp = A.$('#f-paper');
  if (!models.length) {
    A.say('#page-msg', 'warn', 'You have no model yet: create one first, then come back.');
    A.$('#draftform').hidden = true;
    return;
  }
  for (const m of models) fm.append(A.el('option', { value: m.id, text: m.name }));
  for (const d of designs) fd.append(A.el('option', { value: d.name, text: d.title }));
  const wanted = A.query('model');
  if (wanted && models.some((m) => m.id === wanted)) fm.value = wanted;
  A.$('#sa-unit').textContent = units;
  fsa.value = A.format(10, units);

  /* the preview: an <img> of the SVG, moved and scaled by a CSS transform */
  const viewer = A.$('#viewer'), img = A.$('#viewer img');
  let scale = 1, x = 0, y = 0, url = null, seq = 0;
  const apply = () => (img.style.transform = `translate(${x}px, ${y}px) scale(${scale})`);
  function fit() {
    if (!img.naturalWidth) return;
    const w = viewer.clientWidth, h = viewer.clientHeight;
    scale = Math.min(w / img.naturalWidth, h / img.naturalHeight) * 0.95;
    x = (w - img.naturalWidth * scale) / 2;
    y = (h - img.naturalHeight * scale) / 2;
    apply();
  }
  function zoom(f, cx, cy) {
    const ns = Math.min(40, Math.max(0.05, scale * f));
    cx = cx === undefined ? viewer.clientWidth / 2 : cx;
    cy = cy === undefined ? viewer.clientHeight / 2 : cy;
    x = cx - ((cx - x) * ns) / scale;
    y = cy - ((cy - y) * ns) / scale;
    scale = ns;
    apply();
  }
  img.addEventListener('load', fit);
  A.$('#zoom-in').addEventListener('click', () => zoom(1.25));
  A.$('#zoom-out').addEventListener('click', () => zoom(0.8));
  A.$('#zoom-reset').addEventListener('click', fit);
  viewer.addEventListener('wheel', (e) => {
    e.preventDefault();
    const r = viewer.getBoundingClientRect();
    zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  let drag = null;
  viewer.addEventListener('pointerdown', (e) => {
    drag = { px: e.clientX, py: e.clientY, x, y };
    viewer.setPointerCapture(e.pointerId);
  });
  viewer.addEventListener('pointermove', (e) => {
    if (!drag) return;
    x = drag.x + e.clientX - drag.px;
    y = drag.y + e.clientY - drag.py;
    apply();
  });
  const end = () => (drag = null);
  viewer.addEventListener('pointerup', end);
  viewer.addEventListener('pointercancel', end);
  viewer.addEventListener('keydown', (e) => {
    const step = 40;
    const k = { '+': () => zoom(1.25), '=': () => zoom(1.25), '-': () => zoom(0.8), '0': fit,
      ArrowLeft: () => { x += step; apply(); }, ArrowRight: () => { x -= step; apply(); },
      ArrowUp: () => { y += step; apply(); }, ArrowDown: () => { y -= step; apply(); } }[e.key];
    if (k) { e.preventDefault(); k(); }
  });

  function saMm() {
    const v = A.parse(fsa.value, units);
    return Number.isNaN(v) ? null : v;
  }
  function query(extra) {
    const q = new URLSearchParams();
    const sa = saMm();
    if (sa !== null) q.set('sa', String(sa));
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    return q.toString();
  }

  let opened = null; /* a saved pattern being shown, or null */
  async function preview(svgUrl, pdfUrl, label, fileBase) {
    const my = seq;
    const box = A.$('#missing'), pdf = A.$('#pdf');
    const r = await fetch(svgUrl, { credentials: 'same-origin' });
    if (my !== seq) return false;
    if (!r.ok) {
      const e = await r.json().catch(() => null);
      const err = (e && e.error) || { message: 'The server answered ' + r.status + '.' };
      if (err.field === 'sa') { A.showError(A.$('#draftform'), err); return false; }
      box.hidden = false;
      box.textContent = err.message;
      pdf.hidden = true;
      return false;
    }
    const warn = r.headers.get('Atelier-Warnings');
    A.$('#warnings').hidden = !warn;
    if (warn) A.$('#warnings').textContent = 'Drafted, with notes: ' + warn;
    const blob = await r.blob();
    if (url) URL.revokeObjectURL(url);
    url = URL.createObjectURL(blob);
    img.src = url;
    img.alt = label;
    viewer.setAttribute('aria-label', 'Preview of ' + label);
    pdf.hidden = false;
    const u = new URL(pdfUrl, location.href);
    u.searchParams.set('paper', fp.value);
    pdf.href = u.pathname + '?' + u.searchParams;
    pdf.setAttribute('download', fileBase + '-' + fp.value + '.pdf');
    return true;
  }

  async function update() {
    const my = ++seq;
    opened = null;
    A.$('#save-box').hidden = false;
    const model = models.find((m) => m.id === fm.value);
    const design = designs.find((d) => d.name === fd.value);
    const have = model.measurements || {};
    const needs = A.$('#needs');
    needs.replaceChildren();
    const missing = design.required.filter((n) => have[n] === undefined);
    for (const n of design.required) needs.append(A.el('li', { text: n + (have[n] === undefined ? ': missing' : ': ✓') }));
    for (const n of design.optional) needs.append(A.el('li', { text: n + ' (optional)' + (have[n] === undefined ? '' : ': ✓') }));
    const wrongBody = (design.bodies === 'with_breasts' && !model.breasts) || (design.bodies === 'without_breasts' && model.breasts);
    const note = A.$('#body-note');
    note.hidden = !wrongBody;
    note.textContent = wrongBody ? 'The ' + design.title.toLowerCase() + ' is drafted for a body ' + (model.breasts ? 'without' : 'with') + ' breasts; this model is one ' + (model.breasts ? 'with' : 'without') + '.' : '';
    const box = A.$('#missing');
    const pdf = A.$('#pdf');
    A.$('#warnings').hidden = true;
    if (missing.length) {
      box.hidden = false;
      box.replaceChildren('This design needs ' + missing.length + ' measurement' + (missing.length > 1 ? 's' : '') + ' this model does not have: ' + missing.join(', ') + '. ',
        A.el('a', { href: '/model?id=' + encodeURIComponent(model.id), text: 'Add them in the model' }), '.');
      img.removeAttribute('src');
      pdf.hidden = true;
      return;
    }
    box.hidden = true;
    if (saMm() === null) return A.showError(A.$('#draftform'), { field: 'sa', message: 'Write the seam allowance as a number, such as 1 or 3/8.' });
    A.clearErrors(A.$('#draftform'));
    const base = '/v1/models/' + encodeURIComponent(model.id) + '/patterns/' + encodeURIComponent(design.name);
    if (my !== seq) return;
    await preview(base + '.svg?' + query(), base + '.pdf?' + query(), 'the ' + design.title.toLowerCase() + ' drafted for ' + model.name,
      design.name + '-' + model.name.replace(/[^\w.-]+/g, '_'));
    if (!A.$('#f-pname').value) A.$('#f-pname').value = design.title + ' for ' + model.name;
  }

  /* saved patterns: save, list, reopen, delete */
  async function listSaved() {
    const r = await A.api('GET', '/v1/patterns');
    const box = A.$('#saved-list');
    box.replaceChildren();
    if (!r.ok) return box.append(A.el('p', { class: 'alert bad', text: r.error.message }));
    const list = r.data.patterns || [];
    if (!list.length) return box.append(A.el('p', { class: 'muted', text: 'None yet.' }));
    const ul = A.el('ul', { class: 'grid', role: 'list' });
    for (const p of list) {
      const d = designs.find((x) => x.name === p.design);
      ul.append(A.el('li', { class: 'card', 'data-id': p.id },
        A.el('h3', { text: p.name }),
        A.el('p', { class: 'muted', text: (d ? d.title : p.design) + ' · measured ' + A.date(p.measured_at) }),
        A.el('div', { class: 'actions' },
          A.el('a', { class: 'button secondary', href: '/patterns?saved=' + encodeURIComponent(p.id), text: 'Open', 'aria-label': 'Open ' + p.name }),
          A.el('button', { type: 'button', class: 'secondary', 'aria-label': 'Delete ' + p.name, text: 'Delete', onclick: async () => {
            if (!window.confirm('Delete the saved pattern "' + p.name + '"?')) return;
            const x = await A.api('DELETE', '/v1/patterns/' + encodeURIComponent(p.id));
            if (!x.ok) return A.say('#page-msg', 'bad', x.error.message);
            listSaved();
          } }))));
    }
    box.append(ul);
  }
  async function openSaved(id) {
    ++seq;
    const r = await A.api('GET', '/v1/patterns/' + encodeURIComponent(id));
    if (!r.ok) return A.say('#page-msg', 'bad', r.status === 404 ? 'This saved pattern does not exist (or is not yours).' : r.error.message);
    const p = r.data;
    opened = p;
    A.$('#save-box').hidden = true;
    A.$('#missing').hidden = true;
    A.$('#body-note').hidden = true;
    if (models.some((m) => m.id === p.model_id)) fm.value = p.model_id;
    fd.value = p.design;
    if (p.options && typeof p.options.sa === 'number') fsa.value = A.format(p.options.sa, units);
    if (p.options && p.options.paper) fp.value = p.options.paper;
    A.say('#page-msg', 'good', 'Saved pattern "' + p.name + '", drafted from the measurements of ' + A.date(p.measured_at) + '.');
    const base = '/v1/patterns/' + encodeURIComponent(p.id);
    await preview(base + '.svg', base + '.pdf', 'the saved pattern ' + p.name, p.name.replace(/[^\w.-]+/g, '_'));
  }
  A.form(A.$('#save'), async (d) => {
    const sa = saMm();
    const body = { model_id: fm.value, design: fd.value, name: d.name, options: { paper: fp.value } };
    if (sa !== null) body.options.sa = sa;
    if (d.notes) body.notes = d.notes;
    const r = await A.api('POST', '/v1/patterns', body);
    if (!r.ok) return r;
    A.say('#page-msg', 'good', 'Saved "' + r.data.name + '".');
    await listSaved();
  }, { fields: { name: 'name', notes: 'notes', 'options.sa': 'sa' } });
  fm.addEventListener('change', update);
  fd.addEventListener('change', update);
  fsa.addEventListener('change', update);
  fp.addEventListener('change', () => {
    const pdf = A.$('#pdf');
    if (!pdf.href) return;
    const u = new URL(pdf.href);
    u.searchParams.set('paper', fp.value);
    pdf.href = u.pathname + '?' + u.searchParams;
    pdf.setAttribute('download', pdf.getAttribute('download').replace(/-(a4|letter|full)\.pdf$/, '-' + fp.value + '.pdf'));
  });
  // the design suited to the chosen model first
  const first = models.find((m) => m.id === fm.value);
  const suited = designs.find((d) => d.bodies === (first.breasts ? 'with_breasts' : 'without_breasts'));
  if (suited) fd.value = suited.name;
  await listSaved();
  const saved = A.query('saved');
  if (saved) await openSaved(saved);
  else await update();
});

/* model.js - the model editor: measurements grouped by body region, only
 * those the body's breasts flag makes relevant, each with its description
 * (GET /v1/measurements) and, for the ones most often taken wrong, a
 * drawing; values in the account's units (mm, cm, inches with fractions);
 * plausibility notes next to each value; FreeSewing import and export;
 * the avatar. */
'use strict';
const REGIONS = [
  ['Neck and shoulders', ['neck', 'shoulderToShoulder', 'shoulderSlope']],
  ['Chest and bust', ['chest', 'highBust', 'highBustFront', 'bustFront', 'bustSpan', 'underbust', 'bustPointToUnderbust', 'hpsToBust']],
  ['Torso lengths', ['hpsToWaistFront', 'hpsToWaistBack', 'waistToArmpit', 'waistToUnderbust']],
  ['Arms', ['biceps', 'shoulderToElbow', 'shoulderToWrist', 'wrist']],
  ['Waist, hips and seat', ['waist', 'waistBack', 'hips', 'waistToHips', 'seat', 'seatBack', 'waistToSeat']],
  ['Legs', ['crossSeam', 'crossSeamFront', 'crotchDepth', 'inseam', 'upperLeg', 'waistToUpperLeg', 'knee', 'waistToKnee', 'ankle', 'heel', 'waistToFloor']],
  ['Head', ['head']],
];
const DRAWN = ['chest', 'highBust', 'waist', 'seat', 'hips', 'hpsToWaistBack', 'hpsToWaistFront', 'crossSeam', 'inseam', 'shoulderSlope', 'neck'];
const TITLES = { hpsToWaistBack: 'HPS to waist, back', hpsToWaistFront: 'HPS to waist, front', hpsToBust: 'HPS to bust', shoulderToShoulder: 'Shoulder to shoulder' };

function title(name) {
  if (TITLES[name]) return TITLES[name];
  const s = name.replace(/([A-Z])/g, ' $1').toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

A.page(async () => {
  const id = A.query('id');
  if (!id) {
    await A.requireLogin();
    return A.say('#page-msg', 'bad', 'No model is named in the address: choose one from your models.');
  }
  const [account, mr, vr] = await A.loginAnd('/v1/models/' + encodeURIComponent(id), '/v1/measurements');
  if (!mr.ok) return A.say('#page-msg', 'bad', mr.status === 404 ? 'This model does not exist (or is not yours).' : mr.error.message);
  let model = mr.data;
  const vocab = {};
  for (const m of vr.data.measurements) vocab[m.name] = m;
  let units = account.units || 'cm';
  const form = A.$('#model');
  const regions = A.$('#regions');
  const inputs = {};
  let savedTimer = 0;

  A.$('#draft').href = '/patterns?model=' + encodeURIComponent(id);
  const exp = A.$('#export');
  exp.href = '/v1/models/' + encodeURIComponent(id) + '/measurements';
  exp.setAttribute('download', (model.name || 'model').replace(/[^\w.-]+/g, '_') + '-measurements.json');

  function unitOf(name) { return vocab[name].unit === 'deg' ? 'deg' : units; }
  function show(name, mm) { return unitOf(name) === 'deg' ? (mm === undefined ? '' : String(mm)) : A.format(mm, units); }
  function read(name, text) { return unitOf(name) === 'deg' ? A.parse(text, 'mm') : A.parse(text, units); }

  /* one row per measurement of the vocabulary, grouped by region */
  for (const [label, names] of REGIONS) {
    const fs = A.el('fieldset', { class: 'region' }, A.el('legend', { text: label }));
    for (const name of names) {
      const v = vocab[name];
      if (!v) continue;
      const fid = 'f-m-' + name;
      const input = A.el('input', { id: fid, name: 'measurements.' + name, type: 'text', inputmode: 'decimal', autocomplete: 'off', 'aria-describedby': fid + '-desc ' + fid + '-warn' });
      const unit = A.el('span', { class: 'unit', 'data-unit': name });
      const warn = A.el('span', { class: 'warn', id: fid + '-warn', role: 'status' });
      const help = A.el('div', {}, A.el('span', { class: 'hint', id: fid + '-desc', text: v.description.charAt(0).toUpperCase() + v.description.slice(1) + '.' }));
      if (DRAWN.includes(name))
        help.append(A.el('details', {}, A.el('summary', { text: 'How to measure' }),
          A.el('img', { src: '/assets/m/' + name + '.svg', alt: 'Drawing: where to take the ' + title(name).toLowerCase() + ' measurement', loading: 'lazy', width: 176, height: 270 })));
      const row = A.el('div', { class: 'measure', 'data-name': name, 'data-breasts-only': v.breasts_only ? '1' : '0' },
        A.el('label', { for: fid, text: title(name) }),
        A.el('div', {}, input, unit, A.el('span', { class: 'error', id: fid + '-error' }), warn),
        help);
      input.addEventListener('input', () => check(name));
      inputs[name] = { input, warn, row, unit };
      fs.append(row);
    }
    regions.append(fs);
  }

  function check(name) {
    const { input, warn } = inputs[name];
    const t = input.value.trim();
    warn.textContent = '';
    if (!t) return;
    const mm = read(name, t);
    const v = vocab[name];
    if (Number.isNaN(mm)) warn.textContent = units === 'in' ? 'Write a number such as 34, 34.5 or 34 1/2.' : 'Write a number such as 81 or 81.5.';
    else if (mm < v.range.min || mm > v.range.max)
      warn.textContent = 'Outside what is plausible (' + show(name, v.range.min) + ' to ' + show(name, v.range.max) + ' ' + A.unitLabel(unitOf(name)) + '): the server will refuse it.';
  }

  function breasts() { return A.$('#f-b1').checked; }
  function layout() {
    const b = breasts();
    for (const n of Object.keys(inputs)) inputs[n].row.hidden = !b && vocab[n].breasts_only;
    const lost = Object.keys(model.measurements).filter((n) => vocab[n] && vocab[n].breasts_only);
    A.$('#breasts-note').textContent = !b && model.breasts && lost.length
      ? 'Saving removes ' + lost.length + ' bust measurement' + (lost.length > 1 ? 's' : '') + ' that only apply to a body with breasts.' : '';
  }

  function fill(m, keepTyped) {
    model = m;
    A.$('#title').textContent = m.name;
    document.title = m.name + ' · atelier';
    if (!keepTyped) {
      A.$('#f-name').value = m.name;
      A.$('#f-notes').value = m.notes || '';
      A.$(m.breasts ? '#f-b1' : '#f-b0').checked = true;
    }
    A.$('#f-units').value = units;
    for (const n of Object.keys(inputs)) {
      inputs[n].unit.textContent = A.unitLabel(unitOf(n) === 'deg' ? '°' : units);
      if (!keepTyped) inputs[n].input.value = show(n, m.measurements[n]);
      check(n);
    }
    for (const w of m.warnings || []) {
      const i = inputs[w.measurement];
      if (i && !i.warn.textContent) i.warn.textContent = 'Please check: ' + w.message + ' (about ' + show(w.measurement, w.expected_about) + ' ' + A.unitLabel(unitOf(w.measurement)) + ' expected).';
    }
    const av = A.$('#avatar');
    av.hidden = !m.has_avatar;
    if (m.has_avatar && !av.src.startsWith('blob:')) av.src = '/v1/models/' + encodeURIComponent(id) + '/avatar?v=' + Date.parse(m.updated_at);
    A.$('#avatar-remove').hidden = !m.has_avatar;
    layout();
  }
  fill(model);
  A.$('#f-b1').addEventListener('change', layout);
  A.$('#f-b0').addEventListener('change', layout);

  /* units: the typed values are converted, and the choice saved to the account */
  A.$('#f-units').addEventListener('change', async (ev) => {
    const next = ev.target.value;
    const typed = {};
    for (const n of Object.keys(inputs)) typed[n] = read(n, inputs[n].input.value);
    const r = await A.api('PATCH', '/v1/account', { units: next });
    if (!r.ok) { ev.target.value = units; return A.showError(form, r.error); }
    units = next;
    for (const n of Object.keys(inputs)) if (!Number.isNaN(typed[n])) inputs[n].input.value = show(n, typed[n]);
    fill(model, true);
  });

  A.form(form, async (d) => {
    const b = breasts();
    const meas = {};
    let bad = null;
    for (const n of Object.keys(inputs)) {
      const t = inputs[n].input.value.trim();
      const had = model.measurements[n] !== undefined;
      if (!b && vocab[n].breasts_only) { if (had) meas[n] = null; continue; }
      if (!t) { if (had) meas[n] = null; continue; }
      const mm = read(n, t);
      if (Number.isNaN(mm)) { bad = bad || { field: 'measurements.' + n, message: title(n) + ': ' + inputs[n].warn.textContent }; continue; }
      if (mm !== model.measurements[n]) meas[n] = mm;
    }
    if (bad) return { error: bad };
    const body = { name: d.name, breasts: b, notes: d.notes ? d.notes : null, measurements: meas };
    const r = await A.api('PATCH', '/v1/models/' + encodeURIComponent(id), body);
    if (!r.ok) return r; /* shown next to the field it names; nothing typed is lost */
    fill(r.data);
    A.$('#saved').textContent = 'Saved.';
    clearTimeout(savedTimer); // a save's note lasts 4 s, whatever an earlier one's timer says
    savedTimer = setTimeout(() => (A.$('#saved').textContent = ''), 4000);
  }, { fields: { breasts: 'breasts', notes: 'notes', name: 'name' } });

  /* avatar: preview at once, upload, remove */
  A.$('#f-avatar').addEventListener('change', async (ev) => {
    const f = ev.target.files[0];
    const err = A.$('#f-avatar-error');
    err.textContent = '';
    if (!f) return;
    const av = A.$('#avatar');
    const url = URL.createObjectURL(f);
    av.src = url;
    av.hidden = false;
    const r = await A.api('PUT', '/v1/models/' + encodeURIComponent(id) + '/avatar', f);
    if (!r.ok) {
      err.textContent = r.error.message;
      av.hidden = !model.has_avatar;
      av.src = model.has_avatar ? '/v1/models/' + encodeURIComponent(id) + '/avatar?v=' + Date.now() : '';
      return;
    }
    model.has_avatar = true;
    A.$('#avatar-remove').hidden = false;
  });
  A.$('#avatar-remove').addEventListener('click', async () => {
    const r = await A.api('DELETE', '/v1/models/' + encodeURIComponent(id) + '/avatar');
    if (!r.ok) return (A.$('#f-avatar-error').textContent = r.error.message);
    model.has_avatar = false;
    A.$('#avatar').hidden = true;
    A.$('#avatar').removeAttribute('src');
    A.$('#avatar-remove').hidden = true;
  });

  /* import: a FreeSewing flat JSON object of name to mm */
  A.$('#f-import').addEventListener('change', async (ev) => {
    const f = ev.target.files[0];
    if (!f) return;
    let data;
    try {
      data = JSON.parse(await f.text());
    } catch (e) {
      return A.say('#import-msg', 'bad', 'This file is not JSON: ' + e.message);
    }
    if (data && typeof data === 'object' && data.measurements && typeof data.measurements === 'object') data = data.measurements;
    const r = await A.api('PUT', '/v1/models/' + encodeURIComponent(id) + '/measurements', data);
    if (!r.ok) return A.say('#import-msg', 'bad', 'Nothing was imported: ' + r.error.message);
    const g = await A.api('GET', '/v1/models/' + encodeURIComponent(id));
    if (g.ok) fill(g.data);
    A.say('#import-msg', 'good', 'Imported ' + Object.keys(r.data).length + ' measurements.');
  });

  A.form(A.$('#delete'), async () => {
    if (!window.confirm('Delete "' + model.name + '" and its measurements?')) return;
    const r = await A.api('DELETE', '/v1/models/' + encodeURIComponent(id));
    if (!r.ok) return r;
    location.assign('/models');
  });
});

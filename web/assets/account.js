/* account.js - the profile (username, bio, social accounts, units, open
 * data consent), the picture, the email address and the password,
 * two-factor login (setup with the server's QR code, the recovery codes
 * shown once, new codes, off) and API keys (list, create: the key shown
 * once, delete). */
'use strict';
const NETS = ['github', 'instagram', 'mastodon', 'twitter', 'youtube', 'website'];
A.page(async () => {
  let [acc, keysFirst] = await A.loginAnd('/v1/apikeys');
  const profile = A.$('#profile');
  function fill(a) {
    acc = a;
    A.$('#f-username').value = a.username;
    A.$('#f-bio').value = a.bio || '';
    for (const n of NETS) A.$('#f-social-' + n).value = (a.social || {})[n] || '';
    A.$('#f-units').value = a.units || 'cm';
    A.$('#f-consent').checked = !!(a.consent && a.consent.open_data);
    A.$('#current-email').textContent = a.email;
    const pic = A.$('#picture');
    pic.hidden = !a.has_picture;
    if (a.has_picture && !pic.src.startsWith('blob:')) pic.src = '/v1/account/picture?v=' + Date.now();
    A.$('#picture-remove').hidden = !a.has_picture;
    A.$('#email-code-field').hidden = !(a.two_factor && a.two_factor.enabled);
    A.showRestriction(a);
  }
  fill(acc);
  const sayIn = (form, kind, text) => {
    let box = A.$('.alert.form-msg', form);
    if (!box) form.prepend((box = A.el('div', { class: 'alert form-msg' })));
    A.say(box, kind, text);
  };

  A.form(profile, async (d) => {
    const social = {};
    for (const n of NETS) {
      const v = (d['social.' + n] || '').trim();
      const had = (acc.social || {})[n];
      if (v) social[n] = v;
      else if (had) social[n] = null;
    }
    const body = { bio: d.bio ? d.bio : null, social, units: d.units, consent: { open_data: A.$('#f-consent').checked } };
    if (d.username !== acc.username) body.username = d.username;
    const r = await A.api('PATCH', '/v1/account', body);
    if (!r.ok) return r;
    fill(r.data);
    let ok = A.$('.alert.form-msg', profile);
    if (!ok) profile.prepend((ok = A.el('div', { class: 'alert form-msg' })));
    A.say(ok, 'good', 'Saved.');
  }, { fields: { 'consent.open_data': 'consent.open_data', consent: 'consent.open_data' } });

  A.$('#f-picture').addEventListener('change', async (ev) => {
    const f = ev.target.files[0];
    const err = A.$('#f-picture-error');
    err.textContent = '';
    if (!f) return;
    const pic = A.$('#picture');
    pic.src = URL.createObjectURL(f);
    pic.hidden = false;
    const r = await A.api('PUT', '/v1/account/picture', f);
    if (!r.ok) {
      err.textContent = r.error.message;
      pic.hidden = !acc.has_picture;
      if (acc.has_picture) pic.src = '/v1/account/picture?v=' + Date.now();
      return;
    }
    acc.has_picture = true;
    A.$('#picture-remove').hidden = false;
  });
  A.$('#picture-remove').addEventListener('click', async () => {
    const r = await A.api('DELETE', '/v1/account/picture');
    if (!r.ok) return (A.$('#f-picture-error').textContent = r.error.message);
    acc.has_picture = false;
    A.$('#picture').hidden = true;
    A.$('#picture-remove').hidden = true;
  });

  A.form(A.$('#email'), async (d, form) => {
    const body = { email: d.email, password: d.password };
    const codeField = A.$('#email-code-field');
    if (!codeField.hidden && d.code) body.code = d.code.replace(/\s+/g, '');
    const r = await A.api('POST', '/v1/account/email', body);
    if (r.error && r.error.code === 'mfa_required') {
      codeField.hidden = false; // turned on elsewhere since this page was loaded
      r.error.message = 'Two-factor login is on: enter the code from your authenticator app.';
    }
    if (!r.ok) return r;
    A.$('#f-email-password').value = '';
    A.$('#f-email-code').value = '';
    let ok = A.$('.alert.form-msg', form);
    if (!ok) form.prepend((ok = A.el('div', { class: 'alert form-msg' })));
    A.say(ok, 'good', 'Check ' + d.email + ' for a link to confirm it; your address changes when you open it.');
  });
  A.form(A.$('#password'), async (d, form) => {
    const r = await A.api('POST', '/v1/account/password', { current_password: d.current_password, new_password: d.new_password });
    if (!r.ok) return r;
    A.$('#f-current').value = '';
    A.$('#f-new').value = '';
    let ok = A.$('.alert.form-msg', form);
    if (!ok) form.prepend((ok = A.el('div', { class: 'alert form-msg' })));
    A.say(ok, 'good', 'Your password is changed; your other sessions are logged out.');
  }, { fields: { password: 'current_password' } });

  /* ---- two-factor login ---- */
  const mfa = { setup: A.$('#mfa-setup'), enable: A.$('#mfa-enable'), codes: A.$('#mfa-codes'), on: A.$('#mfa-on') };
  let qrUrl = '';
  function mfaShow(step) {
    const tf = acc.two_factor || { enabled: false, recovery_codes_left: 0 };
    mfa.setup.hidden = step !== 'off';
    mfa.enable.hidden = step !== 'scan';
    mfa.codes.hidden = step !== 'codes';
    mfa.on.hidden = step !== 'on';
    const left = tf.recovery_codes_left;
    A.$('#mfa-state').textContent = tf.enabled
      ? 'On: logging in, resetting your password and changing your address need a code from your authenticator app. ' +
        left + ' recovery code' + (left === 1 ? '' : 's') + ' left.' + (left <= 3 ? ' Make new ones below.' : '')
      : 'Off: your password alone logs you in.';
  }
  const clearSecret = () => {
    A.$('#mfa-secret').textContent = '';
    const img = A.$('#mfa-qr');
    img.removeAttribute('src');
    if (qrUrl) URL.revokeObjectURL(qrUrl);
    qrUrl = '';
  };
  async function reloadAccount() {
    const r = await A.api('GET', '/v1/account');
    if (r.ok) fill(r.data);
  }
  mfaShow(acc.two_factor && acc.two_factor.enabled ? 'on' : 'off');

  A.form(mfa.setup, async (d, form) => {
    const r = await A.api('POST', '/v1/account/mfa/setup', { password: d.password });
    if (!r.ok) return r;
    form.reset();
    // the server's QR code: an SVG document, shown as an image (no script runs in it)
    qrUrl = URL.createObjectURL(new Blob([r.data.qr_svg], { type: 'image/svg+xml' }));
    A.$('#mfa-qr').src = qrUrl;
    A.$('#mfa-secret').textContent = r.data.secret.replace(/(.{4})(?=.)/g, '$1 ');
    A.$('#mfa-expires').textContent = new Date(r.data.expires_at).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    mfaShow('scan');
    A.$('#f-mfa-enable-code').focus();
  });
  A.$('#mfa-cancel').addEventListener('click', () => {
    clearSecret();
    A.clearErrors(mfa.enable);
    mfa.enable.reset();
    mfaShow('off');
  });

  /* The recovery codes, shown once: the list, a text file, and a "saved" step. */
  let codesBlob = '';
  function showCodes(codes) {
    const list = A.$('#mfa-code-list');
    list.replaceChildren(...codes.map((c) => A.el('li', {}, A.el('code', { text: c }))));
    if (codesBlob) URL.revokeObjectURL(codesBlob);
    const text = 'atelier recovery codes for ' + acc.username + ' (' + new Date().toISOString().slice(0, 10) + ')\n' +
      'Each code logs you in once in place of an authenticator code.\n\n' + codes.join('\n') + '\n';
    codesBlob = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    A.$('#mfa-codes-download').href = codesBlob;
    A.$('#f-mfa-saved').checked = false;
    A.$('#mfa-codes-done').disabled = true;
    mfaShow('codes');
    A.$('#mfa-codes-h').focus();
  }
  A.$('#f-mfa-saved').addEventListener('change', (ev) => (A.$('#mfa-codes-done').disabled = !ev.target.checked));
  A.$('#mfa-codes-done').addEventListener('click', async () => {
    A.$('#mfa-code-list').replaceChildren();
    if (codesBlob) URL.revokeObjectURL(codesBlob);
    codesBlob = '';
    A.$('#mfa-codes-download').href = '#';
    await reloadAccount();
    mfaShow('on');
    A.$('#mfa-state').focus();
  });

  A.form(mfa.enable, async (d, form) => {
    const r = await A.api('POST', '/v1/account/mfa/enable', { code: (d.code || '').replace(/\s+/g, '') });
    if (r.error && r.error.code === 'wrong_code')
      r.error.message = 'This is not the code your app shows for the new key: check the time on your phone, and enter the current code.';
    if (r.error && r.error.code === 'mfa_setup_required') {
      clearSecret();
      form.reset();
      mfaShow('off');
      return sayIn(mfa.setup, 'bad', 'The setup expired: set it up again.');
    }
    if (!r.ok) return r;
    form.reset();
    clearSecret();
    acc.two_factor = { enabled: true, recovery_codes_left: r.data.recovery_codes.length };
    A.$('#email-code-field').hidden = false;
    showCodes(r.data.recovery_codes);
  });
  const mfaBody = (d) => ({ password: d.password, code: (d.code || '').replace(/\s+/g, '') });
  A.form(A.$('#mfa-recovery'), async (d, form) => {
    const r = await A.api('POST', '/v1/account/mfa/recovery', mfaBody(d));
    if (!r.ok) return r;
    form.reset();
    showCodes(r.data.recovery_codes);
  });
  A.form(A.$('#mfa-disable'), async (d, form) => {
    const r = await A.api('DELETE', '/v1/account/mfa', mfaBody(d));
    if (!r.ok) return r;
    form.reset();
    await reloadAccount();
    mfaShow('off');
    sayIn(mfa.setup, 'good', 'Two-factor login is off.');
  });

  /* ---- API keys ---- */
  const keysList = A.$('#keys-list');
  const day = 86400000;
  const exp = A.$('#f-key-expires');
  const isoDay = (t) => new Date(t - new Date(t).getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  exp.min = isoDay(Date.now() + day);
  exp.max = isoDay(Date.now() + 364 * day);
  exp.value = isoDay(Date.now() + 90 * day);
  const when = (s) => (s ? A.date(s) : 'never');
  function keyRow(k) {
    const del = A.el('button', { type: 'button', class: 'secondary', 'aria-label': 'Delete the key ' + k.name, text: 'Delete' });
    const row = A.el('tr', { 'data-key': k.id },
      A.el('th', { scope: 'row', text: k.name }), A.el('td', { 'data-label': 'Access', text: k.scope === 'write' ? 'read and write' : 'read' }),
      A.el('td', { 'data-label': 'Created', text: A.date(k.created_at) }), A.el('td', { 'data-label': 'Expires', text: A.date(k.expires_at) }),
      A.el('td', { 'data-label': 'Last used', text: when(k.last_used_at) }), A.el('td', {}, del));
    del.addEventListener('click', async () => {
      if (!window.confirm('Delete the key "' + k.name + '"? Scripts using it stop working at once.')) return;
      const r = await A.api('DELETE', '/v1/apikeys/' + encodeURIComponent(k.id));
      if (!r.ok && r.status !== 404) return A.say('#keys-msg', 'bad', r.error.message);
      row.remove();
      A.say('#keys-msg', 'good', 'The key "' + k.name + '" is deleted.');
      keysEmpty();
    });
    return row;
  }
  const keysEmpty = () => {
    const none = !keysList.children.length;
    A.$('#keys-none').hidden = !none;
    A.$('#keys-wrap').hidden = none;
  };
  function showKeys(r) {
    if (!r.ok) return A.say('#keys-msg', 'bad', r.error.message);
    keysList.replaceChildren(...(r.data.api_keys || []).map(keyRow));
    keysEmpty();
  }
  A.form(A.$('#key-new'), async (d, form) => {
    let expires = null;
    if (d.expires_at) {
      const [y, m, dd] = d.expires_at.split('-').map(Number);
      expires = new Date(y, m - 1, dd, 23, 59, 59).toISOString(); // the end of that day, here
    }
    const r = await A.api('POST', '/v1/apikeys', { name: d.name, scope: d.scope, expires_at: expires || d.expires_at });
    if (!r.ok) return r;
    A.$('#key-shown-name').textContent = '"' + r.data.name + '"';
    A.$('#key-value').textContent = r.data.key;
    A.$('#key-shown').hidden = false;
    A.$('#f-key-name').value = '';
    A.say('#keys-msg', '', '');
    keysList.append(keyRow(r.data));
    keysEmpty();
    A.$('#key-shown-done').focus();
  });
  A.$('#key-shown-done').addEventListener('click', () => {
    A.$('#key-value').textContent = '';
    A.$('#key-shown').hidden = true;
  });
  showKeys(keysFirst);
});

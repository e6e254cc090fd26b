/* account.js - the profile (username, bio, social accounts, units, open
 * data consent), the picture, the email address and the password. */
'use strict';
const NETS = ['github', 'instagram', 'mastodon', 'twitter', 'youtube', 'website'];
A.page(async () => {
  let acc = await A.requireLogin();
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
  }
  fill(acc);

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
    const r = await A.api('POST', '/v1/account/email', { email: d.email, password: d.password });
    if (!r.ok) return r;
    A.$('#f-email-password').value = '';
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
  }, { fields: { current_password: 'current_password', new_password: 'new_password' } });
});

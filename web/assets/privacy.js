/* privacy.js - what is stored about the account and when it is erased
 * (from GET /v1/account/export, which carries the retention dates), the
 * export download, the restriction of processing (set and lifted with the
 * password), and the deletion of the account. */
'use strict';
A.page(async () => {
  const [acc, r] = await A.loginAnd('/v1/account/export');
  if (!r.ok) return A.say('#page-msg', 'bad', r.error.message);
  const doc = r.data;
  const a = doc.account;
  const ret = a.retention || {};
  const stored = A.$('#stored');
  const item = (t) => stored.append(A.el('li', { text: t }));
  item('Your email address (' + a.email + ') and username (' + a.username + '), encrypted; your password only as a hash no one can read back.');
  const social = Object.keys(a.social || {});
  item(a.bio || social.length ? 'Your bio' + (social.length ? ' and ' + social.length + ' social account' + (social.length > 1 ? 's' : '') : '') + ', encrypted.' : 'No bio and no social account.');
  item(doc.picture ? 'Your picture, re-encoded without its metadata, encrypted.' : 'No picture.');
  const models = doc.models || [];
  item(models.length ? models.length + ' model' + (models.length > 1 ? 's' : '') + ' with ' + models.reduce((s, m) => s + Object.keys(m.measurements || {}).length, 0) + ' measurements in all, encrypted.' : 'No model.');
  item((doc.sessions || []).length + ' log-in session' + ((doc.sessions || []).length === 1 ? '' : 's') + ' (each ends 30 days after it started).');
  item('Open data: ' + (a.consent && a.consent.open_data ? 'you opted in; your models may enter the next release, protected by differential privacy.' : 'you did not opt in; your models are in no release.'));
  item('When you created the account (' + A.date(a.created_at) + ') and last logged in (' + A.date(ret.last_login_at || a.last_login_at) + ').');
  A.$('#erased-on').textContent = A.date(ret.erased_on);
  A.$('#notice-on').textContent = A.date(ret.notice_on);
  if (ret.access_log_days) A.$('#log-days').textContent = ret.access_log_days;

  const keys = doc.api_keys || [];
  item(keys.length ? keys.length + ' API key' + (keys.length > 1 ? 's' : '') + ', only as hashes no one can read back.' : 'No API key.');
  const tf = doc.two_factor || {};
  item(tf.enabled ? 'Two-factor login: on, its secret encrypted, ' + tf.recovery_codes_left + ' recovery codes as hashes.' : 'Two-factor login: off.');

  /* ---- restriction of processing ---- */
  let restriction = acc.restriction || { restricted: false, since: null };
  function showRestrict() {
    A.$('#restrict-state').textContent = restriction.restricted
      ? 'Processing is restricted since ' + A.date(restriction.since) + '.'
      : 'Processing is not restricted.';
    const go = A.$('#restrict-go');
    go.textContent = restriction.restricted ? 'Lift the restriction' : 'Restrict processing';
    go.className = restriction.restricted ? '' : 'secondary';
    A.showRestriction({ restriction });
  }
  showRestrict();
  A.form(A.$('#restrict'), async (d, form) => {
    const lift = restriction.restricted;
    const x = await A.api(lift ? 'DELETE' : 'POST', '/v1/account/restrict', { password: d.password });
    if (!x.ok) return x;
    restriction = x.data.restriction;
    form.reset();
    showRestrict();
    let box = A.$('.alert.form-msg', form);
    if (!box) form.prepend((box = A.el('div', { class: 'alert form-msg' })));
    A.say(box, 'good', lift ? 'The restriction is lifted: everything works again, and we mailed you a notice.' : 'Processing is restricted. We mailed you a confirmation.');
  });

  A.form(A.$('#delete'), async (d) => {
    if (!window.confirm('Delete your account and everything in it, now and for good?')) return;
    const x = await A.api('DELETE', '/v1/account', { password: d.password });
    if (!x.ok) return x;
    location.assign('/?deleted=1');
  });
});

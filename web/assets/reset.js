/* reset.js - the page of the mailed reset link (/reset?token=...). */
'use strict';
A.page(() => {
  const token = A.query('token');
  const form = A.$('#reset');
  const codeField = A.$('#code-field');
  if (!token) {
    A.say('#page-msg', 'bad', 'This link is incomplete: open the link from the mail again, or copy all of it.');
    form.hidden = true;
    return;
  }
  A.form(form, async (d) => {
    const body = { token, password: d.password };
    if (!codeField.hidden && d.code) body.code = d.code.replace(/\s+/g, '');
    const r = await A.api('POST', '/v1/password/reset', body);
    if (r.ok) {
      form.hidden = true;
      A.$('#done').hidden = false;
      return;
    }
    if (r.error.code === 'mfa_required') {
      const first = codeField.hidden;
      codeField.hidden = false;
      r.error.field = 'code';
      if (first) r.error.message = 'Two-factor login is on: enter the code from your authenticator app, or a recovery code.';
    }
    return r;
  }, { fields: { token: 'password' } });
});

/* login.js - logging in with the session cookie (POST /v1/login with
 * "cookie": true). With two-factor login on, the server answers 401
 * mfa_required after a right password, and the code field appears. */
'use strict';
A.page(() => {
  if (A.query('bye')) A.$('#bye').hidden = false;
  const codeField = A.$('#code-field');
  const next = A.query('next');
  const target = next && /^\/(?!\/)[^\\]*$/.test(next) ? next : '/models';
  A.form(A.$('#login'), async (d) => {
    const body = { login: d.login, password: d.password, cookie: true };
    if (!codeField.hidden && d.code) body.code = d.code.replace(/\s+/g, '');
    const r = await A.api('POST', '/v1/login', body);
    if (r.ok) {
      location.assign(target);
      return;
    }
    if (r.error.code === 'mfa_required') {
      const first = codeField.hidden;
      codeField.hidden = false;
      r.error.field = 'code';
      if (first) r.error.message = 'Enter the code from your authenticator app, or a recovery code.';
    }
    return r;
  });
});

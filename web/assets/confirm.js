/* confirm.js - the page mailed links point to (/confirm?token=...): a new
 * account is confirmed with its signup password and logged in with the
 * session cookie; a change of address needs no password. */
'use strict';
A.page(() => {
  const token = A.query('token');
  const form = A.$('#confirm');
  if (!token) {
    A.say('#page-msg', 'bad', 'This link is incomplete: open the link from the mail again, or copy all of it.');
    form.hidden = true;
    return;
  }
  A.form(form, async (d) => {
    const body = { token, cookie: true };
    if (d.password) body.password = d.password;
    const r = await A.api('POST', '/v1/confirm', body);
    if (!r.ok) {
      if (r.error.field === 'password' && !d.password)
        r.error.message = 'This link confirms a new account: enter the password you chose when you signed up.';
      return r;
    }
    form.hidden = true;
    document.body.classList.toggle('in', A.loggedIn());
    A.$('#done-msg').textContent = d.password
      ? 'Your account is confirmed and you are logged in. Welcome, ' + r.data.account.username + '.'
      : 'Your new address ' + r.data.account.email + ' is confirmed.';
    A.$('#done').hidden = false;
  });
});

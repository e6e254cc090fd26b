/* signup.js - the sign-up form: POST /v1/signup; the answer is the same
 * whether or not the address is known, so the page only says to check the
 * inbox. */
'use strict';
A.page(() => {
  A.form(A.$('#signup'), async (d, form) => {
    const r = await A.api('POST', '/v1/signup', { email: d.email, username: d.username, password: d.password });
    if (!r.ok) return r;
    form.hidden = true;
    A.say('#done', 'good', 'Check your inbox: we sent a link to ' + d.email + ' to confirm your account. It works for 24 hours.');
    A.$('#done').focus();
  });
});

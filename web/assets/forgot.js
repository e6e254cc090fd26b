/* forgot.js - asks for a reset link; the answer is the same whether or not
 * an account has the address. */
'use strict';
A.page(() => {
  A.form(A.$('#forgot'), async (d, form) => {
    const r = await A.api('POST', '/v1/password/forgot', { email: d.email });
    if (!r.ok) return r;
    form.hidden = true;
    A.say('#done', 'good', 'If an account has this address, a link to choose a new password is on its way. It works for one hour.');
  });
});

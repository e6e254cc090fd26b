/* models.js - the list of the account's models and the creation form. */
'use strict';
A.page(async () => {
  const [, r] = await A.loginAnd('/v1/models');
  const list = A.$('#list');
  if (!r.ok) return A.say('#page-msg', 'bad', r.error.message);
  const models = r.data.models || [];
  if (!models.length) {
    list.append(A.el('p', { class: 'muted', text: 'No model yet: create your first one below.' }));
  } else {
    const ul = A.el('ul', { class: 'grid', role: 'list' });
    for (const m of models) {
      const n = Object.keys(m.measurements || {}).length;
      const li = A.el('li', { class: 'card' },
        m.has_avatar ? A.el('img', { class: 'avatar', src: '/v1/models/' + m.id + '/avatar', alt: '' }) : null,
        A.el('h2', {}, A.el('a', { href: '/model?id=' + encodeURIComponent(m.id), text: m.name })),
        A.el('p', { class: 'muted', text: (m.breasts ? 'With breasts' : 'Without breasts') + ' · ' + n + ' measurement' + (n === 1 ? '' : 's') }),
        A.el('p', {}, A.el('a', { href: '/patterns?model=' + encodeURIComponent(m.id), text: 'Draft a pattern' })));
      ul.append(li);
    }
    list.append(ul);
  }
  A.form(A.$('#create'), async (d) => {
    const c = await A.api('POST', '/v1/models', { name: d.name, breasts: d.breasts === 'true', measurements: {} });
    if (!c.ok) return c;
    location.assign('/model?id=' + encodeURIComponent(c.data.id));
  });
});

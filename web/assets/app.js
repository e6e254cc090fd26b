/* app.js - what every page of the site shares: calling the API with the
 * session cookie and the CSRF token, showing each error next to its field,
 * the navigation, and measurement units (mm, cm, inches with fractions).
 * No framework, no build step; every page also loads its own small script,
 * which calls A.page(fn) to run once the document is ready. */
'use strict';
(function () {
  const A = (window.A = {});
  const CSRF_COOKIE = '__Host-atelier-csrf';

  function cookie(name) {
    for (const part of document.cookie.split(';')) {
      const i = part.indexOf('=');
      if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
    }
    return '';
  }
  A.loggedIn = () => cookie(CSRF_COOKIE) !== '';

  /* One API call. Answers {status, ok, data, error}; never throws for an
   * HTTP status. body: an object (sent as JSON), a Blob/File (sent as is
   * with its type) or undefined. */
  A.api = async function (method, path, body) {
    const headers = {};
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = cookie(CSRF_COOKIE);
    if (body instanceof Blob) {
      headers['Content-Type'] = body.type;
      init.body = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      return { status: 0, ok: false, data: null, error: { code: 'network', message: 'The server cannot be reached; check your connection and try again.' } };
    }
    let data = null;
    const type = res.headers.get('Content-Type') || '';
    if (type.startsWith('application/json')) data = await res.json().catch(() => null);
    const out = { status: res.status, ok: res.ok, data, error: null, res };
    if (!res.ok) {
      out.error = (data && data.error) || { code: 'http_' + res.status, message: 'The server answered ' + res.status + '.' };
      if (res.status === 429 && res.headers.get('Retry-After'))
        out.error.message += ' (wait ' + res.headers.get('Retry-After') + ' s)';
      if (out.error.code === 'restricted')
        out.error.message = 'Processing of your data is restricted: this is off until you lift the restriction on the privacy page.';
    }
    return out;
  };

  /* The account of the logged-in person, or a redirect to the login page. */
  A.requireLogin = async function () {
    const r = A.loggedIn() ? await A.api('GET', '/v1/account') : { status: 401 };
    if (r.status === 401) {
      location.replace('/login?next=' + encodeURIComponent(location.pathname + location.search));
      return new Promise(() => {});
    }
    if (!r.ok) throw new Error(r.error.message);
    A.account = r.data;
    A.units = r.data.units || 'cm';
    A.showRestriction(r.data);
    return r.data;
  };

  /* requireLogin, and the page's first GETs sent at the same time (when a
   * session cookie is there): one round trip before the page can draw, not
   * two. Answers [account, result of each path]. */
  A.loginAnd = async function (...paths) {
    const early = A.loggedIn() ? paths.map((p) => A.api('GET', p)) : null;
    const account = await A.requireLogin();
    return [account, ...(await Promise.all(early || paths.map((p) => A.api('GET', p))))];
  };

  /* A restricted account (GDPR article 18) sees it on every page, with
   * what still works; the privacy page lifts it. */
  A.showRestriction = function (acc) {
    const res = acc && acc.restriction;
    let b = A.$('#restricted');
    if (!res || !res.restricted) {
      if (b) b.remove();
      return;
    }
    const text = 'Processing of your data is restricted since ' + A.date(res.since) +
      '. You can still log in, read, export and delete your data, and lift the restriction on the privacy page; ' +
      'changes, drafting, saving patterns, new API keys, mail and the open data are off until then.';
    if (!b) {
      b = A.el('div', { id: 'restricted', class: 'alert warn', role: 'status' });
      A.$('main').prepend(b);
    }
    b.textContent = text;
  };

  A.$ = (sel, root) => (root || document).querySelector(sel);
  A.$$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  A.el = function (tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  };
  A.query = (name) => new URLSearchParams(location.search).get(name);

  /* ---- messages and field errors ---- */
  A.say = function (box, kind, text) {
    const b = typeof box === 'string' ? A.$(box) : box;
    b.className = 'alert ' + kind;
    b.textContent = text;
    b.hidden = !text;
    if (text) b.setAttribute('role', kind === 'bad' ? 'alert' : 'status');
  };

  function errorSlot(form, input) {
    const id = input.id + '-error';
    let slot = document.getElementById(id);
    if (!slot) {
      slot = A.el('span', { id, class: 'error' });
      input.insertAdjacentElement('afterend', slot);
    }
    const d = (input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    if (!d.includes(id)) input.setAttribute('aria-describedby', d.concat(id).join(' '));
    return slot;
  }

  A.clearErrors = function (form) {
    for (const i of A.$$('[aria-invalid="true"]', form)) i.removeAttribute('aria-invalid');
    for (const s of A.$$('.error', form)) s.textContent = '';
    const box = A.$('.alert.form-msg', form);
    if (box) A.say(box, '', '');
  };

  /* Show the server's error: next to the field it names (422), else above
   * the form. Nothing typed is cleared. */
  /* 403s that name no field but mean one: the password or the 2FA code
   * confirming a change (the form maps the name with fieldMap if its
   * field is called otherwise). */
  const IMPLIED_FIELD = { wrong_password: 'password', wrong_code: 'code', mfa_required: 'code' };
  A.showError = function (form, err, fieldMap) {
    let field = err.field || IMPLIED_FIELD[err.code];
    if (field && fieldMap && fieldMap[field]) field = fieldMap[field];
    const input = field && (form.querySelector('[name="' + CSS.escape(field) + '"]') || document.getElementById('f-' + field));
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      errorSlot(form, input).textContent = err.message;
      input.focus();
      return;
    }
    let box = A.$('.alert.form-msg', form);
    if (!box) {
      box = A.el('div', { class: 'alert form-msg' });
      form.prepend(box);
    }
    A.say(box, 'bad', err.message);
    box.tabIndex = -1;
    box.focus();
  };

  /* Submit handling: fn(data) answers an API result or nothing. */
  A.form = function (form, fn, opts) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      A.clearErrors(form);
      const btn = form.querySelector('button[type=submit], button:not([type])');
      if (btn) btn.disabled = true;
      try {
        const data = Object.fromEntries(new FormData(form).entries());
        const r = await fn(data, form);
        if (r && r.error) A.showError(form, r.error, opts && opts.fields);
      } finally {
        if (btn) btn.disabled = false;
      }
    });
  };

  /* ---- units ---- */
  const MM_PER_IN = 25.4;
  A.unitLabel = (u) => ({ mm: 'mm', cm: 'cm', in: 'in' })[u] || u;

  /* mm -> text in unit u: inches to the nearest 1/8 ("34 1/2"). */
  A.format = function (mm, u) {
    if (mm === null || mm === undefined || mm === '') return '';
    if (u === 'mm') return String(Math.round(mm * 10) / 10);
    if (u === 'cm') return String(Math.round(mm) / 10);
    const eighths = Math.round((mm / MM_PER_IN) * 8);
    const whole = Math.floor(eighths / 8);
    let num = eighths % 8, den = 8;
    while (num && num % 2 === 0) { num /= 2; den /= 2; }
    if (!num) return String(whole);
    return (whole ? whole + ' ' : '') + num + '/' + den;
  };

  /* text in unit u -> mm (rounded to 0.1), or NaN. Accepts "34.5", "34,5",
   * "34 1/2", "1/2", "34½". */
  A.parse = function (text, u) {
    let s = String(text).trim().replace(',', '.').replace('½', ' 1/2').replace('¼', ' 1/4').replace('¾', ' 3/4').trim();
    if (s === '') return NaN;
    let v;
    const frac = /^(?:(\d+(?:\.\d+)?)\s+)?(\d+)\s*\/\s*(\d+)$/.exec(s);
    if (frac) {
      const den = Number(frac[3]);
      if (!den) return NaN;
      v = (frac[1] ? Number(frac[1]) : 0) + Number(frac[2]) / den;
    } else if (/^\d+(?:\.\d+)?$/.test(s)) {
      v = Number(s);
    } else {
      return NaN;
    }
    const mm = u === 'in' ? v * MM_PER_IN : u === 'cm' ? v * 10 : v;
    return Math.round(mm * 10) / 10;
  };

  /* ---- page start ---- */
  let started = false;
  A.page = function (fn) {
    started = true;
    const start = async () => {
      document.body.classList.toggle('in', A.loggedIn());
      const here = location.pathname;
      for (const a of A.$$('header.site nav a')) if (a.getAttribute('href') === here) a.setAttribute('aria-current', 'page');
      const out = A.$('#logout');
      if (out)
        out.addEventListener('click', async () => {
          await A.api('POST', '/v1/logout');
          location.assign('/login?bye=1');
        });
      if (fn) {
        try {
          await fn();
        } catch (e) {
          const box = A.$('#page-msg');
          if (box) A.say(box, 'bad', 'Something went wrong: ' + e.message);
        }
      }
      document.body.dataset.ready = '1';
      if (performance.mark) performance.mark('atelier-ready'); // bench/site.mjs reads it
    };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
    else start();
  };

  /* a page without a script of its own still gets the navigation */
  document.addEventListener('DOMContentLoaded', () => {
    if (!started) A.page();
  });

  A.date = (s) => (s ? new Date(s).toLocaleDateString(undefined, { year: 'numeric', month: 'long', day: 'numeric' }) : '');
})();

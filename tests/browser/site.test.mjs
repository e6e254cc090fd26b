// site.test.mjs - the site in a real browser (Debian's chromium through
// playwright-core): the whole journey of a person, from sign-up to the
// deletion of the account, then the error paths. Every page visited is
// screenshotted at desktop and phone width (build/test-logs/screenshots),
// checked by axe-core (no serious or critical violation) and watched for
// console errors; at the end no request may have gone to any host but the
// server. Run by scripts/test.sh (tests/browser/run.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { axe, checkPage, foreignRequests, launch, linkIn, mailTo, openContext, ready, startServer } from './lib.mjs';

const PASSWORD = 'violet tailor measures twice';
const BODICE_IN = {
  // a bodice in inches, some with fractions (FreeSewing's size 38 in inches)
  neck: '13 3/4', shoulderToShoulder: '15 3/4', shoulderSlope: '13', chest: '36 1/2', highBust: '33 3/4',
  bustSpan: '7 1/4', hpsToBust: '10 1/8', hpsToWaistFront: '17 1/4', hpsToWaistBack: '16 1/4',
  waistToArmpit: '8 1/8', biceps: '11', shoulderToWrist: '23 1/4', wrist: '6 1/4', waist: '28 3/4',
};

let srv, browser;
const violations = [];
const visited = new Set();

async function visit(page, name) {
  await ready(page);
  visited.add(name);
  const v = await checkPage(page, name);
  for (const x of v) violations.push({ page: name, ...x });
}

before(async () => {
  srv = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

describe('the journey', () => {
  let ctx, rec, page;
  const email = 'ada@example.org';

  before(async () => {
    ({ ctx, rec } = await openContext(browser, srv));
    page = await ctx.newPage();
  });
  after(async () => {
    await ctx?.close();
  });

  test('home page', async () => {
    await page.goto(srv.base + '/');
    await visit(page, 'home');
    assert.match(await page.textContent('h1'), /measurements/);
  });

  test('sign up: a weak password is refused next to its field, nothing typed is lost', async () => {
    await page.goto(srv.base + '/signup');
    await visit(page, 'signup');
    await page.fill('#f-email', email);
    await page.fill('#f-username', 'ada');
    await page.fill('#f-password', 'password1');
    rec.allowed.push(/status of 422/);
    await page.click('button[type=submit]');
    await page.waitForSelector('#f-password[aria-invalid="true"]');
    const msg = await page.textContent('#f-password-error');
    assert.match(msg, /password/);
    assert.equal(await page.inputValue('#f-email'), email);
    assert.equal(await page.inputValue('#f-username'), 'ada');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'f-password');
    await visit(page, 'signup-error');
    rec.allowed.pop();
    await page.fill('#f-password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('#done:not([hidden])');
    assert.match(await page.textContent('#done'), /inbox/);
  });

  test('confirm from the mail: logged in with the session cookie', async () => {
    const link = linkIn(await mailTo(srv, email), 'confirm');
    await page.goto(link);
    await visit(page, 'confirm');
    await page.fill('#f-password', PASSWORD);
    await page.click('#confirm button[type=submit]');
    await page.waitForSelector('#done:not([hidden])');
    assert.match(await page.textContent('#done-msg'), /confirmed/);
    const cookies = await ctx.cookies(srv.base);
    const session = cookies.find((c) => c.name === '__Host-atelier');
    assert.ok(session, 'the session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.secure, true);
    assert.equal(session.sameSite, 'Lax');
    assert.equal(session.path, '/');
    // the page's script cannot read the session token
    assert.ok(!(await page.evaluate(() => document.cookie)).includes(session.value));
  });

  test('log out, then log in (a wrong password first)', async () => {
    await page.goto(srv.base + '/models');
    await ready(page);
    await page.click('#logout');
    await page.waitForURL(/\/login\?bye=1/);
    await visit(page, 'login');
    assert.equal((await ctx.cookies(srv.base)).filter((c) => c.name.startsWith('__Host-atelier')).length, 0);
    await page.fill('#f-login', 'ada');
    await page.fill('#f-password', 'not the password');
    rec.allowed.push(/status of 401/);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#login .alert.bad');
    assert.match(await page.textContent('#login .alert.bad'), /wrong/);
    assert.equal(await page.inputValue('#f-login'), 'ada');
    rec.allowed.pop();
    await page.fill('#f-password', PASSWORD);
    await page.click('#login button[type=submit]');
    await page.waitForURL(/\/models$/);
    await visit(page, 'models-empty');
  });

  test('a write without the CSRF token or from another origin is refused', async () => {
    rec.allowed.push(/status of 403/);
    const r = await page.evaluate(async () => {
      const a = await fetch('/v1/account', { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: '{"bio":"x"}' });
      return { status: a.status, body: await a.json() };
    });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'csrf_failed');
    rec.allowed.pop();
  });

  let modelUrl;
  test('create a model in inches, with fractions', async () => {
    await page.fill('#f-name', 'Ada, spring');
    await page.check('#f-b1');
    await page.click('#create button[type=submit]');
    await page.waitForURL(/\/model\?id=/);
    modelUrl = page.url();
    await ready(page);
    await page.selectOption('#f-units', 'in');
    await page.waitForFunction(() => document.querySelector('[data-unit=waist]').textContent === 'in');
    for (const [name, v] of Object.entries(BODICE_IN)) await page.fill('#f-m-' + name, v);
    // only the measurements of a body with breasts are shown
    assert.equal(await page.isVisible('#f-m-bustSpan'), true);
    await page.click('#model button[type=submit]');
    await page.waitForSelector('#saved:has-text("Saved")');
    await visit(page, 'model-editor');
    const stored = await page.evaluate(async (u) => (await (await fetch('/v1/models/' + u + '/measurements')).json()), new URL(modelUrl).searchParams.get('id'));
    assert.equal(stored.chest, 927.1); // 36 1/2 in
    assert.equal(stored.waist, 730.3); // 28 3/4 in
    assert.equal(await page.inputValue('#f-m-chest'), '36 1/2');
    const acc = await page.evaluate(async () => (await (await fetch('/v1/account')).json()).units);
    assert.equal(acc, 'in');
  });

  test('an implausible value: a warning next to it, the server refuses it next to it, nothing lost', async () => {
    await page.fill('#f-m-neck', '60');
    assert.match(await page.textContent('#f-m-neck-warn'), /plausible/);
    rec.allowed.push(/status of 422/);
    await page.click('#model button[type=submit]');
    await page.waitForSelector('#f-m-neck[aria-invalid="true"]');
    assert.match(await page.textContent('#f-m-neck-error'), /neck/);
    assert.equal(await page.inputValue('#f-m-neck'), '60');
    assert.equal(await page.inputValue('#f-m-chest'), '36 1/2');
    await visit(page, 'model-editor-error');
    rec.allowed.pop();
    await page.fill('#f-m-neck', '13 3/4');
    await page.click('#model button[type=submit]');
    await page.waitForSelector('#saved:has-text("Saved")');
  });

  test('a body without breasts shows no bust measurements', async () => {
    await page.check('#f-b0');
    assert.equal(await page.isVisible('#f-m-bustSpan'), false);
    assert.equal(await page.isVisible('#f-m-chest'), true);
    assert.match(await page.textContent('#breasts-note'), /bust measurement/);
    await page.check('#f-b1');
  });

  test('export the measurements, import them into another model', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const flat = JSON.parse(fs.readFileSync(await dl.path(), 'utf8'));
    assert.equal(flat.chest, 927.1);
    await page.goto(srv.base + '/models');
    await ready(page);
    await visit(page, 'models');
    await page.fill('#f-name', 'Copy');
    await page.click('#create button[type=submit]');
    await page.waitForURL(/\/model\?id=/);
    await ready(page);
    await page.setInputFiles('#f-import', { name: 'm.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(flat)) });
    await page.waitForSelector('#import-msg.good');
    assert.equal(await page.inputValue('#f-m-chest'), '36 1/2');
  });

  test('draft: missing measurements are named; the bodice previews; the PDF downloads', async () => {
    await page.goto(modelUrl.replace('/model?id=', '/patterns?model='));
    await ready(page);
    await page.selectOption('#f-design', 'trouser');
    await page.waitForSelector('#missing:not([hidden])');
    assert.match(await page.textContent('#missing'), /seat/);
    await visit(page, 'patterns-missing');
    await page.selectOption('#f-design', 'bodice');
    await page.waitForSelector('#viewer img[src^="blob:"]');
    await page.waitForFunction(() => document.querySelector('#viewer img').naturalWidth > 0);
    await visit(page, 'patterns-preview');
    // zoom with the buttons and the keyboard, pan by dragging
    const before = await page.$eval('#viewer img', (i) => i.style.transform);
    await page.click('#zoom-in');
    const zoomed = await page.$eval('#viewer img', (i) => i.style.transform);
    assert.notEqual(zoomed, before);
    const box = await page.$('#viewer').then((e) => e.boundingBox());
    await page.mouse.move(box.x + 100, box.y + 100);
    await page.mouse.down();
    await page.mouse.move(box.x + 160, box.y + 140);
    await page.mouse.up();
    assert.notEqual(await page.$eval('#viewer img', (i) => i.style.transform), zoomed);
    await page.selectOption('#f-paper', 'a4');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#pdf')]);
    const pdf = fs.readFileSync(await dl.path());
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    assert.match(dl.suggestedFilename(), /\.pdf$/);
  });

  test('save the pattern, list it, reopen it from its snapshot', async () => {
    await page.fill('#f-pname', 'Bodice, first try');
    await page.fill('#f-pnotes', 'lower the dart 1 cm');
    await page.click('#save button[type=submit]');
    await page.waitForSelector('#saved-list li h3:has-text("Bodice, first try")');
    await page.click('#saved-list a:has-text("Open")');
    await page.waitForURL(/\/patterns\?saved=/);
    await ready(page);
    await page.waitForSelector('#viewer img[src^="blob:"]');
    await page.waitForFunction(() => document.querySelector('#viewer img').naturalWidth > 0);
    assert.match(await page.textContent('#page-msg'), /Bodice, first try/);
    assert.match(await page.getAttribute('#pdf', 'href'), /^\/v1\/patterns\/[A-Za-z0-9_-]+\.pdf\?paper=a4$/);
    await visit(page, 'patterns-saved');
  });

  test('account page: profile, units, consent', async () => {
    await page.goto(srv.base + '/account');
    await ready(page);
    await visit(page, 'account');
    await page.fill('#f-bio', 'I sew bodices.');
    await page.fill('#f-social-website', 'ada.example.org');
    rec.allowed.push(/status of 422/);
    await page.click('#profile button[type=submit]');
    await page.waitForSelector('#f-social-website[aria-invalid="true"]');
    assert.match(await page.textContent('#f-social-website-error'), /https/);
    assert.equal(await page.inputValue('#f-bio'), 'I sew bodices.');
    rec.allowed.pop();
    await page.fill('#f-social-website', 'https://ada.example.org');
    await page.click('#profile button[type=submit]');
    await page.waitForSelector('#profile .alert.good');
  });

  test('privacy page: what is stored, erasure date, export, delete the account', async () => {
    await page.goto(srv.base + '/privacy');
    await ready(page);
    await page.waitForSelector('#erased-on:not(:empty)');
    await visit(page, 'privacy');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const doc = JSON.parse(fs.readFileSync(await dl.path(), 'utf8'));
    assert.equal(doc.account.username, 'ada');
    assert.equal(doc.models.length, 2);
    assert.equal((doc.patterns || doc.saved_patterns || []).length, 1);
    await page.fill('#f-delete-password', PASSWORD);
    page.once('dialog', (d) => d.accept());
    await page.click('#delete button[type=submit]');
    await page.waitForURL(/\/\?deleted=1$/);
    rec.allowed.push(/status of 401/);
    const r = await page.evaluate(async () => (await fetch('/v1/account')).status);
    assert.equal(r, 401);
    rec.allowed.pop();
  });

  test('public pages: policy and open data', async () => {
    await page.goto(srv.base + '/policy');
    await visit(page, 'policy');
    assert.match(await page.textContent('main'), /183 days/);
    // before the first release GET /v1/opendata answers 404 no_release,
    // which the browser logs: the one console error allowed, here only
    rec.allowed.push(/status of 404/);
    await page.goto(srv.base + '/opendata');
    await visit(page, 'opendata-none');
    assert.match(await page.textContent('#release'), /No release/);
    rec.allowed.pop();
  });

  test('no console error, no request to another host', () => {
    assert.deepEqual(rec.consoleErrors, []);
    assert.deepEqual(foreignRequests(rec, srv), []);
    assert.ok(rec.requests.length > 20);
  });
});

describe('pages without a session', () => {
  test('a page that needs a session sends to the login page, and back after it', async () => {
    const { ctx, rec } = await openContext(browser, srv);
    const page = await ctx.newPage();
    await page.goto(srv.base + '/account');
    await page.waitForURL(/\/login\?next=%2Faccount$/);
    assert.deepEqual(rec.consoleErrors, []);
    await ctx.close();
  });

  test('confirm and reset pages without a token say so', async () => {
    const { ctx, rec } = await openContext(browser, srv);
    const page = await ctx.newPage();
    for (const p of ['confirm', 'reset']) {
      await page.goto(srv.base + '/' + p);
      await ready(page);
      assert.match(await page.textContent('#page-msg'), /incomplete/);
    }
    await page.goto(srv.base + '/forgot');
    await visit(page, 'forgot');
    await page.goto(srv.base + '/reset?token=x');
    await visit(page, 'reset');
    assert.deepEqual(rec.consoleErrors, []);
    await ctx.close();
  });

  test('every page answers with the strict headers', async () => {
    for (const p of ['/', '/signup', '/confirm', '/login', '/forgot', '/reset', '/account', '/models', '/model', '/patterns', '/privacy', '/policy', '/opendata', '/assets/app.js', '/assets/site.css']) {
      const r = await fetch(srv.base + p);
      assert.equal(r.status, 200, p);
      const csp = r.headers.get('content-security-policy');
      assert.match(csp, /frame-ancestors 'none'/, p);
      assert.match(csp, /script-src 'self';/, p);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|http:|https:/, p);
      assert.equal(r.headers.get('x-frame-options'), 'DENY', p);
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer', p);
      if (p.endsWith('.js') || p.endsWith('.css')) continue;
      const html = await r.text();
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)/, p + ' has an inline script');
      assert.doesNotMatch(html, /\sstyle=|<style/, p + ' has an inline style');
      assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, p + ' names another host');
    }
  });
});

describe('accessibility', () => {
  test('no serious or critical axe violation on any page visited', () => {
    assert.ok(visited.size >= 12, 'pages visited: ' + [...visited].join(', '));
    assert.deepEqual(violations, []);
  });
});

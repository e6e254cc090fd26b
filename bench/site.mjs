// site.mjs - the site's page weight and time to first render, measured in
// Debian's chromium (playwright-core from tests/browser/node_modules).
// Weight: the bytes of a page's HTML, scripts and style sheet as served
// (before images); target < 100 KB per page. First render: the page's
// first-contentful-paint (Performance API), median of 5 fresh loads with an
// empty cache; target < 200 ms. Pages that need a session are measured
// logged in (an account created through the API).
import { launch, startServer, mailTo, linkIn } from '../tests/browser/lib.mjs';

const PAGES = ['/', '/signup', '/login', '/forgot', '/confirm?token=x', '/reset?token=x', '/models', '/model?id=MODEL', '/patterns', '/account', '/privacy', '/policy', '/opendata'];
const srv = await startServer();
const browser = await launch();
try {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  // an account and a model, through the pages' own API
  const j = (m, p, b) => page.evaluate(async ([m, p, b]) => {
    const csrf = (document.cookie.match(/__Host-atelier-csrf=([0-9a-f]+)/) || [])[1] || '';
    const r = await fetch(p, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: b ? JSON.stringify(b) : undefined });
    return r.json().catch(() => null);
  }, [m, p, b]);
  await page.goto(srv.base + '/');
  const pw = 'bench tailor measures twice';
  await j('POST', '/v1/signup', { email: 'bench@example.org', username: 'bench', password: pw });
  const token = new URL(linkIn(await mailTo(srv, 'bench@example.org'), 'confirm')).searchParams.get('token');
  await j('POST', '/v1/confirm', { token, password: pw, cookie: true });
  const model = await j('POST', '/v1/models', { name: 'Bench', breasts: false, measurements: { chest: 1000, neck: 380, waist: 850 } });
  const rows = [];
  for (const p0 of PAGES) {
    const p = p0.replace('MODEL', model.id);
    const fcps = [];
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      const c = await browser.newContext();
      await c.addCookies((await ctx.cookies()).map((k) => ({ ...k })));
      const pg = await c.newPage();
      // the renderer process is started by a first, tiny same-origin load,
      // so that the figure is the page's, not the process start-up's; the
      // cache stays empty (the warm-up fetches none of the page's files)
      await pg.goto(srv.base + '/healthz');
      const bodies = [];
      pg.on('response', (r) => {
        const t = r.request().resourceType();
        if (['document', 'script', 'stylesheet'].includes(t)) bodies.push(r.body().then((b) => b.length, () => 0));
      });
      await pg.goto(srv.base + p, { waitUntil: 'load' });
      await pg.waitForSelector('body[data-ready="1"]');
      const weight = (await Promise.all(bodies)).reduce((a, b) => a + b, 0);
      const fcp = await pg.evaluate(() => new Promise((res) => {
        const e = performance.getEntriesByName('first-contentful-paint')[0];
        if (e) return res(e.startTime);
        new PerformanceObserver((l) => res(l.getEntries()[0].startTime)).observe({ type: 'paint', buffered: true });
      }));
      fcps.push(fcp);
      bytes = weight;
      await c.close();
    }
    fcps.sort((a, b) => a - b);
    rows.push({ page: p0, bytes, fcp: fcps[2] });
  }
  console.log('page                  bytes (HTML+JS+CSS)  first render (median of 5, ms)');
  for (const r of rows) console.log(r.page.padEnd(22) + String(r.bytes).padStart(10) + String(r.fcp.toFixed(0)).padStart(18));
  const worstB = Math.max(...rows.map((r) => r.bytes)), worstT = Math.max(...rows.map((r) => r.fcp));
  console.log(`worst: ${worstB} bytes (target < 102400), ${worstT.toFixed(0)} ms (target < 200)`);
  process.exitCode = worstB < 102400 && worstT < 200 ? 0 : 1;
} finally {
  await browser.close();
  await srv.stop();
}

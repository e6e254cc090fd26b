// site.mjs - the site's page weight and time to first render, measured in
// Debian's chromium driven through the DevTools protocol directly (a pipe,
// no playwright: nothing is injected into the pages measured).
//
// What is measured, and how (docs/SITE.md, "First render"):
//  - weight: the bytes of a page's HTML, scripts and style sheet as served
//    (before images); target < 100 KB per page;
//  - first render: the page's first-contentful-paint from the Performance
//    API (relative to the start of its navigation, in the page's own
//    clock), median of N loads; target < 200 ms. The browser is started
//    once and its one window is left to settle before anything is
//    measured, so that neither chromium's start nor the opening of a window
//    (new headless chromium loads its omnibox pop-up, a WebUI of some 200
//    modules, in every new window: switched off here, it is browser chrome)
//    is counted. Every load comes from another document (/healthz).
//  - cold: HTTP cache off (a first visit); warm: cache on (a later visit:
//    what the server lets the browser keep);
//  - ready: until the page's script has its data and has drawn it
//    (performance mark "atelier-ready", set by app.js);
//  - floor: the first render of /healthz (a 15-byte JSON document) in the
//    same window at the same moments: what chromium itself costs on this
//    machine at its current load, whatever the page;
//  - the same loads with RTT_MS (default 100: a phone's round trip) of
//    latency added to every request
//    (Network.emulateNetworkConditions), where a chain of requests shows.
// Pages that need a session are measured logged in (an account and a model
// created through the API).
// With a baseline build, both servers run side by side (the baseline on
// 127.0.0.2, so that the cookies of the two stay apart) and every load of
// one is followed by the same load of the other: the machine's load, which
// moves a lot on a shared machine, weighs on both alike.
// Usage: bench/site.sh [BUILD_DIR [BASELINE_BUILD_DIR]]; N (default 5) loads
// per page and case.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, CHROMIUM, linkIn, mailTo, startServer } from '../tests/browser/lib.mjs';

const N = Number(process.env.N || 5);
const RTT_MS = Number(process.env.RTT_MS || 100);
const PAGES = ['/', '/signup', '/login', '/forgot', '/confirm?token=x', '/reset?token=x', '/models', '/model?id=MODEL', '/patterns', '/account', '/privacy', '/policy', '/opendata'];
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const load = () => os.loadavg()[0].toFixed(1);

/* ---- chromium over --remote-debugging-pipe (fd 3: commands, fd 4: answers) ---- */
function startChromium() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-chromium-'));
  const proc = spawn(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    '--no-default-browser-check', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-extensions', '--disable-default-apps', '--mute-audio', '--hide-scrollbars', '--metrics-recording-only',
    '--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,PreloadTopChromeWebUI,OptimizationHints,MediaRouter',
    '--remote-debugging-pipe', '--user-data-dir=' + dir, 'about:blank'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
  let buf = Buffer.alloc(0), id = 0;
  const waiting = new Map(), listeners = new Set();
  proc.stdio[4].on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (let i; (i = buf.indexOf(0)) >= 0;) {
      const msg = JSON.parse(buf.subarray(0, i).toString());
      buf = buf.subarray(i + 1);
      const w = msg.id && waiting.get(msg.id);
      if (w) {
        waiting.delete(msg.id);
        if (msg.error) w.reject(new Error(JSON.stringify(msg.error)));
        else w.resolve(msg.result);
      } else for (const l of listeners) l(msg);
    }
  });
  const send = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
    const m = { id: ++id, method, params, ...(sessionId ? { sessionId } : {}) };
    waiting.set(m.id, { resolve, reject });
    proc.stdio[3].write(JSON.stringify(m) + '\0');
  });
  const once = (method, sessionId) => new Promise((resolve) => {
    const l = (m) => {
      if (m.method === method && m.sessionId === sessionId) {
        listeners.delete(l);
        resolve(m.params);
      }
    };
    listeners.add(l);
  });
  const stop = async () => {
    const exited = new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
    await Promise.race([send('Browser.close').catch(() => {}), sleep(5000)]);
    await Promise.race([exited, sleep(5000)]);
    if (proc.exitCode === null) proc.kill();
    await exited;
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  };
  return { send, once, stop };
}

/* ---- an account with a model, through the API (cookie session) ---- */
async function account(srv) {
  const jar = {};
  const call = async (method, p, body) => {
    const headers = { Origin: srv.base, 'Content-Type': 'application/json' };
    const cookies = Object.entries(jar).map(([k, v]) => k + '=' + v.value).join('; ');
    if (cookies) headers.Cookie = cookies;
    if (jar['__Host-atelier-csrf']) headers['X-CSRF-Token'] = jar['__Host-atelier-csrf'].value;
    const r = await fetch(srv.base + p, { method, headers, body: body ? JSON.stringify(body) : undefined });
    for (const c of r.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      jar[pair.slice(0, i).trim()] = { value: pair.slice(i + 1).trim(), httpOnly: attrs.some((a) => /^\s*httponly\s*$/i.test(a)) };
    }
    return r.json().catch(() => null);
  };
  const pw = 'bench tailor measures twice';
  await call('POST', '/v1/signup', { email: 'bench@example.org', username: 'bench', password: pw });
  const token = new URL(linkIn(await mailTo(srv, 'bench@example.org'), 'confirm')).searchParams.get('token');
  await call('POST', '/v1/confirm', { token, password: pw, cookie: true });
  const model = await call('POST', '/v1/models', { name: 'Bench', breasts: false, measurements: { chest: 1000, neck: 380, waist: 850 } });
  return { jar, model };
}

/* the bytes of a page's HTML, scripts and style sheets as served */
async function weight(srv, p) {
  const html = await (await fetch(srv.base + p)).text();
  let bytes = Buffer.byteLength(html);
  for (const m of html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="stylesheet"[^>]*\shref)="([^"]+)"/g))
    bytes += (await (await fetch(srv.base + m[1])).arrayBuffer()).byteLength;
  return bytes;
}

const builds = [{ name: 'this build', bin: BIN }];
if (process.env.BASELINE_BIN) builds.push({ name: 'baseline', bin: process.env.BASELINE_BIN, host: '127.0.0.2' });
const cr = startChromium();
try {
  for (const b of builds) {
    b.srv = await startServer([], { bin: b.bin, host: b.host });
    b.acct = await account(b.srv);
  }
  const { targetId } = await cr.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId: s } = await cr.send('Target.attachToTarget', { targetId, flatten: true });
  await cr.send('Page.enable', {}, s);
  await cr.send('Network.enable', {}, s);
  await cr.send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 800, deviceScaleFactor: 1, mobile: false }, s);
  for (const b of builds)
    await cr.send('Network.setCookies', {
      cookies: Object.entries(b.acct.jar).map(([name, c]) => ({ name, value: c.value, url: b.srv.base + '/', secure: true, httpOnly: c.httpOnly, sameSite: 'Lax' })),
    }, s);
  const nav = async (url) => {
    const loaded = cr.once('Page.loadEventFired', s);
    await cr.send('Page.navigate', { url }, s);
    await loaded;
  };
  const entry = async (name, timeout = 10000) => {
    const t0 = Date.now();
    for (;;) {
      const r = await cr.send('Runtime.evaluate', { expression: `(performance.getEntriesByName(${JSON.stringify(name)})[0] || {}).startTime || 0`, returnByValue: true }, s);
      if (r.result.value) return r.result.value;
      if (Date.now() - t0 > timeout) return NaN;
      await sleep(10);
    }
  };
  const FLOOR = '/healthz (floor)';
  const measure = async (b, p) => {
    await nav(b.srv.base + '/healthz');
    b.res[FLOOR][b.case + '_fcp'].push(await entry('first-contentful-paint'));
    await nav(b.srv.base + p.replace('MODEL', b.acct.model.id));
    return { fcp: await entry('first-contentful-paint'), ready: await entry('atelier-ready') };
  };
  // the window settles: chromium's own start-up work is done before any figure
  await nav(builds[0].srv.base + '/healthz');
  await sleep(3000);

  const cases = [['cold', true, 0], ['warm', false, 0], ['cold_rtt', true, RTT_MS], ['warm_rtt', false, RTT_MS]];
  const loads = {};
  for (const b of builds) {
    b.res = Object.fromEntries([...PAGES, FLOOR].map((p) => [p, {}]));
    for (const [name] of cases) for (const k of ['fcp', 'ready']) for (const p of [...PAGES, FLOOR]) b.res[p][name + '_' + k] = [];
  }
  for (const [name, cacheOff, latency] of cases) {
    await cr.send('Network.setCacheDisabled', { cacheDisabled: cacheOff }, s);
    await cr.send('Network.emulateNetworkConditions', { offline: false, latency, downloadThroughput: -1, uploadThroughput: -1 }, s);
    if (!cacheOff) for (const b of builds) for (const p of PAGES) await nav(b.srv.base + p.replace('MODEL', b.acct.model.id)); // a first visit fills the cache
    loads[name] = [load()];
    for (let i = 0; i < N; i++)
      for (const p of PAGES)
        for (const b of builds) {
          b.case = name;
          const m = await measure(b, p);
          for (const k of ['fcp', 'ready']) b.res[p][name + '_' + k].push(m[k]);
        }
    loads[name].push(load());
  }

  const col = (v) => (Number.isFinite(v) ? String(Math.round(v)) : '-').padStart(7);
  console.log(`first render and ready (median of ${N} loads, ms); load average ${Object.entries(loads).map(([k, v]) => k + ' ' + v.join('-')).join(', ')}`);
  let worstB = 0, worstT = 0;
  for (const b of builds) {
    console.log(`\n${b.name} (${b.bin})`);
    console.log('page'.padEnd(18) + 'bytes'.padStart(7) + ' | localhost: fcp cold  warm  ready cold  warm | +' + RTT_MS + ' ms per request: fcp cold  warm  ready cold  warm');
    for (const [p, r] of Object.entries(b.res)) {
      const m = (k) => (r[k].length ? median(r[k]) : NaN);
      const bytes = p === FLOOR ? NaN : await weight(b.srv, p.replace('MODEL', b.acct.model.id));
      if (b === builds[0] && p !== FLOOR) {
        worstB = Math.max(worstB, bytes);
        worstT = Math.max(worstT, m('cold_fcp'));
      }
      console.log(p.replace('MODEL', 'ID').padEnd(18) + col(bytes) + ' |          ' + col(m('cold_fcp')) + col(m('warm_fcp')) + '    ' + col(m('cold_ready')) + col(m('warm_ready')) +
        ' |                   ' + col(m('cold_rtt_fcp')) + col(m('warm_rtt_fcp')) + '    ' + col(m('cold_rtt_ready')) + col(m('warm_rtt_ready')));
    }
  }
  console.log(`\nworst of this build: ${worstB} bytes (target < 102400), first render ${worstT.toFixed(0)} ms on localhost, cold (target < 200)`);
  process.exitCode = worstB < 102400 && worstT < 200 ? 0 : 1;
} finally {
  await cr.stop();
  for (const b of builds) await b.srv?.stop();
}

// lib.mjs - what the browser tests share: an atelier server of their own
// (fresh data directory, free port, mail in the outbox), Debian's chromium
// driven by playwright-core, and the checks every page gets: a screenshot at
// desktop and phone width, axe-core with no serious or critical violation,
// no console error, and no request to any host but the server; and an
// authenticator app (TOTP codes) for two-factor login.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const BIN = process.env.ATELIER_BIN;
export const CHROMIUM = process.env.ATELIER_CHROMIUM || '/usr/bin/chromium';
export const SHOTS = process.env.ATELIER_SCREENSHOTS || path.join(path.dirname(BIN || '.'), 'test-logs', 'screenshots');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/* A server on a fresh data directory; stop() ends it and fails on a
 * sanitizer report or a BUG line in its stderr. bin and host (another
 * loopback address keeps another server's cookies apart: cookies ignore
 * the port) are for bench/site.mjs. */
export async function startServer(extra = [], { bin = BIN, host = '127.0.0.1' } = {}) {
  if (!bin) throw new Error('ATELIER_BIN is not set');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-browser-'));
  const port = await freePort(host);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ATELIER_')));
  const proc = spawn(bin, ['serve', '--listen', `${host}:${port}`, '--data', dir, '--sweep-delay', '3600', ...extra], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const base = `http://${host}:${port}`;
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(base + '/healthz');
      if (r.ok) break;
    } catch { /* not yet */ }
    if (proc.exitCode !== null || i > 100) throw new Error('the server did not start: ' + stderr);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base, dir, port,
    stderr: () => stderr,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      fs.rmSync(dir, { recursive: true, force: true });
      for (const bad of ['BUG:', 'AddressSanitizer', 'runtime error:', 'LeakSanitizer'])
        if (stderr.includes(bad)) throw new Error(`the server's stderr holds ${bad}\n${stderr.slice(-4000)}`);
      if (proc.exitCode !== 0) throw new Error(`the server exited with ${proc.exitCode}\n${stderr.slice(-4000)}`);
    },
  };
}

/* Run the atelier command line (populate, opendata build...) against the
 * server's data directory; answers its stdout, throws on a failure. */
export function runCli(srv, args, timeout = 300000) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ATELIER_')));
  const r = spawnSync(BIN, [...args, '--data', srv.dir], { env, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`atelier ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${(r.stderr || '').slice(-3000)}`);
  return r.stdout;
}

/* The newest mail to `to` in the outbox, waiting for it to be written. */
export async function mailTo(srv, to, { after = 0, timeout = 10000 } = {}) {
  const box = path.join(srv.dir, 'outbox');
  const t0 = Date.now();
  for (;;) {
    const files = fs.existsSync(box) ? fs.readdirSync(box).filter((f) => f.endsWith('.eml')).sort() : [];
    const hits = [];
    for (const f of files) {
      const full = path.join(box, f);
      const st = fs.statSync(full);
      if (st.mtimeMs < after) continue;
      const text = fs.readFileSync(full, 'utf8');
      if (new RegExp('^To: .*' + to.replace(/[.+]/g, '\\$&'), 'mi').test(text)) hits.push(text);
    }
    if (hits.length) return hits[hits.length - 1].replace(/=\r?\n/g, '');
    if (Date.now() - t0 > timeout) throw new Error('no mail to ' + to);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function linkIn(mail, pathName) {
  const m = new RegExp('(http://[^\\s]+/' + pathName + '\\?token=[A-Za-z0-9_-]+)').exec(mail);
  if (!m) throw new Error('no /' + pathName + ' link in the mail:\n' + mail);
  return m[1];
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    // root (CI) cannot use chromium's sandbox: --no-sandbox (tests/browser/README.md)
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-domain-reliability', '--disable-sync', '--metrics-recording-only'],
  });
}

/* A browser context that records every request and every console error. */
export async function openContext(browser, srv, viewport = DESKTOP) {
  const ctx = await browser.newContext({ viewport, acceptDownloads: true, locale: 'en-GB' });
  const rec = { requests: [], consoleErrors: [], allowed: [] };
  ctx.on('request', (req) => rec.requests.push(req.url()));
  ctx.on('page', (p) => watchPage(p, rec));
  return { ctx, rec };
}

function watchPage(page, rec) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (rec.allowed.some((re) => re.test(text))) return;
    rec.consoleErrors.push(page.url() + ': ' + text);
  });
  page.on('pageerror', (e) => rec.consoleErrors.push(page.url() + ': uncaught ' + e.message));
}

/* Requests to anything but the server (data: and blob: URLs stay in the
 * page). */
export function foreignRequests(rec, srv) {
  return rec.requests.filter((u) => !u.startsWith(srv.base + '/') && !u.startsWith('data:') && !u.startsWith('blob:'));
}

/* Wait for a page's script to have finished its start-up. */
export async function ready(page) {
  await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
}

/* axe-core on the current page: the serious and critical violations. The
 * source is evaluated through the DevTools protocol, so the page's CSP
 * (no inline script) stays as it is. */
export async function axe(page) {
  await page.evaluate(AXE_SOURCE + '\n;0');
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/* The checks of one page state: screenshots at desktop and phone width,
 * axe. Returns the violations (empty when fine). */
export async function checkPage(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const vp = page.viewportSize();
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(SHOTS, name + '-desktop.png'), fullPage: true });
  const violations = await axe(page);
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(SHOTS, name + '-phone.png'), fullPage: true });
  violations.push(...(await axe(page)).map((v) => ({ ...v, width: 'phone' })));
  // no horizontal scrolling on a phone
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (overflow > 1) violations.push({ id: 'phone-overflow', impact: 'serious', help: `the page is ${overflow} px wider than a phone`, nodes: [] });
  await page.setViewportSize(vp || DESKTOP);
  return violations;
}

/* ---- two-factor login: TOTP codes (RFC 6238: HMAC-SHA1, 30 s, 6 digits) ---- */

export const TOTP_STEP = 30;

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const ch of s.replace(/[\s=]/g, '').toUpperCase()) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error('not base32: ' + ch);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/* The code of secret (base32) at time step `step` (RFC 4226 dynamic truncation). */
export function totp(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = h[h.length - 1] & 0x0f;
  const bin = ((h[off] & 0x7f) << 24) | (h[off + 1] << 16) | (h[off + 2] << 8) | h[off + 3];
  return String(bin % 1e6).padStart(6, '0');
}

/* An authenticator app: the server accepts a code of its step, the one
 * before or the one after, each step once and only later than the last one
 * it accepted; next() answers such a code, waiting for the next step when
 * the window is used up, and never within 4 s of a step's end. */
export class Authenticator {
  constructor(secret) {
    this.secret = secret.replace(/\s+/g, '');
    this.last = -1;
  }
  static now() {
    return Date.now() / 1000;
  }
  async next() {
    for (;;) {
      const t = Authenticator.now();
      if (TOTP_STEP - (t % TOTP_STEP) < 4) {
        await new Promise((r) => setTimeout(r, (TOTP_STEP - (t % TOTP_STEP) + 0.3) * 1000));
        continue;
      }
      const now = Math.floor(t / TOTP_STEP);
      for (let s = now - 1; s <= now + 1; s++)
        if (s > this.last) {
          this.last = s;
          return totp(this.secret, s);
        }
      await new Promise((r) => setTimeout(r, (TOTP_STEP - (t % TOTP_STEP) + 0.3) * 1000));
    }
  }
  /* six digits that are no code of the accepted window */
  wrong() {
    const now = Math.floor(Authenticator.now() / TOTP_STEP);
    const near = new Set();
    for (let s = now - 3; s <= now + 3; s++) near.add(totp(this.secret, s));
    for (let i = 0; ; i++) {
      const c = String((123457 + i * 7919) % 1e6).padStart(6, '0');
      if (!near.has(c)) return c;
    }
  }
}

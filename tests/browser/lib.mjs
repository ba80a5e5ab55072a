// lib.mjs - helpers shared by Tessera's browser tests (imported, never run).
//
// Each tests/browser/NAME.test.mjs is one journey: it makes a CA home with
// the real `tessera`, starts `tessera serve` on 127.0.0.1 (port 0), and drives
// the pages in a real headless Chromium (/usr/bin/chromium, Debian's) through
// playwright-core.  meson passes the environment (tests/browser/meson.build):
//   TESSERA         the binary under test
//   SOFTHSM_MODULE  the SoftHSM2 PKCS#11 module
//   SRCDIR          the source tree
//   TSR_ARTIFACTS   where screenshots go (<test>-<step>.png)
//
// A test is
//   import { journey, assert } from './lib.mjs';
//   await journey(async (t) => {
//     const home = t.home();                        // tessera init
//     home.addUser('alice', ['ra-officer'], 'violet tractor umbrella 42');
//     const [voucher] = home.vouchers('smime', 1);
//     const server = await t.serve(home);           // tessera serve (ARGS: --web-root ...)
//     const page = await t.page();                  // Chromium, watched
//     await page.goto(server.url + '/');
//     await t.shot(page, 'index');                  // <test>-index.png, no error so far
//     const code = home.mailCode(VCODE_RE, { kind: 'verification', application: id });
//     const r = await server.api('GET', '/api/v1/health');   // from Node, not the browser
//     assert.status(r, 200, 'health');
//   });
// Conventions as in tests/integration/lib.sh: every check prints one "ok"
// line; the first failure prints "FAIL: ..." (expected, got) and the test
// exits 1.  Whatever ends the test (success, failure, an exception, a signal,
// the time limit), the browser is closed, every server is stopped and the
// work directory removed.  A console error, an uncaught page error or a
// Content-Security-Policy violation fails the test, unless the test declared
// it expected (t.allowConsole).  Exit 77 (meson's "skipped") only when
// playwright-core or Chromium is missing outside CI; with CI=true that is a
// failure: `make check` installs both (scripts/install-deps,
// scripts/browser-deps).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';

export const TESSERA = process.env.TESSERA;
export const SRCDIR = process.env.SRCDIR ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const CHROMIUM = process.env.TSR_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = process.env.TSR_ARTIFACTS ?? path.join(os.tmpdir(), 'tessera-browser-artifacts');
const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
// The whole test, cleanup excluded; below meson's timeout (300 s) so that
// the cleanup still runs.
const DEADLINE_MS = Number(process.env.TSR_BROWSER_DEADLINE_MS ?? 270000);

/** The test's name: NAME of NAME.test.mjs. */
export const TEST_NAME = path.basename(process.argv[1] ?? 'test').replace(/\.test\.m?js$/, '');

/** Patterns for mailCode (as in tests/integration/lib.sh). */
export const VCODE_RE = /verification code: *([0-9A-Z]{4}-[0-9A-Z*~$=]{4})/;
export const ACODE_RE = /activation code: *([0-9A-Z*~$=-]{20,})/;
export const PCODE_RE = /Initial token passcode: *([0-9]+)/;

/** Three secret questions and answers, for applications. */
export const QUESTIONS = [
  { question: 'Name of your first pet?', answer: 'Rex the Dog' },
  { question: 'Street you grew up on?', answer: 'Elm Street' },
  { question: 'Your favourite teacher?', answer: 'Mrs Smith' },
];

// ------------------------------------------------------------------ reporting

class TestFailure extends Error {}

function show(v) {
  if (typeof v === 'string') return JSON.stringify(v.length > 400 ? v.slice(0, 400) + '...' : v);
  try {
    const s = JSON.stringify(v);
    return s !== undefined && s.length > 400 ? s.slice(0, 400) + '...' : String(s);
  } catch {
    return String(v);
  }
}

/** Prints "ok   WHAT". */
export function pass(what) {
  console.log(`ok   ${what}`);
}

/** Fails the test with MESSAGE. */
export function fail(message) {
  throw new TestFailure(message);
}

/** Assertions: each passes with an "ok" line or fails naming what and why. */
export const assert = {
  ok(cond, what) {
    if (!cond) fail(`${what}: not so`);
    pass(what);
  },
  equal(actual, expected, what) {
    if (actual !== expected) fail(`${what}: got ${show(actual)}, expected ${show(expected)}`);
    pass(what);
  },
  /** Deep equality through JSON (plain data only). */
  same(actual, expected, what) {
    if (JSON.stringify(actual) !== JSON.stringify(expected))
      fail(`${what}: got ${show(actual)}, expected ${show(expected)}`);
    pass(what);
  },
  match(text, re, what) {
    if (typeof text !== 'string' || !re.test(text)) fail(`${what}: ${show(text)} does not match ${re}`);
    pass(what);
  },
  noMatch(text, re, what) {
    if (typeof text === 'string' && re.test(text)) fail(`${what}: ${show(text)} matches ${re}`);
    pass(what);
  },
  includes(haystack, needle, what) {
    if (haystack == null || !haystack.includes(needle))
      fail(`${what}: ${show(needle)} not in ${show(haystack)}`);
    pass(what);
  },
  /** An answer (server.api, or a playwright Response) with STATUS. */
  status(res, status, what) {
    const got = typeof res.status === 'function' ? res.status() : res.status;
    if (got !== status)
      fail(`${what}: status ${got}, expected ${status}${typeof res.text === 'string' ? ': ' + show(res.text) : ''}`);
    pass(`${what} (${status})`);
  },
};

// ------------------------------------------------------------------ tessera

function workDir() {
  return fs.mkdtempSync(path.join(process.env.TMPDIR ?? os.tmpdir(), `tessera-browser-${TEST_NAME}.`));
}

/** Runs tessera ARGS (stdin closed); returns stdout; fails with stderr. */
export function tessera(args, { env } = {}) {
  const r = spawnSync(TESSERA, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
    timeout: 120000,
  });
  if (r.error) fail(`tessera ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0)
    fail(`tessera ${args.join(' ')} exited ${r.status ?? r.signal}:\n${indent(r.stderr + r.stdout)}`);
  return r.stdout;
}

function indent(text) {
  return text.trimEnd().split('\n').slice(-40).map((l) => '    | ' + l).join('\n');
}

/** A CA home: DIR made by `tessera init`, with helpers that work on it. */
class Home {
  constructor(work, dir) {
    this.work = work;
    this.dir = dir;
    this.root = path.join(dir, 'certs', 'root.pem');
  }

  /** tessera ARGS --home DIR (the home's flag after the subcommand words). */
  tessera(words, args = []) {
    return tessera([...words, '--home', this.dir, ...args]);
  }

  /** A file private to the test holding TEXT; returns its path. */
  secretFile(name, text) {
    const f = path.join(this.work, name);
    fs.writeFileSync(f, text + '\n', { mode: 0o600 });
    return f;
  }

  /** `tessera user add NAME --role R... --password-file`. */
  addUser(name, roles, password, extra = []) {
    const args = [name];
    for (const r of roles) args.push('--role', r);
    args.push('--password-file', this.secretFile(`${name}.pw`, password), ...extra);
    this.tessera(['user', 'add'], args);
    pass(`user add ${name} (${roles.join(', ')})`);
  }

  /** COUNT voucher codes for PRODUCT. */
  vouchers(product, count = 1) {
    const codes = this.tessera(['voucher', 'create'], ['--product', product, '--count', String(count)])
      .split('\n').filter((l) => l !== '');
    if (codes.length !== count) fail(`voucher create: ${codes.length} codes, expected ${count}`);
    pass(`${count} ${product} voucher(s)`);
    return codes;
  }

  /**
   * The newest message in the Maildir BOX ('outbox', or 'passcodes' for
   * initial token passcodes) of KIND (X-Tessera-Kind) and, if given, for
   * APPLICATION, or null: { file, headers (lower-case names), subject, body }
   * with the body decoded (quoted-printable, UTF-8).
   */
  latestMail({ kind, application, box = 'outbox' } = {}) {
    const found = [];
    for (const sub of ['new', 'cur']) {
      const d = path.join(this.dir, box, sub);
      if (!fs.existsSync(d)) continue;
      for (const name of fs.readdirSync(d)) {
        const file = path.join(d, name);
        const st = fs.statSync(file, { bigint: true });
        if (!st.isFile()) continue;
        const m = parseMail(fs.readFileSync(file, 'latin1'));
        if (kind && m.headers['x-tessera-kind'] !== kind) continue;
        if (application && m.headers['x-tessera-application'] !== application) continue;
        found.push({ mtime: st.mtimeNs, file, ...m });
      }
    }
    found.sort((a, b) => (a.mtime < b.mtime ? -1 : a.mtime > b.mtime ? 1 : a.file < b.file ? -1 : 1));
    return found.length ? found[found.length - 1] : null;
  }

  /** The first group of RE in the newest matching message (latestMail); fails if none. */
  mailCode(re, query = {}) {
    const m = this.latestMail(query);
    if (!m) fail(`no ${query.kind ?? ''} message${query.application ? ' for ' + query.application : ''} in ${query.box ?? 'outbox'}`);
    const hit = re.exec(m.body);
    if (!hit) fail(`the message ${m.file} has no ${re}:\n${indent(m.body)}`);
    return hit[1];
  }
}

/** Headers and decoded body of an RFC 5322 message (text, latin1 = bytes). */
export function parseMail(raw) {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] ??= line.slice(i + 1).trim();
  }
  let bytes = body;
  if (/quoted-printable/i.test(headers['content-transfer-encoding'] ?? ''))
    bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  else if (/base64/i.test(headers['content-transfer-encoding'] ?? ''))
    bytes = Buffer.from(body, 'base64').toString('latin1');
  const subject = (headers.subject ?? '').replace(/=\?utf-8\?([qb])\?([^?]*)\?=\s*/gi, (_, enc, t) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(t, 'base64').toString('utf8')
      : Buffer.from(t.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (__, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'));
  return { headers, subject, body: Buffer.from(bytes, 'latin1').toString('utf8').replace(/\r\n/g, '\n') };
}

/** Whether `tessera serve --help` mentions OPTION (a feature test). */
export function serveHas(option) {
  const r = spawnSync(TESSERA, ['serve', '--help'], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.includes(option);
}

// ------------------------------------------------------------------ the server

/** A running `tessera serve`: url, and api() to call it from Node. */
class Server {
  constructor(home, child, logFile) {
    this.home = home;
    this.child = child;
    this.logFile = logFile;
    this.url = null;
    this.exit = once(child, 'exit');
    this.stopped = false;
  }

  /** The server's stderr (access log, errors), its last lines. */
  log() {
    try {
      return indent(fs.readFileSync(this.logFile, 'utf8'));
    } catch {
      return '';
    }
  }

  /**
   * METHOD PATH from Node (not the browser), the server judged by the home's
   * root: { status, headers, text, json }.  BODY (an object) is sent as JSON;
   * TOKEN, if given, as the bearer token.
   */
  api(method, p, body, token) {
    const headers = {};
    let data;
    if (body !== undefined) {
      data = Buffer.from(JSON.stringify(body));
      headers['content-type'] = 'application/json';
      headers['content-length'] = data.length;
    }
    if (token) headers.authorization = `Bearer ${token}`;
    const ca = fs.readFileSync(this.home.root);
    return new Promise((resolve, reject) => {
      const req = https.request(new URL(p, this.url), { method, headers, ca, timeout: 60000 }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON: json stays null
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer within 60 s`)));
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }

  /** SIGTERM; the server must exit 0 within 10 s (else SIGKILL and a failure). */
  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    if (this.url === null && this.child.exitCode === null && this.child.signalCode === null) {
      // stopped while starting: no verdict on its exit status
      this.child.kill('SIGKILL');
      await this.exit;
      return;
    }
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      fail(`tessera serve had already exited (${this.child.exitCode ?? this.child.signalCode}):\n${this.log()}`);
    }
    this.child.kill('SIGTERM');
    const timer = new Promise((r) => setTimeout(r, 10000, 'timeout'));
    if ((await Promise.race([this.exit, timer])) === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exit;
      fail(`tessera serve still running 10 s after SIGTERM:\n${this.log()}`);
    }
    const [code, signal] = await this.exit;
    if (code !== 0) fail(`tessera serve exited ${code ?? signal} on SIGTERM:\n${this.log()}`);
    pass('tessera serve exits 0 on SIGTERM');
    // A browser's visit is nothing to warn an operator about (Chromium's
    // dropped first handshake, for one, is logged at info).
    let warnings = [];
    try {
      warnings = fs.readFileSync(this.logFile, 'utf8').split('\n').filter((l) => /^tessera: warning:/.test(l));
    } catch {
      // no log: nothing was written
    }
    if (warnings.length > 0) fail(`tessera serve logged warnings:\n${indent(warnings.join('\n'))}`);
    pass('tessera serve logged no warning');
  }
}

// Spawns the server and hands it to KEEP at once (so that whatever happens
// next, the cleanup stops it); returns [server, problem or null].
async function startServer(home, args, keep) {
  const logFile = path.join(home.work, `serve-${Date.now()}.err`);
  const err = fs.openSync(logFile, 'a');
  const child = spawn(TESSERA, ['serve', '--home', home.dir, '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', err],
  });
  fs.closeSync(err);
  const server = new Server(home, child, logFile);
  keep(server);
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => (out += d));
  const t0 = Date.now();
  while (!server.url) {
    const m = /https:\/\/127\.0\.0\.1:([1-9][0-9]*)/.exec(out);
    if (m) server.url = `https://127.0.0.1:${m[1]}`;
    else if (child.exitCode !== null || child.signalCode !== null) {
      server.stopped = true;
      fail(`tessera serve exited (${child.exitCode ?? child.signalCode}) before printing its URL:\n${server.log()}`);
    } else if (Date.now() - t0 > 30000) return [server, 'tessera serve printed no URL within 30 s'];
    else await sleep(50);
  }
  for (;;) {
    try {
      const r = await server.api('GET', '/api/v1/health');
      if (r.status === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() - t0 > 30000) return [server, `tessera serve does not answer /api/v1/health on ${server.url}`];
    await sleep(100);
  }
  pass(`tessera serve answers on ${server.url}`);
  return [server, null];
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// ------------------------------------------------------------------ the browser

// playwright-core, loaded (once) before the test starts anything: a missing
// one skips or fails the test with nothing to clean up.
let playwright = null;
async function loadPlaywright() {
  if (playwright) return playwright;
  const missing = (what) => {
    if (IN_CI) {
      console.log(`FAIL: ${what} (CI=true: \`make check\` installs it; scripts/browser-deps)`);
      process.exit(1);
    }
    console.log(`SKIP: ${what} (scripts/install-deps and scripts/browser-deps install it; make check runs both)`);
    process.exit(77);
  };
  if (!fs.existsSync(CHROMIUM)) missing(`${CHROMIUM} is not installed`);
  try {
    playwright = await import('playwright-core');
    return playwright;
  } catch (e) {
    missing(`playwright-core is not installed in tests/browser/node_modules (${e.code ?? e.message})`);
  }
}

// Reports Content-Security-Policy violations to the console as errors
// (Chromium logs most of them itself; this also catches those it does not).
const CSP_WATCH = `document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') +
    ' at ' + e.sourceFile + ':' + e.lineNumber);
});`;

// ------------------------------------------------------------------ the journey

class Journey {
  constructor() {
    this.work = workDir();
    this.homes = 0;
    this.servers = [];
    this.browser = null;
    this.context = null;
    this.pages = [];
    this.problems = []; // console errors, page errors, CSP violations not allowed
    this.allowed = [];
    this.shots = 0;
    this.closing = false;
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    // This test's screenshots of an earlier run go: the directory shows the last one.
    for (const f of fs.readdirSync(ARTIFACTS))
      if (f.startsWith(`${TEST_NAME}-`) && f.endsWith('.png')) fs.rmSync(path.join(ARTIFACTS, f), { force: true });
  }

  /** Fails once the cleanup has begun (a signal, the time limit). */
  open() {
    if (this.closing) fail('the test is ending');
  }

  /** A new CA home (`tessera init --home DIR ARGS`). */
  home(args = []) {
    this.open();
    const work = path.join(this.work, `h${this.homes++}`);
    fs.mkdirSync(work, { mode: 0o700 });
    const dir = path.join(work, 'home');
    tessera(['init', '--home', dir, ...args]);
    pass(`tessera init --home ${dir}${args.length ? ' ' + args.join(' ') : ''}`);
    return new Home(work, dir);
  }

  /** `tessera serve` for HOME on 127.0.0.1:0 (ARGS added), up and healthy; stopped at the end. */
  async serve(home, args = []) {
    this.open();
    const [server, problem] = await startServer(home, args, (s) => this.servers.push(s));
    if (problem) fail(`${problem}:\n${server.log()}`);
    return server;
  }

  /** The browser context (one per test), launched on first use. */
  async browserContext() {
    this.open();
    if (this.context) return this.context;
    const { chromium } = await loadPlaywright();
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...(root ? ['--no-sandbox'] : []), '--disable-dev-shm-usage'],
    });
    // The server's certificate is issued by the test CA, which Chromium does
    // not trust.
    this.context = await this.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
    this.context.setDefaultTimeout(15000);
    await this.context.addInitScript(CSP_WATCH);
    this.context.on('page', (page) => this.watch(page));
    return this.context;
  }

  /** A new page in the context, watched for errors. */
  async page() {
    const ctx = await this.browserContext();
    return ctx.newPage();
  }

  watch(page) {
    this.pages.push(page);
    page.on('console', (msg) => {
      const text = msg.text();
      const loc = msg.location();
      const where = loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : '';
      const line = `console.${msg.type()}: ${text}${where}`;
      if (process.env.TSR_BROWSER_VERBOSE) console.log(`     ${line}`);
      const bad = msg.type() === 'error' || /Content.Security.Policy/i.test(text);
      if (bad && !this.allowed.some((re) => re.test(text))) this.problems.push(line);
    });
    page.on('pageerror', (err) => this.problems.push(`uncaught error in the page: ${err.message}`));
    page.on('crash', () => this.problems.push('the page crashed'));
  }

  /**
   * Console errors matching RE are expected from now on (a wrong password's
   * 401 logs "Failed to load resource: ... 401").  Use sparingly.
   */
  allowConsole(re) {
    this.allowed.push(re);
  }

  /** Fails if the pages logged an error, threw or violated the CSP so far. */
  checkConsole(what = 'the pages') {
    if (this.problems.length) {
      const p = this.problems.splice(0);
      fail(`${what}: ${p.length} console error(s), page error(s) or CSP violation(s):\n${p.map((l) => '    | ' + l).join('\n')}`);
    }
  }

  /** Saves PAGE as TSR_ARTIFACTS/<test>-<step>.png; the pages must be clean so far. */
  async shot(page, step) {
    const file = path.join(ARTIFACTS, `${TEST_NAME}-${step}.png`);
    await page.screenshot({ path: file, fullPage: true });
    this.shots++;
    this.checkConsole(`at step ${step}`);
    const rel = path.relative(process.cwd(), file);
    pass(`screenshot ${rel.startsWith('..') ? file : rel}`);
  }

  /** Browser closed, servers stopped (each must exit 0), work removed. */
  async cleanup(failed) {
    this.closing = true;
    const errors = [];
    if (failed) {
      for (const [i, page] of this.pages.entries()) {
        try {
          if (!page.isClosed())
            await page.screenshot({ path: path.join(ARTIFACTS, `${TEST_NAME}-failure${i ? '-' + i : ''}.png`), fullPage: true, timeout: 5000 });
        } catch {
          // best effort
        }
      }
    }
    if (this.browser) {
      try {
        await this.browser.close();
      } catch (e) {
        errors.push(`closing the browser: ${e.message}`);
      }
    }
    for (const s of this.servers) {
      try {
        if (failed && !s.stopped) console.log(`tessera serve's log (${s.url}):\n${s.log()}`);
        await s.stop();
      } catch (e) {
        errors.push(e.message);
      }
    }
    try {
      fs.rmSync(this.work, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch (e) {
      errors.push(`removing ${this.work}: ${e.message}`);
    }
    return errors;
  }
}

/**
 * Runs the test FN(t) and exits: 0 if it passed, 1 on any failure.  FN gets
 * the Journey t (home, serve, page, shot, allowConsole, checkConsole); the
 * pages must be free of errors at the end too.
 */
export async function journey(fn) {
  let t = null;
  let cleaning = null;
  const finish = (err) => {
    if (!cleaning) {
      cleaning = (async () => {
        const failed = err !== null;
        const errors = t ? await t.cleanup(failed) : [];
        if (failed) {
          const text = err instanceof TestFailure ? err.message : err && err.stack ? err.stack : String(err);
          // Playwright's call logs are coloured for a terminal.
          console.log(`FAIL: ${text.replace(/\x1b\[[0-9;]*m/g, '')}`);
        }
        for (const e of errors) console.log(`FAIL: ${e}`);
        process.exit(failed || errors.length ? 1 : 0);
      })();
    }
    return cleaning;
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'])
    process.on(sig, () => finish(new TestFailure(`interrupted by ${sig}`)));
  const deadline = setTimeout(
    () => finish(new TestFailure(`the test took longer than ${DEADLINE_MS / 1000} s`)), DEADLINE_MS);

  if (!TESSERA) {
    console.log('FAIL: TESSERA must name the tessera binary (run through meson test)');
    process.exit(1);
  }
  delete process.env.TESSERA_HOME;
  delete process.env.SOFTHSM2_CONF;
  process.env.LC_ALL = 'C';
  process.env.TZ = 'UTC';
  await loadPlaywright();
  let failure = null;
  try {
    t = new Journey();
    await fn(t);
    t.checkConsole('at the end');
  } catch (e) {
    failure = e;
  }
  clearTimeout(deadline);
  await finish(failure);
}

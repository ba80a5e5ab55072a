// a11y.test.mjs - every page, in the states a person sees it, checked for
// accessibility in Chromium. The data comes first, through the CLI and the
// API as the other tests make it (an officer, two S/MIME vouchers, a device
// certificate, an application under review); then each page and state (the
// applicant's: the index, Apply step by step with its errors shown (S/MIME,
// and EPCS's extra fields), the review, the confirmation, Verify email
// (empty, a wrong code, done), My application (signed out, a wrong password,
// the password reset and its errors, signed in, withdrawing), Retrieve and
// Test my certificate (signed in and out), Verify a certificate (empty, an
// error, a good and a revoked certificate); the officer's: sign-in and its
// error, the front door, the queue, an application and a refused rejection,
// the certificates (the list, one valid, one revoked), the audit trail) is
// checked:
//   - axe-core (tests/browser/node_modules, pinned), the rules tagged WCAG
//     2.0 and 2.1 level A and AA, at 1280 px and at 320 px: any violation
//     fails, printed with its rule, the elements and the help;
//   - 400 % zoom: a 1280x1024 window at 400 % is 320x256 CSS pixels. There
//     the page does not scroll sideways, no visible text lies outside the
//     viewport or is cut by an ancestor (WCAG 1.4.10: text inside a
//     container that scrolls on its own, a <pre> or a table's wrapper, is
//     allowed), and from the top of the page the keyboard alone gets there:
//     the first Tab is the skip link, shown, and Enter on it moves the focus
//     to the main content with the main heading in view; then Tab reaches
//     every visible form control of the main content, each scrolled into view
//     with a visible focus indicator. A screenshot of each (<test>-<state>.png).
// Every problem of every page is listed before the test fails. Smooth
// scrolling is off (reduced motion emulated), so that where the focus lands
// is known at once. First, a page with planted faults shows that each check
// catches what it is for.
//
// axe is injected with page.evaluate (the DevTools protocol's
// Runtime.evaluate): the pages' CSP (script-src 'self', no 'unsafe-inline',
// no 'unsafe-eval') does not apply to what DevTools evaluates, so the pages
// run under their real CSP, and the harness still fails on any violation.
// A <script> tag (addScriptTag) would be inline script, blocked; a context
// with bypassCSP would test the pages without their CSP.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { journey, assert, fail, pass, SRCDIR, VCODE_RE, QUESTIONS } from './lib.mjs';

const OFFICER_PW = 'copper lantern meadow 7';
const APPLICANT_PW = 'purple elephant dances slowly';
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const DESKTOP = { width: 1280, height: 900 };
const ZOOM400 = { width: 320, height: 256 }; // 1280x1024 at 400 %

// axe-core's source, or a skip (a failure under CI) when it is not installed.
function axeSource() {
  try {
    const require = createRequire(import.meta.url);
    return fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  } catch (e) {
    const ci = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
    console.log(`${ci ? 'FAIL' : 'SKIP'}: axe-core is not installed in tests/browser/node_modules (${e.code ?? e.message}); scripts/browser-deps installs it`);
    process.exit(ci ? 1 : 77);
  }
}
const AXE = axeSource();

function openssl(args) {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) fail(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// Every problem found, by state; the test fails at the end if any.
const problems = [];
function problem(state, text) {
  problems.push(`${state}: ${text}`);
  console.log(`not ok ${state}: ${text.split('\n')[0]}`);
}

// axe's WCAG A/AA rules on PAGE as it is now: [] or one line per violation.
async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const violations = await page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')}${n.failureSummary ? ' [' + n.failureSummary.replace(/\s+/g, ' ').trim() + ']' : ''}`),
    }));
  }, WCAG_TAGS);
  return violations.map((v) => `axe ${v.id} (${v.impact}): ${v.help}\n${v.nodes.slice(0, 6).map((n) => '      ' + n).join('\n')}`);
}

// At the current viewport: sideways scrolling, and visible text outside the
// viewport or cut by an ancestor that does not scroll.
async function reflow(page) {
  return page.evaluate(() => {
    const found = [];
    const de = document.documentElement;
    if (de.scrollWidth > de.clientWidth + 1)
      found.push(`the page scrolls sideways: content ${de.scrollWidth} px wide in ${de.clientWidth} px`);
    const vw = de.clientWidth;
    const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      (e.classList.length ? '.' + [...e.classList].join('.') : '');
    const seen = new Set();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim()) continue;
      const el = n.parentElement;
      if (!el || seen.has(el) || !el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
      if (!rects.length) continue;
      const left = Math.min(...rects.map((r) => r.left + window.scrollX));
      const right = Math.max(...rects.map((r) => r.right + window.scrollX));
      // Ancestors: one that scrolls on its own holds the text legitimately;
      // a 1-pixel clipped box is visually hidden text (for screen readers);
      // one that hides overflow must hold the text.
      let cut = null;
      let scroller = false;
      let hiddenText = false;
      for (let a = el; a && a !== document.body; a = a.parentElement) {
        const cs = getComputedStyle(a);
        const box = a.getBoundingClientRect();
        if (box.width <= 1 || box.height <= 1) { hiddenText = true; break; }
        if (cs.overflowX === 'auto' || cs.overflowX === 'scroll') { scroller = true; break; }
        if ((cs.overflowX === 'hidden' || cs.overflowX === 'clip') &&
            (left < box.left + window.scrollX - 1 || right > box.right + window.scrollX + 1)) {
          cut = a;
          break;
        }
      }
      if (hiddenText || scroller) continue;
      const text = JSON.stringify(n.textContent.trim().slice(0, 40));
      if (cut) {
        seen.add(el);
        found.push(`text ${text} in ${name(el)} is cut by ${name(cut)}`);
      } else if (left < -1 || right > vw + 1) {
        seen.add(el);
        found.push(`text ${text} in ${name(el)} lies outside the viewport (${Math.round(left)}..${Math.round(right)} of ${vw} px)`);
      }
    }
    return found;
  });
}

// The keyboard from the top: the skip link, then every visible form control
// of the main content, each in view with a visible focus indicator.
async function keyboard(page, maxPresses = 120) {
  const found = [];
  // Tab starts from the top of the page: the focus (and Chromium's
  // sequential navigation starting point) goes to a placeholder at the
  // start of <body>, which is then removed.
  await page.evaluate(() => {
    window.scrollTo(0, 0);
    const start = document.createElement('span');
    start.tabIndex = -1;
    document.body.prepend(start);
    start.focus({ preventScroll: true });
    start.remove();
  });
  // The controls a person must reach: visible, enabled, in <main>; a radio
  // group is reached through any of its radios.
  const wanted = await page.evaluate(() => {
    const list = [];
    const groups = new Set();
    // Each control is known by a key the page keeps until the next check.
    window.tsrA11yKeys = new Map();
    for (const e of document.querySelectorAll('main input, main select, main textarea, main button')) {
      if (e.disabled || e.type === 'hidden' || !e.checkVisibility({ checkVisibilityCSS: true })) continue;
      const r = e.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1) continue;
      if (e.type === 'radio') {
        if (groups.has(e.name)) continue;
        groups.add(e.name);
        list.push({ key: `radio:${e.name}`, what: `the radio group "${e.name}"` });
      } else {
        const key = `c${window.tsrA11yKeys.size}`;
        window.tsrA11yKeys.set(e, key);
        list.push({ key, what: e.id ? `#${e.id}` : `${e.tagName.toLowerCase()} "${(e.labels?.[0]?.innerText ?? e.innerText ?? '').trim().slice(0, 30)}"` });
      }
    }
    return list;
  });
  const focusInfo = () => page.evaluate(() => {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    const r = e.getBoundingClientRect();
    const cs = getComputedStyle(e);
    const indicator = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none';
    return {
      key: e.type === 'radio' ? `radio:${e.name}` : window.tsrA11yKeys?.get(e) ?? null,
      what: e.id ? `#${e.id}` : `${e.tagName.toLowerCase()} "${(e.innerText ?? '').trim().slice(0, 30)}"`,
      skip: e.classList.contains('skip-link'),
      inView: r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < document.documentElement.clientWidth,
      indicator,
    };
  });

  await page.keyboard.press('Tab');
  const first = await focusInfo();
  if (!first || !first.skip) {
    found.push(`the first Tab focuses ${first ? first.what : 'nothing'}, not the skip link`);
  } else {
    if (!first.inView || !first.indicator) found.push('the skip link is not shown (in view, with a focus indicator) when focused');
    await page.keyboard.press('Enter');
    const after = await page.evaluate(() => {
      const main = document.querySelector('main');
      const a = document.activeElement;
      const h1 = [...document.querySelectorAll('main h1')].find((h) => h.checkVisibility());
      const r = h1 ? h1.getBoundingClientRect() : null;
      return {
        inMain: !!main && (a === main || main.contains(a)),
        h1: h1 ? h1.innerText : null,
        h1InView: !!r && r.top >= -1 && r.top < window.innerHeight,
      };
    });
    if (!after.inMain) found.push('Enter on the skip link does not move the focus to <main>');
    if (!after.h1) found.push('no visible <h1> in <main>');
    else if (!after.h1InView) found.push(`after the skip link, the main heading "${after.h1}" is not in view`);
  }
  const reached = new Set();
  const notShown = new Set();
  let stops = 0;
  for (let i = 0; i < maxPresses; i++) {
    await page.keyboard.press('Tab');
    const f = await focusInfo();
    if (!f) break; // left the page
    if (f.skip) break; // round again
    stops++;
    if (f.key) reached.add(f.key);
    if ((!f.inView || !f.indicator) && !notShown.has(f.what)) {
      notShown.add(f.what);
      found.push(`${f.what}, focused by Tab, is ${!f.inView ? 'out of view' : 'without a visible focus indicator'}`);
    }
    if (wanted.every((w) => reached.has(w.key))) break;
  }
  for (const w of wanted)
    if (!reached.has(w.key)) found.push(`Tab does not reach ${w.what}`);
  return { found, stops, controls: wanted.length };
}

await journey(async (t) => {
  const home = t.home();
  home.addUser('olivia', ['ra-officer', 'ca-admin'], OFFICER_PW);
  const vouchers = home.vouchers('smime', 2);
  const server = await t.serve(home, ['--web-root', path.join(SRCDIR, 'web')]);
  // Refusals are 4xx answers, which Chromium logs as failed resources:
  // expected here (the test shows the errors on purpose), and only these.
  t.allowConsole(/Failed to load resource: the server responded with a status of (400|401|403|404|409|422)/);

  // ------------------------------------------------------------ the data
  const work = home.work;
  const csr = path.join(work, 'alpha.csr');
  const pemFile = path.join(work, 'alpha.pem');
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(work, 'alpha.key'), '-subj', '/CN=alpha.example.org', '-out', csr]);
  home.tessera(['cert', 'issue'], ['--product', 'device', '--csr', csr, '--subject',
    'CN=alpha.example.org', '--san', 'dns:alpha.example.org', '--out', pemFile]);
  const pem = fs.readFileSync(pemFile, 'utf8');
  const serial = openssl(['x509', '-in', pemFile, '-noout', '-serial']).trim().split('=')[1].toLowerCase();
  pass(`certificate ${serial} issued`);

  const agreement = (await server.api('GET', '/api/v1/agreement')).json.version;
  let r = await server.api('POST', '/api/v1/applications', {
    product: 'smime', storage: 'software', agreement, password: APPLICANT_PW, voucher: vouchers[1],
    questions: QUESTIONS, applicant: { given_name: 'Jane', family_name: 'Tester', email: 'jane@example.org' },
  });
  assert.status(r, 201, 'an S/MIME application submitted (API)');
  const id = r.json.id;
  r = await server.api('POST', `/api/v1/applications/${id}/email-verification`,
    { code: home.mailCode(VCODE_RE, { kind: 'verification', application: id }) });
  assert.status(r, 200, 'its email verified: under review');

  // ------------------------------------------------------------ the check of one state
  let checked = 0;
  async function check(page, state) {
    const before = problems.length;
    // No smooth scrolling (tessera.css has it unless reduced motion is
    // asked): where the focus lands is then known at once.
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await page.setViewportSize(DESKTOP);
    for (const v of await axe(page)) problem(`${state} (1280 px)`, v);
    await page.setViewportSize(ZOOM400);
    for (const v of await axe(page)) problem(`${state} (320 px)`, v);
    for (const p of await reflow(page)) problem(`${state} (400 %)`, p);
    const kb = await keyboard(page);
    for (const p of kb.found) problem(`${state} (400 %, keyboard)`, p);
    await page.evaluate(() => window.scrollTo(0, 0));
    await t.shot(page, state);
    await page.setViewportSize(DESKTOP);
    checked++;
    if (problems.length === before)
      pass(`${state}: no axe violation; at 400 % it reflows and Tab reaches its ${kb.controls} control(s) (${kb.stops} stops)`);
  }

  // ------------------------------------------------------------ the applicant
  const page = await t.page();
  await page.goto(`${server.url}/`);
  await page.getByRole('heading', { level: 1 }).waitFor();

  // The checks themselves catch what they are for: a field without a label,
  // low contrast, a box wider than 320 px, text cut off, a control Tab
  // cannot reach; then the page is loaded again.
  await page.evaluate(() => {
    const main = document.querySelector('main');
    main.insertAdjacentHTML('beforeend', '<div id="bad"><input id="bad-input" type="text">' +
      '<p id="bad-grey">grey on white</p><div id="bad-wide">wide</div>' +
      '<div id="bad-cut"><span id="bad-cut-text">a long line of text that does not wrap</span></div>' +
      '<button id="bad-notab" tabindex="-1">Unreachable</button></div>');
    Object.assign(document.getElementById('bad-grey').style, { color: '#bbb' });
    Object.assign(document.getElementById('bad-wide').style, { width: '600px' });
    Object.assign(document.getElementById('bad-cut').style, { width: '100px', overflow: 'hidden', whiteSpace: 'nowrap' });
  });
  await page.setViewportSize(DESKTOP);
  const seeded = (await axe(page)).join('\n');
  assert.match(seeded, /axe label .*\n.*#bad-input/, 'the check finds a field without a label (axe "label")');
  assert.match(seeded, /axe color-contrast .*\n(.*\n)*.*#bad-grey/, 'and low contrast (axe "color-contrast")');
  await page.setViewportSize(ZOOM400);
  const flow = (await reflow(page)).join('\n');
  assert.match(flow, /scrolls sideways/, 'at 400 %: a box wider than 320 px scrolls the page sideways');
  assert.match(flow, /"a long line.*cut by div/, 'text cut off by its box');
  const kb = (await keyboard(page)).found.join('\n');
  assert.match(kb, /Tab does not reach #bad-notab/, 'a button outside the Tab order');
  await page.setViewportSize(DESKTOP);
  await page.reload();
  await page.getByRole('heading', { level: 1 }).waitFor();
  await check(page, 'index');

  await page.goto(`${server.url}/apply`);
  await page.locator('#apply-form').waitFor({ state: 'visible' });
  await page.locator('input[name="product"]').first().waitFor();
  await check(page, 'apply-1-product');
  await page.click('#next');
  await page.locator('#product-error').waitFor({ state: 'visible' });
  await check(page, 'apply-1-error');
  await page.check('#product-smime');
  await page.check('#storage-software');
  await page.click('#next');
  await page.locator('#step-you').waitFor({ state: 'visible' });
  await page.fill('#given_name', 'Kim');
  await page.fill('#family_name', 'Tester');
  await page.fill('#email', 'kim@example');
  await page.click('#next');
  await page.locator('#email-error').waitFor({ state: 'visible' });
  await check(page, 'apply-2-error');
  await page.fill('#email', 'kim@example.org');
  await page.click('#next');
  await page.locator('#step-account').waitFor({ state: 'visible' });
  await page.fill('#password', 'short');
  await page.click('#next');
  await page.locator('#password-error').waitFor({ state: 'visible' });
  await check(page, 'apply-3-error');
  await page.fill('#password', APPLICANT_PW);
  await page.fill('#password2', APPLICANT_PW);
  for (const [i, q] of QUESTIONS.entries()) {
    await page.fill(`#q${i + 1}`, q.question);
    await page.fill(`#a${i + 1}`, q.answer);
  }
  await page.click('#next');
  await page.locator('#step-payment').waitFor({ state: 'visible' });
  await page.click('#next');
  await page.locator('#voucher-error').waitFor({ state: 'visible' });
  await check(page, 'apply-4-error');
  await page.fill('#voucher', vouchers[0]);
  await page.click('#next');
  await page.locator('#step-agreement').waitFor({ state: 'visible' });
  await page.click('#next');
  await page.locator('#agree-error').waitFor({ state: 'visible' });
  await check(page, 'apply-5-error');
  await page.check('#agree');
  await page.click('#next');
  await page.locator('#step-review').waitFor({ state: 'visible' });
  await check(page, 'apply-6-review');
  await page.click('#submit');
  await page.locator('#done').waitFor({ state: 'visible' });
  const kimId = (await page.locator('#done-id').innerText()).trim();
  await check(page, 'apply-done');
  // EPCS asks for more (address, date of birth, NPI, DEA): all left empty.
  await page.goto(`${server.url}/apply`);
  await page.locator('input[name="product"]').first().waitFor();
  await page.check('#product-epcs');
  await page.check('#storage-new-token');
  await page.click('#next');
  await page.locator('#npi').waitFor({ state: 'visible' });
  await page.click('#next');
  await page.locator('#npi-error').waitFor({ state: 'visible' });
  await check(page, 'apply-2-epcs-errors');

  await page.goto(`${server.url}/verify-email`);
  await page.locator('#verify-form').waitFor({ state: 'visible' });
  await check(page, 'verify-email');
  await page.fill('#application', kimId);
  await page.fill('#code', '2222-2222');
  await page.click('#verify-form button[type="submit"]');
  await page.locator('#code-error').waitFor({ state: 'visible' });
  await check(page, 'verify-email-error');
  await page.fill('#code', home.mailCode(VCODE_RE, { kind: 'verification', application: kimId }));
  await page.click('#verify-form button[type="submit"]');
  await page.locator('#done').waitFor({ state: 'visible' });
  await check(page, 'verify-email-done');

  await page.goto(`${server.url}/application`);
  await page.locator('#signin-form').waitFor({ state: 'visible' });
  await check(page, 'application-signin');
  await page.fill('#signin-application', id);
  await page.fill('#signin-password', 'not the password at all');
  await page.click('#signin-form button[type="submit"]');
  await page.locator('#signin-password-error').waitFor({ state: 'visible' });
  await check(page, 'application-signin-error');
  await page.click('#forgot');
  await page.locator('#questions-form').waitFor({ state: 'visible' });
  await check(page, 'application-reset');
  await page.click('#questions-form button[type="submit"]');
  await page.locator('#reset-form').waitFor({ state: 'visible' });
  await page.click('#reset-form button[type="submit"]');
  await page.locator('#reset-form [aria-invalid="true"]').first().waitFor();
  await check(page, 'application-reset-errors');
  await page.goto(`${server.url}/application?id=${encodeURIComponent(id)}`);
  await page.locator('#signin-form').waitFor({ state: 'visible' });
  await page.fill('#signin-password', APPLICANT_PW);
  await page.click('#signin-form button[type="submit"]');
  await page.locator('#status').waitFor({ state: 'visible' });
  await check(page, 'application-status');
  await page.click('#withdraw-start');
  await page.locator('#withdraw-reason').waitFor({ state: 'visible' });
  await check(page, 'application-withdraw');
  await page.click('#withdraw-keep');

  for (const p of ['retrieve', 'test']) {
    await page.goto(`${server.url}/${p}?id=${encodeURIComponent(id)}`);
    // The cookie session of My application holds here too.
    await page.locator(p === 'retrieve' ? '#live' : '#result').waitFor({ state: 'visible' });
    await page.locator(p === 'retrieve' ? '#live-head' : '#result-head').filter({ hasText: /\S/ }).waitFor();
    await check(page, `${p}-signed-in`);
  }
  await page.click('#signout');
  await page.locator('#signin-form').waitFor({ state: 'visible' });
  for (const p of ['retrieve', 'test']) {
    await page.goto(`${server.url}/${p}`);
    await page.locator('#signin-form').waitFor({ state: 'visible' });
    await check(page, `${p}-signin`);
  }

  await page.goto(`${server.url}/verify`);
  await page.locator('#check-form').waitFor({ state: 'visible' });
  await check(page, 'verify');
  await page.click('#check-form button[type="submit"]');
  await page.locator('#pem-error').waitFor({ state: 'visible' });
  await check(page, 'verify-error');
  await page.fill('#pem', pem);
  await page.click('#check-form button[type="submit"]');
  await page.locator('#result').waitFor({ state: 'visible' });
  await check(page, 'verify-good');

  // ------------------------------------------------------------ the officer (a browser of their own)
  const ctx = await t.browser.newContext({ ignoreHTTPSErrors: true, viewport: DESKTOP });
  ctx.setDefaultTimeout(15000);
  await ctx.addInitScript(`document.addEventListener('securitypolicyviolation', (e) =>
    console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)')));`);
  ctx.on('page', (p) => t.watch(p));
  const ra = await ctx.newPage();
  await ra.goto(`${server.url}/ra/`);
  await ra.locator('#ra-signin-form').waitFor({ state: 'visible' });
  await check(ra, 'ra-signin');
  await ra.fill('#ra-user', 'olivia');
  await ra.fill('#ra-password', 'not her password');
  await ra.click('#ra-signin-button');
  await ra.locator('#ra-password-error').waitFor({ state: 'visible' });
  await check(ra, 'ra-signin-error');
  await ra.fill('#ra-password', OFFICER_PW);
  await ra.click('#ra-signin-button');
  await ra.waitForURL(/\/ra\/queue$/);
  await ra.locator('#queue-rows tr').first().waitFor();
  await check(ra, 'ra-queue');
  await ra.goto(`${server.url}/ra/`);
  await ra.locator('#ra-home').waitFor({ state: 'visible' });
  await check(ra, 'ra-home');
  await ra.goto(`${server.url}/ra/application?id=${encodeURIComponent(id)}`);
  await ra.locator('#app').waitFor({ state: 'visible' });
  await check(ra, 'ra-application');
  await ra.click('#reject-button');
  await ra.locator('#reject-reason-error').waitFor({ state: 'visible' });
  await check(ra, 'ra-application-error');
  await ra.goto(`${server.url}/ra/certificates`);
  await ra.locator('#cert-rows tr').first().waitFor();
  await check(ra, 'ra-certificates');
  await ra.goto(`${server.url}/ra/certificates?serial=${serial}`);
  await ra.locator('#cert').waitFor({ state: 'visible' });
  await check(ra, 'ra-certificate');
  await ra.goto(`${server.url}/ra/audit`);
  await ra.locator('#audit-rows tr').first().waitFor();
  await ra.locator('#chain-result', { hasText: 'verified' }).waitFor();
  await check(ra, 'ra-audit');

  // Revoked: the officer's certificate page and Verify say so (their "bad" look).
  home.tessera(['cert', 'revoke'], [serial, '--reason', 'keyCompromise']);
  await ra.goto(`${server.url}/ra/certificates?serial=${serial}`);
  await ra.locator('#cert-status-word', { hasText: 'revoked' }).waitFor();
  await check(ra, 'ra-certificate-revoked');
  await page.goto(`${server.url}/verify`);
  await page.fill('#pem', pem);
  await page.click('#check-form button[type="submit"]');
  await page.locator('#verdict-head', { hasText: /revoked/i }).waitFor();
  await check(page, 'verify-revoked');

  if (problems.length)
    fail(`${problems.length} accessibility problem(s) in ${checked} page states:\n${problems.map((p) => '  - ' + p).join('\n')}`);
  pass(`${checked} page states: no axe violation (WCAG 2.0/2.1 A, AA), each usable at 400 % zoom`);
});

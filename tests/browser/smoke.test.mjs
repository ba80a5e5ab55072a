// smoke.test.mjs - the browser-test machinery itself, end to end: a CA home,
// `tessera serve`, Chromium talking to the server's JSON API from a page of
// its origin (apply, the code from the outbox, verify, an officer's sign-in),
// the console watch, and, when the server serves pages (`tessera serve
// --web-root`), the index page with its security headers and no error.

import { journey, assert, serveHas, VCODE_RE, QUESTIONS } from './lib.mjs';

const OFFICER_PW = 'violet tractor umbrella 42';

// The pages' policy (the shared design): the API's own answers carry
// "default-src 'none'", so a script can only call the API from a page.
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

// fetch() from inside the page: what the pages' scripts do.
async function browserFetch(page, method, path, body) {
  return page.evaluate(async ([method, path, body]) => {
    const init = { method, headers: {} };
    if (body !== null) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, type: res.headers.get('content-type'), text, json };
  }, [method, path, body ?? null]);
}

await journey(async (t) => {
  const home = t.home();
  home.addUser('alice', ['ra-officer'], OFFICER_PW);
  const [voucher] = home.vouchers('smime', 1);
  const server = await t.serve(home);
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:[1-9][0-9]*$/, 'the server URL is on 127.0.0.1');

  const page = await t.page();

  // ------------------------------------------------------------ the JSON API in the browser
  const health = await page.goto(`${server.url}/api/v1/health`);
  assert.status(health, 200, 'Chromium opens /api/v1/health over HTTPS');
  assert.match(health.headers()['content-type'] ?? '', /^application\/json/, 'health is JSON');
  assert.same(JSON.parse(await page.locator('body').innerText()), { status: 'ok', database: 'ok' },
    'health renders {"status":"ok","database":"ok"}');
  await t.shot(page, 'health');

  // A blank page of the server's origin under the pages' policy, made by the
  // test (the server need not serve pages for this part).
  await page.route(`${server.url}/smoke-blank`, (route) => route.fulfill({
    status: 200,
    contentType: 'text/html; charset=utf-8',
    headers: { 'Content-Security-Policy': PAGE_CSP },
    body: '<!doctype html><html lang="en"><title>smoke</title><h1>smoke</h1></html>',
  }));
  await page.goto(`${server.url}/smoke-blank`);
  const products = await browserFetch(page, 'GET', '/api/v1/products');
  assert.status(products, 200, 'fetch /api/v1/products from the page');
  const names = (products.json?.products ?? []).map((p) => p.name);
  assert.includes(names, 'smime', 'the products include smime');

  const agreement = await browserFetch(page, 'GET', '/api/v1/agreement');
  assert.status(agreement, 200, 'fetch /api/v1/agreement');

  // An application from the browser; its verification code from the outbox.
  const app = await browserFetch(page, 'POST', '/api/v1/applications', {
    product: 'smime',
    storage: 'software',
    agreement: agreement.json.version,
    password: 'correct horse battery staple',
    voucher,
    applicant: { given_name: 'Jane', family_name: 'Tester', email: 'jane@example.org' },
    questions: QUESTIONS,
  });
  assert.status(app, 201, 'an S/MIME application from the browser');
  const id = app.json.id;
  assert.match(id, /^AP-/, 'the application has a number');
  const mail = home.latestMail({ kind: 'verification', application: id });
  assert.ok(mail !== null, `the outbox holds the verification message of ${id}`);
  assert.equal(mail.headers.to, 'jane@example.org', 'the message goes to the applicant');
  const code = home.mailCode(VCODE_RE, { kind: 'verification', application: id });
  assert.match(code, /^[0-9A-Z]{4}-/, 'the verification code is read from the quoted-printable body');

  t.allowConsole(/status of 40[01] /); // Chromium logs every 4xx fetch; these two are expected
  const wrong = await browserFetch(page, 'POST', `/api/v1/applications/${id}/email-verification`,
    { code: code === 'AAAA-AAAA' ? 'BBBB-BBBB' : 'AAAA-AAAA' });
  assert.ok(wrong.status === 400 || wrong.status === 401, `a wrong code is refused (${wrong.status})`);
  const verified = await browserFetch(page, 'POST', `/api/v1/applications/${id}/email-verification`, { code });
  assert.status(verified, 200, 'the right code verifies the address');
  assert.equal(verified.json.state, 'under_review', 'the application is under review');

  const badLogin = await browserFetch(page, 'POST', '/api/v1/sessions', { user: 'alice', password: 'not it at all' });
  assert.status(badLogin, 401, 'a wrong officer password');
  const login = await browserFetch(page, 'POST', '/api/v1/sessions', { user: 'alice', password: OFFICER_PW });
  assert.status(login, 201, 'the officer signs in from the browser');
  const queue = await page.evaluate(async (tok) => {
    const r = await fetch('/api/v1/ra/applications', { headers: { Authorization: `Bearer ${tok}` } });
    return { status: r.status, json: await r.json() };
  }, login.json.token ?? '');
  assert.status(queue, 200, 'the officer reads the RA queue');
  assert.ok(JSON.stringify(queue.json).includes(id), `the queue lists ${id}`);

  // The node side sees the same server.
  const again = await server.api('GET', `/api/v1/applications/${id}`);
  assert.status(again, 401, 'an application needs its session (from Node too)');

  // The console watch catches an error a page logs.
  t.checkConsole('before the deliberate error');
  await page.evaluate(() => console.error('smoke: a deliberate console error'));
  let caught = '';
  try {
    t.checkConsole('the deliberate error');
  } catch (e) {
    caught = e.message;
  }
  assert.includes(caught, 'smoke: a deliberate console error', 'a console error fails the test');

  // The CSP watch: an inline script is refused, and that fails a test.
  t.checkConsole('before the inline script');
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.smokeInline = 1;';
    document.body.append(s);
  });
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => window.smokeInline), undefined, 'the CSP blocks an inline script');
  let cspCaught = '';
  try {
    t.checkConsole('the inline script');
  } catch (e) {
    cspCaught = e.message;
  }
  assert.match(cspCaught, /Content Security Policy|CSP violation/, 'a CSP violation fails the test');

  // ------------------------------------------------------------ the pages
  if (!serveHas('--web-root')) {
    console.log('note: tessera serve has no --web-root yet: the page checks are skipped');
    return;
  }
  const index = await page.goto(`${server.url}/`);
  assert.status(index, 200, 'the index page');
  const h = index.headers();
  assert.match(h['content-type'] ?? '', /^text\/html/, 'the index is HTML');
  assert.match(h['content-security-policy'] ?? '', /default-src 'none'/, 'a strict Content-Security-Policy');
  assert.noMatch(h['content-security-policy'] ?? '', /unsafe-inline|unsafe-eval/, 'no unsafe-inline, no unsafe-eval');
  assert.equal(h['x-frame-options'], 'DENY', 'X-Frame-Options: DENY');
  assert.equal(h['x-content-type-options'], 'nosniff', 'X-Content-Type-Options: nosniff');
  assert.match(await page.title(), /\S/, 'the index has a title');
  await t.shot(page, 'index');

});

// retrieve.test.mjs - the Retrieve page while the applicant runs
// `tessera token retrieve` against a SoftHSM2 token. An S/MIME application on
// a new token is submitted, verified and approved (the token's serial
// assigned) through the API from Node; the token is a SoftHSM2 token in a
// private SOFTHSM2_CONF, its passcode the subscriber's own (no initial
// passcode marker, as after `tessera token passcode`). In the browser: the
// page gives the exact command for this server; a wrong password is refused
// next to the field; signed in, it shows "waiting for the retrieval"; then
// `tessera token retrieve` runs from Node while the page is open, and within
// a bounded time the page's live status says done, with the certificate's
// summary whose serial is the one the retrieval printed and the API reports.
// Screenshots before and after.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { journey, assert, pass, fail, SRCDIR, TESSERA, VCODE_RE, ACODE_RE, QUESTIONS } from './lib.mjs';

const MODULE = process.env.SOFTHSM_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
const OFFICER_PW = 'copper lantern meadow 7';
const APPLICANT_PW = 'purple elephant dances slowly';
const PASSCODE = '51724839';
const SO_PIN = '902317465123';
const LABEL = 'Jane token';

// A serial as people write it, compared: lower case, no colons, no leading zeros.
function norm(serial) {
  return String(serial).toLowerCase().replace(/[^0-9a-f]/g, '').replace(/^0+/, '');
}

// Runs tessera ARGS with ENV, without blocking the event loop (the page keeps
// polling meanwhile): { code, out, err }.
function run(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(TESSERA, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, out, err });
    });
  });
}

if (!fs.existsSync(MODULE)) {
  console.log(`SKIP: the SoftHSM2 module ${MODULE} is not installed`);
  process.exit(77);
}
if (spawnSync('softhsm2-util', ['--version']).error) {
  console.log('SKIP: softhsm2-util is not installed');
  process.exit(77);
}

await journey(async (t) => {
  const home = t.home();
  home.addUser('olivia', ['ra-officer'], OFFICER_PW);
  const [voucher] = home.vouchers('smime', 1);
  const server = await t.serve(home, ['--web-root', path.join(SRCDIR, 'web')]);

  // ------------------------------------------------------------ the subscriber's token
  const sub = path.join(home.work, 'subscriber');
  fs.mkdirSync(path.join(sub, 'tokens'), { recursive: true, mode: 0o700 });
  const conf = path.join(sub, 'softhsm2.conf');
  fs.writeFileSync(conf, `directories.tokendir = ${path.join(sub, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { SOFTHSM2_CONF: conf };
  const init = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', LABEL, '--so-pin', SO_PIN, '--pin', PASSCODE],
    { encoding: 'utf8', env: { ...process.env, ...env } });
  if (init.status !== 0) fail(`softhsm2-util --init-token: ${init.stderr}${init.stdout}`);
  const slots = spawnSync('softhsm2-util', ['--show-slots'], { encoding: 'utf8', env: { ...process.env, ...env } }).stdout;
  const tokenSerial = /Serial number:\s*([0-9a-f]{16})/.exec(slots)?.[1];
  assert.match(tokenSerial ?? '', /^[0-9a-f]{16}$/, `a SoftHSM2 token "${LABEL}" with serial ${tokenSerial}`);

  // ------------------------------------------------------------ the application (API)
  const agreement = (await server.api('GET', '/api/v1/agreement')).json.version;
  let r = await server.api('POST', '/api/v1/applications', {
    product: 'smime', storage: 'new-token', agreement, password: APPLICANT_PW, voucher, questions: QUESTIONS,
    applicant: { given_name: 'Jane', family_name: 'Tester', email: 'jane@example.org' },
  });
  assert.status(r, 201, 'S/MIME application on a new token submitted');
  const id = r.json.id;
  r = await server.api('POST', `/api/v1/applications/${id}/email-verification`,
    { code: home.mailCode(VCODE_RE, { kind: 'verification', application: id }) });
  assert.status(r, 200, 'email verified');
  r = await server.api('POST', '/api/v1/sessions', { user: 'olivia', password: OFFICER_PW });
  assert.status(r, 201, 'officer olivia signs in (API)');
  const officer = r.json.token;
  r = await server.api('POST', `/api/v1/ra/applications/${id}/approval`, { token_serial: tokenSerial }, officer);
  assert.status(r, 200, 'olivia assigns the token and approves (final for S/MIME)');
  r = await server.api('GET', `/api/v1/applications/${id}`, undefined, officer);
  assert.equal(r.json?.state, 'activation_issued', 'activation issued');
  const acode = home.mailCode(ACODE_RE, { kind: 'activation', application: id });
  pass('the activation code is in the outbox');

  // ------------------------------------------------------------ the page, before
  const page = await t.page();
  // A wrong password is a 401 that Chromium logs as a failed resource.
  t.allowConsole(/Failed to load resource: the server responded with a status of 401/);
  await page.goto(`${server.url}/retrieve?id=${encodeURIComponent(id)}`);
  assert.equal(await page.locator('#retrieve-command').innerText(),
    `tessera token retrieve --server ${server.url} --ca-file tessera-root.pem`,
    "the command names this server's URL");
  await page.locator('#signin-form').waitFor({ state: 'visible' });
  assert.equal(await page.inputValue('#signin-application'), id, 'the application number is filled in from ?id=');
  assert.ok(!(await page.locator('#live').isVisible()), 'signed out: no live status');
  await page.fill('#signin-password', 'not my password at all');
  await page.click('#signin-form button[type=submit]');
  const err = page.locator('#signin-password-error');
  await err.waitFor({ state: 'visible' });
  assert.match(await err.innerText(), /Wrong application number or password/, 'a wrong password: the server\'s sentence');
  assert.ok(((await page.getAttribute('#signin-password', 'aria-describedby')) ?? '').includes('signin-password-error'),
    'a wrong password: refused next to the password field');
  await t.shot(page, 'signin-wrong');
  await page.fill('#signin-password', APPLICANT_PW);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#live').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#app-id').innerText(), id, 'signed in: the application number shown');
  await page.locator('#live-head', { hasText: 'Waiting for the retrieval.' }).waitFor();
  pass('the live status says: waiting for the retrieval');
  assert.ok(!(await page.locator('#cert-facts').isVisible()), 'no certificate yet');
  assert.ok(!(await page.locator('#test-link').isVisible()), 'no test link yet');
  assert.match(await page.locator('#poll-note').innerText(), /checks again every/, 'the page says it checks again');
  await t.shot(page, 'waiting');

  // ------------------------------------------------------------ tessera token retrieve
  const pwFile = home.secretFile('account.pw', APPLICANT_PW);
  const pcFile = home.secretFile('passcode.pin', PASSCODE);
  const ret = await run(['token', 'retrieve', '--server', server.url, '--ca-file', home.root,
    '--activation-code', acode, '--password-file', pwFile, '--passcode-file', pcFile,
    '--module', MODULE, '--token', `pkcs11:token=${encodeURIComponent(LABEL)}`], env);
  if (ret.code !== 0) fail(`tessera token retrieve exited ${ret.code}:\n${ret.err}${ret.out}`);
  assert.match(ret.out, new RegExp(`Certificate stored on token "${LABEL}" \\(serial ${tokenSerial}\\)`),
    'tessera token retrieve stored the certificate on the token');
  const printed = /^ {2}serial: *([0-9A-Fa-f:]+)/m.exec(ret.out)?.[1];
  assert.ok(printed, `the retrieval printed the serial ${printed}`);
  const show = await run(['token', 'show', '--ca-file', home.root, '--module', MODULE,
    '--token', `pkcs11:token=${encodeURIComponent(LABEL)}`], env);
  if (show.code !== 0) fail(`tessera token show exited ${show.code}:\n${show.err}${show.out}`);
  const block = /^Certificate "Tessera Jane Tester"\n(?:  .*\n)*/m.exec(show.out)?.[0] ?? '';
  const onToken = /^ {2}serial: *([0-9A-Fa-f:]+)/m.exec(block)?.[1] ?? '';
  assert.equal(norm(onToken), norm(printed), "tessera token show: Jane's certificate on the token has that serial");
  r = await server.api('GET', `/api/v1/applications/${id}`, undefined, officer);
  assert.equal(r.json?.state, 'certificate_issued', 'the API: certificate issued');
  assert.equal(norm(r.json?.certificate_serial ?? ''), norm(printed), 'the API reports the same serial');

  // ------------------------------------------------------------ the page, after (its own polling)
  const t0 = Date.now();
  await page.locator('#live-head', { hasText: 'Done: your certificate is issued.' }).waitFor({ timeout: 30000 });
  pass(`the page shows done by itself within ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await page.locator('#cert-facts').waitFor({ state: 'visible' });
  const facts = await page.locator('#cert-facts').innerText();
  assert.includes(facts, 'Jane', "the summary gives the subject, Jane's");
  const shown = /Serial number\s*\n?\s*([0-9A-Fa-f:]+)/.exec(facts)?.[1] ?? '';
  assert.equal(norm(shown), norm(printed), 'the summary\'s serial is the one retrieved');
  assert.match(facts, /Status\s*\n?\s*good/, 'its status: good');
  assert.ok(await page.locator('#test-link').isVisible(), 'the test link is offered');
  assert.equal(await page.getAttribute('#verify-link', 'href'),
    `/verify?serial=${encodeURIComponent(r.json.certificate_serial)}`, 'the status link names the serial');
  assert.equal(await page.locator('#poll-note').innerText(), '', 'the page stopped checking');
  await t.shot(page, 'done');
});

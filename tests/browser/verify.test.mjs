// verify.test.mjs - Verify a certificate, Retrieve and Test my certificate in
// Chromium: a certificate issued by `tessera cert issue` is pasted (good,
// then revoked with its reason after `tessera cert revoke`), uploaded as a
// DER file, looked up by serial; a certificate of another CA, even one
// that copies a real serial, is "not issued by this CA" and never good;
// garbage gets an error next to its field.  Then an applicant signed in on
// /retrieve sees the exact command and the live state, and /test says "no
// test yet".

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { journey, assert, fail, pass, QUESTIONS } from './lib.mjs';

const PASSWORD = 'correct horse battery staple';

function openssl(args) {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) fail(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function result(page) {
  await page.locator('#result').waitFor({ state: 'visible' });
  return {
    head: await page.locator('#verdict-head').innerText(),
    text: await page.locator('#verdict-text').innerText(),
    checks: await page.locator('#checks').innerText(),
    contents: await page.locator('#result').innerText(),
    kind: await page.locator('#verdict').getAttribute('class'),
  };
}

async function paste(page, pem) {
  await page.goto(page.url().replace(/\?.*$/, ''));
  await page.fill('#pem', pem);
  await page.click('#check-form button[type="submit"]');
  return result(page);
}

await journey(async (t) => {
  const home = t.home();
  const [voucher] = home.vouchers('smime', 1);
  const server = await t.serve(home);
  const work = home.work;

  // ------------------------------------------------------------ a certificate of this CA
  const csr = path.join(work, 'alpha.csr');
  const pemFile = path.join(work, 'alpha.pem');
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(work, 'alpha.key'), '-subj', '/CN=alpha.example.org', '-out', csr]);
  home.tessera(['cert', 'issue'], ['--product', 'device', '--csr', csr, '--subject',
    'CN=alpha.example.org', '--san', 'dns:alpha.example.org', '--out', pemFile]);
  const pem = fs.readFileSync(pemFile, 'utf8');
  const serialHex = openssl(['x509', '-in', pemFile, '-noout', '-serial']).trim().split('=')[1];
  const serial = serialHex.toLowerCase();
  assert.match(serial, /^[0-9a-f]+$/, `certificate ${serial} issued`);

  const page = await t.page();
  t.allowConsole(/status of 400 /); // Chromium logs the refused fetches the test makes on purpose
  await page.goto(`${server.url}/verify`);
  await t.shot(page, 'verify-empty');

  // Nothing given: said next to the text box.
  await page.click('#check-form button[type="submit"]');
  assert.match(await page.locator('#pem-error').innerText(), /Paste a certificate or choose a file/,
    'an empty check is refused next to the field');
  assert.equal(await page.locator('#pem').getAttribute('aria-invalid'), 'true', 'the field is marked invalid');

  let r = await paste(page, pem);
  assert.match(r.head, /^Good/, 'a fresh certificate of this CA is good');
  assert.match(r.kind, /\bok\b/, 'shown as good');
  assert.includes(r.contents, 'CN=alpha.example.org', 'the subject is shown');
  assert.includes(r.contents, 'dns:alpha.example.org', 'the SAN is shown');
  assert.includes(r.contents, 'Issuing CA', 'the issuer is shown');
  assert.includes(r.contents, serial, 'the serial is shown');
  assert.includes(r.contents, 'ec-p256', 'the key is shown');
  assert.includes(r.contents, 'device', 'the product is shown');
  assert.includes(r.contents, 'Client Authentication', 'the EKU is shown');
  assert.match(r.checks, /yes\s+Chains to this CA/i, 'it chains to this CA');
  assert.match(r.checks, /yes\s+Status: good/i, 'its status is good');
  await t.shot(page, 'verify-good');

  // ------------------------------------------------------------ revoked
  home.tessera(['cert', 'revoke'], [serial, '--reason', 'keyCompromise']);
  r = await paste(page, pem);
  assert.match(r.head, /^Revoked/, 'after tessera cert revoke: revoked');
  assert.includes(r.text, 'keyCompromise', 'with its reason');
  assert.match(r.text, /Revoked on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/, 'and its time');
  assert.noMatch(r.head, /Good/, 'never good once revoked');
  await t.shot(page, 'verify-revoked');

  // ------------------------------------------------------------ as a DER file
  const derFile = path.join(work, 'alpha.der');
  openssl(['x509', '-in', pemFile, '-outform', 'DER', '-out', derFile]);
  await page.goto(`${server.url}/verify`);
  await page.setInputFiles('#file', derFile);
  await page.locator('#file-status', { hasText: 'read as DER' }).waitFor();
  await page.click('#check-form button[type="submit"]');
  r = await result(page);
  assert.match(r.head, /^Revoked/, 'the DER file is checked too: revoked');

  // ------------------------------------------------------------ another CA's certificates
  const otherPem = path.join(work, 'other.pem');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(work, 'other.key'), '-subj', '/CN=alpha.example.org', '-days', '30',
    '-out', otherPem]);
  r = await paste(page, fs.readFileSync(otherPem, 'utf8'));
  assert.match(r.head, /^Not issued by this CA/, 'another CA\'s certificate: not issued by this CA');
  assert.match(r.checks, /no\s+Chains to this CA/i, 'it does not chain');
  assert.noMatch(r.head + r.checks, /Good|Status: good/, 'never good');
  await t.shot(page, 'verify-foreign');

  // A forgery that copies the serial of a real, valid certificate.
  const csr2 = path.join(work, 'bravo.csr');
  const bravoFile = path.join(work, 'bravo.pem');
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(work, 'bravo.key'), '-subj', '/CN=bravo.example.org', '-out', csr2]);
  home.tessera(['cert', 'issue'], ['--product', 'device', '--csr', csr2, '--subject',
    'CN=bravo.example.org', '--san', 'dns:bravo.example.org', '--out', bravoFile]);
  const bravoSerial = openssl(['x509', '-in', bravoFile, '-noout', '-serial']).trim().split('=')[1];
  const forged = path.join(work, 'forged.pem');
  openssl(['req', '-x509', '-key', path.join(work, 'bravo.key'), '-subj', '/CN=bravo.example.org',
    '-set_serial', '0x' + bravoSerial, '-days', '30', '-out', forged]);
  r = await paste(page, fs.readFileSync(forged, 'utf8'));
  assert.match(r.head, /^Not issued by this CA/, 'a copy of a valid certificate\'s serial: not issued by this CA');
  assert.noMatch(r.head + r.checks, /Good|Status: good/, 'the forgery is never good');

  // ------------------------------------------------------------ garbage
  await page.goto(`${server.url}/verify`);
  await page.fill('#pem', 'this is not a certificate');
  await page.click('#check-form button[type="submit"]');
  await page.locator('#pem-error').waitFor();
  assert.match(await page.locator('#pem-error').innerText(), /BEGIN CERTIFICATE/,
    'garbage: the server\'s reason next to the text box');
  assert.equal(await page.locator('#result').isHidden(), true, 'and no result');
  await t.shot(page, 'verify-garbage');
  await page.fill('#pem', pem + pem);
  await page.click('#check-form button[type="submit"]');
  await page.locator('#pem-error', { hasText: 'more than one' }).waitFor();
  pass('two certificates at once: refused next to the text box');

  // ------------------------------------------------------------ serial numbers
  await page.fill('#serial', serialHex.toUpperCase().match(/../g).join(':'));
  await page.click('#serial-form button[type="submit"]');
  r = await result(page);
  assert.match(r.head, /^Revoked/, 'the serial (upper case, colons) finds the revoked certificate');
  assert.includes(r.contents, 'CN=alpha.example.org', 'with its contents');
  await page.goto(`${server.url}/verify?serial=${bravoSerial}`);
  r = await result(page);
  assert.match(r.head, /^Good/, '/verify?serial= looks a good certificate up at once');
  await page.goto(`${server.url}/verify`);
  await page.fill('#serial', 'abcdef0123');
  await page.click('#serial-form button[type="submit"]');
  r = await result(page);
  assert.match(r.head, /^Not issued by this CA/, 'an unknown serial: not issued by this CA');
  await page.fill('#serial', 'not-a-serial');
  await page.click('#serial-form button[type="submit"]');
  await page.locator('#serial-error').waitFor();
  assert.match(await page.locator('#serial-error').innerText(), /hexadecimal/, 'a bad serial: said next to its field');
  await t.shot(page, 'verify-serial-error');

  // Phone width.
  await page.setViewportSize({ width: 360, height: 800 });
  await page.goto(`${server.url}/verify?serial=${serial}`);
  await result(page);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 360, `no sideways scrolling at phone width (${wide} px)`);
  await t.shot(page, 'verify-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  // ------------------------------------------------------------ retrieve and test
  const agreement = (await server.api('GET', '/api/v1/agreement')).json.version;
  const app = await server.api('POST', '/api/v1/applications', {
    product: 'smime', storage: 'software', agreement, password: PASSWORD, voucher,
    applicant: { given_name: 'Jane', family_name: 'Tester', email: 'jane@example.org' },
    questions: QUESTIONS,
  });
  assert.status(app, 201, 'an application');
  const id = app.json.id;

  await page.goto(`${server.url}/retrieve?id=${id}`);
  const command = await page.locator('#retrieve-command').innerText();
  assert.equal(command, `tessera token retrieve --server ${server.url} --ca-file tessera-root.pem`,
    'the exact command, with this server');
  assert.equal(await page.locator('#root-link').getAttribute('href'), '/ca/root.crt', 'the root certificate is linked');
  assert.includes(await page.locator('#convert-command').innerText(), '-inform DER', 'and how to convert it');
  await t.shot(page, 'retrieve-signin');
  t.allowConsole(/status of 401 /);
  await page.fill('#signin-password', 'not the password');
  await page.click('#signin-form button[type="submit"]');
  await page.locator('#signin-password-error').waitFor();
  pass('a wrong password: said next to the password');
  await page.fill('#signin-password', PASSWORD);
  await page.click('#signin-form button[type="submit"]');
  await page.locator('#live').waitFor({ state: 'visible' });
  assert.match(await page.locator('#live-head').innerText(), /Not ready for retrieval/,
    'signed in: a submitted application is not ready for retrieval');
  assert.match(await page.locator('#poll-note').innerText(), /checks again every/, 'and the page keeps checking');
  await t.shot(page, 'retrieve-waiting');

  await page.goto(`${server.url}/test?id=${id}`);
  assert.equal(await page.locator('#test-command').innerText(),
    `tessera token test --server ${server.url} --ca-file tessera-root.pem`, 'the test command, with this server');
  await page.locator('#result').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#result-head').innerText(), 'No test yet.', '/test (the cookie session carries over): no test yet');
  await t.shot(page, 'test-none');
  await page.click('#signout');
  await page.locator('#signin').waitFor({ state: 'visible' });
  pass('sign out shows the sign-in form');
});

// officer.test.mjs - an officer's certificates and audit pages, as a person
// uses them: sign in on /ra/certificates (the console's own sign-in form),
// search certificates by subject text and status, open one, revoke it with
// reason keyCompromise (an empty reason first: refused next to the field),
// suspend and resume another; then the audit page lists cert.revoke with
// the officer as actor and says the chain is verified; after the audit
// table is tampered with (sqlite3, as an attacker with the file would), the
// page names the broken record. A screenshot of every page and state.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { journey, assert, fail, pass, SRCDIR } from './lib.mjs';

const PASSWORD = 'violet tractor umbrella 42';

// A device certificate for NAME.example.org (openssl CSR, `tessera cert issue`).
function issue(home, name) {
  const key = path.join(home.work, `${name}.key`);
  const csr = path.join(home.work, `${name}.csr`);
  const pem = path.join(home.work, `${name}.pem`);
  const r = spawnSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt',
    'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', `/CN=${name}.example.org`,
    '-out', csr], { encoding: 'utf8' });
  if (r.status !== 0) fail(`openssl req for ${name}: ${r.stderr}`);
  home.tessera(['cert', 'issue'], ['--product', 'device', '--csr', csr, '--subject',
    `CN=${name}.example.org`, '--san', `dns:${name}.example.org`, '--out', pem]);
  const s = spawnSync('openssl', ['x509', '-in', pem, '-noout', '-serial'], { encoding: 'utf8' });
  const serial = s.stdout.trim().split('=')[1].toLowerCase();
  pass(`issued ${name}.example.org (${serial})`);
  return serial;
}

function sqlite(db, sql) {
  const r = spawnSync('sqlite3', [db, sql], { encoding: 'utf8' });
  if (r.error) fail(`sqlite3: ${r.error.message} (the sqlite3 command is needed)`);
  if (r.status !== 0) fail(`sqlite3 ${sql}: ${r.stderr}`);
  return r.stdout.trim();
}

async function fieldError(page, id) {
  const err = page.locator(`#${id}-error`);
  await err.waitFor({ state: 'visible' });
  const described = (await page.getAttribute(`#${id}`, 'aria-describedby')) ?? '';
  assert.ok(described.split(/\s+/).includes(`${id}-error`), `#${id} names its error in aria-describedby`);
  assert.equal(await page.getAttribute(`#${id}`, 'aria-invalid'), 'true', `#${id} is aria-invalid`);
  return (await err.innerText()).replace(/^Error:\s*/, '');
}

async function fitsWidth(page, what) {
  const [scroll, client] = await page.evaluate(() =>
    [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(scroll <= client, `${what}: no sideways scrolling at ${client} px (content ${scroll} px)`);
}

await journey(async (t) => {
  const home = t.home();
  home.addUser('olive', ['ra-officer', 'ca-admin'], PASSWORD);
  home.addUser('rita', ['ra-officer'], PASSWORD);
  home.addUser('aude', ['auditor'], PASSWORD);
  const alpha = issue(home, 'alpha');
  const beta = issue(home, 'beta');
  issue(home, 'gamma');
  const server = await t.serve(home, ['--web-root', path.join(SRCDIR, 'web')]);
  const page = await t.page();

  // ------------------------------------------------------------ sign in
  await page.goto(`${server.url}/ra/certificates`);
  await page.locator('#ra-user').waitFor({ state: 'visible' });
  assert.ok(await page.locator('#content').isHidden(), 'signed out: only the sign-in form shows');
  await t.shot(page, 'certificates-signin');
  await page.fill('#ra-user', 'olive');
  await page.fill('#ra-password', PASSWORD);
  await page.press('#ra-password', 'Enter');
  await page.locator('#content').waitFor({ state: 'visible' });
  await page.locator('#cert-rows tr').first().waitFor();
  assert.equal(await page.locator('#cert-rows tr').count(), 3, 'signed in: the three certificates are listed');
  assert.equal(await page.locator('#ra-who').innerText(), 'Signed in as olive (ra-officer, ca-admin)',
    'the header names the officer and the roles, as the server says (GET /api/v1/sessions/current)');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'nothing kept in sessionStorage');
  await t.shot(page, 'certificates-list');

  // ------------------------------------------------------------ search
  await page.fill('#search-subject', 'ALPHA');
  await page.click('#search-form button[type="submit"]');
  await page.waitForFunction(() => document.querySelectorAll('#cert-rows tr').length === 1);
  assert.equal(await page.locator('#cert-rows tr').getAttribute('data-serial'), alpha,
    'subject search (any case) finds alpha only');
  await page.fill('#search-subject', 'nobody-here');
  await page.click('#search-form button[type="submit"]');
  await page.locator('#search-count', { hasText: 'No certificate matches' }).waitFor();
  pass('a search without matches says so');
  await page.fill('#search-subject', '');

  // ------------------------------------------------------------ revoke alpha
  await page.goto(`${server.url}/ra/certificates?serial=${alpha}`);
  await page.locator('#cert').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#cert-status-word').innerText(), 'valid', 'alpha is valid');
  await t.shot(page, 'certificate-valid');
  await page.click('#revoke-button');
  assert.match(await fieldError(page, 'revoke-reason'), /Choose a reason/, 'an empty reason is refused next to the field');
  await t.shot(page, 'certificate-revoke-no-reason');
  await page.selectOption('#revoke-reason', 'keyCompromise');
  await page.fill('#revoke-comment', 'The token was reported stolen.');
  await page.click('#revoke-button');
  await page.locator('#cert-status-word', { hasText: 'revoked' }).waitFor();
  assert.match(await page.locator('#cert-status').innerText(), /keyCompromise/, 'revoked, reason keyCompromise shown');
  assert.ok(await page.locator('#revoke-form').isHidden(), 'a revoked certificate offers no more changes');
  await t.shot(page, 'certificate-revoked');

  // The list shows it revoked; the status filter finds it.
  await page.selectOption('#search-status', 'revoked');
  await page.click('#search-form button[type="submit"]');
  await page.waitForFunction(() => document.querySelectorAll('#cert-rows tr').length === 1);
  assert.match(await page.locator('#cert-rows tr .status').innerText(), /revoked/i, 'status filter: revoked lists alpha');

  // ------------------------------------------------------------ suspend and resume beta
  await page.goto(`${server.url}/ra/certificates?serial=${beta}`);
  await page.locator('#cert').waitFor({ state: 'visible' });
  await page.click('#hold-button');
  await page.locator('#cert-status-word', { hasText: 'suspended' }).waitFor();
  assert.equal(await page.locator('#hold-button').innerText(), 'Resume this certificate', 'suspended: resume is offered');
  await t.shot(page, 'certificate-suspended');
  await page.click('#hold-button');
  await page.locator('#cert-status-word', { hasText: /^valid$/ }).waitFor();
  pass('resumed: beta is valid again');
  await page.setViewportSize({ width: 320, height: 800 });
  await fitsWidth(page, 'certificate at phone width');
  await t.shot(page, 'certificate-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  // ------------------------------------------------------------ audit
  await page.goto(`${server.url}/ra/audit`);
  await page.locator('#chain-result', { hasText: 'verified' }).waitFor();
  pass('the audit page says the chain is verified');
  await page.locator('#audit-rows tr').first().waitFor();
  await fitsWidth(page, 'audit');
  await t.shot(page, 'audit');
  await page.fill('#filter-action', 'cert.revoke');
  await page.click('#filter-form button[type="submit"]');
  await page.waitForFunction(() => [...document.querySelectorAll('#audit-rows .action')]
    .every((e) => e.textContent === 'cert.revoke'));
  const rows = page.locator('#audit-rows tr');
  assert.equal(await rows.count(), 1, 'one cert.revoke record');
  assert.match(await rows.first().innerText(), /officer:olive/, 'cert.revoke by officer:olive');
  assert.match(await rows.first().innerText(), new RegExp(alpha), 'cert.revoke names alpha');
  await t.shot(page, 'audit-filtered');
  await page.setViewportSize({ width: 320, height: 800 });
  await fitsWidth(page, 'audit at phone width');
  await page.setViewportSize({ width: 1280, height: 900 });

  // ------------------------------------------------------------ tampered
  const db = path.join(home.dir, 'tessera.db');
  if (!fs.existsSync(db)) fail(`no ${db}`);
  const seq = sqlite(db, "SELECT seq FROM audit WHERE action = 'cert.revoke' LIMIT 1");
  sqlite(db, 'DROP TRIGGER IF EXISTS audit_no_update; ' +
    `UPDATE audit SET detail = 'nothing happened' WHERE seq = ${seq};`);
  pass(`audit record #${seq} tampered with`);
  await page.reload();
  await page.locator('#chain-result', { hasText: `broken at record #${seq}` }).waitFor();
  assert.match(await page.locator('#broken-record').innerText(), /nothing happened/,
    'the broken record is shown as stored now');
  await t.shot(page, 'audit-broken');

  // ------------------------------------------------------------ roles
  // An ra-officer without auditor or ca-admin: the audit trail is refused.
  t.allowConsole(/Failed to load resource: the server responded with a status of 403/);
  await page.click('#ra-signout');
  await page.waitForURL(/\/ra\/$/);
  await page.goto(`${server.url}/ra/audit`);
  await page.locator('#ra-user').waitFor({ state: 'visible' });
  await page.fill('#ra-user', 'rita');
  await page.fill('#ra-password', PASSWORD);
  await page.press('#ra-password', 'Enter');
  await page.locator('#refused', { hasText: 'auditor' }).waitFor();
  assert.ok(await page.locator('#records').isHidden(), 'an ra-officer does not see the audit trail');
  assert.ok(await page.locator('.site-nav a[href="/ra/audit"]').isHidden(),
    'an ra-officer is not offered the Audit link');
  assert.ok(await page.locator('.site-nav a[href="/ra/queue"]').isVisible(), 'but the queue');
  await t.shot(page, 'audit-refused');

  // An auditor: reads certificates and the audit trail, changes nothing, has no queue.
  await page.click('#ra-signout');
  await page.waitForURL(/\/ra\/$/);
  await page.fill('#ra-user', 'aude');
  await page.fill('#ra-password', PASSWORD);
  await page.press('#ra-password', 'Enter');
  await page.waitForURL(/\/ra\/certificates$/);
  pass('an auditor signing in lands on the certificates, not the queue');
  await page.locator('#ra-who', { hasText: 'Signed in as aude (auditor)' }).waitFor();
  assert.ok(await page.locator('.site-nav a[href="/ra/queue"]').isHidden(), 'no Queue link for an auditor');
  assert.ok(await page.locator('.site-nav a[href="/ra/audit"]').isVisible(), 'an Audit link for an auditor');
  await page.goto(`${server.url}/ra/certificates?serial=${beta}`);
  await page.locator('#cert').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#cert-status-word').innerText(), 'valid', 'the auditor reads beta');
  assert.ok(await page.locator('#revoke-form').isHidden(), 'no revoke form for an auditor');
  assert.ok(await page.locator('#hold-form').isHidden(), 'no suspend form for an auditor');
  await t.shot(page, 'certificate-auditor');
  await page.goto(`${server.url}/ra/audit`);
  await page.locator('#chain-result', { hasText: `broken at record #${seq}` }).waitFor();
  await page.locator('#audit-rows tr').first().waitFor();
  assert.ok(await page.locator('#records').isVisible(), 'the audit page works for an auditor');
  await t.shot(page, 'audit-auditor');
  await page.goto(`${server.url}/ra/queue`);
  await page.locator('#queue-count', { hasText: 'not open to you' }).waitFor();
  assert.ok(await page.locator('#filter-form').isHidden(), 'the queue page offers an auditor no queue');
  await page.goto(`${server.url}/ra/application?id=AP-AAAA-AAAA-AAAA`);
  await page.locator('#page-error', { hasText: 'ra-officer' }).waitFor();
  assert.ok(await page.locator('#approve-form').isHidden(), 'no approve form for an auditor');
  assert.ok(await page.locator('#reject-form').isHidden(), 'no reject form for an auditor');
  await t.shot(page, 'application-auditor');
});

// ra.test.mjs - the RA officer console, as two officers use it: EPCS needs
// two distinct officers and, for a new token, a token serial before the
// final approval. Two EPCS applications (the same applicant twice, so each
// warns of the other) are submitted and verified through the API from Node;
// then in the browser: the sign-in page (a wrong password said next to the
// field), the queue (found by search, with its age), the application (the
// NPI and DEA checks, the duplicate warning, no approvals), officer 1
// approves with the keyboard only and with a comment, then tries again
// (refused: the server's sentence); officer 2, in a second browser, opens
// the application directly (signed out: the sign-in form, then the page),
// approves without a token serial (refused next to the serial), assigns one
// and approves: approved, activation issued, the letter and the passcode in
// their outboxes. The second application's account, locked by wrong
// passwords, is unlocked; then it is rejected: an empty reason refused next
// to the field, then a reason. A lost CSRF cookie and a
// sign-out bring the sign-in form back. Phone width: nothing scrolls
// sideways. A screenshot of every page and state.

import path from 'node:path';
import { journey, assert, pass, SRCDIR, VCODE_RE, ACODE_RE, PCODE_RE, QUESTIONS } from './lib.mjs';

const OLIVIA_PW = 'copper lantern meadow 7';
const OSCAR_PW = 'silent orchard river 42';
const APPLICANT_PW = 'purple elephant dances slowly';
const SERIAL = 'TOKEN-0042';

// The text of the error next to field ID, which the field names in its
// aria-describedby and marks aria-invalid.
async function fieldError(page, id) {
  const err = page.locator(`#${id}-error`);
  await err.waitFor({ state: 'visible' });
  const described = (await page.getAttribute(`#${id}`, 'aria-describedby')) ?? '';
  assert.ok(described.split(/\s+/).includes(`${id}-error`), `#${id} names its error in aria-describedby`);
  assert.equal(await page.getAttribute(`#${id}`, 'aria-invalid'), 'true', `#${id} is aria-invalid`);
  return (await err.innerText()).replace(/^Error:\s*/, '');
}

// The sentences of a form's error summary, once shown.
async function summary(page, form) {
  const s = page.locator(`#${form} .error-summary`);
  await s.waitFor({ state: 'visible' });
  return (await s.locator('li').allInnerTexts()).join(' | ');
}

async function focusedId(page) {
  return page.evaluate(() => document.activeElement && document.activeElement.id);
}

// Nothing wider than the viewport (no sideways scrolling).
async function fitsWidth(page, what) {
  const [scroll, client] = await page.evaluate(() =>
    [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(scroll <= client, `${what}: no sideways scrolling at ${client} px (content ${scroll} px)`);
}

// Tab (forward) until the element with id ID has the focus; fails after MAX presses.
async function tabTo(page, id, max = 60) {
  for (let i = 0; i < max; i++) {
    if (await focusedId(page) === id) return i;
    await page.keyboard.press('Tab');
  }
  assert.ok(false, `Tab reaches #${id} within ${max} presses`);
}

function epcsApplication(voucher, agreement, given) {
  return {
    product: 'epcs', storage: 'new-token', agreement, password: APPLICANT_PW, voucher,
    questions: QUESTIONS,
    applicant: { given_name: given, family_name: 'Tester', email: 'jane@example.com',
      address: '1 Main Street\nSpringfield, IL 62701', date_of_birth: '1980-04-01',
      npi: '1234567893', dea: 'AT1234563' },
  };
}

await journey(async (t) => {
  const home = t.home();
  home.addUser('olivia', ['ra-officer'], OLIVIA_PW);
  home.addUser('oscar', ['ra-officer'], OSCAR_PW);
  const vouchers = home.vouchers('epcs', 2);
  const server = await t.serve(home, ['--web-root', path.join(SRCDIR, 'web')]);

  // ------------------------------------------------------------ two applications (API)
  const agreement = (await server.api('GET', '/api/v1/agreement')).json.version;
  const ids = [];
  for (const [i, given] of ['Jane', 'Janet'].entries()) {
    const r = await server.api('POST', '/api/v1/applications', epcsApplication(vouchers[i], agreement, given));
    assert.status(r, 201, `EPCS application for ${given} Tester submitted`);
    ids.push(r.json.id);
  }
  for (const id of ids) {
    const code = home.mailCode(VCODE_RE, { kind: 'verification', application: id });
    const r = await server.api('POST', `/api/v1/applications/${id}/email-verification`, { code });
    assert.status(r, 200, `${id}: email verified`);
    assert.equal(r.json.state, 'under_review', `${id} is under review`);
  }
  const [first, second] = ids;

  const page = await t.page();
  // Refusals are 4xx answers, which Chromium logs as failed resources:
  // expected here, and only these statuses.
  t.allowConsole(/Failed to load resource: the server responded with a status of (400|401|403|404|409|422)/);

  // ------------------------------------------------------------ sign in (officer 1)
  await page.goto(`${server.url}/ra/queue`);
  await page.locator('#ra-signin-form').waitFor({ state: 'visible' });
  assert.ok(!(await page.locator('#queue').isVisible()), 'signed out, the queue shows the sign-in form instead');
  await page.goto(`${server.url}/ra/`);
  await page.locator('#ra-signin-form').waitFor({ state: 'visible' });
  await t.shot(page, 'signin');
  await page.click('#ra-signin-button');
  assert.match(await fieldError(page, 'ra-user'), /Enter your officer name/, 'no name: said next to it');
  await page.fill('#ra-user', 'olivia');
  await page.fill('#ra-password', 'not her password');
  await page.click('#ra-signin-button');
  assert.match(await fieldError(page, 'ra-password'), /Wrong officer name or password/,
    'a wrong password: said next to the password');
  assert.equal(await focusedId(page), 'ra-password', 'with the focus on the password');
  await t.shot(page, 'signin-error');
  await page.fill('#ra-password', OLIVIA_PW);
  await page.press('#ra-password', 'Enter');
  await page.waitForURL(/\/ra\/queue$/);
  const cookie = (await page.context().cookies()).find((c) => c.name === 'tsr_session');
  assert.ok(cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict',
    'signed in with a cookie session: tsr_session is HttpOnly, Secure, SameSite=Strict');

  // ------------------------------------------------------------ the queue
  await page.locator('#queue-table').waitFor({ state: 'visible' });
  await page.locator('#ra-who', { hasText: 'Signed in as olivia (ra-officer)' }).waitFor();
  pass('the header names the officer and the roles');
  assert.match(await page.locator('#queue-count').innerText(), /^2 applications under review/, 'two applications under review');
  const row = page.locator('#queue-rows tr', { hasText: first });
  assert.includes(await row.innerText(), 'Jane Tester', 'the queue names the applicant');
  assert.match(await row.locator('td[data-label="Age"]').innerText(), /minute/, 'and gives the age');
  await t.shot(page, 'queue');
  // The search is the API's (?q=): typing asks the server.
  const searched = page.waitForRequest((r) => new URL(r.url()).searchParams.get('q') === 'Janet');
  await page.fill('#filter-text', 'Janet');
  await searched;
  pass('typing a search asks the server: GET /api/v1/ra/applications?q=Janet');
  await page.locator('#queue-count', { hasText: /^1 application under review matches “Janet”/ }).waitFor();
  assert.equal(await page.locator('#queue-rows tr').count(), 1, 'searching "Janet" leaves one application');
  assert.includes(await page.locator('#queue-rows').innerText(), second, 'the second one');
  await page.fill('#filter-text', 'nobody@example.org');
  await page.locator('#queue-count', { hasText: /No application under review matches/ }).waitFor();
  assert.ok(!(await page.locator('#queue-table').isVisible()), 'an email nobody used: no table, and a sentence says so');
  await page.fill('#filter-text', 'x'.repeat(65));
  assert.match(await fieldError(page, 'filter-text'), /at most 64 characters/, 'a search of 65 characters is refused next to the field');
  await page.fill('#filter-text', '');
  await t.shot(page, 'queue-no-match');
  await page.selectOption('#filter-state', 'rejected');
  await page.locator('#queue-count', { hasText: 'No applications rejected' }).waitFor();
  pass('the state filter asks the server (none rejected yet)');
  await page.selectOption('#filter-state', 'under_review');
  await page.fill('#filter-text', first.toLowerCase());
  await page.locator('#queue-count', { hasText: /^1 application under review matches/ }).waitFor();
  assert.equal(await page.locator('#queue-rows tr').count(), 1, 'searching the number (lower case) finds it');
  await page.click(`#queue-rows a:text("${first}")`);
  await page.waitForURL(/\/ra\/application\?id=/);

  // ------------------------------------------------------------ the application
  await page.locator('#app').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#page-title').innerText(), `Application ${first}`, 'the application is shown');
  assert.equal(await page.locator('#app-state').innerText(), 'under review', 'under review');
  const applicant = await page.locator('#applicant').innerText();
  for (const v of ['Jane', 'Tester', 'jane@example.com', '1980-04-01', '1234567893', 'AT1234563', 'Springfield'])
    assert.includes(applicant, v, `the applicant's data shows ${v}`);
  assert.match(await page.locator('li[data-check="npi"]').innerText(), /^pass\s*NPI: /i, 'the NPI check passed');
  assert.match(await page.locator('li[data-check="dea"]').innerText(), /^pass\s*DEA number: /i, 'the DEA check passed');
  const dup = await page.locator('#duplicate-warning').innerText();
  assert.includes(dup, second, 'the duplicate warning names the other application');
  assert.match(dup, /email address/, 'for the same email address');
  assert.match(await page.locator('#approvals-count').innerText(), /^0 of 2 approvals/, 'no approvals yet, two needed');
  await t.shot(page, 'application');

  // Keyboard only: from the top of the page to the comment and Approve.
  await page.locator('body').focus();
  await page.evaluate(() => document.activeElement.blur());
  const presses = await tabTo(page, 'approve-comment');
  pass(`Tab reaches the comment (${presses} presses)`);
  await page.keyboard.type('ID documents checked.');
  await page.keyboard.press('Tab');
  assert.equal(await focusedId(page), 'approve-button', 'Tab moves on to Approve');
  await page.keyboard.press('Enter');
  await page.locator('#action-status', { hasText: /Approved: 1 of 2/ }).waitFor();
  assert.equal(await focusedId(page), 'action-status', 'the result has the focus');
  const approvals = await page.locator('#approvals').innerText();
  assert.includes(approvals, 'olivia', 'the approval is listed, by olivia');
  assert.includes(approvals, 'ID documents checked.', 'with her comment');
  assert.equal(await page.locator('#app-state').innerText(), 'under review', 'still under review');
  assert.match(await page.locator('#approve-note').innerText(), /You approved this application/, 'the page says she approved it');
  await t.shot(page, 'application-approved-once');

  // Officer 1 again: the server refuses, the page says its sentence.
  await page.click('#approve-button');
  assert.match(await summary(page, 'approve-form'), /You have already approved this application; another officer/,
    'approving twice: refused, in a sentence');
  assert.match(await page.locator('#approvals-count').innerText(), /^1 of 2/, 'still one approval');
  await t.shot(page, 'application-approve-twice');

  // ------------------------------------------------------------ officer 2, another browser
  const ctx2 = await t.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  ctx2.setDefaultTimeout(15000);
  await ctx2.addInitScript(`document.addEventListener('securitypolicyviolation', (e) =>
    console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)')));`);
  ctx2.on('page', (p) => t.watch(p));
  const page2 = await ctx2.newPage();
  await page2.goto(`${server.url}/ra/application?id=${encodeURIComponent(first)}`);
  await page2.locator('#ra-signin-form').waitFor({ state: 'visible' });
  assert.ok(!(await page2.locator('#app').isVisible()), 'signed out, the application shows the sign-in form instead');
  await page2.fill('#ra-user', 'oscar');
  await page2.fill('#ra-password', OSCAR_PW);
  await page2.click('#ra-signin-button');
  await page2.locator('#app').waitFor({ state: 'visible' });
  assert.match(await page2.locator('#ra-who').innerText(), /Signed in as oscar/, 'signed in there as oscar');
  assert.match(await page2.locator('#approve-note').innerText(), /final approval: assign the token serial/,
    'the page says the final approval needs the token serial');
  await page2.click('#approve-button');
  assert.match(await fieldError(page2, 'token-serial'), /assign the serial of the token to ship before the final approval/i,
    'the final approval without a serial: refused next to the serial');
  await t.shot(page2, 'application-needs-serial');
  await page2.fill('#token-serial', 'TOKEN 42');
  await page2.click('#token-button');
  assert.match(await fieldError(page2, 'token-serial'), /serial/i, 'a serial with a space: refused next to it');
  await page2.fill('#token-serial', SERIAL);
  await page2.click('#token-button');
  await page2.locator('#action-status', { hasText: `Token serial ${SERIAL} assigned` }).waitFor();
  assert.equal(await page2.locator('#app-token').innerText(), SERIAL, 'the overview shows the serial');
  assert.equal(await page2.locator('#token-serial-error').count(), 0, 'the serial\'s error is gone');
  await page2.fill('#approve-comment', 'Second check: NPI registry looked up.');
  await page2.click('#approve-button');
  await page2.locator('#action-status', { hasText: /Final approval given/ }).waitFor();
  assert.equal(await page2.locator('#app-state').innerText(), 'approved: activation issued',
    'the state shows approved, activation issued');
  assert.match(await page2.locator('#approvals-count').innerText(), /^2 of 2/, 'two of two approvals');
  assert.ok(!(await page2.locator('#approve-form').isVisible()), 'approving is no longer offered');
  assert.ok(await page2.locator('#activation').isVisible(), 'sending a new activation is offered');
  await t.shot(page2, 'application-activation-issued');
  assert.ok(home.mailCode(ACODE_RE, { kind: 'activation', application: first }).length > 0,
    'the activation letter is in the outbox');
  assert.ok(home.mailCode(PCODE_RE, { box: 'passcodes', application: first }).length > 0,
    'the token passcode is in the passcode outbox');

  // ------------------------------------------------------------ unlock, then reject the second
  // Five wrong passwords lock the second applicant's account.
  for (let i = 0; i < 5; i++)
    assert.equal((await server.api('POST', `/api/v1/applications/${second}/session`,
      { password: `wrong password ${i}` })).status, 401, `wrong applicant password ${i + 1}: 401`);
  await page2.goto(`${server.url}/ra/application?id=${encodeURIComponent(second)}`);
  await page2.locator('#app').waitFor({ state: 'visible' });
  assert.match(await page2.locator('#locks-text').innerText(), /account is locked/, 'the page says the account is locked');
  assert.ok(!(await page2.locator('#unlock-code').isVisible()), 'the code is not locked: no button for it');
  await t.shot(page2, 'application-locked');
  await page2.click('#unlock-account');
  await page2.locator('#action-status', { hasText: 'The account is unlocked' }).waitFor();
  assert.match(await page2.locator('#locks-text').innerText(), /account is not locked \(0 /, 'unlocked, the count starts again');
  assert.ok(!(await page2.locator('#unlock-account').isVisible()), 'the unlock button is gone');
  assert.status(await server.api('POST', `/api/v1/applications/${second}/session`, { password: APPLICANT_PW }),
    201, 'the applicant signs in again');
  assert.includes(await page2.locator('#duplicate-warning').innerText(), first,
    'the second application warns of the first');
  await page2.click('#reject-button');
  assert.match(await fieldError(page2, 'reject-reason'), /Give the reason/, 'an empty reason: refused next to it');
  assert.equal(await focusedId(page2), 'reject-reason', 'with the focus on the reason');
  await t.shot(page2, 'reject-empty-reason');
  await page2.fill('#reject-reason', 'Applied twice: see the approved application.');
  await page2.click('#reject-button');
  await page2.locator('#action-status', { hasText: /Rejected/ }).waitFor();
  assert.equal(await page2.locator('#app-state').innerText(), 'rejected', 'the application is rejected');
  assert.includes(await page2.locator('#overview').innerText(), 'Applied twice', 'the reason is shown');
  assert.ok(!(await page2.locator('#reject-form').isVisible()), 'rejecting is no longer offered');
  const notice = home.latestMail({ kind: 'status', application: second });
  assert.ok(notice && notice.body.includes('Applied twice'), 'the applicant is mailed the reason');
  await t.shot(page2, 'rejected');

  // Back in the queue: neither is under review any more.
  await page2.goto(`${server.url}/ra/queue`);
  await page2.locator('#queue-count', { hasText: 'No applications under review' }).waitFor();
  await page2.selectOption('#filter-state', 'all');
  await page2.locator('#queue-count', { hasText: /^2 applications in any state/ }).waitFor();
  pass('the queue is empty; "any state" shows both');
  await t.shot(page2, 'queue-all');

  // ------------------------------------------------------------ the session ends
  // Officer 1's tsr_csrf cookie lost (cleared by hand): the next change is
  // refused 403 csrf, and the page asks to sign in again.
  const kept = (await page.context().cookies()).filter((c) => c.name !== 'tsr_csrf');
  await page.context().clearCookies();
  await page.context().addCookies(kept);
  await page.click('#refresh');
  await page.locator('#app-state', { hasText: 'approved: activation issued' }).waitFor();
  pass('reading needs no CSRF value: officer 1 sees the final state');
  await page.click('#activation-button');
  await page.locator('#ra-signin-form').waitFor({ state: 'visible' });
  assert.match(await page.locator('#ra-signin-why').innerText(), /Sign in again/, 'no CSRF value: sign in again, in a sentence');
  await t.shot(page, 'session-csrf');
  await page.fill('#ra-password', OLIVIA_PW);
  await page.click('#ra-signin-button');
  await page.locator('#app').waitFor({ state: 'visible' });
  pass('signed in again, the application is back');
  // Signed out elsewhere (the server ends the session): the next request is 401.
  const sid = (await page.context().cookies()).find((c) => c.name === 'tsr_session');
  const csrf = (await page.context().cookies()).find((c) => c.name === 'tsr_csrf');
  assert.ok(sid && csrf, 'both cookies are set again');
  await page.evaluate(async (c) => {
    await fetch('/api/v1/sessions/current', { method: 'DELETE', headers: { 'X-CSRF-Token': c } });
  }, csrf.value);
  await page.context().addCookies([sid, csrf]);
  await page.click('#refresh');
  await page.locator('#ra-signin-form').waitFor({ state: 'visible' });
  assert.match(await page.locator('#ra-signin-why').innerText(), /session has ended/, 'an ended session: said so');
  await t.shot(page, 'session-ended');

  // Sign-out from the header.
  await page.fill('#ra-password', OLIVIA_PW);
  await page.click('#ra-signin-button');
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.click('#ra-signout');
  await page.waitForURL(/\/ra\/$/);
  await page.locator('#ra-flash', { hasText: 'You have signed out.' }).waitFor();
  assert.equal((await page.context().cookies()).filter((c) => c.name.startsWith('tsr_')).length, 0,
    'signing out clears both cookies');
  await t.shot(page, 'signed-out');

  // The front door, signed in: links to the console's pages.
  await page2.goto(`${server.url}/ra/`);
  await page2.locator('#ra-home').waitFor({ state: 'visible' });
  assert.ok(!(await page2.locator('#ra-signin-form').isVisible()), 'signed in, /ra/ offers no sign-in form');
  assert.ok(await page2.getByRole('link', { name: 'The review queue' }).isVisible(), 'but a link to the queue');
  await t.shot(page2, 'home-signed-in');
  await page2.getByRole('link', { name: 'The review queue' }).click();
  await page2.waitForURL(/\/ra\/queue$/);
  await page2.locator('#queue-count', { hasText: 'No applications under review' }).waitFor();
  await page2.selectOption('#filter-state', 'all');
  await page2.locator('#queue-table').waitFor({ state: 'visible' });

  // ------------------------------------------------------------ phone width
  await page2.setViewportSize({ width: 320, height: 640 });
  await fitsWidth(page2, 'the queue');
  await t.shot(page2, 'queue-phone');
  await page2.goto(`${server.url}/ra/application?id=${encodeURIComponent(first)}`);
  await page2.locator('#app').waitFor({ state: 'visible' });
  await fitsWidth(page2, 'the application');
  await t.shot(page2, 'application-phone');
  await page2.goto(`${server.url}/ra/application?id=AP-0000-0000-0000`);
  await page2.locator('#page-error', { hasText: 'There is no application' }).waitFor();
  await t.shot(page2, 'application-unknown');
});

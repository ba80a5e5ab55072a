// apply.test.mjs - the applicant's first journey through the pages, as a
// person does it: the index, Apply (step by step, with wrong inputs on each
// step and the server's own refusals shown next to their fields), the
// confirmation, My application before the code (a new code asked too soon:
// refused, over the cookie session with its CSRF header; sign-out), Verify
// email (a mistyped code, then the one from the outbox), My application (a
// wrong password, then the right one: "under review"), EPCS's NPI, DEA and
// date of birth checked on the page as the server checks them, a forgotten
// password reset through the secret questions, and withdrawal.
// Keyboard only where it matters (choosing on step 1, moving on with Enter),
// and at phone width (320 CSS pixels: 1280 at 400 % zoom) nothing scrolls
// sideways. A screenshot of every page and state.

import fs from 'node:fs';
import path from 'node:path';
import { journey, assert, pass, SRCDIR, VCODE_RE, QUESTIONS } from './lib.mjs';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'purple mountain ferry 2031';

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

async function focusedId(page) {
  return page.evaluate(() => document.activeElement && document.activeElement.id);
}

// Nothing wider than the viewport (no sideways scrolling).
async function fitsWidth(page, what) {
  const [scroll, client] = await page.evaluate(() =>
    [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(scroll <= client, `${what}: no sideways scrolling at ${client} px (content ${scroll} px)`);
}

// A typo its check symbol catches: two adjacent different symbols swapped.
function typoOf(code) {
  for (let i = 0; i + 1 < code.length; i++)
    if (code[i] !== code[i + 1] && code[i] !== '-' && code[i + 1] !== '-')
      return code.slice(0, i) + code[i + 1] + code[i] + code.slice(i + 2);
  throw new Error(`no typo possible in ${code}`);
}

await journey(async (t) => {
  const home = t.home();
  const [voucher] = home.vouchers('smime', 1);
  const server = await t.serve(home, ['--web-root', path.join(SRCDIR, 'web')]);
  const page = await t.page();
  // Every refusal below is a 4xx answer, which Chromium logs as a failed
  // resource: expected here, and only these statuses.
  t.allowConsole(/Failed to load resource: the server responded with a status of (400|401|422)/);

  // ------------------------------------------------------------ index
  await page.goto(`${server.url}/`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await t.shot(page, 'index');
  await page.getByRole('link', { name: 'Apply for a certificate' }).click();
  await page.waitForURL(/\/apply$/);

  // ------------------------------------------------------------ apply: step 1
  await page.locator('#apply-form').waitFor({ state: 'visible' });
  assert.ok(await page.locator('.phases li[aria-current="step"]', { hasText: 'Apply' }).isVisible(),
    'the phase indicator shows Apply as the current phase');
  assert.ok(await page.getByLabel(/S\/MIME/).isVisible(), 'the products come from the API (S/MIME shown)');
  await t.shot(page, 'apply-1-product');
  await page.click('#next');
  assert.match(await fieldError(page, 'product'), /Choose a product/, 'no product chosen: said next to the choice');
  assert.ok(await page.locator('.error-summary').isVisible(), 'the error summary is shown');
  await t.shot(page, 'apply-1-error');

  // Keyboard only: the focus is on the product list; arrows choose.
  const smimeIndex = await page.evaluate(() =>
    [...document.querySelectorAll('input[name="product"]')].findIndex((i) => i.value === 'smime'));
  assert.ok(smimeIndex >= 0, 'smime is offered');
  await page.focus('input[name="product"]');
  for (let i = 0; i < smimeIndex; i++)
    await page.keyboard.press('ArrowDown');
  assert.equal(await page.locator('input[name="product"]:checked').getAttribute('value'), 'smime',
    'the arrow keys choose S/MIME');
  assert.equal(await page.locator('#product-error').count(), 0, 'choosing clears the error');
  assert.ok(!(await page.locator('.error-summary').isVisible()), 'and the summary');
  assert.equal(await page.locator('input[name="storage"]').count(), 3,
    'S/MIME allows three storage choices (storage "either")');
  await page.keyboard.press('Tab'); // into the storage group
  assert.equal(await page.evaluate(() => document.activeElement.name), 'storage',
    'Tab moves on to the storage choices');
  for (let i = 0; i < 3 && await page.locator('#storage-software:checked').count() === 0; i++)
    await page.keyboard.press('ArrowDown');
  assert.equal(await page.locator('input[name="storage"]:checked').getAttribute('value'), 'software',
    'the keyboard chooses software storage');
  await page.keyboard.press('Tab');
  assert.equal(await focusedId(page), 'next', 'Tab reaches Continue');
  await page.keyboard.press('Enter');

  // ------------------------------------------------------------ step 2
  await page.locator('#step-you').waitFor({ state: 'visible' });
  assert.ok(await page.locator('#given_name').isVisible(), 'S/MIME asks for the name');
  assert.ok(!(await page.locator('#date_of_birth').isVisible()), 'and not for the date of birth');
  assert.ok(!(await page.locator('#npi').isVisible()), 'nor for an NPI');
  await page.fill('#given_name', 'Kim');
  await page.fill('#family_name', 'Tester');
  await page.fill('#email', 'kim@example');
  await page.press('#email', 'Enter'); // Enter moves on, as Continue does
  assert.match(await fieldError(page, 'email'), /email address is not valid/i, 'a bad email address: said next to it');
  assert.equal(await focusedId(page), 'email', 'the focus is on the email field');
  await t.shot(page, 'apply-2-email-error');
  await page.fill('#email', 'kim@example.org');
  await page.click('#next');

  // ------------------------------------------------------------ step 3
  await page.locator('#step-account').waitFor({ state: 'visible' });
  await page.fill('#password', 'short');
  await page.click('#next');
  assert.match(await fieldError(page, 'password'), /shorter than 8 characters/, 'a short password: said next to it');
  await page.fill('#password', 'kimtester99');
  await page.click('#next');
  assert.match(await fieldError(page, 'password'), /contains your name/, 'a password with the name: said next to it');
  await t.shot(page, 'apply-3-password-error');
  // The server's common-password list is the server's: this page lets it through.
  await page.fill('#password', 'Password1234');
  await page.fill('#password2', 'Password1234');
  for (const [i, q] of QUESTIONS.entries()) {
    await page.fill(`#q${i + 1}`, q.question);
    await page.fill(`#a${i + 1}`, q.answer);
  }
  await page.click('#next');

  // ------------------------------------------------------------ step 4
  await page.locator('#step-payment').waitFor({ state: 'visible' });
  assert.ok(await page.locator('#voucher').isVisible(), 'S/MIME is paid by voucher: the field is there');
  await page.fill('#voucher', typoOf(voucher));
  await page.click('#next');

  // ------------------------------------------------------------ step 5
  await page.locator('#step-agreement').waitFor({ state: 'visible' });
  const agreementAnswer = (await server.api('GET', '/api/v1/agreement')).json;
  const version = agreementAnswer.version;
  assert.equal(await page.locator('#agreement-version').innerText(), version, 'the agreement version is the server\'s');
  // The text of agreement.txt (tessera init's sample), shown as text: its
  // "# " and "## " lines as headings, its "- " lines as a list.
  const region = page.locator('#agreement-text[role="region"][tabindex="0"]');
  await region.waitFor();
  assert.includes(agreementAnswer.text, 'sole control', 'the API serves the agreement\'s text');
  assert.match(agreementAnswer.sha256, /^[0-9a-f]{64}$/, 'and its SHA-256');
  assert.equal(await region.locator('h3').first().innerText(), 'Subscriber agreement (sample)', 'a "# " line is a heading');
  assert.ok((await region.locator('li').count()) >= 4, 'the "- " lines are a list');
  assert.includes(await region.innerText(), 'You keep your private key and your token under your sole control.',
    'the page shows the file\'s text');
  assert.ok(await page.evaluate(() => Boolean(document.getElementById('agreement-text')
    .compareDocumentPosition(document.getElementById('agree')) & Node.DOCUMENT_POSITION_FOLLOWING)),
  'the acceptance checkbox comes after the text');
  await region.focus();
  assert.equal(await focusedId(page), 'agreement-text', 'the text can take the keyboard focus (to scroll it)');
  const overflow = await region.evaluate((e) => getComputedStyle(e).overflowY);
  assert.equal(overflow, 'auto', 'the text scrolls within its region');
  await page.click('#next');
  assert.match(await fieldError(page, 'agree'), /Accept the subscriber agreement/, 'not accepted: said next to it');
  await page.check('#agree');
  await t.shot(page, 'apply-5-agreement');
  await page.click('#next');

  // ------------------------------------------------------------ step 6: the server decides
  await page.locator('#step-review').waitFor({ state: 'visible' });
  assert.includes(await page.locator('#review-list').innerText(), 'kim@example.org', 'the review shows the email');
  await t.shot(page, 'apply-6-review');
  await page.click('#submit');
  // The server's order: the password's rules come before the voucher's lookup.
  assert.match(await fieldError(page, 'password'), /common passwords/, 'a common password: the server\'s sentence next to it');
  assert.ok(await page.locator('#step-account').isVisible(), 'the page went back to the password step');
  assert.equal(await focusedId(page), 'password', 'with the focus on the password');
  await t.shot(page, 'apply-3-password-refused');
  await page.fill('#password', PASSWORD);
  await page.fill('#password2', PASSWORD);
  for (let i = 0; i < 3; i++)
    await page.click('#next');
  await page.click('#submit');
  assert.match(await fieldError(page, 'voucher'), /typo|voucher/i, 'a mistyped voucher: the server\'s sentence next to it');
  assert.ok(await page.locator('#step-payment').isVisible(), 'the page went back to the payment step');
  assert.equal(await focusedId(page), 'voucher', 'with the focus on the voucher');
  await t.shot(page, 'apply-4-voucher-refused');
  await page.fill('#voucher', voucher);
  await page.click('#next');
  await page.click('#next');
  await page.click('#submit');

  // ------------------------------------------------------------ confirmation
  await page.locator('#done').waitFor({ state: 'visible' });
  const id = (await page.locator('#done-id').innerText()).trim();
  assert.match(id, /^AP-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/, 'the confirmation shows the application number');
  const done = await page.locator('#done').innerText();
  assert.includes(done, 'kim@example.org', 'it says where the code went');
  assert.match(done, /lapses/, 'and what happens if it is not entered');
  assert.match(done, /It works once, until \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/,
    'when the code expires (the API\'s code_expires_at)');
  assert.match(done, /within 30 days \(by \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\), the application lapses/,
    'and the days to verify ([ra] email_days) with the date');
  assert.ok(await page.locator('.phases li[aria-current="step"]', { hasText: 'Get verified' }).isVisible(),
    'the phases move on to Get verified');
  await t.shot(page, 'apply-done');
  const verifyHref = await page.getAttribute('#done-verify', 'href');
  assert.equal(verifyHref, `/verify-email?id=${id}`, 'the confirmation links to Verify email with the number');

  // ------------------------------------------------------------ my application, before the code
  await page.click('#done-status');
  await page.waitForURL(/\/application\?/);
  await page.fill('#signin-password', PASSWORD);
  await page.click('#signin-form button[type="submit"]');
  await page.locator('#status').waitFor({ state: 'visible' });
  assert.includes(await page.locator('#facts').innerText(), 'waiting for your email code', 'the status is "submitted"');
  assert.match(await page.locator('.phases li[aria-current="step"]').innerText(), /enter the code/,
    'the timeline asks for the email code');
  // A state-changing request over the cookie session (X-CSRF-Token): the
  // server refuses a second code within a minute, and the page says so.
  await page.click('#resend');
  await page.locator('#resend-message', { hasText: /minute/ }).waitFor();
  pass(`a new code too soon: "${await page.locator('#resend-message').innerText()}"`);
  await t.shot(page, 'application-submitted');
  await page.click('#signout');
  await page.locator('#flash', { hasText: 'signed out' }).waitFor();
  assert.equal((await page.context().cookies()).filter((c) => c.name.startsWith('tsr_')).length, 0,
    'signing out clears the session cookies');
  // Follow the link in the verification mail (its origin is [ra] web_url,
  // https://localhost:8443 by default; this server listens elsewhere).
  const mail = home.latestMail({ kind: 'verification', application: id });
  const link = /^ {2}(https:\/\/\S+\/verify-email\?id=\S+)$/m.exec(mail ? mail.body : '');
  assert.ok(link, 'the verification mail holds a link to the verify-email page');
  const url = new URL(link[1]);
  assert.equal(url.origin, 'https://localhost:8443', 'at [ra] web_url');
  assert.equal(url.search, `?id=${id}`, 'with the application number and nothing else (never the code)');
  await page.goto(`${server.url}${url.pathname}${url.search}`);

  // ------------------------------------------------------------ verify email
  assert.equal(await page.inputValue('#application'), id, 'the application number is filled in from the link');
  const code = home.mailCode(VCODE_RE, { kind: 'verification', application: id });
  const wrong = code.startsWith('2222') ? '3333-3333' : '2222-2222';
  await page.fill('#code', wrong);
  await page.click('button[type="submit"]');
  assert.ok((await fieldError(page, 'code')).length > 0, 'a wrong code: the server\'s sentence next to the code');
  assert.equal(await focusedId(page), 'code', 'with the focus on the code');
  await t.shot(page, 'verify-email-error');
  await page.fill('#code', code.toLowerCase());
  await page.click('button[type="submit"]');
  await page.locator('#done').waitFor({ state: 'visible' });
  assert.includes(await page.locator('#done-state').innerText(), 'under review', 'the code (lower case) verifies: under review');
  await t.shot(page, 'verify-email-done');

  // ------------------------------------------------------------ my application
  await page.click('#done-status');
  await page.waitForURL(/\/application\?/);
  assert.equal(await page.inputValue('#signin-application'), id, 'the number is filled in');
  await page.fill('#signin-password', 'not my password at all');
  await page.click('#signin-form button[type="submit"]');
  assert.match(await fieldError(page, 'signin-password'), /wrong application number or password/i,
    'a wrong password: the server\'s sentence next to the password');
  await t.shot(page, 'application-signin-error');
  await page.fill('#signin-password', PASSWORD);
  await page.press('#signin-password', 'Enter');
  await page.locator('#status').waitFor({ state: 'visible' });
  const facts = await page.locator('#facts').innerText();
  assert.includes(facts, 'under review', 'signed in: the status is "under review"');
  assert.match(await page.locator('#app-next').innerText(), /reviewing your identity/, 'the next step is the server\'s sentence');
  assert.ok(await page.locator('.phases li[aria-current="step"]', { hasText: 'Get verified' }).isVisible(),
    'the timeline shows Get verified as current');
  const cookie = (await page.context().cookies()).find((c) => c.name === 'tsr_session');
  if (cookie) {
    assert.ok(cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict',
      'a cookie session: tsr_session is HttpOnly, Secure, SameSite=Strict');
  } else {
    console.log('note: no session cookie: the server has no cookie sessions yet (bearer token in memory)');
  }
  assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0,
    'nothing is kept in localStorage or sessionStorage');
  await t.shot(page, 'application-status');

  // At phone width (and so at 400 % zoom of 1280 px) everything reflows.
  await page.setViewportSize({ width: 320, height: 640 });
  await fitsWidth(page, 'My application');
  await t.shot(page, 'application-status-phone');
  await page.goto(`${server.url}/apply`);
  await page.locator('#apply-form').waitFor({ state: 'visible' });
  await fitsWidth(page, 'Apply');
  await t.shot(page, 'apply-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  // ------------------------------------------------------------ EPCS: the mirrored checks
  // The page's early checks of NPI, DEA and date of birth say what the
  // server says about the same values (the server is asked too).
  await page.check('#product-epcs');
  assert.equal(await page.locator('input[name="storage"]').count(), 2, 'EPCS allows the two token choices');
  await page.check('#storage-new-token');
  await page.click('#next');
  for (const id of ['date_of_birth', 'npi', 'dea', 'address'])
    assert.ok(await page.locator(`#${id}`).isVisible(), `EPCS asks for ${id}`);
  await page.fill('#given_name', 'Jane');
  await page.fill('#family_name', 'Tester');
  await page.fill('#email', 'jane@example.org');
  await page.fill('#address', '1 Main Street\nSpringfield, IL 62701');
  const bad = { date_of_birth: '1981-02-29', npi: '1234567890', dea: 'AT1234564' };
  for (const [id, v] of Object.entries(bad))
    await page.fill(`#${id}`, v);
  await page.click('#next');
  const good = { given_name: 'Jane', family_name: 'Tester', email: 'jane@example.org',
    address: '1 Main Street', date_of_birth: '1980-02-29', npi: '1234567893', dea: 'AT1234563' };
  for (const [id, v] of Object.entries(bad)) {
    const said = await fieldError(page, id);
    const r = await server.api('POST', '/api/v1/applications', {
      product: 'epcs', storage: 'new-token', agreement: version, password: PASSWORD, voucher: 'X',
      applicant: { ...good, [id]: v }, questions: QUESTIONS });
    assert.status(r, 400, `the server refuses ${id} ${v} too`);
    assert.equal(said.toLowerCase(), `${r.json.detail}.`.toLowerCase(), `the page's ${id} check says what the server says`);
  }
  await t.shot(page, 'apply-epcs-errors');
  for (const id of Object.keys(bad))
    await page.fill(`#${id}`, good[id]);
  for (const id of Object.keys(bad))
    assert.equal(await page.locator(`#${id}-error`).count(), 0, `a right ${id} clears its error as it is typed`);
  await page.click('#next');
  await page.locator('#step-account').waitFor({ state: 'visible' });
  pass('right NPI, DEA and date of birth pass the page\'s checks');

  // ------------------------------------------------------------ forgotten password
  await page.goto(`${server.url}/application?id=${encodeURIComponent(id)}`);
  // A cookie session outlives the page: the status shows at once; sign out.
  if (cookie) {
    await page.locator('#status').waitFor({ state: 'visible' });
    pass('a reload keeps the cookie session');
    await page.click('#signout');
  }
  await page.locator('#signin').waitFor({ state: 'visible' });
  await page.click('#forgot');
  await page.click('#questions-form button[type="submit"]');
  for (const [i, q] of QUESTIONS.entries())
    assert.equal(await page.locator(`label[for="a${i + 1}"]`).innerText().then((s) => s.replace(/\s*\(required\)$/, '')),
      q.question, `secret question ${i + 1} is shown`);
  await page.fill('#a1', 'wrong answer');
  await page.fill('#a2', QUESTIONS[1].answer);
  await page.fill('#a3', QUESTIONS[2].answer);
  await page.fill('#new-password', NEW_PASSWORD);
  await page.fill('#new-password2', NEW_PASSWORD);
  await page.click('#reset-form button[type="submit"]');
  assert.match(await fieldError(page, 'answers'), /answer/i, 'a wrong answer: the server\'s sentence above the answers');
  await t.shot(page, 'application-reset-error');
  await page.fill('#a1', QUESTIONS[0].answer.toUpperCase());
  await page.click('#reset-form button[type="submit"]');
  await page.locator('#flash', { hasText: 'new password is set' }).waitFor();
  await page.fill('#signin-password', NEW_PASSWORD);
  await page.click('#signin-form button[type="submit"]');
  await page.locator('#status').waitFor({ state: 'visible' });
  pass('the new password signs in');

  // ------------------------------------------------------------ withdraw
  await page.click('#withdraw-start');
  await page.fill('#withdraw-reason', 'Applied by mistake.');
  await t.shot(page, 'application-withdraw');
  await page.click('#withdraw-form button[type="submit"]');
  await page.locator('#flash', { hasText: 'withdrawn' }).waitFor();
  assert.includes(await page.locator('#facts').innerText(), 'withdrawn', 'the application is withdrawn');
  assert.ok(await page.locator('.phases li.stopped').isVisible(), 'the timeline shows where it stopped');
  assert.ok(!(await page.locator('#withdraw-form').isVisible()), 'withdrawing is no longer offered');
  await t.shot(page, 'application-withdrawn');

  // ------------------------------------------------------------ no agreement text
  // Without its file the agreement cannot be shown: the page says so and
  // offers no form (and the server would refuse the application anyway).
  t.allowConsole(/Failed to load resource: the server responded with a status of 500/);
  const agreementFile = path.join(home.dir, 'agreement.txt');
  fs.renameSync(agreementFile, agreementFile + '.away');
  await page.goto(`${server.url}/apply`);
  await page.locator('#load-error', { hasText: 'The subscriber agreement cannot be shown' }).waitFor();
  assert.includes(await page.locator('#load-error').innerText(), 'cannot be submitted',
    'without agreement.txt the page says no application can be submitted');
  assert.ok(await page.locator('#apply-form').isHidden(), 'and shows no form');
  await t.shot(page, 'apply-no-agreement');
  fs.renameSync(agreementFile + '.away', agreementFile);
});

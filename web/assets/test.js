// test.js - Test my certificate: the command to run, and the result of the
// subscriber's last `tessera token test` as the application keeps it
// (`last_test` of GET /api/v1/applications/{id}: {good, at, signature,
// chain, validity, status}, each check "good", "bad" or "unknown").
// Signing in is as on My application (a cookie session).

import { api, appPath, signOut, csrfToken, Problem, idQuery, idFromQuery }
  from './api.js';
import { showErrors } from './form.js';
import { applicantSignInSubmit } from './signin.js';
import { stateWords } from './states.js';

const $ = (id) => document.getElementById(id);
let appId = null;

// What each check asks; its badge answers.
const CHECKS = [
  ['signature', 'Signature', 'was the challenge signed with the certificate\'s key?'],
  ['chain', 'Chain', 'does the certificate lead to this CA?'],
  ['validity', 'Validity', 'is it within its validity period?'],
  ['status', 'Status', 'is it free of any revocation or suspension?'],
];

function remember(id) {
  appId = id;
  history.replaceState(null, '', location.pathname + idQuery(id));
  $('nav-application').href = '/application' + idQuery(id);
  $('retrieve-link').href = '/retrieve' + idQuery(id);
}

function at(t) {
  if (typeof t === 'number')
    return new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
  return typeof t === 'string' ? t.replace('T', ' ').replace('Z', ' UTC') : '';
}

function signedOut(message) {
  $('result').hidden = true;
  $('signin').hidden = false;
  if (message)
    showErrors($('signin-form'), [{ field: null, sentence: message }], false);
}

function render(a) {
  $('app-id').textContent = a.id;
  $('cert-line').textContent = a.certificate_serial ?
    `, certificate ${a.certificate_serial}` : '';
  const t = a.last_test && typeof a.last_test === 'object' ? a.last_test : null;
  const box = $('result-box');
  const ul = $('checks');
  ul.replaceChildren();
  if (!t) {
    box.className = 'notice';
    $('result-head').textContent = 'No test yet.';
    $('result-text').textContent = a.certificate_serial ?
      'Run the command above; then show the latest result here.' :
      'There is no certificate to test yet (your application: ' +
      `${stateWords(a.state)}). Retrieve it first.`;
    return;
  }
  box.className = 'notice ' + (t.good ? 'ok' : 'bad');
  $('result-head').textContent = t.good ? 'Your certificate works.' :
    'Your certificate did not pass the test.';
  $('result-text').textContent = `Tested on ${at(t.at)}.`;
  for (const [key, label, what] of CHECKS) {
    const r = t[key] || 'unknown';
    const li = document.createElement('li');
    const badge = document.createElement('span');
    badge.className = 'badge ' + (r === 'good' ? 'pass' : r === 'bad' ? 'fail' : 'warn');
    badge.textContent = r;
    li.append(badge, ` ${label} (${what})`);
    ul.append(li);
  }
}

async function load(focus) {
  let a;
  try {
    a = await api('GET', appPath(appId));
  } catch (p) {
    if (p instanceof Problem && (p.status === 401 || p.status === 403 || p.status === 404)) {
      signedOut(focus === null ? null : 'Your session ended: sign in again.');
      return;
    }
    throw p;
  }
  $('signin').hidden = true;
  $('result').hidden = false;
  render(a);
  if (focus)
    $('result-title').focus();
}

async function signIn(ev) {
  await applicantSignInSubmit(ev, async (id) => {
    remember(id);
    await load(true);
  });
}

function start() {
  $('test-command').textContent =
    `tessera token test --server ${location.origin} --ca-file tessera-root.pem`;
  $('signin-form').addEventListener('submit', signIn);
  $('refresh').addEventListener('click', () => load(false).catch(() => {}));
  $('signout').addEventListener('click', async () => {
    await signOut();
    signedOut(null);
    $('signin-application').focus();
  });
  const id = idFromQuery();
  if (id) {
    $('signin-application').value = id;
    remember(id);
    if (csrfToken() !== null)
      load(null).catch(() => signedOut(null));
  }
}

start();

// retrieve.js - Retrieve: the exact `tessera token retrieve` command for this
// server, and, once the applicant is signed in (a cookie session, as on My
// application), the live state of the retrieval: the application is asked
// for every few seconds until its certificate is issued, then the
// certificate's summary comes from GET /api/v1/certificate-status/{serial}.

import { api, appPath, signOut, csrfToken, Problem, idQuery, idFromQuery }
  from './api.js';
import { showErrors } from './form.js';
import { applicantSignInSubmit } from './signin.js';
import { stateWords, renderPhases } from './states.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 4000;
let appId = null;
let timer = null;

function when(t) {
  return t ? t.replace('T', ' ').replace('Z', ' UTC') : '';
}

function remember(id) {
  appId = id;
  history.replaceState(null, '', location.pathname + idQuery(id));
  const q = idQuery(id);
  $('nav-application').href = '/application' + q;
  $('test-link').href = '/test' + q;
}

function fact(dl, term, text) {
  if (!text)
    return;
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = text;
  dl.append(dt, dd);
}

function say(kind, head, text) {
  $('live-box').className = 'notice' + (kind ? ' ' + kind : '');
  // Only a change is announced.
  if ($('live-head').textContent !== head)
    $('live-head').textContent = head;
  if ($('live-text').textContent !== text)
    $('live-text').textContent = text;
}

function stopPolling() {
  if (timer !== null)
    clearTimeout(timer);
  timer = null;
  $('poll-note').textContent = '';
}

function signedOut(message) {
  stopPolling();
  $('live').hidden = true;
  $('signin').hidden = false;
  if (message)
    showErrors($('signin-form'), [{ field: null, sentence: message }], false);
}

async function certificate(serial) {
  const dl = $('cert-facts');
  try {
    const c = await api('GET', '/api/v1/certificate-status/' + encodeURIComponent(serial));
    dl.replaceChildren();
    const x = c.certificate || {};
    fact(dl, 'Subject', x.subject);
    fact(dl, 'Alternative names', (x.sans || []).join(', '));
    fact(dl, 'Serial number', c.serial);
    fact(dl, 'Valid from', when(x.not_before));
    fact(dl, 'Valid until', when(x.not_after));
    fact(dl, 'Key', x.key);
    fact(dl, 'Status', c.status === 'valid' ? 'good' : c.status);
    dl.hidden = false;
  } catch (e) {
    dl.hidden = true;
  }
}

async function poll(first) {
  let a;
  try {
    a = await api('GET', appPath(appId));
  } catch (p) {
    if (p instanceof Problem && (p.status === 401 || p.status === 403 || p.status === 404)) {
      signedOut(first ? null : 'Your session ended: sign in again to follow the retrieval.');
      return;
    }
    say('warn', 'Cannot reach the server just now.', p.sentence || String(p));
    timer = setTimeout(() => poll(false), POLL_MS * 2);
    return;
  }
  $('signin').hidden = true;
  $('live').hidden = false;
  $('app-id').textContent = a.id;
  renderPhases($('phases'), a.state);
  if (a.state === 'certificate_issued' && a.certificate_serial) {
    stopPolling();
    say('ok', 'Done: your certificate is issued.', 'It is on your token now. You can test ' +
      'it with the command tessera token test and see the result on the test page.');
    $('test-link').hidden = false;
    $('verify-link').hidden = false;
    $('verify-link').href = '/verify?serial=' + encodeURIComponent(a.certificate_serial);
    await certificate(a.certificate_serial);
    return;
  }
  if (a.state === 'activation_issued' || a.state === 'approved') {
    say('', 'Waiting for the retrieval.', 'Your application is approved. Run the command ' +
      'above with your activation code; this page shows the certificate as soon as it is ' +
      'issued.');
  } else {
    say('warn', `Not ready for retrieval yet (your application: ${stateWords(a.state)}).`,
      a.next || '');
  }
  $('poll-note').textContent = `Checked at ${new Date().toLocaleTimeString()}; this page ` +
    `checks again every ${POLL_MS / 1000} seconds.`;
  timer = setTimeout(() => poll(false), POLL_MS);
}

async function signIn(ev) {
  await applicantSignInSubmit(ev, async (id) => {
    remember(id);
    await poll(true);
    $('live-title').focus();
  });
}

function start() {
  // The server this page came from is the one to retrieve from.
  $('retrieve-command').textContent =
    `tessera token retrieve --server ${location.origin} --ca-file tessera-root.pem`;
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', async () => {
    await signOut();
    signedOut(null);
    $('signin-application').focus();
  });
  const id = idFromQuery();
  if (id) {
    $('signin-application').value = id;
    remember(id);
    // A cookie session of My application carries over.
    if (csrfToken() !== null)
      poll(true);
  }
}

start();

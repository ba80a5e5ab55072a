// application.js - My application: sign in with the application number and
// password (a cookie session where the server offers one, else a bearer
// token in memory), the status with its phases and next step, a new email
// code, withdrawal, sign-out, and a forgotten password reset through the
// secret questions. Every rule is the server's; this page shows its answers.

import { api, appPath, applicantSignIn, signOut, csrfToken, Problem, idQuery, idFromQuery }
  from './api.js';
import { showErrors, clearErrors, clearFieldError, busy, problemErrors, announce }
  from './form.js';
import { passwordProblem, passwordStrength } from './checks.js';
import { stateWords, isFinal, renderPhases } from './states.js';

const $ = (id) => document.getElementById(id);
let appId = null;
let sessionKind = null;
let nAnswers = 0;
let productTitles = null;

const STORAGE_WORDS = { 'new-token': 'on a new hardware token we send you',
  'existing-token': 'on your own hardware token', software: 'in software on your computer' };

// The products' titles, for people (the application names its product).
async function titles() {
  if (productTitles === null) {
    try {
      const r = await api('GET', '/api/v1/products');
      productTitles = Object.fromEntries((r.products || []).map((p) => [p.name, p.title]));
    } catch (e) {
      productTitles = {};
    }
  }
  return productTitles;
}

function show(section) {
  for (const s of ['signin', 'reset', 'status'])
    $(s).hidden = s !== section;
}

function flash(text) {
  const f = $('flash');
  f.textContent = text;
  f.hidden = text === '';
}

function remember(id) {
  appId = id;
  const url = new URL(location.href);
  url.search = idQuery(id);
  history.replaceState(null, '', url.pathname + url.search);
}

function when(t) {
  return t ? t.replace('T', ' ').replace('Z', ' UTC') : '';
}

// ------------------------------------------------------------------ sign in

async function signIn(ev) {
  ev.preventDefault();
  const form = $('signin-form');
  clearErrors(form);
  flash('');
  const id = $('signin-application').value.trim().toUpperCase();
  const pw = $('signin-password').value;
  const errs = [];
  if (id === '')
    errs.push({ field: 'signin-application', sentence: 'Enter your application number.' });
  if (pw === '')
    errs.push({ field: 'signin-password', sentence: 'Enter your password.' });
  if (errs.length > 0) {
    showErrors(form, errs);
    return;
  }
  await busy(form, async () => {
    try {
      sessionKind = await applicantSignIn(id, pw);
      $('signin-password').value = '';
      remember(id);
      await load(true);
    } catch (p) {
      // "wrong application number or password": the server will not say
      // which, so the sentence goes next to the password.
      const field = p instanceof Problem && p.status === 400 && /number/i.test(p.detail) ?
        '/application' : '/password';
      if (p instanceof Problem && !p.field && p.status !== 0 && p.status < 500)
        p.field = field;
      showErrors(form, problemErrors(p, { '/application': 'signin-application',
        '/password': 'signin-password' }));
    }
  });
}

// ------------------------------------------------------------------ status

function fact(dl, term, text) {
  if (!text)
    return;
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = text;
  dl.append(dt, dd);
}

function render(a) {
  $('app-id').textContent = a.id;
  renderPhases($('phases'), a.state);
  $('app-next').textContent = a.next || '';
  const q = idQuery(a.id);
  $('verify-link').href = '/verify-email' + q;
  $('verify-link').hidden = a.state !== 'submitted';
  $('resend').hidden = a.state !== 'submitted';
  $('retrieve-link').href = '/retrieve' + q;
  $('retrieve-link').hidden = a.state !== 'activation_issued';
  const dl = $('facts');
  dl.replaceChildren();
  fact(dl, 'Status', stateWords(a.state) + (a.state_since ? `, since ${when(a.state_since)}` :
    ''));
  fact(dl, 'Product', (productTitles && productTitles[a.product]) || a.product);
  fact(dl, 'Key storage', STORAGE_WORDS[a.storage] || a.storage);
  fact(dl, 'Applied', when(a.created_at));
  fact(dl, 'Reason', a.reason);
  fact(dl, 'Token serial', a.token_serial);
  fact(dl, 'Certificate serial', a.certificate_serial);
  $('withdraw-form').hidden = isFinal(a.state) || a.state === 'certificate_issued';
  $('session-note').textContent = sessionKind === 'bearer' ?
    'You are signed in on this page only: reloading or leaving it signs you out.' :
    'You stay signed in for 30 minutes without activity.';
  document.title = `Application ${a.id}: ${stateWords(a.state)} — Tessera`;
}

async function load(focus) {
  const a = await api('GET', appPath(appId));
  await titles();
  render(a);
  show('status');
  if (focus)
    $('status-title').focus();
  return a;
}

// A cookie session outlives the page: after a reload, try it.
async function resume() {
  if (!appId || csrfToken() === null)
    return;
  try {
    sessionKind = 'cookie';
    await load(false);
  } catch (e) {
    sessionKind = null;
    show('signin');
  }
}

async function resend() {
  const msg = $('resend-message');
  msg.textContent = '';
  try {
    await api('POST', appPath(appId, '/verification-code'));
    msg.textContent = 'We sent a new code to your email address; the previous one no ' +
      'longer works.';
  } catch (p) {
    msg.textContent = p.sentence || String(p);
    if (p.status === 401)
      expired();
  }
}

function expired() {
  show('signin');
  $('signin-application').value = appId || '';
  flash('Your session has ended. Sign in again.');
  $('signin-password').focus();
}

// ------------------------------------------------------------------ withdraw

async function withdraw(ev) {
  ev.preventDefault();
  const form = $('withdraw-form');
  clearErrors(form);
  const reason = $('withdraw-reason').value.trim();
  await busy(form, async () => {
    try {
      const a = await api('POST', appPath(appId, '/withdrawal'), reason ? { reason } : {});
      $('withdraw-confirm').hidden = true;
      $('withdraw-start-row').hidden = false;
      $('withdraw-reason').value = '';
      await load(false);
      announce('resend-message', '');
      flash(`Application ${a.id} is withdrawn.`);
      $('status-title').focus();
    } catch (p) {
      if (p.status === 401) {
        expired();
        return;
      }
      showErrors(form, problemErrors(p, { '/reason': 'withdraw-reason' }));
    }
  });
}

// ------------------------------------------------------------------ forgotten password

async function showQuestions(ev) {
  ev.preventDefault();
  const form = $('questions-form');
  clearErrors(form);
  const id = $('reset-application').value.trim().toUpperCase();
  if (id === '') {
    showErrors(form, [{ field: 'reset-application', sentence: 'Enter your application number.' }]);
    return;
  }
  await busy(form, async () => {
    try {
      const r = await api('GET', appPath(id, '/questions'));
      renderAnswers(r.questions || []);
      appId = id;
      $('reset-form').hidden = false;
      $('a1').focus();
    } catch (p) {
      if (p.status === 404 || p.status === 400)
        p.field = '/application';
      showErrors(form, problemErrors(p, { '/application': 'reset-application' }));
    }
  });
}

function renderAnswers(questions) {
  const list = $('answer-list');
  list.replaceChildren();
  nAnswers = questions.length;
  questions.forEach((q, k) => {
    const i = k + 1;
    const div = document.createElement('div');
    div.className = 'field';
    const label = document.createElement('label');
    label.htmlFor = `a${i}`;
    label.textContent = `${q} `;
    const req = document.createElement('span');
    req.className = 'req';
    req.textContent = '(required)';
    label.append(req);
    const input = document.createElement('input');
    input.type = 'text';
    input.id = `a${i}`;
    input.maxLength = 256;
    input.autocomplete = 'off';
    input.spellcheck = false;
    input.addEventListener('input', () => clearFieldError(input));
    div.append(label, input);
    list.append(div);
  });
}

async function reset(ev) {
  ev.preventDefault();
  const form = $('reset-form');
  clearErrors(form);
  const answers = [];
  const errs = [];
  for (let i = 1; i <= nAnswers; i++) {
    const v = $(`a${i}`).value.trim();
    answers.push(v);
    if (v === '')
      errs.push({ field: `a${i}`, sentence: 'Answer this question.' });
  }
  const pw = $('new-password').value;
  const e = passwordProblem(pw);
  if (e)
    errs.push({ field: 'new-password', sentence: e });
  else if ($('new-password2').value !== pw)
    errs.push({ field: 'new-password2', sentence: 'The two passwords are not the same.' });
  if (errs.length > 0) {
    showErrors(form, errs);
    return;
  }
  await busy(form, async () => {
    try {
      await api('POST', appPath(appId, '/password-reset'), { answers, new_password: pw });
      form.reset();
      form.hidden = true;
      $('questions-form').reset();
      show('signin');
      $('signin-application').value = appId;
      flash('Your new password is set. Sign in with it.');
      $('signin-password').focus();
    } catch (p) {
      const fields = { '/new_password': 'new-password', '/answers': 'answers' };
      for (let i = 1; i <= nAnswers; i++)
        fields[`/answers/${i - 1}`] = `a${i}`;
      // A wrong answer never says which one: the sentence goes above them all.
      const guess = [[/answer/i, '/answers'], [/password/i, '/new_password']];
      showErrors(form, problemErrors(p, fields, guess));
    }
  });
}

// ------------------------------------------------------------------ start

function start() {
  const id = idFromQuery();
  if (id) {
    $('signin-application').value = id;
    $('reset-application').value = id;
    appId = id;
  }
  $('signin-form').addEventListener('submit', signIn);
  for (const f of ['signin-application', 'signin-password'])
    $(f).addEventListener('input', () => clearFieldError(f));
  $('forgot').addEventListener('click', () => {
    flash('');
    $('reset-application').value = $('signin-application').value;
    show('reset');
    $('reset-title').focus();
  });
  $('reset-cancel').addEventListener('click', () => {
    show('signin');
    $('signin-application').focus();
  });
  $('questions-form').addEventListener('submit', showQuestions);
  $('reset-form').addEventListener('submit', reset);
  $('new-password').addEventListener('input', () => {
    $('new-password-strength').textContent = passwordStrength($('new-password').value);
  });
  $('resend').addEventListener('click', resend);
  $('refresh').addEventListener('click', async () => {
    try {
      await load(false);
      announce('resend-message', 'Updated.');
    } catch (p) {
      if (p.status === 401)
        expired();
      else
        announce('resend-message', p.sentence || String(p));
    }
  });
  $('withdraw-start').addEventListener('click', () => {
    $('withdraw-confirm').hidden = false;
    $('withdraw-start-row').hidden = true;
    $('withdraw-reason').focus();
  });
  $('withdraw-keep').addEventListener('click', () => {
    $('withdraw-confirm').hidden = true;
    $('withdraw-start-row').hidden = false;
    clearErrors($('withdraw-form'));
    $('withdraw-start').focus();
  });
  $('withdraw-form').addEventListener('submit', withdraw);
  $('signout').addEventListener('click', async () => {
    await signOut();
    sessionKind = null;
    show('signin');
    flash('You are signed out.');
    $('signin-password').focus();
  });
  resume();
}

start();

// verify-email.js - the Verify email page: the code from the verification
// message, sent to POST /api/v1/applications/{id}/email-verification.

import { api, appPath, idQuery, idFromQuery } from './api.js';
import { showErrors, clearErrors, clearFieldError, busy, problemErrors } from './form.js';
import { stateWords } from './states.js';

const $ = (id) => document.getElementById(id);
const form = $('verify-form');

// A wrong, used or expired code is about the code; an unknown application
// about its number.
const GUESS = [
  [/there is no application|application number/i, '/application'],
  [/code|not waiting|verif/i, '/code'],
];
const FIELDS = { '/application': 'application', '/code': 'code' };

function linkTo(id) {
  const q = id ? idQuery(id) : '';
  $('status-link').href = '/application' + q;
  $('done-status').href = '/application' + q;
}

async function submit(ev) {
  ev.preventDefault();
  clearErrors(form);
  const id = $('application').value.trim().toUpperCase();
  const code = $('code').value.trim();
  const errs = [];
  if (id === '')
    errs.push({ field: 'application', sentence: 'Enter your application number.' });
  if (code === '')
    errs.push({ field: 'code', sentence: 'Enter the verification code from the email.' });
  if (errs.length > 0) {
    showErrors(form, errs);
    return;
  }
  await busy(form, async () => {
    try {
      const a = await api('POST', appPath(id, '/email-verification'), { code });
      done(a);
    } catch (p) {
      // 404 is always the application number: the code is never looked up.
      if (p.status === 404)
        p.field = '/application';
      showErrors(form, problemErrors(p, FIELDS, GUESS));
    }
  });
}

function done(a) {
  form.hidden = true;
  linkTo(a.id);
  $('done-id').textContent = a.id;
  $('done-state').textContent = stateWords(a.state);
  $('done-next').textContent = a.next || '';
  $('phase-verify').textContent = 'email verified; identity review under way';
  document.title = 'Email address verified — Tessera';
  $('done').hidden = false;
  $('done-title').focus();
}

function start() {
  const id = idFromQuery();
  if (id) {
    $('application').value = id;
    linkTo(id);
  }
  $('application').addEventListener('input', () => {
    clearFieldError('application');
    linkTo($('application').value.trim());
  });
  $('code').addEventListener('input', () => clearFieldError('code'));
  form.addEventListener('submit', submit);
}

start();

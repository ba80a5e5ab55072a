// signin.js - the applicant's sign-in form shared by the retrieve and test
// pages: fields #signin-application and #signin-password in
// #signin-form; a cookie session through api.js.
import { applicantSignIn, Problem } from './api.js';
import { showErrors, clearErrors, busy, problemErrors } from './form.js';

const $ = (id) => document.getElementById(id);

/** Handle the submit event ev: check the two fields, sign in, then run
 *  `signedIn(id)`; errors go next to their field. */
export async function applicantSignInSubmit(ev, signedIn) {
  ev.preventDefault();
  const form = $('signin-form');
  clearErrors(form);
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
      await applicantSignIn(id, pw);
      $('signin-password').value = '';
      await signedIn(id);
    } catch (p) {
      // The server never says which of the two was wrong.
      if (p instanceof Problem && !p.field && p.status !== 0 && p.status < 500)
        p.field = '/password';
      showErrors(form, problemErrors(p, { '/application': 'signin-application',
        '/password': 'signin-password' }));
    }
  });
}

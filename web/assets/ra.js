// ra.js - what every page of the RA officer console shares: the officer's
// sign-in (a cookie session, docs/web.md), sign-out, the header's "signed in
// as", and what happens when the session ends. A page calls raConsole() with
// its own load(); on 401 unauthenticated or 403 csrf (the session ended: 30
// minutes idle, 12 hours in all, or signed out elsewhere) the sign-in form
// comes back with a sentence, and a new sign-in loads the page again.
//
// Who is signed in comes from the server (GET /api/v1/sessions/current,
// which does not move the session's idle limit): the officer's name and
// roles, for the header and to offer only what the roles allow. That only
// spares the officer forms the server would refuse; the server stays the
// authority and refuses them anyway.

import { api, Problem, csrfToken, signOut } from './api.js';
import { showErrors, clearErrors, busy } from './form.js';

// The session as the server described it: { kind, name, roles, ... }.
let me = null;

/**
 * What the API lets each role do (docs/api.md), mirrored exactly:
 * review (the queue, an application, approve, reject, token, unlock,
 * reissue): ra-officer; read certificates: ra-officer, ca-admin, auditor;
 * change certificates (revoke, suspend, resume): ra-officer, ca-admin; the
 * audit trail: auditor, ca-admin.
 */
const ABILITIES = {
  review: ['ra-officer'],
  certificates: ['ra-officer', 'ca-admin', 'auditor'],
  'change-certificates': ['ra-officer', 'ca-admin'],
  audit: ['auditor', 'ca-admin'],
};

/** Whether the signed-in officer's roles allow `what` (a key of ABILITIES). */
export function may(what) {
  const roles = me && Array.isArray(me.roles) ? me.roles : [];
  return (ABILITIES[what] || []).some((r) => roles.includes(r));
}

/** The signed-in officer's roles ([] when unknown). */
export function officerRoles() {
  return me && Array.isArray(me.roles) ? me.roles.slice() : [];
}

// The console's pages by what they need.
const PAGE_NEEDS = { '/ra/queue': 'review', '/ra/certificates': 'certificates',
  '/ra/audit': 'audit' };

// Hide the links (navigation and the home page's list) to pages the roles
// do not open; show them again for a new sign-in.
function showLinks() {
  for (const [href, what] of Object.entries(PAGE_NEEDS)) {
    for (const a of document.querySelectorAll(`a[href="${href}"]`)) {
      const item = a.closest('li') || a;
      item.hidden = me !== null && !may(what);
    }
  }
}

/** Ask the server who this session is; throws a Problem (401 when signed out). */
export async function whoAmI() {
  const s = await api('GET', '/api/v1/sessions/current');
  if (s.kind !== 'officer') {
    me = null;
    throw new Problem(401, 'not-officer', 'this browser is signed in as an applicant', null);
  }
  me = s;
  return s;
}

/** document.getElementById. */
export const $ = (id) => document.getElementById(id);

/**
 * A new element: h('p', {className: 'x', hidden: true}, 'text', child...).
 * Properties are set as properties, except data-* and aria-* (attributes).
 */
export function h(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null)
      continue;
    if (k.startsWith('aria-') || k.startsWith('data-') || k === 'for' || k === 'role')
      e.setAttribute(k, v === true ? 'true' : String(v));
    else
      e[k] = v;
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false)
      continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

/** The signed-in officer's user name (as the server says), or null. */
export function officerName() {
  return me && typeof me.name === 'string' ? me.name : null;
}

/** Whether a thrown Problem means "signed out": show the sign-in form. */
export function sessionEnded(p) {
  return p instanceof Problem &&
    ((p.status === 401 && p.type !== 'auth') || (p.status === 403 && p.type === 'csrf'));
}

/** Whether a thrown Problem means "this account may not do this". */
export function forbidden(p) {
  return p instanceof Problem && p.status === 403 && p.type !== 'csrf';
}

/** "2026-11-21T02:48:46Z" -> "2026-11-21 02:48 UTC". */
export function when(t) {
  if (!t)
    return '';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(t);
  return m ? `${m[1]} ${m[2]} UTC` : t;
}

/** How long ago `t` was, in words: "5 minutes", "3 hours", "2 days". */
export function ageOf(t, now = Date.now()) {
  const then = Date.parse(t);
  if (Number.isNaN(then))
    return '';
  const s = Math.max(0, Math.floor((now - then) / 1000));
  const unit = (n, one) => `${n} ${one}${n === 1 ? '' : 's'}`;
  if (s < 60)
    return 'less than a minute';
  if (s < 3600)
    return unit(Math.floor(s / 60), 'minute');
  if (s < 86400 * 2)
    return unit(Math.floor(s / 3600), 'hour');
  return unit(Math.floor(s / 86400), 'day');
}

/** A <time> element: the date and how long ago. */
export function timeAgo(t) {
  const el = h('time', { dateTime: t }, when(t));
  const ago = ageOf(t);
  return ago ? [el, ` (${ago} ago)`] : [el];
}

// An application's states as an officer reads them (docs/ra.md).
const STATE_WORDS = {
  submitted: 'submitted: the email is not verified yet',
  email_verified: 'email verified: checks running',
  under_review: 'under review',
  approved: 'approved',
  activation_issued: 'approved: activation issued',
  certificate_issued: 'certificate issued',
  rejected: 'rejected',
  lapsed: 'lapsed',
  withdrawn: 'withdrawn',
};

/** A state in an officer's words. */
export function stateText(state) {
  return STATE_WORDS[state] || String(state).replace(/_/g, ' ');
}

/** The states, for a filter. */
export const STATES = Object.keys(STATE_WORDS);

/** Sign in as an officer with a cookie session. */
export async function officerSignIn(user, password) {
  me = null;
  return api('POST', '/api/v1/sessions', { user, password, cookie: true });
}

/** End the session (never throws) and forget who it was. */
export async function officerSignOut() {
  await signOut();
  me = null;
}

/** Show `text` in #ra-flash (a status line) on the next page loaded in this tab. */
export function flashNext(text) {
  try {
    sessionStorage.setItem('tsr_ra_flash', text);
  } catch (e) {
    // Not said: nothing is lost but the sentence.
  }
}

/** Show `text` in #ra-flash now ('' hides it). */
export function flash(text) {
  const f = $('ra-flash');
  if (f) {
    f.textContent = text;
    f.hidden = text === '';
  }
}

function showFlash() {
  let text = null;
  try {
    text = sessionStorage.getItem('tsr_ra_flash');
    sessionStorage.removeItem('tsr_ra_flash');
  } catch (e) {
    text = null;
  }
  if (text)
    flash(text);
}

// ------------------------------------------------------------------ the sign-in form

// Built here, once, into <section id="ra-signin">: every page has the same.
function buildSignIn(section) {
  const form = h('form', { id: 'ra-signin-form', noValidate: true },
    h('div', { className: 'error-summary', 'aria-live': 'assertive', tabIndex: -1,
      hidden: true }),
    h('fieldset', {},
      h('legend', {}, 'Your officer account'),
      h('div', { className: 'field' },
        h('label', { for: 'ra-user' }, 'Officer name ', h('span', { className: 'req' },
          '(required)')),
        h('input', { id: 'ra-user', name: 'user', type: 'text', className: 'short',
          maxLength: 64, autocomplete: 'username', spellcheck: false,
          autocapitalize: 'none' })),
      h('div', { className: 'field' },
        h('label', { for: 'ra-password' }, 'Password ', h('span', { className: 'req' },
          '(required)'),
        h('span', { className: 'hint', id: 'ra-password-hint' }, 'After five wrong ' +
          'passwords in a row the account locks until an administrator unlocks it.')),
        h('input', { id: 'ra-password', name: 'password', type: 'password',
          maxLength: 256, autocomplete: 'current-password',
          'aria-describedby': 'ra-password-hint' }))),
    h('div', { className: 'actions' }, h('button', { type: 'submit', id: 'ra-signin-button' },
      'Sign in')));
  section.replaceChildren(
    h('h2', { id: 'ra-signin-title', tabIndex: -1 }, 'Sign in'),
    h('p', { id: 'ra-signin-why', className: 'notice', role: 'status', hidden: true }),
    form);
  section.setAttribute('aria-labelledby', 'ra-signin-title');
  return form;
}

/**
 * Wire the console's page: the sign-in form (in #ra-signin), the header's
 * #ra-who and #ra-signout, and `load` (async, may throw a Problem), called
 * now if a session may exist and again after each sign-in. `content` is the
 * element shown while signed in. `onSignedIn`, if given, replaces loading
 * (the sign-in page goes to the queue). Returns { signedOut(sentence) } for
 * the page to call when one of its requests finds the session gone, and
 * { check(p) }: true (and the sign-in form shown) if p means that.
 */
export function raConsole({ load, content, onSignedIn }) {
  const section = $('ra-signin');
  const form = buildSignIn(section);
  const who = $('ra-who');
  const out = $('ra-signout');

  function showWho() {
    const name = officerName();
    if (who) {
      const roles = officerRoles();
      who.textContent = name ? `Signed in as ${name}` +
        (roles.length > 0 ? ` (${roles.join(', ')})` : '') : '';
      who.hidden = !name || !section.hidden;
    }
    if (out)
      out.hidden = !section.hidden;
    showLinks();
  }

  function signedOut(sentence) {
    if (content)
      content.hidden = true;
    section.hidden = false;
    const why = $('ra-signin-why');
    why.textContent = sentence || '';
    why.hidden = !sentence;
    const user = $('ra-user');
    if (user.value === '' && officerName())
      user.value = officerName();
    me = null;
    showWho();
    (user.value === '' ? user : $('ra-password')).focus();
  }

  function signedIn() {
    section.hidden = true;
    if (content)
      content.hidden = false;
    showWho();
  }

  async function run() {
    try {
      await whoAmI();
      await load();
      signedIn();
    } catch (p) {
      if (p instanceof Problem && p.type === 'not-officer') {
        signedOut('This browser is signed in as an applicant. Sign in with your officer ' +
          'account to use the console.');
        return;
      }
      if (sessionEnded(p)) {
        signedOut(p.type === 'csrf' ?
          'Your sign-in is no longer valid in this browser. Sign in again.' :
          'Your session has ended (after 30 minutes without activity, 12 hours in all, ' +
          'or a sign-out). Sign in again.');
        return;
      }
      signedIn();
      throw p;
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const user = $('ra-user').value.trim();
    const pw = $('ra-password').value;
    const errs = [];
    if (user === '')
      errs.push({ field: 'ra-user', sentence: 'Enter your officer name.' });
    if (pw === '')
      errs.push({ field: 'ra-password', sentence: 'Enter your password.' });
    if (errs.length > 0) {
      showErrors(form, errs);
      return;
    }
    await busy(form, async () => {
      try {
        await officerSignIn(user, pw);
      } catch (p) {
        const sentence = p instanceof Problem && p.status === 401 ?
          'Wrong officer name or password (or the account is locked or disabled).' :
          p instanceof Problem ? p.sentence : String(p);
        showErrors(form, [{ field: p instanceof Problem && p.status === 401 ?
          'ra-password' : null, sentence }]);
        $('ra-password').select();
        return;
      }
      $('ra-password').value = '';
      $('ra-signin-why').hidden = true;
      if (onSignedIn) {
        await onSignedIn();
        return;
      }
      await run().catch(() => {});
    });
  });

  if (out) {
    out.addEventListener('click', async () => {
      await officerSignOut();
      flashNext('You have signed out.');
      location.assign('/ra/');
    });
  }

  showWho();
  showFlash();
  return {
    signedOut,
    /** If `p` says the session ended, show the sign-in form; returns whether it did. */
    check(p) {
      if (!sessionEnded(p))
        return false;
      signedOut(p.type === 'csrf' ?
        'Your sign-in is no longer valid in this browser. Sign in again, then repeat ' +
        'what you were doing.' :
        'Your session has ended (after 30 minutes without activity, 12 hours in all, ' +
        'or a sign-out). Sign in again, then repeat what you were doing.');
      return true;
    },
    /** Load the page: now if a session may exist, else show the sign-in form. */
    start() {
      if (csrfToken() === null) {
        signedOut(null);
        return Promise.resolve();
      }
      return run();
    },
    reload: run,
  };
}

// ra-application.js - one application as an officer sees it
// (/ra/application?id=AP-...): the applicant's data, the automatic checks,
// duplicate warnings, the approvals so far; and the officer's actions, each
// an officer route of docs/api.md: assign the token serial, approve (with a
// comment), reject (with the reason the applicant reads), unlock the account
// or the code, send a new activation. Which action is offered follows the
// state; whether it is allowed is the server's decision, shown as it says it.

import { api, appPath, idFromQuery, idQuery, Problem } from './api.js';
import { showErrors, clearErrors, busy, problemErrors } from './form.js';
import { $, h, raConsole, forbidden, officerName, when, timeAgo, stateText, may } from
  './ra.js';

const id = idFromQuery();
const raPath = (rest) => '/api/v1/ra/applications/' + encodeURIComponent(id) + rest;
let app = null;
let titles = null;

const STORAGE = { 'new-token': 'a new hardware token, shipped by the CA',
  'existing-token': 'the applicant\'s own hardware token', software: 'software' };
const FIELDS = [['given_name', 'Given name'], ['family_name', 'Family name'],
  ['email', 'Email address'], ['address', 'Postal address'],
  ['date_of_birth', 'Date of birth'], ['npi', 'NPI'], ['dea', 'DEA number'],
  ['organization', 'Organization'], ['phone', 'Phone'], ['domain', 'Domain']];
const DUP_WORDS = { email: 'the email address', npi: 'the NPI', dea: 'the DEA number',
  identity: 'the name and date of birth' };
const OPEN = ['submitted', 'email_verified', 'under_review'];

async function productTitle(name) {
  if (titles === null) {
    try {
      const r = await api('GET', '/api/v1/products');
      titles = Object.fromEntries((r.products || []).map((p) => [p.name, p.title]));
    } catch (e) {
      titles = {};
    }
  }
  return titles[name] || name;
}

// ------------------------------------------------------------------ showing

function facts(dl, pairs) {
  dl.replaceChildren(...pairs.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function badge(result) {
  const cls = result === 'pass' ? 'pass' : result === 'fail' ? 'fail' : 'warn';
  return h('span', { className: 'badge ' + cls }, result);
}

function renderChecks(a) {
  const list = $('checks');
  const c = a.checks;
  if (!c || typeof c !== 'object') {
    list.replaceChildren(h('li', {}, 'The automatic checks have not run yet: they run ' +
      'when the applicant has verified the email address.'));
    $('duplicates').replaceChildren(h('p', {}, 'Not checked yet.'));
    return;
  }
  const items = [];
  for (const [key, name] of [['npi', 'NPI'], ['dea', 'DEA number']]) {
    if (c[key])
      items.push(h('li', { className: 'check', 'data-check': key }, badge(c[key].result),
        h('span', {}, `${name}: ${c[key].detail || ''}`)));
  }
  if (c.verifier) {
    items.push(h('li', { className: 'check', 'data-check': 'verifier' },
      badge(c.verifier.result), h('span', {}, 'External verifier',
        c.verifier.url ? h('span', { className: 'muted' }, ` (${c.verifier.url})`) : null,
        `: ${c.verifier.evidence || (c.verifier.result === 'pass' ? 'no evidence given' :
          'no reason given')}`)));
  }
  if (items.length === 0)
    items.push(h('li', {}, 'This product has no identifier to check and no external ' +
      'verifier.'));
  list.replaceChildren(...items);

  const dups = Array.isArray(c.duplicates) ? c.duplicates : [];
  if (dups.length === 0) {
    $('duplicates').replaceChildren(h('p', {}, 'No other open application shares the ' +
      'email address, NPI, DEA number, or name and date of birth.'));
    return;
  }
  const lis = dups.map((d) => {
    const ids = (d.applications || []).map((x) => h('a', { href: '/ra/application' +
      idQuery(x), className: 'code' }, x));
    const joined = ids.flatMap((x, i) => (i === 0 ? [x] : [', ', x]));
    const more = d.count > ids.length ? ` and ${d.count - ids.length} more` : '';
    return h('li', {}, `Same ${(DUP_WORDS[d.field] || d.field).replace(/^the /, '')} ` +
      `(${d.count}): `, ...joined, more);
  });
  $('duplicates').replaceChildren(h('div', { className: 'notice warn', id: 'duplicate-warning' },
    h('p', {}, h('strong', {}, 'Warning: '), 'when the checks ran, other open or issued ' +
      'applications shared identifiers with this one. Check they are not the same person ' +
      'applying twice.'),
    h('ul', {}, lis)));
}

function renderApprovals(a) {
  const list = Array.isArray(a.approvals) ? a.approvals : [];
  const need = a.approvals_required;
  $('approvals-count').textContent = need ?
    `${list.length} of ${need} approval${need === 1 ? '' : 's'} from distinct officers.` :
    `${list.length} approval${list.length === 1 ? '' : 's'}.`;
  $('approvals').replaceChildren(...list.map((x) => h('li', {},
    h('strong', {}, x.officer), ', ', ...timeAgo(x.at),
    x.comment ? h('span', { className: 'block comment' }, `“${x.comment}”`) : null)));
  $('approvals').hidden = list.length === 0;
}

function renderDecide(a) {
  const open = OPEN.includes(a.state);
  const approvals = Array.isArray(a.approvals) ? a.approvals : [];
  const me = officerName();
  const mine = me ? approvals.find((x) => x.officer === me) : null;
  const need = a.approvals_required || 1;
  const last = approvals.length + 1 >= need;

  $('token-form').hidden = !(open && a.storage !== 'software');
  $('token-serial').value = a.token_serial || '';
  $('approve-form').hidden = a.state !== 'under_review';
  $('reject-form').hidden = !(a.state === 'email_verified' || a.state === 'under_review');

  let note;
  if (mine)
    note = `You approved this application (${when(mine.at)}); another officer must ` +
      'approve it.';
  else if (last && a.storage === 'new-token' && !a.token_serial)
    note = 'Yours would be the final approval: assign the token serial above first. The ' +
      'activation is then issued at once.';
  else if (last)
    note = 'Yours would be the final approval: the application is approved and the ' +
      'activation issued at once.';
  else
    note = `${approvals.length} of ${need} approvals so far: after yours, ` +
      `${need - approvals.length - 1} more officer${need - approvals.length - 1 === 1 ? '' :
        's'} must approve.`;
  $('approve-note').textContent = note;

  const none = $('decide-none');
  const nothing = $('token-form').hidden && $('approve-form').hidden && $('reject-form').hidden;
  if (a.state === 'submitted')
    none.textContent = 'The applicant has not verified the email address yet: the ' +
      'application can be approved or rejected once it is under review.';
  else if (nothing)
    none.textContent = `Nothing more to decide (${stateText(a.state)}).`;
  else
    none.textContent = '';
  none.hidden = none.textContent === '';
}

function renderLocks(a) {
  const failed = typeof a.failed_logins === 'number' ? a.failed_logins : null;
  const parts = [];
  parts.push(a.locked ? 'The applicant\'s account is locked' : 'The applicant\'s account is ' +
    'not locked');
  parts[0] += failed !== null ? ` (${failed} wrong password${failed === 1 ? '' : 's'} or ` +
    'answers in a row).' : '.';
  parts.push(a.code_locked ? 'The current code is locked: too many wrong tries.' :
    'The current code is not locked.');
  $('locks-text').textContent = parts.join(' ');
  $('unlock-account').hidden = !a.locked;
  $('unlock-code').hidden = !a.code_locked;
}

async function render(a) {
  app = a;
  document.title = `${a.id} — Tessera registration officers`;
  $('page-title').textContent = `Application ${a.id}`;
  const product = await productTitle(a.product);
  const state = h('strong', { id: 'app-state', 'data-state': a.state }, stateText(a.state));
  facts($('overview'), [
    ['State', state],
    ['In this state since', timeAgo(a.state_since)],
    ['Product', product],
    ['Key storage', STORAGE[a.storage] || a.storage],
    ['Applied', timeAgo(a.created_at)],
    ['Last change', a.updated_at ? timeAgo(a.updated_at) : null],
    ['Token serial', a.token_serial ? h('span', { className: 'code', id: 'app-token' },
      a.token_serial) : (a.storage === 'software' ? null : 'none assigned yet')],
    ['Certificate', a.certificate_serial ? h('span', { className: 'code' },
      a.certificate_serial) : null],
    ['Applicant\'s account', a.locked ? h('strong', { className: 'flag' }, 'locked (see Locks ' +
      'below)') : null],
    ['Reason', a.reason ? h('span', { className: 'pre' }, a.reason) : null],
    ['Applicant\'s next step', a.next || null],
  ]);
  const fields = a.applicant && typeof a.applicant === 'object' ? a.applicant : {};
  const known = new Set(FIELDS.map(([k]) => k));
  facts($('applicant'), [
    ...FIELDS.map(([k, label]) => [label, typeof fields[k] === 'string' ?
      h('span', { className: k === 'address' ? 'pre' : '', 'data-field': k }, fields[k]) :
      null]),
    ...Object.keys(fields).filter((k) => !known.has(k)).map((k) => [k.replace(/_/g, ' '),
      String(fields[k])]),
    ['Mail goes to', a.email && a.email !== fields.email ? a.email : null],
    ['Agreement accepted', a.agreement ? `version ${a.agreement}` : null],
  ]);
  if (Object.keys(fields).length === 0 && !a.email)
    $('applicant').replaceChildren(h('dt', {}, 'Data'), h('dd', {}, 'Not shown: this ' +
      'session cannot see the applicant\'s data.'));
  renderChecks(a);
  renderApprovals(a);
  renderDecide(a);
  renderLocks(a);
  $('activation').hidden = a.state !== 'activation_issued';
}

// ------------------------------------------------------------------ acting

function pageError(text) {
  const e = $('page-error');
  e.textContent = text;
  e.hidden = text === '';
}

// Say what an action did, at the top of the section of `form` (where the
// officer is), and move the focus there.
function said(text, form) {
  const s = $('action-status');
  s.textContent = text;
  s.hidden = text === '';
  if (text === '')
    return;
  const heading = form && form.closest('section') && form.closest('section').querySelector('h2');
  if (heading)
    heading.after(s);
  s.focus();
}

const FORMS = ['token-form', 'approve-form', 'reject-form', 'unlock-form', 'activation-form'];
const POINTERS = { '/serial': 'token-serial', '/token_serial': 'token-serial',
  '/comment': 'approve-comment', '/reason': 'reject-reason' };
const GUESS = [[/token serial|serial of the token|token/i, '/token_serial']];

// Run one action from `form`: errors shown in it (or next to the field they
// name); a session that ended brings the sign-in form back.
async function act(form, work) {
  FORMS.forEach((f) => clearErrors($(f)));
  said('');
  await busy(form, async () => {
    try {
      await work();
    } catch (p) {
      if (ra.check(p))
        return;
      let errs;
      if (forbidden(p))
        errs = [{ field: null, sentence: 'Your account may not do this: it needs the ' +
          'ra-officer role, on an enabled account that is not locked.' }];
      else
        errs = problemErrors(p, POINTERS, GUESS);
      // A field on a form that is hidden now is no place for the sentence.
      errs = errs.map((e) => (e.field && $(e.field).closest('form').hidden ?
        { field: null, sentence: e.sentence } : e));
      showErrors(form, errs);
    }
  });
}

async function reload() {
  // Applications are the ra-officer role's (the server refuses others 403).
  if (!may('review'))
    throw new Problem(403, 'forbidden', 'not an ra-officer', null);
  await render(await api('GET', appPath(id)));
}

$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const form = $('token-form');
  act(form, async () => {
    const serial = $('token-serial').value.trim();
    if (serial === '') {
      showErrors(form, [{ field: 'token-serial', sentence: 'Enter the token\'s serial.' }]);
      return;
    }
    await render(await api('PUT', raPath('/token'), { serial }));
    said(`Token serial ${serial} assigned.`, form);
  });
});

$('approve-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  act($('approve-form'), async () => {
    const comment = $('approve-comment').value.trim();
    const r = await api('POST', raPath('/approval'), comment === '' ? {} : { comment });
    $('approve-comment').value = '';
    await reload();
    said(r.final ? 'Final approval given: the application is approved and the activation ' +
      'issued (the letter to the applicant by email; for a new token, the passcode by the ' +
      'second channel).' : `Approved: ${r.approvals} of ${r.approvals_required} approvals. ` +
      'Another officer must approve it too.', $('approve-form'));
  });
});

$('reject-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const form = $('reject-form');
  act(form, async () => {
    const reason = $('reject-reason').value.trim();
    if (reason === '') {
      showErrors(form, [{ field: 'reject-reason', sentence: 'Give the reason for the ' +
        'rejection: the applicant reads it.' }]);
      return;
    }
    await render(await api('POST', raPath('/rejection'), { reason }));
    $('reject-reason').value = '';
    said('Rejected. The applicant is emailed the reason.', form);
  });
});

for (const what of ['account', 'code']) {
  $('unlock-' + what).addEventListener('click', () => {
    act($('unlock-form'), async () => {
      await render(await api('POST', raPath('/unlock'), { what }));
      said(what === 'account' ? 'The account is unlocked: the applicant can sign in again.' :
        'The code is unlocked: the applicant can enter it again.', $('unlock-form'));
    });
  });
}

$('activation-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  act($('activation-form'), async () => {
    await render(await api('POST', raPath('/activation')));
    said('A new activation was sent; the old activation code no longer works.',
      $('activation-form'));
  });
});

$('refresh').addEventListener('click', () => {
  said('');
  reload().catch(failed);
});

function failed(p) {
  if (ra.check(p))
    return;
  $('app').hidden = true;
  if (forbidden(p))
    pageError('Your account does not hold the ra-officer role: applications are not open ' +
      'to you.');
  else if (p instanceof Problem && p.status === 404)
    pageError(`There is no application ${id}. Check the number, or open it from the queue.`);
  else
    pageError(p instanceof Problem ? p.sentence : 'Something went wrong on this page: ' +
      String(p));
}

const ra = raConsole({ content: $('app'), load: reload });

if (!id) {
  pageError('No application number in the address: open an application from the queue.');
} else {
  $('page-title').textContent = `Application ${id}`;
  ra.start().catch(failed);
}

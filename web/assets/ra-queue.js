// ra-queue.js - the review queue (/ra/queue): the applications an officer
// may act on, oldest first, from GET /api/v1/ra/applications, filtered by
// state and product and searched by name, email address, application number
// or token serial: all three are the API's own filters (`q` is its text
// search), so what is shown is what the server selected.

import { api, idQuery } from './api.js';
import { showErrors, clearErrors, busy, problemErrors } from './form.js';
import { $, h, raConsole, forbidden, flash, ageOf, when, stateText, STATES, may } from
  './ra.js';

const LIMIT = 1000;
const TEXT_MAX = 64;              // the API's bound on q (characters)
const NOT_YOURS = 'Your account does not hold the ra-officer role: the review queue is ' +
  'not open to you.';
const STORAGE = { 'new-token': 'new token', 'existing-token': 'own token',
  software: 'software' };

let apps = [];
let titles = {};
let shownState = 'under_review';
let ready = false;

// The filters' choices: every state, and the products the CA offers.
async function prepare() {
  if (ready)
    return;
  const state = $('filter-state');
  state.replaceChildren(...STATES.map((s) => h('option', { value: s,
    selected: s === 'under_review' }, stateText(s))), h('option', { value: 'all' },
    'any state'));
  try {
    const r = await api('GET', '/api/v1/products');
    for (const p of r.products || []) {
      titles[p.name] = p.title || p.name;
      $('filter-product').append(h('option', { value: p.name }, p.title || p.name));
    }
  } catch (e) {
    // Without the list, "any product" still works.
    titles = {};
  }
  ready = true;
}

let shownText = '';
let loads = 0;

async function load() {
  if (!may('review')) {
    // The server would refuse the queue (403): say so instead of asking.
    $('filter-form').hidden = true;
    $('queue-table').hidden = true;
    $('queue-count').textContent = NOT_YOURS;
    return;
  }
  $('filter-form').hidden = false;
  await prepare();
  const q = new URLSearchParams();
  q.set('state', $('filter-state').value);
  if ($('filter-product').value !== '')
    q.set('product', $('filter-product').value);
  const text = $('filter-text').value.trim();
  if (text !== '')
    q.set('q', text);
  q.set('limit', String(LIMIT));
  const seq = ++loads;
  const r = await api('GET', '/api/v1/ra/applications?' + q.toString());
  if (seq !== loads)
    return;                       // a newer search was sent meanwhile
  apps = Array.isArray(r.applications) ? r.applications : [];
  shownState = $('filter-state').value;
  shownText = text;
  render();
}

function cell(label, ...children) {
  return h('td', { 'data-label': label }, ...children);
}

function row(a) {
  const notes = [];
  if (a.locked)
    notes.push(h('strong', { className: 'flag' }, 'account locked'));
  notes.push(`storage: ${STORAGE[a.storage] || a.storage}`);
  if (a.token_serial)
    notes.push(h('span', {}, 'token ', h('span', { className: 'code' }, a.token_serial)));
  const noteList = h('ul', { className: 'bare' }, notes.map((n) => h('li', {}, n)));
  const since = ageOf(a.state_since);
  return h('tr', {},
    h('th', { scope: 'row', 'data-label': 'Application' },
      h('a', { href: '/ra/application' + idQuery(a.id), className: 'code' }, a.id)),
    cell('Applicant', h('span', { className: 'applicant-name' }, a.name || '(no name)'),
      h('br'), h('span', { className: 'muted' }, a.email || '')),
    cell('Product', titles[a.product] || a.product),
    cell('State', stateText(a.state),
      since ? h('span', { className: 'muted block' }, `for ${since}`) : null),
    cell('Age', h('time', { dateTime: a.created_at, title: when(a.created_at) },
      ageOf(a.created_at) || when(a.created_at))),
    cell('Notes', noteList));
}

function render() {
  const text = shownText;
  const shown = apps;
  $('queue-rows').replaceChildren(...shown.map(row));
  $('queue-table').hidden = shown.length === 0;
  const where = shownState === 'all' ? 'in any state' : stateText(shownState);
  const product = $('filter-product').value;
  const of = product ? ` for ${titles[product] || product}` : '';
  const n = (k) => `${k} application${k === 1 ? '' : 's'}`;
  let say;
  if (text !== '' && shown.length === 0)
    say = `No application ${where}${of} matches “${text}”.`;
  else if (apps.length === 0)
    say = `No applications ${where}${of}.`;
  else if (text === '')
    say = `${n(apps.length)} ${where}${of}, oldest first.`;
  else
    say = `${n(shown.length)} ${where}${of} match${shown.length === 1 ? 'es' : ''} ` +
      `“${text}”, oldest first.`;
  if (apps.length >= LIMIT)
    say += ` Only the oldest ${LIMIT} are shown; narrow the filters.`;
  $('queue-count').textContent = say;
}

const ra = raConsole({ content: $('queue'), load });

async function reload() {
  const form = $('filter-form');
  clearErrors(form);
  if ([...$('filter-text').value.trim()].length > TEXT_MAX) {
    showErrors(form, [{ field: 'filter-text', sentence: `Search for at most ${TEXT_MAX} ` +
      'characters.' }]);
    return;
  }
  await busy(form, async () => {
    try {
      await load();
    } catch (p) {
      if (ra.check(p))
        return;
      if (forbidden(p)) {
        showErrors(form, [{ field: null, sentence: NOT_YOURS }], false);
        return;
      }
      showErrors(form, problemErrors(p, { '/state': 'filter-state',
        '/product': 'filter-product', '/q': 'filter-text' }, [[/state/i, '/state'],
        [/product/i, '/product'], [/\bq\b/, '/q']]));
    }
  });
}

$('filter-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  reload();
});
$('filter-state').addEventListener('change', reload);
$('filter-product').addEventListener('change', reload);
// The search runs on the server: after a pause in typing, or with "Show".
let typing = null;
$('filter-text').addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(reload, 400);
});
$('refresh').addEventListener('click', reload);

ra.start().catch((p) => {
  if (forbidden(p)) {
    flash(NOT_YOURS);
    $('queue').hidden = true;
    return;
  }
  showErrors($('filter-form'), problemErrors(p, {}, []), false);
});

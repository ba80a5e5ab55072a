// ra-audit.js - the audit trail (/ra/audit): the chain's verification
// (GET /api/v1/audit/verification; a broken chain shows its first bad
// record) and the records, newest first, filtered by action, actor, object
// and day, a page at a time (GET /api/v1/audit, paged by before_seq).
// For ca-admin and auditor; the server refuses anyone else.

import { api, Problem } from './api.js';
import { showErrors, clearErrors, busy, problemErrors } from './form.js';
import { $, h, raConsole, forbidden, when, may } from './ra.js';

const LIMIT = 50;

let before = null; // the page shown: records before this seq (null: the newest)
let pages = []; // the before_seq of the pages shown so far, for "Newest"

function filters() {
  const q = new URLSearchParams();
  for (const [id, name] of [['filter-action', 'action'], ['filter-actor', 'actor'],
    ['filter-object', 'object'], ['filter-since', 'since']]) {
    const v = $(id).value.trim();
    if (v !== '')
      q.set(name, v);
  }
  return q;
}

function cell(label, ...children) {
  return h('td', { 'data-label': label }, ...children);
}

function row(r, broken) {
  return h('tr', { 'data-seq': String(r.seq), className: broken ? 'broken' : '' },
    h('th', { scope: 'row', 'data-label': '#' }, String(r.seq)),
    cell('Time', h('time', { dateTime: r.time }, when(r.time))),
    cell('Actor', h('span', { className: 'code' }, r.actor)),
    cell('Action', h('span', { className: 'code action' }, r.action)),
    cell('Object', r.object),
    cell('Outcome', h('span', { className: 'badge ' + (r.outcome === 'success' ? 'pass' :
      r.outcome === 'refused' ? 'warn' : 'fail') }, r.outcome)),
    cell('Detail', r.detail));
}

async function showRecords() {
  const q = filters();
  q.set('limit', String(LIMIT));
  if (before !== null)
    q.set('before_seq', String(before));
  const r = await api('GET', '/api/v1/audit?' + q.toString());
  const list = Array.isArray(r.records) ? r.records : [];
  $('audit-rows').replaceChildren(...list.map((x) => row(x, false)));
  $('audit-table').hidden = list.length === 0;
  const n = (k) => `${k} record${k === 1 ? '' : 's'}`;
  const filtered = [...filters().keys()].length > 0;
  let say;
  if (list.length === 0)
    say = filtered ? 'No record matches the filters.' : 'The audit trail is empty.';
  else
    say = `${n(list.length)} (#${list[0].seq} to #${list[list.length - 1].seq}), ` +
      `newest first${filtered ? ', matching the filters' : ''}.`;
  if (r.more)
    say += ' Older records follow.';
  $('audit-count').textContent = say;
  const older = $('older');
  older.hidden = !r.more;
  older.dataset.before = list.length ? String(list[list.length - 1].seq) : '';
  $('newest').hidden = before === null;
}

async function verify() {
  const box = $('chain-result');
  box.className = 'notice';
  box.textContent = 'Checking the chain…';
  const v = await api('GET', '/api/v1/audit/verification');
  const n = `${v.records} record${v.records === 1 ? '' : 's'}`;
  if (v.ok) {
    box.className = 'notice ok';
    box.replaceChildren(h('strong', {}, 'The chain is verified: '),
      `${n} checked, none altered, removed or reordered.`);
    return;
  }
  box.className = 'notice bad';
  const parts = [h('p', {}, h('strong', {}, `The chain is broken at record #${v.first_bad_seq}: `),
    v.reason, ` (${n} checked). Records from there on cannot be trusted: tell the CA's ` +
    'administrator.')];
  // The record itself, as it is stored now (it may be gone).
  try {
    const r = await api('GET', `/api/v1/audit?before_seq=${v.first_bad_seq + 1}&limit=1`);
    const rec = (r.records || [])[0];
    if (rec && rec.seq === v.first_bad_seq) {
      const t = h('table', { className: 'queue-table audit-table', id: 'broken-record' },
        h('caption', {}, `Record #${rec.seq} as stored now`),
        h('tbody', {}, row(rec, true)));
      parts.push(t);
    } else {
      parts.push(h('p', { id: 'broken-record' }, `Record #${v.first_bad_seq} is missing.`));
    }
  } catch (e) {
    // The sentence above says enough.
  }
  box.replaceChildren(...parts);
}

const REFUSED = 'The audit trail is for the auditor and ca-admin roles; your account ' +
  'holds neither.';

async function load() {
  try {
    // The roles the API lets read the audit (the server refuses others 403).
    if (!may('audit'))
      throw new Problem(403, 'forbidden', 'neither auditor nor ca-admin', null);
    await verify();
  } catch (p) {
    if (!forbidden(p))
      throw p;
    // Signed in, but not for this page: say so instead of the records.
    $('chain').hidden = true;
    $('records').hidden = true;
    $('refused').textContent = REFUSED;
    $('refused').hidden = false;
    return;
  }
  $('refused').hidden = true;
  $('chain').hidden = false;
  $('records').hidden = false;
  await showRecords();
}

const ra = raConsole({ content: $('content'), load });

async function refresh(form) {
  clearErrors(form);
  await busy(form, async () => {
    try {
      await showRecords();
    } catch (p) {
      if (ra.check(p))
        return;
      showErrors(form, problemErrors(p, { '/since': 'filter-since' },
        [[/since/i, '/since'], [/limit|before_seq/i, null]]));
    }
  });
}

$('filter-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  before = null;
  pages = [];
  refresh($('filter-form'));
});

$('clear').addEventListener('click', () => {
  for (const id of ['filter-action', 'filter-actor', 'filter-object', 'filter-since'])
    $(id).value = '';
  before = null;
  pages = [];
  refresh($('filter-form'));
});

$('older').addEventListener('click', () => {
  pages.push(before);
  before = Number($('older').dataset.before);
  refresh($('filter-form')).then(() => $('records-title').scrollIntoView());
});

$('newest').addEventListener('click', () => {
  before = null;
  pages = [];
  refresh($('filter-form'));
});

$('verify').addEventListener('click', async () => {
  try {
    await verify();
  } catch (p) {
    if (!ra.check(p))
      $('chain-result').textContent = p.sentence || String(p);
  }
});

ra.start().catch((p) => {
  showErrors($('filter-form'), problemErrors(p, {}, []), false);
});

// ra-certificates.js - the officers' certificates (/ra/certificates): search
// (GET /api/v1/certificates: subject text, status, product), one certificate
// (?serial=..., GET /api/v1/certificates/{serial}) and its status changes:
// revoke with a reason, suspend, resume (POST .../revoke|suspend|resume).
// The server decides who may do what; an auditor sees the buttons refused.

import { api } from './api.js';
import { showErrors, clearErrors, busy, problemErrors } from './form.js';
import { $, h, raConsole, forbidden, flash, when, may } from './ra.js';

const LIMIT = 100;
const STATUS_WORDS = {
  valid: 'valid',
  suspended: 'suspended (on hold)',
  revoked: 'revoked',
};

let titles = {};
let ready = false;
let current = null; // the certificate shown

function certPath(serial, rest) {
  return '/api/v1/certificates/' + encodeURIComponent(serial) + (rest || '');
}

function serialFromQuery() {
  const s = new URLSearchParams(location.search).get('serial');
  return s ? s.trim() : null;
}

async function prepare() {
  if (ready)
    return;
  try {
    const r = await api('GET', '/api/v1/products');
    for (const p of r.products || []) {
      titles[p.name] = p.title || p.name;
      $('search-product').append(h('option', { value: p.name }, p.title || p.name));
    }
  } catch (e) {
    titles = {};
  }
  ready = true;
}

// ------------------------------------------------------------------ search

function statusCell(c) {
  const words = STATUS_WORDS[c.status] || c.status;
  const badge = h('span', { className: 'badge ' + (c.status === 'valid' ? 'pass' :
    c.status === 'revoked' ? 'fail' : 'warn') }, words);
  if (c.status === 'revoked' && c.reason)
    return [badge, h('span', { className: 'muted block' }, `${c.reason}, ${when(c.revoked_at)}`)];
  if (c.status === 'suspended')
    return [badge, h('span', { className: 'muted block' }, `since ${when(c.revoked_at)}`)];
  return [badge];
}

function row(c) {
  return h('tr', { 'data-serial': c.serial },
    h('th', { scope: 'row', 'data-label': 'Serial' },
      h('a', { href: '/ra/certificates?serial=' + encodeURIComponent(c.serial),
        className: 'code serial' }, c.serial)),
    h('td', { 'data-label': 'Subject' }, c.subject),
    h('td', { 'data-label': 'Product' }, titles[c.product] || c.product),
    h('td', { 'data-label': 'Status', className: 'status' }, ...statusCell(c)),
    h('td', { 'data-label': 'Expires' }, when(c.not_after)));
}

async function search() {
  const q = new URLSearchParams();
  const subject = $('search-subject').value.trim();
  if (subject !== '')
    q.set('subject', subject);
  if ($('search-status').value !== '')
    q.set('status', $('search-status').value);
  if ($('search-product').value !== '')
    q.set('product', $('search-product').value);
  q.set('limit', String(LIMIT));
  const r = await api('GET', '/api/v1/certificates?' + q.toString());
  const list = Array.isArray(r.certificates) ? r.certificates : [];
  $('cert-rows').replaceChildren(...list.map(row));
  $('cert-table').hidden = list.length === 0;
  const n = (k) => `${k} certificate${k === 1 ? '' : 's'}`;
  let say = list.length === 0 ? 'No certificate matches.' : `${n(list.length)}, newest first.`;
  if (r.more)
    say = `The newest ${n(list.length)} are shown; there are more: narrow the search.`;
  $('search-count').textContent = say;
}

// ------------------------------------------------------------------ one certificate

function fact(dl, name, ...value) {
  dl.append(h('dt', {}, name), h('dd', {}, ...value));
}

function showCert(c) {
  current = c;
  $('cert-serial').textContent = c.serial;
  const st = $('cert-status');
  const words = STATUS_WORDS[c.status] || c.status;
  st.className = 'notice ' + (c.status === 'valid' ? 'ok' : c.status === 'revoked' ? 'bad' :
    'warn');
  st.replaceChildren('Status: ', h('strong', { id: 'cert-status-word' }, words),
    c.status === 'revoked' ? ` (${c.reason}, ${when(c.revoked_at)})` :
      c.status === 'suspended' ? ` since ${when(c.revoked_at)}` : '');
  const dl = $('cert-facts');
  dl.replaceChildren();
  fact(dl, 'Subject', c.subject || '');
  if (c.sans)
    fact(dl, 'Alternative names', c.sans);
  fact(dl, 'Product', titles[c.product] || c.product || '');
  fact(dl, 'Key', c.key_type || '');
  fact(dl, 'Valid', `${when(c.not_before)} to ${when(c.not_after)}`);
  fact(dl, 'Issued', when(c.issued_at));
  if (c.invalidity_date)
    fact(dl, 'Key compromised since', when(c.invalidity_date));
  if (c.application)
    fact(dl, 'Application', h('a', { href: '/ra/application?id=' +
      encodeURIComponent(c.application), className: 'code' }, c.application));
  fact(dl, 'SHA-256', h('span', { className: 'code pre' }, c.sha256 || ''));
  // What may happen next: valid -> revoke, suspend; suspended -> revoke, resume.
  // Only roles the API lets change certificates are offered the forms (an
  // auditor reads).
  const subscriber = c.role === undefined || c.role === 'subscriber';
  const change = may('change-certificates');
  $('revoke-form').hidden = !change || !subscriber || c.status === 'revoked';
  $('hold-form').hidden = !change || !subscriber || c.status === 'revoked';
  const resume = c.status === 'suspended';
  $('hold-title').textContent = resume ? 'Resume' : 'Suspend';
  $('hold-text').textContent = resume ?
    'Lift the suspension: the certificate is valid again.' :
    'Put the certificate on hold (certificateHold) while something is looked into; ' +
    'it can be resumed or revoked later.';
  $('hold-button').textContent = resume ? 'Resume this certificate' :
    'Suspend this certificate';
  $('hold-button').className = resume ? '' : 'secondary';
  $('cert').hidden = false;
}

async function loadCert(serial) {
  const c = await api('GET', certPath(serial));
  showCert(c);
}

// ------------------------------------------------------------------ the page

async function load() {
  await prepare();
  try {
    await search();
  } catch (p) {
    if (!forbidden(p))
      throw p;
    // Signed in, but not for this page: say so instead of the certificates.
    $('search').hidden = true;
    $('cert').hidden = true;
    $('refused').textContent = 'Your account holds none of the roles that read ' +
      'certificates (ra-officer, ca-admin, auditor).';
    $('refused').hidden = false;
    return;
  }
  $('refused').hidden = true;
  $('search').hidden = false;
  const serial = serialFromQuery();
  if (serial)
    await loadCert(serial);
}

const ra = raConsole({ content: $('content'), load });

function refused(form, p, fields, rules) {
  if (ra.check(p))
    return;
  if (forbidden(p)) {
    showErrors(form, [{ field: null, sentence: p.sentence }]);
    return;
  }
  showErrors(form, problemErrors(p, fields, rules));
}

$('search-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = $('search-form');
  clearErrors(form);
  await busy(form, async () => {
    try {
      await search();
    } catch (p) {
      refused(form, p, {}, [[/status/i, '/status'], [/product/i, '/product']]);
    }
  });
});

$('open-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = $('open-form');
  clearErrors(form);
  const serial = $('open-serial').value.trim().replace(/[:\s]/g, '');
  if (serial === '') {
    showErrors(form, [{ field: 'open-serial', sentence: 'Enter a serial number.' }]);
    return;
  }
  if (!/^[0-9A-Fa-f]{1,64}$/.test(serial)) {
    showErrors(form, [{ field: 'open-serial', sentence: 'A serial number is hexadecimal: ' +
      'the digits 0 to 9 and the letters a to f.' }]);
    return;
  }
  await busy(form, async () => {
    try {
      await api('GET', certPath(serial));
      location.assign('/ra/certificates?serial=' + encodeURIComponent(serial));
    } catch (p) {
      if (p && p.status === 404)
        showErrors(form, [{ field: 'open-serial', sentence: 'This CA issued no ' +
          'certificate with this serial number.' }]);
      else
        refused(form, p, { '/serial': 'open-serial' }, [[/serial/i, '/serial']]);
    }
  });
});

$('revoke-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = $('revoke-form');
  clearErrors(form);
  const reason = $('revoke-reason').value;
  if (reason === '') {
    showErrors(form, [{ field: 'revoke-reason', sentence: 'Choose a reason for the ' +
      'revocation.' }]);
    return;
  }
  const body = { reason };
  const comment = $('revoke-comment').value.trim();
  if (comment !== '')
    body.comment = comment;
  await busy(form, async () => {
    try {
      const c = await api('POST', certPath(current.serial, '/revoke'), body);
      $('revoke-comment').value = '';
      showCert(c);
      flash(`Certificate ${c.serial} is revoked (${c.reason}).`);
      await search().catch(() => {});
      $('cert-title').focus();
    } catch (p) {
      refused(form, p, { '/reason': 'revoke-reason', '/comment': 'revoke-comment' },
        [[/reason/i, '/reason'], [/comment/i, '/comment']]);
    }
  });
});

$('hold-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = $('hold-form');
  clearErrors(form);
  const resume = current.status === 'suspended';
  const body = {};
  const comment = $('hold-comment').value.trim();
  if (comment !== '')
    body.comment = comment;
  await busy(form, async () => {
    try {
      const c = await api('POST', certPath(current.serial, resume ? '/resume' : '/suspend'),
        body);
      $('hold-comment').value = '';
      showCert(c);
      flash(resume ? `Certificate ${c.serial} is valid again.` :
        `Certificate ${c.serial} is suspended.`);
      await search().catch(() => {});
      $('cert-title').focus();
    } catch (p) {
      refused(form, p, { '/comment': 'hold-comment' }, [[/comment/i, '/comment']]);
    }
  });
});

ra.start().catch((p) => {
  const notFound = p && p.status === 404;
  if (notFound)
    $('open-serial').value = serialFromQuery() || '';
  showErrors(notFound ? $('open-form') : $('search-form'), notFound ?
    [{ field: 'open-serial', sentence: 'This CA issued no certificate with this serial ' +
      'number.' }] : problemErrors(p, {}, []), false);
});
